"""One latency ratio from two models timed together: the lecture demonstrations' timing primitive.

Rule: the two models are timed in alternating slices (``latency.measure_paired``, the loop ``effprof
bench`` uses), so a slow spell of a shared machine hits both sides alike. The ratio is the trimmed
geometric mean of the clean slice-pair ratios (a slice pair with a contended side is left out; with
fewer than MIN_CLEAN_PAIRS clean ones, all pairs, and the ratio is marked contended), with a seeded
bootstrap 95% interval (effprof/bench/noise.py). Its doubts: each side that was contended
('contended 40%'), and 'noisy' when the interval is wider than x/÷ exp(NOISY_HALF_WIDTH). The spread
of each side's pooled block times is not used: slices taken seconds apart drift together, which
inflates each side's spread and cancels in their ratio, the quantity judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from effprof import latency
from effprof.bench import noise
from effprof.errors import EffprofError
from effprof.latency import Measurement

#: slices per paired timing (each side gets budget_s in all, cut into this many slices)
SLICES = 10
#: a paired ratio whose 95% interval is wider than x/÷ exp(this) (about ±16%) is too noisy to judge
NOISY_HALF_WIDTH = 0.15

#: fewer clean slice pairs than this give no interval worth the name: all pairs are used, marked contended
MIN_CLEAN_PAIRS = 3
#: a model to time: the module (seeded, CPU), its input shape, its ONNX cache key
Target = tuple[nn.Module, tuple[int, ...], str]


@dataclass(frozen=True)
class Paired:
    """latency(first) / latency(second): ``ratio`` in ``[low, high]`` (95%), with both sides' measurements."""

    ratio: float
    low: float
    high: float
    doubt: str
    first: Measurement
    second: Measurement

    @property
    def detail(self) -> str:
        return f"{self.first.median_ms:.3g} ms / {self.second.median_ms:.3g} ms"


def pair_doubt(contended: Sequence[float | None], half_width: float) -> str:
    """Doubt tags of a paired ratio: the contended sides' shares ('contended 40%', 'contended 80%/75%'), and
    'noisy' past NOISY_HALF_WIDTH."""
    shares = [f"{share:.0%}" for share in contended if share is not None]
    tags = [f"contended {'/'.join(shares)}"] if shares else []
    if half_width > NOISY_HALF_WIDTH:
        tags.append("noisy")
    return ", ".join(dict.fromkeys(tags))


def time_paired(first: Target, second: Target, backend: str, options: dict[str, Any]) -> Paired:
    """Time ``first`` and ``second`` together on ``backend`` (``options``: device, threads, budget_s)."""
    a, b = latency.measure_paired(first, second, backend, slices=SLICES, **options)
    pairs = list(zip(a.slice_ms or [], b.slice_ms or [], a.slice_contended or [], b.slice_contended or [],
                     strict=False))  # fmt: skip
    clean = [x / y for x, y, cx, cy in pairs if not (cx or cy) and y > 0]
    enough = len(clean) >= MIN_CLEAN_PAIRS
    # too few clean pairs for an interval: use them all, and the doubt says they were contended
    norms = clean if enough else [x / y for x, y, _, _ in pairs if y > 0]
    center = noise.pair_center(norms)
    if center is None:
        raise EffprofError(f"{backend}: no usable timed slices", exit_code=1)
    half_width = noise.pair_half_width(norms)
    low, high = noise.interval(center, half_width)
    contended = [m.contended_share if m.contended else None for m in (a, b)]
    if not enough:  # most slice pairs had a contended side, even if neither side's majority was
        contended = [share if share is not None or not any(m.slice_contended or [])
                     else (m.others_cores or 0) / (m.usable_cores or 1)
                     for share, m in zip(contended, (a, b), strict=True)]  # fmt: skip
    return Paired(center, low, high, pair_doubt(contended, half_width), a, b)
