"""The calibrated roofline's efficiency lookup and summary fit, and the error scores. Pure functions.

Rule (the calibrated roofline): a layer's time is its roofline time divided by the efficiency
(roofline / measured) of the calibration blocks nearest to it: same op class (same layer type
where the calibration has one), nearest in per-call MACs and bytes on log scales; the efficiency
is the inverse-distance-weighted geometric mean over the ``k`` nearest. A block's efficiency holds
everything the roof leaves out at that size (per-call dispatch, layouts, threading), which is why
small layers come out far below the roof and big GEMMs close to it.

Rule (composition): inside a network layers run slower than timed one by one (each reads the
previous one's output, the others' weights pass through the caches, the network's Python runs
between them, and views and copies the counter leaves out run too). A network's time is
``scale x sum of its layers' calibrated times + overhead x its op calls``, fitted on synthetic
calibration networks (effprof.hardware.networks).

Rule (the per-class summary, for reports): ``scale_c x roofline_ms + overhead_c x calls``, fitted
per op class by least squares on *relative* error and kept non-negative; 1 / scale_c is the class's
efficiency once big, overhead_c its cost per op call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: how many calibration blocks a layer's efficiency is interpolated from
NEAREST_K = 2
# closer than this (in decades of MACs and bytes) a block is the layer's own size: use it alone
_SAME_SIZE = 1e-6
# MACs below this count as "no MACs" on the log scale (norms, activations, pooling, elementwise)
_MACS_FLOOR = 1e3

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


@dataclass(frozen=True)
class Reference:
    """A calibration block as a point of reference: per-call MACs and bytes, and its efficiency."""

    op_class: str
    type: str
    macs: float
    bytes: float
    efficiency: float
    name: str = ""


def _log_distance(macs_a: float, bytes_a: float, macs_b: float, bytes_b: float) -> float:
    """Euclidean distance in decades of MACs and of bytes."""
    dm = math.log10(max(macs_a, _MACS_FLOOR)) - math.log10(max(macs_b, _MACS_FLOOR))
    db = math.log10(max(bytes_a, 1.0)) - math.log10(max(bytes_b, 1.0))
    return math.hypot(dm, db)


def candidates(references: Sequence[Reference], op_class: str, layer_type: str) -> list[Reference]:
    """The blocks a layer may be compared with: its op class and layer type, else its op class, else all."""
    same_class = [r for r in references if r.op_class == op_class]
    same_type = [r for r in same_class if r.type == layer_type]
    return same_type or same_class or list(references)


def nearest_efficiency(
    references: Sequence[Reference], op_class: str, layer_type: str, macs: float, bytes_moved: float,
    k: int = NEAREST_K,
) -> float:  # fmt: skip
    """Efficiency of a layer (per-call ``macs``, ``bytes_moved``) from its ``k`` nearest calibration blocks.

    Inverse-distance-weighted geometric mean of their efficiencies (efficiencies are ratios, so they
    average on a log scale); a block of the layer's own size is used alone.
    """
    pool = [r for r in candidates(references, op_class, layer_type) if r.efficiency > 0]
    if not pool:
        raise ValueError("no calibration block with a positive efficiency to compare the layer with")
    near = sorted(((_log_distance(macs, bytes_moved, r.macs, r.bytes), r) for r in pool), key=lambda dr: dr[0])[:k]
    if near[0][0] < _SAME_SIZE:
        return near[0][1].efficiency
    weights = [1.0 / d for d, _ in near]
    log_eff = sum(w * math.log(r.efficiency) for w, (_, r) in zip(weights, near, strict=True)) / sum(weights)
    return math.exp(log_eff)


def calibrated_layer_ms(
    macs: float, bytes_moved: float, calls: int, op_class: str, layer_type: str,
    peak_gmacs_per_s: float, bandwidth_gb_per_s: float, references: Sequence[Reference],
) -> float:  # fmt: skip
    """One layer on its own: ``calls`` x (per-call roofline / the nearest calibration blocks' efficiency), in ms."""
    from effprof.hardware.roofline import roofline_time_ms

    calls = max(int(calls), 1)
    per_call_macs, per_call_bytes = macs / calls, bytes_moved / calls
    roof = roofline_time_ms(per_call_macs, per_call_bytes, peak_gmacs_per_s, bandwidth_gb_per_s)
    return calls * roof / nearest_efficiency(references, op_class, layer_type, per_call_macs, per_call_bytes)


@dataclass(frozen=True)
class Composition:
    """Network time = ``scale`` x sum of layer times + ``overhead_ms`` x op calls (identity by default)."""

    scale: float = 1.0
    overhead_ms: float = 0.0
    networks: int = 0
    #: mean absolute percentage error of the fit on its own networks
    fit_mape: float = math.nan

    def network_ms(self, layers_ms: float, op_calls: int) -> float:
        return self.scale * layers_ms + self.overhead_ms * op_calls


def fit_composition(layers_ms: Sequence[float], op_calls: Sequence[int], measured_ms: Sequence[float]) -> Composition:
    """The non-negative (scale, overhead per op call) that best turns summed layer times into network times."""
    scale, overhead = fit_scale_overhead(layers_ms, op_calls, measured_ms)
    fitted = Composition(scale, overhead, len(measured_ms))
    score = mape([fitted.network_ms(t, n) for t, n in zip(layers_ms, op_calls, strict=True)], measured_ms)
    return Composition(scale, overhead, len(measured_ms), score)
