"""Latency: how fast a model really runs, per backend, and where the time goes per layer.

Public API::

    measure(model, input_shape, backend="eager", *, device="cpu", threads=None,
            budget_s=1.0, min_runs=5, cache_key=None) -> Measurement
    measure_onnx_file(path, input_shape, *, device="cpu", threads=None,
                      budget_s=1.0, min_runs=5) -> Measurement
    measure_paired((model, shape, key), (model, shape, key), backend="eager", *, device="cpu",
                   threads=None, budget_s=1.0, slices=10) -> (Measurement, Measurement)
    per_layer_times(model, input_shape, backend="eager", *, device="cpu", threads=None,
                    iterations=5, warmup=2, cache_key=None) -> LayerTimes
    per_layer_onnx_file(path, input_shape, *, device="cpu", threads=None,
                        iterations=5, warmup=2) -> LayerTimes
    parse_backends("eager,onnxruntime") -> ["eager", "onnxruntime"]
    environment(device="cpu") -> dict

Everything raises only EffprofError: exit code 2 for a bad request, 1 when the model fails.
"""

from __future__ import annotations

from effprof.latency.environment import environment
from effprof.latency.measurement import Measurement
from effprof.latency.per_layer import LayerTimes, per_layer_onnx_file, per_layer_times
from effprof.latency.registry import KNOWN_BACKENDS, get_backend, parse_backends
from effprof.latency.runner import measure, measure_onnx_file, measure_paired
from effprof.latency.timer import DEFAULT_BUDGET_S, DEFAULT_MIN_RUNS

__all__ = [
    "DEFAULT_BUDGET_S",
    "DEFAULT_MIN_RUNS",
    "KNOWN_BACKENDS",
    "LayerTimes",
    "Measurement",
    "environment",
    "get_backend",
    "measure",
    "measure_onnx_file",
    "measure_paired",
    "parse_backends",
    "per_layer_onnx_file",
    "per_layer_times",
]
