"""How sure a normalised latency is, and whether a change between two runs is beyond its noise.

Rule: ``latency_norm`` = a model's median time / the reference model's median time, both from the
same run. Its uncertainty is a half-width in log space with two parts, added in quadrature:

- **within the round kept**: a seeded bootstrap of both medians from the per-block times
  (``BOOTSTRAP`` resamples; the 2.5th-97.5th percentiles of the resampled ratio);
- **between rounds**: half the log-range of the per-round ratios. Rounds are interleaved (every model
  once, then again), so the model and its reference in one round saw the machine at the same moment;
  what still moves their ratio from round to round is drift no single round shows.

A change between two runs is the ratio of their norms, with the two runs' half-widths added in
quadrature. It is a **regression** only when even its low end exceeds the tolerance, **faster** when
even its high end is below minus the tolerance, **within tolerance** when its high end is within
it, and **inconclusive** otherwise: the noise is as wide as the tolerance, and no verdict is honest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: bootstrap resamples per interval; seeded, so the same rows always give the same interval
BOOTSTRAP = 2000
#: two-sided confidence of the intervals
LEVEL = 0.95
_SEED = 0


def _finite(values: Sequence[float] | None) -> np.ndarray:
    if not values:
        return np.empty(0)
    arr = np.asarray([v for v in values if isinstance(v, int | float) and math.isfinite(v) and v > 0], dtype=float)
    return arr


def bootstrap_half_width(model_ms: Sequence[float] | None, reference_ms: Sequence[float] | None) -> float:
    """Half the log-width of the 95% bootstrap interval of median(model) / median(reference); 0 without samples.

    With fewer than 2 samples on a side, that side is taken as exact (a baseline from an older
    effprof stored no samples).
    """
    sides = []
    rng = np.random.default_rng(_SEED)
    for samples in (_finite(model_ms), _finite(reference_ms)):
        if samples.size < 2:
            sides.append(np.full(BOOTSTRAP, np.median(samples) if samples.size else 1.0))
        else:
            picks = rng.integers(0, samples.size, size=(BOOTSTRAP, samples.size))
            sides.append(np.median(samples[picks], axis=1))
    log_ratio = np.log(sides[0]) - np.log(sides[1])
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(log_ratio, [tail, 100 - tail])
    return float(hi - lo) / 2


def rounds_half_width(model_rounds_ms: Sequence[float] | None, reference_rounds_ms: Sequence[float] | None) -> float:
    """Half the log-range of the per-round ratios model / reference (rounds paired by index); 0 with < 2 rounds."""
    model, ref = list(model_rounds_ms or []), list(reference_rounds_ms or [])
    pairs = [(m, r) for m, r in zip(model, ref, strict=False) if m and r and m > 0 and r > 0]
    if len(pairs) < 2:
        return 0.0
    logs = [math.log(m / r) for m, r in pairs]
    return (max(logs) - min(logs)) / 2


def norm_half_width(
    model_ms: Sequence[float] | None,
    reference_ms: Sequence[float] | None,
    model_rounds_ms: Sequence[float] | None = None,
    reference_rounds_ms: Sequence[float] | None = None,
) -> float:
    """The log half-width of one run's latency_norm: bootstrap and between-round parts in quadrature."""
    within = bootstrap_half_width(model_ms, reference_ms)
    between = rounds_half_width(model_rounds_ms, reference_rounds_ms)
    return math.hypot(within, between)


def interval(value: float, half_width: float) -> tuple[float, float]:
    """(low, high) of a positive ``value`` with a log ``half_width``."""
    return value * math.exp(-half_width), value * math.exp(half_width)


def change_interval(
    baseline: float, baseline_hw: float, current: float, current_hw: float
) -> tuple[float, float, float]:
    """(change, low, high) of current / baseline - 1, with both runs' half-widths in quadrature."""
    ratio = current / baseline
    low, high = interval(ratio, math.hypot(baseline_hw, current_hw))
    return ratio - 1, low - 1, high - 1


def latency_verdict(change_low: float, change_high: float, tolerance: float) -> str:
    """fail | faster | ok | inconclusive for a change interval against a tolerance (fractions, 0.2 = 20%)."""
    if change_low > tolerance:
        return "fail"
    if change_high < -tolerance:
        return "faster"
    if change_high <= tolerance:
        return "ok"
    return "inconclusive"
