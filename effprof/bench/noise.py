"""How sure a normalised latency is, and whether a change between two runs is beyond its noise.

Rule: a model is timed in slices alternating with the suite's reference model
(``effprof.latency.measure_paired``); each clean slice pair gives one ratio model / reference, taken
seconds apart at most, so a slow spell of a shared machine hits both sides of it alike.
``latency_norm`` is the trimmed geometric mean of those ratios (the mean of their logs with the lowest
and highest ``TRIM`` of them left out: as robust to a few spoiled pairs as the median, and tighter),
and its uncertainty is the half-width, in log space, of a seeded bootstrap of that estimate
(``BOOTSTRAP`` resamples of the pairs, 2.5th-97.5th percentiles).

A change between two runs is the ratio of their norms, with the two half-widths added in quadrature.
It is a **regression** only when even its low end exceeds the tolerance, **faster** when even its
high end is below minus the tolerance, **within tolerance** when its high end is within it, and
**inconclusive** otherwise: the noise is as wide as the tolerance, and no verdict is honest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: bootstrap resamples per interval; seeded, so the same rows always give the same interval
BOOTSTRAP = 2000
#: two-sided confidence of the intervals
LEVEL = 0.95
#: share of the pairs left out at each end before averaging (a slow spell spoils a few pairs, not most)
TRIM = 0.2
_SEED = 0


def _positive(values: Sequence[float] | None) -> np.ndarray:
    return np.asarray([v for v in values or [] if isinstance(v, int | float) and math.isfinite(v) and v > 0], dtype=float)


def _trimmed_log_mean(logs: np.ndarray) -> np.ndarray:
    """Mean over the last axis of sorted logs, TRIM of them cut at each end."""
    ordered = np.sort(logs, axis=-1)
    cut = int(TRIM * ordered.shape[-1])
    return ordered[..., cut : ordered.shape[-1] - cut].mean(axis=-1)


def pair_center(norms: Sequence[float] | None) -> float | None:
    """The trimmed geometric mean of the slice-pair ratios (None without any)."""
    values = _positive(norms)
    return float(np.exp(_trimmed_log_mean(np.log(values)))) if values.size else None


def pair_half_width(norms: Sequence[float] | None) -> float:
    """Half the log-width of the 95% bootstrap interval of ``pair_center``; 0 with fewer than 2 pairs."""
    values = _positive(norms)
    if values.size < 2:
        return 0.0
    rng = np.random.default_rng(_SEED)
    logs = np.log(values)[rng.integers(0, values.size, size=(BOOTSTRAP, values.size))]
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(_trimmed_log_mean(logs), [tail, 100 - tail])
    return float(hi - lo) / 2


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
