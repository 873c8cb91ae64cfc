"""Fitting the calibrated roofline, and scoring predictions. Pure functions of numbers.

Rule (the calibrated roofline): a layer of op class c that runs ``calls`` ops takes
``scale_c x roofline_ms + overhead_c x calls``. ``scale_c`` = 1 / efficiency_c says how far above
the roof the class runs once it is big; ``overhead_c`` (ms per op call) is the fixed cost of
dispatching one op, which dominates small layers in eager mode. Both are fitted per op class by
least squares on *relative* error (what MAPE scores), and kept non-negative.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: the pooled fit over every sample, for an op class the calibration set has no block of
POOLED = "*"


@dataclass(frozen=True)
class Sample:
    """One timed calibration layer: its roofline time, op calls and measured time."""

    op_class: str
    roofline_ms: float
    calls: int
    measured_ms: float
    name: str = ""


@dataclass(frozen=True)
class ClassFit:
    """The fitted ``scale`` (measured / roofline once big) and per-call ``overhead_ms`` of one op class."""

    op_class: str
    scale: float
    overhead_ms: float
    samples: int = 0
    #: mean absolute percentage error of the fit on its own samples
    fit_mape: float = math.nan

    @property
    def efficiency(self) -> float:
        """1 / scale: the fraction of the roof the class reaches, call overhead aside."""
        return 1.0 / self.scale if self.scale > 0 else math.inf

    def predict_ms(self, roofline_ms: float, calls: int) -> float:
        return self.scale * roofline_ms + self.overhead_ms * calls


def _loss(scale: float, overhead: float, a: Sequence[float], b: Sequence[float]) -> float:
    return sum((scale * ai + overhead * bi - 1.0) ** 2 for ai, bi in zip(a, b, strict=True))


def fit_scale_overhead(
    roofline_ms: Sequence[float], calls: Sequence[float], measured_ms: Sequence[float]
) -> tuple[float, float]:
    """Non-negative (scale, overhead_ms) minimising sum(((scale*r + overhead*n) - t) / t)^2.

    Dividing each equation by its measured time t turns relative error into ordinary least
    squares on a_i = r_i/t_i, b_i = n_i/t_i with target 1: a 2x2 linear system. If its solution
    has a negative term, the better of the two one-term fits is taken instead.
    """
    if not (len(roofline_ms) == len(calls) == len(measured_ms)) or not measured_ms:
        raise ValueError("fit needs equally many roofline times, calls and measured times (at least one)")
    if any(not t > 0 for t in measured_ms):
        raise ValueError("measured times must be positive")
    a = [r / t for r, t in zip(roofline_ms, measured_ms, strict=True)]
    b = [n / t for n, t in zip(calls, measured_ms, strict=True)]
    saa, sbb, sab = sum(x * x for x in a), sum(x * x for x in b), sum(x * y for x, y in zip(a, b, strict=True))
    sa, sb = sum(a), sum(b)
    candidates = []
    det = saa * sbb - sab * sab
    if det > 1e-12 * max(saa * sbb, 1e-300):
        scale, overhead = (sa * sbb - sb * sab) / det, (sb * saa - sa * sab) / det
        if scale >= 0 and overhead >= 0:
            candidates.append((scale, overhead))
    if saa > 0:
        candidates.append((sa / saa, 0.0))
    if sbb > 0:
        candidates.append((0.0, sb / sbb))
    if not candidates:
        return (0.0, 0.0)
    return min(candidates, key=lambda c: _loss(c[0], c[1], a, b))


def percent_error(predicted: float, measured: float) -> float:
    """Signed error of a prediction in percent of the measured value (+ = predicted too slow)."""
    return 100.0 * (predicted - measured) / measured


def mape(predicted: Sequence[float], measured: Sequence[float]) -> float:
    """Mean absolute percentage error, in percent: mean(|p - m| / m) x 100."""
    if len(predicted) != len(measured):
        raise ValueError("mape needs as many predictions as measurements")
    if not measured:
        return math.nan
    return sum(abs(percent_error(p, m)) for p, m in zip(predicted, measured, strict=True)) / len(measured)


def fit_classes(samples: Iterable[Sample]) -> dict[str, ClassFit]:
    """One ClassFit per op class in ``samples``, plus the pooled fit under POOLED."""
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(s.op_class, []).append(s)
    everything = [s for group in groups.values() for s in group]
    fits = {}
    for op_class, group in [*groups.items(), (POOLED, everything)]:
        if not group:
            continue
        scale, overhead = fit_scale_overhead([s.roofline_ms for s in group], [s.calls for s in group],
                                             [s.measured_ms for s in group])  # fmt: skip
        fit = ClassFit(op_class, scale, overhead, len(group))
        score = mape([fit.predict_ms(s.roofline_ms, s.calls) for s in group], [s.measured_ms for s in group])
        fits[op_class] = ClassFit(op_class, scale, overhead, len(group), score)
    return fits


def fit_for(fits: dict[str, ClassFit], op_class: str) -> ClassFit:
    """The fit of ``op_class``, else the pooled one."""
    return fits.get(op_class) or fits[POOLED]


def rate_per_ms(work: float, measured_ms: float) -> float:
    """Work per millisecond of a reference measurement (e.g. MACs/ms); the MACs-only predictor's rate."""
    if not measured_ms > 0:
        raise ValueError("reference time must be positive")
    return work / measured_ms
