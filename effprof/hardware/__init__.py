"""Hardware: the device's limits, the roofline of every layer, and latency predicted from them.

Public API::

    device_limits(device="cpu", *, threads=None, refresh=False) -> DeviceLimits   # cached per machine
    measure_limits(device="cpu", *, threads=None, gemm_n=None, working_set_bytes=None) -> DeviceLimits
    roofline(profile_or_result, limits) -> Roofline        # a profiled model against the roofs
    model_roofline(model, layers, *, peak_gmacs_per_s, bandwidth_gb_per_s, measured_ms=None) -> Roofline
    device_calibration(limits, *, refresh=False) -> Calibration                   # cached per machine
    predict_models(models, limits, calibration, *, reference="resnet18") -> PredictionResult

Pure arithmetic lives in effprof.hardware.roofline (the roofs) and effprof.hardware.fit (the fit
and MAPE). Everything raises only EffprofError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from effprof.errors import EffprofError
from effprof.hardware.limits import DeviceLimits, device_limits, measure_limits
from effprof.hardware.roofline import Roofline, model_roofline

if TYPE_CHECKING:
    from effprof.api import ModelProfile, ProfileResult

__all__ = [
    "DeviceLimits",
    "Roofline",
    "device_calibration",
    "device_limits",
    "measure_limits",
    "model_roofline",
    "predict_models",
    "roofline",
]


def roofline(result: ModelProfile | ProfileResult, limits: DeviceLimits, dtype: str = "fp32") -> Roofline:
    """A profiled model's layers against ``limits``' roofs, with its measured times where it has them.

    Per-layer measured time is the profile's attributed time (``LayerTimes.row_ms``: split by bytes);
    the whole-model latency is the timing loop's median of the backend that attributed it (else the
    first backend timed).
    """
    p = getattr(result, "profile", result)
    if p.count is None:
        raise EffprofError(f"{p.model}: nothing was counted, so there is no roofline to draw")
    measured = p.layer_times.row_ms(p.count.layers) if p.layer_times is not None else None
    backend = p.layer_times.backend if p.layer_times is not None else None
    timing = next((m for m in p.measurements if m.backend == backend), p.measurements[0] if p.measurements else None)
    rl = model_roofline(
        p.model, p.count.layers, peak_gmacs_per_s=limits.peak_gmacs_per_s(dtype),
        bandwidth_gb_per_s=limits.bandwidth_gb_per_s, measured_ms=measured,
        latency_ms=timing.median_ms if timing is not None else None, device=limits.device, threads=limits.threads,
        dtype=dtype, cache_gb_per_s=limits.cache_gb_per_s, peak_by_op_class=limits.tf32_peaks(dtype),
    )  # fmt: skip
    if timing is not None and (timing.device != limits.device or timing.threads != limits.threads):
        rl.notes.append(f"latency was measured on {timing.device} with {timing.threads} threads, the roofs on "
                        f"{limits.device} with {limits.threads}")  # fmt: skip
    if limits.contended:
        rl.notes.append("the roofs were measured while other processes used the CPU: re-run `effprof hw --refresh` "
                        "on a quiet machine")  # fmt: skip
    if timing is not None and timing.backend != "eager":
        rl.notes.append(f"measured times are {timing.backend}'s; the roofs are PyTorch kernels' (GEMM, copy)")
    return rl


def __getattr__(name: str) -> Any:
    # Calibration and prediction pull in the counters and models: import them on first use.
    if name == "device_calibration":
        from effprof.hardware.calibrate import device_calibration

        return device_calibration
    if name == "predict_models":
        from effprof.hardware.predict import predict_models

        return predict_models
    raise AttributeError(f"module 'effprof.hardware' has no attribute {name!r}")
