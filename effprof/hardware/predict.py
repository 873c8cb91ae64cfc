"""Predict a model's latency three ways and score each against its measured latency.

Rule: the three predictors see only the analytic counter's per-layer MACs, bytes and op calls,
and figures measured on this device in this run or cached for it — never the evaluated model's
own time:

- ``macs``: MACs / the reference model's achieved MAC rate (the reference is timed in the same
  run, and left out of the error since it predicts itself exactly);
- ``roofline``: the sum over layers of max(MACs / peak, bytes / bandwidth);
- ``calibrated``: the sum over layers of scale_c x roofline + overhead_c x op calls, with
  (scale_c, overhead_c) fitted per op class on the calibration blocks (effprof.hardware.blocks),
  none of which is an evaluated model, so no leave-one-out is needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from effprof.counters.result import CountResult
from effprof.errors import EffprofError
from effprof.hardware.calibrate import Calibration
from effprof.hardware.fit import ClassFit, fit_for, mape, percent_error
from effprof.hardware.limits import DeviceLimits
from effprof.hardware.roofline import roofline_time_ms

PREDICTORS = ("macs", "roofline", "calibrated")
DEFAULT_REFERENCE = "resnet18"
#: the default set: every family of the registry at its default resolution, small enough that
#: timing all of them (and the reference) takes about a minute on 2 cores; ``--all`` runs the registry
QUICK_MODELS = (
    "resnet50", "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0",
    "efficientnet_b2", "shufflenet_v2_x1_0", "ghostnet_100", "se_resnet50", "mnasnet1_0", "vit_ti_16", "swin_t",
    "convnext_tiny",
)  # fmt: skip
DEFAULT_MODEL_BUDGET_S = 0.5


def roofline_sum_ms(count: CountResult, peak_gmacs_per_s: float, bandwidth_gb_per_s: float) -> float:
    """Plain roofline: the sum of every layer's max(MACs / peak, bytes / bandwidth), in ms."""
    return sum(roofline_time_ms(r.macs, r.bytes, peak_gmacs_per_s, bandwidth_gb_per_s) for r in count.layers)


def calibrated_ms(count: CountResult, peak_gmacs_per_s: float, bandwidth_gb_per_s: float, fits: dict[str, ClassFit]) -> float:
    """Calibrated roofline: the sum of every layer's scale x roofline + overhead x op calls, in ms."""
    total = 0.0
    for r in count.layers:
        roof = roofline_time_ms(r.macs, r.bytes, peak_gmacs_per_s, bandwidth_gb_per_s)
        total += fit_for(fits, r.op_class).predict_ms(roof, r.calls)
    return total


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
            "latency_ms": self.measured_ms, "latency_iqr_ms": self.measured_iqr_ms, "reference": self.is_reference,
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
        }  # fmt: skip


def measure_model(spec: str, *, device: str, threads: int, budget_s: float, resolution: int | None = None):
    """Count a model (meta device) and time it eagerly on ``device``: (CountResult, Measurement)."""
    from effprof.counters.analytic import count_analytic
    from effprof.latency import measure
    from effprof.models import build_model

    built = build_model(spec, resolution=resolution, device="meta")
    count = count_analytic(built.module, built.input_shape, name=built.label)
    module = built.rebuild(device)
    return count, measure(module, built.input_shape, "eager", device=device, threads=threads, budget_s=budget_s)


def predict_models(
    models: Sequence[str],
    limits: DeviceLimits,
    calibration: Calibration,
    *,
    reference: str = DEFAULT_REFERENCE,
    resolution: int | None = None,
    budget_s: float = DEFAULT_MODEL_BUDGET_S,
    dtype: str = "fp32",
    on_result: Callable[[ModelPrediction], None] | None = None,
) -> PredictionResult:
    """Time the reference, then each model; predict each three ways. A model that fails is a row with ``error``.

    Ctrl-C stops the run and returns what finished, with ``interrupted`` set.
    """
    if not models:
        raise EffprofError("predict needs at least one model spec, e.g. effprof predict mobilenet_v2 resnet50")
    from effprof.api import check_specs

    check_specs([reference, *models])
    peak, bandwidth = limits.peak_gmacs_per_s(dtype), limits.bandwidth_gb_per_s
    options = {"device": limits.device, "threads": limits.threads, "budget_s": budget_s, "resolution": resolution}
    result = PredictionResult([], reference, limits, calibration)
    ref_count, ref_m = measure_model(reference, **options)
    if not ref_m.median_ms > 0:
        raise EffprofError(f"reference {reference} timed at {ref_m.median_ms} ms: cannot take a rate from it", exit_code=1)

    def predict(spec: str, count: CountResult, m) -> ModelPrediction:
        return ModelPrediction(
            model=spec, input_shape=count.input_shape, macs=count.macs, measured_ms=m.median_ms,
            measured_iqr_ms=m.iqr_ms, is_reference=spec == reference, warnings=list(m.warnings),
            predicted_ms={"macs": macs_only_ms(count.macs, ref_count.macs, ref_m.median_ms),
                          "roofline": roofline_sum_ms(count, peak, bandwidth),
                          "calibrated": calibrated_ms(count, peak, bandwidth, calibration.fits)},
        )  # fmt: skip

    for spec in dict.fromkeys([reference, *models]):
        try:
            row = predict(spec, ref_count, ref_m) if spec == reference else predict(spec, *measure_model(spec, **options))
        except EffprofError as exc:
            row = ModelPrediction(spec, error=exc.message)
        except KeyboardInterrupt:
            result.interrupted = True
            break
        result.models.append(row)
        if on_result is not None:
            on_result(row)
    return result
