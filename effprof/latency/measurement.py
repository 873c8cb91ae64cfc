"""Measurement: the raw times of one (model, backend, device, threads) timing, and statistics over them.

Raw times are kept and statistics are computed on demand, as in ``torch.utils.benchmark``'s
``Measurement``: a caller can always recompute or re-aggregate, and nothing is rounded here
(rounding happens only when rendering).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Spread beyond which a median is flagged as untrustworthy. One round on a shared 2-core VM
# varies 20-30%, so the thresholds are loose enough that a quiet machine stays silent.
IQR_WARN_RATIO = 0.10
CV_WARN_RATIO = 0.20
# Fewer samples than this and the quartiles are little more than the extreme values.
FEW_SAMPLES = 5


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) by linear interpolation between order statistics.

    Same rule as ``numpy.quantile``'s default and ``torch.quantile`` ("linear"), so numbers agree
    with what a user would compute from the raw times themselves.
    """
    if not values:
        return math.nan
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile q must be within [0, 1], got {q}")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def spread_warnings(times_s: Sequence[float]) -> list[str]:
    """One-line warnings about how far the times can be trusted; empty when the spread is small.

    IQR relative to the median is checked first (robust to a lone outlier); the coefficient of
    variation only speaks when the IQR is fine, since then it means a few far outliers.
    """
    warnings: list[str] = []
    n = len(times_s)
    if n == 0:
        return ["no timed runs"]
    if n < FEW_SAMPLES:
        warnings.append(f"only {n} timed blocks: the spread (IQR, p90) is a rough estimate")
    median = quantile(times_s, 0.5)
    if median <= 0 or not math.isfinite(median):
        return [*warnings, f"median time is {median!r}: the timer could not resolve this run"]
    iqr_ratio = (quantile(times_s, 0.75) - quantile(times_s, 0.25)) / median
    if iqr_ratio > IQR_WARN_RATIO:
        warnings.append(f"spread too large to trust: IQR is {iqr_ratio:.0%} of the median")
    else:
        mean = sum(times_s) / n
        cv = _std(times_s) / mean if mean > 0 else math.nan
        if cv > CV_WARN_RATIO:
            warnings.append(
                f"outliers: coefficient of variation is {cv:.0%} of the mean (the median is still robust)"
            )
    return warnings


def _std(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0 for a single value."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


@dataclass
class Measurement:
    """Latency of one (model, backend, device, threads) combination.

    ``times_s`` holds one entry per timed block: the block's wall time divided by the runs in it,
    i.e. seconds per forward. Statistics are over these per-block values.
    """

    backend: str
    device: str
    threads: int
    times_s: list[float]
    runs_per_block: int = 1
    warmup_runs: int = 0
    input_shape: tuple[int, ...] | None = None
    # Time to get ready before the first timed run: eval/to(device) for eager, export + session
    # creation for onnxruntime, compilation (the first call) for compile.
    setup_s: float = 0.0
    # onnxruntime only: whether the export came from the on-disk cache, and where it lives.
    cache_hit: bool | None = None
    artifact: str | None = None
    # onnxruntime only: max |eager - onnxruntime| over all outputs on the same random input.
    parity_max_abs_diff: float | None = None
    # One-line notes about trust in the numbers; stored, never printed here.
    warnings: list[str] = field(default_factory=list)
    # Cores other processes used while the kept attempt was timed (None: unknown, e.g. no /proc/stat),
    # out of the cores this process may use; ``contended`` when they took some of ours.
    others_cores: float | None = None
    usable_cores: int | None = None
    contended: bool = False
    #: how many times the timing was repeated because others competed for the CPU
    retimes: int = 0
    #: why ``threads`` is what it is (the thread policy's reason, e.g. "2 usable cores - 1 busy ...")
    threads_reason: str | None = None
    #: interleaved timings only (measure_paired): the median of each slice, and whether others contended it
    slice_ms: list[float] | None = None
    slice_contended: list[bool] | None = None
    #: timed forward calls when blocks differ in size (merged slices); else len(times_s) * runs_per_block
    total_runs: int | None = None

    @property
    def runs(self) -> int:
        """Timed forward calls in total (warm-up excluded)."""
        return self.total_runs if self.total_runs is not None else len(self.times_s) * self.runs_per_block

    @classmethod
    def merge(cls, slices: Sequence[Measurement]) -> Measurement:
        """One Measurement of several timings of the same thing (the slices of an interleaved timing).

        Rule, as ``torch.utils.benchmark.Measurement.merge``: the per-run block times are pooled and every
        statistic is recomputed over them; each slice's median and contention are kept, so the slices can
        be paired with another model's; others' cores are averaged over the slices that know them; the
        merged timing is contended when more than half of its slices were.
        """
        if not slices:
            raise ValueError("Measurement.merge needs at least one slice")
        first = slices[0]
        times = [t for m in slices for t in m.times_s]
        known = [m.others_cores for m in slices if m.others_cores is not None]
        contended = [m.contended for m in slices]
        warnings = spread_warnings(times)
        if any(contended):
            warnings.insert(0, f"other processes contended {sum(contended)} of {len(slices)} interleaved slices "
                               "(those slices are left out of the comparison)")  # fmt: skip
        return cls(
            backend=first.backend, device=first.device, threads=first.threads, times_s=times,
            runs_per_block=first.runs_per_block, warmup_runs=sum(m.warmup_runs for m in slices),
            input_shape=first.input_shape, setup_s=first.setup_s, cache_hit=first.cache_hit,
            artifact=first.artifact, parity_max_abs_diff=first.parity_max_abs_diff, warnings=warnings,
            others_cores=sum(known) / len(known) if known else None, usable_cores=first.usable_cores,
            contended=sum(contended) > len(slices) / 2, retimes=0, threads_reason=first.threads_reason,
            slice_ms=[m.median_ms for m in slices], slice_contended=contended,
            total_runs=sum(m.runs for m in slices),
        )  # fmt: skip

    @property
    def median_ms(self) -> float:
        return quantile(self.times_s, 0.5) * 1e3

    @property
    def p25_ms(self) -> float:
        return quantile(self.times_s, 0.25) * 1e3

    @property
    def p75_ms(self) -> float:
        return quantile(self.times_s, 0.75) * 1e3

    @property
    def iqr_ms(self) -> float:
        """Interquartile range, p75 - p25."""
        return self.p75_ms - self.p25_ms

    @property
    def p90_ms(self) -> float:
        return quantile(self.times_s, 0.9) * 1e3

    @property
    def min_ms(self) -> float:
        return min(self.times_s) * 1e3 if self.times_s else math.nan

    @property
    def mean_ms(self) -> float:
        return sum(self.times_s) / len(self.times_s) * 1e3 if self.times_s else math.nan

    @property
    def std_ms(self) -> float:
        """Sample standard deviation (n - 1) of the per-block times."""
        return _std(self.times_s) * 1e3

    @property
    def cv(self) -> float:
        """Coefficient of variation, std / mean (dimensionless)."""
        mean = self.mean_ms
        return self.std_ms / mean if mean and math.isfinite(mean) else math.nan

    @property
    def contended_share(self) -> float | None:
        """Others' CPU use as a share of the usable cores, when the timing was contended; else None."""
        if not self.contended or self.others_cores is None or not self.usable_cores:
            return None
        return self.others_cores / self.usable_cores

    def to_row(self) -> dict[str, Any]:
        """The latency columns of a model-level report row (see DESIGN.md, Row columns)."""
        return {
            "backend": self.backend,
            "device": self.device,
            "threads": self.threads,
            "latency_ms": self.median_ms,
            "latency_iqr_ms": self.iqr_ms,
            "latency_p90_ms": self.p90_ms,
            "runs": self.runs,
            "others_cores": self.others_cores,
            "contended": self.contended_share,
        }

    def __repr__(self) -> str:
        return (
            f"Measurement(backend={self.backend!r}, device={self.device!r}, threads={self.threads}, "
            f"median_ms={self.median_ms:.4g}, iqr_ms={self.iqr_ms:.3g}, p90_ms={self.p90_ms:.4g}, "
            f"runs={self.runs}, warnings={self.warnings!r})"
        )
