"""Predict a model's latency three ways and score each against its measured latency.

Rule: the three predictors see only the analytic counter's per-layer MACs, bytes and op calls,
and figures measured on this device in this run or cached for it — never the evaluated model's
own time:

- ``macs``: MACs / the reference model's achieved MAC rate (the reference is timed in the same
  run, and left out of the error since it predicts itself exactly);
- ``roofline``: the sum over layers of max(MACs / peak, bytes / bandwidth);
- ``calibrated``: each layer's roofline time / the efficiency of the nearest calibration layers of
  its op class, summed and composed as in a network (scale x sum + overhead x op calls), both fitted
  on this device's calibration layers and synthetic networks (effprof.hardware.fit); none of them is
  an evaluated model or part of one, so no leave-one-out is needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from effprof.counters.result import CountResult
from effprof.errors import EffprofError
from effprof.hardware.calibrate import Calibration, count_op_calls
from effprof.hardware.fit import Composition, Reference, calibrated_layer_ms, mape, percent_error
from effprof.hardware.limits import DeviceLimits
from effprof.hardware.roofline import roofline_time_ms
from effprof.latency.measurement import Measurement
from effprof.models import check_specs

PREDICTORS = ("macs", "roofline", "calibrated")
DEFAULT_REFERENCE = "resnet18"
#: ``predict --quick``: one or two models of every family at its default resolution (the default is
#: the whole registry, ~1 minute of timing per round on 2 cores; this set takes about a third)
QUICK_MODELS = (
    "resnet50", "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0",
    "efficientnet_b2", "shufflenet_v2_x1_0", "ghostnet_100", "se_resnet50", "mnasnet1_0", "vit_ti_16", "swin_t",
    "convnext_tiny",
)  # fmt: skip
DEFAULT_MODEL_BUDGET_S = 0.5


def roofline_sum_ms(
    count: CountResult, peak_gmacs_per_s: float, bandwidth_gb_per_s: float,
    peak_by_op_class: Mapping[str, float] | None = None,
) -> float:  # fmt: skip
    """Plain roofline: the sum of every layer's max(MACs / peak, bytes / bandwidth), in ms (a layer's
    peak is ``peak_by_op_class[its op class]`` where given: TF32 convolutions on CUDA)."""
    peaks = peak_by_op_class or {}
    return sum(roofline_time_ms(r.macs, r.bytes, peaks.get(r.op_class, peak_gmacs_per_s), bandwidth_gb_per_s)
               for r in count.layers)  # fmt: skip


def calibrated_ms(
    count: CountResult, peak_gmacs_per_s: float, bandwidth_gb_per_s: float, references: Sequence[Reference],
    composition: Composition | None = None,
) -> float:  # fmt: skip
    """Calibrated roofline: the layers' calibrated times composed as in a network, in ms."""
    layers_ms = sum(calibrated_layer_ms(r.macs, r.bytes, r.calls, r.op_class, r.type, peak_gmacs_per_s,
                                        bandwidth_gb_per_s, references) for r in count.layers)  # fmt: skip
    return (composition or Composition()).network_ms(layers_ms, count_op_calls(count))


def macs_only_ms(macs: float, reference_macs: float, reference_ms: float) -> float:
    """MACs-only: the model's MACs at the reference model's achieved rate, in ms."""
    return macs * reference_ms / reference_macs


@dataclass
class ModelPrediction:
    """One model: measured latency and each predictor's figure (ms); ``error`` when it failed."""

    model: str
    input_shape: tuple[int, ...] = ()
    macs: int = 0
    measured_ms: float | None = None
    measured_iqr_ms: float | None = None
    #: each round's median latency, ms (``measured_ms`` is the median of all rounds' runs pooled)
    round_ms: list[float] = field(default_factory=list)
    predicted_ms: dict[str, float] = field(default_factory=dict)
    is_reference: bool = False
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def error_pct(self, predictor: str) -> float | None:
        """Signed percent error of ``predictor`` (+ = predicted slower than measured)."""
        p = self.predicted_ms.get(predictor)
        if p is None or not self.measured_ms:
            return None
        return percent_error(p, self.measured_ms)

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "model": self.model, "input_shape": "x".join(map(str, self.input_shape)), "macs": self.macs,
            "latency_ms": self.measured_ms, "latency_iqr_ms": self.measured_iqr_ms, "rounds": len(self.round_ms),
            "latency_rounds_ms": " ".join(f"{v:.4g}" for v in self.round_ms) or None, "reference": self.is_reference,
        }  # fmt: skip
        for name in PREDICTORS:
            row[f"predicted_{name}_ms"] = self.predicted_ms.get(name)
            row[f"error_{name}_pct"] = self.error_pct(name)
        row["warnings"] = "; ".join(self.warnings) or None
        row["error"] = self.error
        return row


@dataclass
class PredictionResult:
    """Every model's predictions, and the MAPE of each predictor over the scored models."""

    models: list[ModelPrediction]
    reference: str
    limits: DeviceLimits
    calibration: Calibration
    interrupted: bool = False

    def scored(self) -> list[ModelPrediction]:
        """Models that count toward the MAPE: measured, not failed, not the reference."""
        return [m for m in self.models if m.measured_ms and not m.error and not m.is_reference]

    def mape(self, predictor: str) -> float:
        """Mean absolute percentage error of ``predictor`` over the scored models, in percent."""
        rows = [m for m in self.scored() if predictor in m.predicted_ms]
        return mape([m.predicted_ms[predictor] for m in rows], [m.measured_ms for m in rows]) if rows else math.nan

    def to_rows(self) -> list[dict[str, Any]]:
        return [m.to_row() for m in self.models]

    def summary(self) -> dict[str, Any]:
        return {
            "reference": self.reference, "models_scored": len(self.scored()),
            **{f"mape_{p}_pct": self.mape(p) for p in PREDICTORS},
            "peak_gmacs_per_s": self.limits.peak_gmacs_per_s(), "bandwidth_gb_per_s": self.limits.bandwidth_gb_per_s,
            "device": self.limits.device, "threads": self.limits.threads,
            "fits": {c: {"scale": f.scale, "efficiency": f.efficiency, "overhead_us": f.overhead_ms * 1e3,
                         "samples": f.samples, "fit_mape_pct": f.fit_mape} for c, f in self.calibration.fits.items()},
            "composition": {"scale": self.calibration.composition.scale,
                            "overhead_us_per_op_call": self.calibration.composition.overhead_ms * 1e3,
                            "networks": self.calibration.composition.networks,
                            "fit_mape_pct": self.calibration.composition.fit_mape},
        }  # fmt: skip


def count_model(spec: str, *, resolution: int | None = None):
    """Build a model on the meta device and count it: (BuiltModel, CountResult)."""
    from effprof.counters.analytic import count_analytic
    from effprof.models import build_model

    built = build_model(spec, resolution=resolution, device="meta")
    return built, count_analytic(built.module, built.input_shape, name=built.label)


def time_model(built, *, device: str, threads: int, budget_s: float):
    """Eager latency of a fresh, seeded instance of ``built`` on ``device`` (a Measurement).

    ``measure`` times it again while other processes compete for the CPU; a timing that stays
    contended carries a warning.
    """
    from effprof.latency import measure

    module = built.rebuild(device)
    return measure(module, built.input_shape, "eager", device=device, threads=threads, budget_s=budget_s)


def merged(rounds: Sequence[Measurement]) -> Measurement:
    """One Measurement of a model's rounds, by the one rule for repeated timings (``Measurement.merge``:
    the per-run times are pooled and every statistic recomputed; each round's median is kept in
    ``slice_ms``). Each round's own warnings follow the merged ones."""
    m = Measurement.merge(rounds)
    m.warnings = list(dict.fromkeys([*m.warnings, *(w for r in rounds for w in r.warnings)]))
    return m


def predict_models(
    models: Sequence[str],
    limits: DeviceLimits,
    calibration: Calibration,
    *,
    reference: str = DEFAULT_REFERENCE,
    resolution: int | tuple[int, int] | None = None,
    budget_s: float = DEFAULT_MODEL_BUDGET_S,
    rounds: int = 1,
    dtype: str = "fp32",
    on_result: Callable[[ModelPrediction], None] | None = None,
    on_timed: Callable[[str], None] | None = None,
) -> PredictionResult:
    """Count every model, time them all ``rounds`` times round-robin, predict each three ways.

    A model's rounds merge by ``Measurement.merge`` (every run of every round pooled; its latency is
    the pooled median, its spread the pooled IQR): round-robin spreads slow spells of a shared
    machine over every model instead of a few. A model that fails
    is a row with ``error``; ``on_timed(spec)`` is called after each timing, ``on_result(row)``
    once per model at the end. Ctrl-C stops the timing and scores what was timed, with
    ``interrupted`` set.
    """
    if not models:
        raise EffprofError("predict needs at least one model spec, e.g. effprof predict mobilenet_v2 resnet50")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise EffprofError(f"rounds {rounds!r}: must be a whole number >= 1")
    from effprof.latency.allocator import prime_allocator

    check_specs([reference, *models])
    order = list(dict.fromkeys([reference, *models]))
    result = PredictionResult([], reference, limits, calibration)
    counted: dict[str, tuple] = {}
    errors: dict[str, str] = {}
    for spec in order:
        try:
            counted[spec] = count_model(spec, resolution=resolution)
        except EffprofError as exc:
            errors[spec] = exc.message
    if reference in errors:
        raise EffprofError(f"reference {reference}: {errors[reference]}")

    prime_allocator()  # so a model's time does not depend on which model ran before it
    timings: dict[str, list] = {spec: [] for spec in counted}
    options = {"device": limits.device, "threads": limits.threads, "budget_s": budget_s}
    try:
        for _ in range(rounds):
            for spec in order:
                if spec in errors:
                    continue
                try:
                    timings[spec].append(time_model(counted[spec][0], **options))
                except EffprofError as exc:
                    errors[spec] = exc.message
                if on_timed is not None:
                    on_timed(spec)
    except KeyboardInterrupt:
        result.interrupted = True
    if not timings.get(reference):
        raise EffprofError(f"reference {reference} was not timed: {errors.get(reference, 'interrupted')}", exit_code=1)

    peak, bandwidth = limits.peak_gmacs_per_s(dtype), limits.bandwidth_gb_per_s
    ref_count = counted[reference][1]
    ref_ms = merged(timings[reference]).median_ms
    for spec in order:
        if spec in errors or not timings.get(spec):
            row = ModelPrediction(spec, error=errors.get(spec, "not timed (interrupted)"))
        else:
            count, m = counted[spec][1], merged(timings[spec])
            row = ModelPrediction(
                model=spec, input_shape=count.input_shape, macs=count.macs, measured_ms=m.median_ms,
                measured_iqr_ms=m.iqr_ms, round_ms=list(m.slice_ms), is_reference=spec == reference,
                warnings=m.warnings,
                predicted_ms={"macs": macs_only_ms(count.macs, ref_count.macs, ref_ms),
                              "roofline": roofline_sum_ms(count, peak, bandwidth, limits.tf32_peaks(dtype)),
                              "calibrated": calibrated_ms(count, peak, bandwidth, calibration.references,
                                                            calibration.composition)},
            )  # fmt: skip
        result.models.append(row)
        if on_result is not None:
            on_result(row)
    return result
