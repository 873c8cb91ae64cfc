"""measure() on every backend with real runs, the ONNX export cache, parity, and the error contract."""

from __future__ import annotations

import math

import pytest
import torch
from latency_helpers import FAST, TINY_SHAPE, make_tiny
from torch import nn

from effprof.errors import EffprofError
from effprof.latency import (
    KNOWN_BACKENDS,
    Measurement,
    contention,
    measure,
    measure_onnx_file,
    parse_backends,
)
from effprof.latency.onnx_export import export_key

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _assert_real_statistics(m: Measurement, backend: str, device: str = "cpu") -> None:
    assert m.backend == backend and m.device == device
    assert m.input_shape == TINY_SHAPE
    assert m.runs >= FAST["min_runs"] and len(m.times_s) >= FAST["min_runs"]
    for value in (m.median_ms, m.p90_ms, m.mean_ms, m.min_ms):
        assert value > 0 and math.isfinite(value)
    for value in (m.iqr_ms, m.cv):
        assert value >= 0 and math.isfinite(value)
    assert m.p25_ms <= m.median_ms <= m.p75_ms <= m.p90_ms
    assert m.setup_s >= 0


def test_eager_measures_and_restores_train_mode(tiny):
    tiny.train()
    m = measure(tiny, TINY_SHAPE, "eager", threads=1, **FAST)
    _assert_real_statistics(m, "eager")
    assert m.threads == 1
    assert m.parity_max_abs_diff is None and m.cache_hit is None
    assert tiny.training  # put back as it was


def test_threads_default_to_all_cores_and_are_restored(tiny):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        m = measure(tiny, TINY_SHAPE, **FAST)
        assert m.threads == contention._usable_cores()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_onnxruntime_parity_and_cache(tiny, onnx_cache):
    first = measure(tiny, TINY_SHAPE, "onnxruntime", threads=1, cache_key="tiny", **FAST)
    _assert_real_statistics(first, "onnxruntime")
    assert first.cache_hit is False
    assert first.parity_max_abs_diff is not None and first.parity_max_abs_diff <= 1e-4
    exported = list(onnx_cache.glob("onnx/*/model.onnx"))
    assert [str(p) for p in exported] == [first.artifact]
    mtime = exported[0].stat().st_mtime_ns

    second = measure(tiny, TINY_SHAPE, "onnxruntime", threads=1, cache_key="tiny", **FAST)
    assert second.cache_hit is True and second.artifact == first.artifact
    assert exported[0].stat().st_mtime_ns == mtime  # not re-exported
    assert list(onnx_cache.glob("onnx/*/model.onnx")) == exported
    assert second.parity_max_abs_diff <= 1e-4


def test_export_key_tracks_what_the_file_depends_on(tiny):
    key = export_key(tiny, TINY_SHAPE, cache_key="tiny", opset=17)
    assert key == export_key(tiny, TINY_SHAPE, cache_key="tiny", opset=17)
    assert key != export_key(tiny, (2, 3, 32, 32), cache_key="tiny", opset=17)
    assert key != export_key(tiny, TINY_SHAPE, cache_key="tiny", opset=18)
    assert key != export_key(tiny, TINY_SHAPE, cache_key="other", opset=17)
    assert key != export_key(make_tiny(seed=1), TINY_SHAPE, cache_key="tiny", opset=17)  # other weights


def test_measure_onnx_file(tiny):
    exported = measure(tiny, TINY_SHAPE, "onnxruntime", threads=1, **FAST).artifact
    m = measure_onnx_file(exported, TINY_SHAPE, threads=1, **FAST)
    _assert_real_statistics(m, "onnxruntime")
    assert m.artifact == exported and m.parity_max_abs_diff is None


def test_onnx_file_with_other_shape_or_missing_file(tiny, tmp_path):
    exported = measure(tiny, TINY_SHAPE, "onnxruntime", threads=1, **FAST).artifact
    with pytest.raises(EffprofError, match=r"has shape \[1, 3, 32, 32\], asked for \[1, 3, 64, 64\]") as err:
        measure_onnx_file(exported, (1, 3, 64, 64), threads=1, **FAST)
    assert err.value.exit_code == 1
    with pytest.raises(EffprofError, match="no such ONNX file") as err:
        measure_onnx_file(tmp_path / "nope.onnx", TINY_SHAPE)
    assert err.value.exit_code == 2


@pytest.mark.slow
def test_compile_measures_and_reports_compile_time(tiny):
    m = measure(tiny, TINY_SHAPE, "compile", threads=1, **FAST)
    _assert_real_statistics(m, "compile")
    assert m.setup_s > 0


def test_unknown_backend_lists_the_valid_ones(tiny):
    with pytest.raises(EffprofError) as err:
        measure(tiny, TINY_SHAPE, "tensorrt")
    assert err.value.exit_code == 2
    message = str(err.value)
    assert "tensorrt" in message and all(name in message for name in KNOWN_BACKENDS)
    assert "\n" not in message


def test_parse_backends():
    assert parse_backends("eager,onnxruntime") == ["eager", "onnxruntime"]
    assert parse_backends(" Eager , compile,eager ") == ["eager", "compile"]
    assert parse_backends(["eager", "onnxruntime,compile"]) == ["eager", "onnxruntime", "compile"]
    with pytest.raises(EffprofError, match="eager, compile, onnxruntime") as err:
        parse_backends("eager,tvm")
    assert err.value.exit_code == 2
    with pytest.raises(EffprofError):
        parse_backends(" , ")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
@pytest.mark.parametrize("backend", ["eager", "onnxruntime"])
def test_cuda_without_cuda_is_a_user_error(tiny, backend):
    with pytest.raises(EffprofError) as err:
        measure(tiny, TINY_SHAPE, backend, device="cuda")
    assert err.value.exit_code == 2
    assert str(err.value) == (
        "--device cuda: no CUDA device is available here (torch.cuda.is_available() is False); use --device cpu"
    )


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"device": "tpu"}, "unknown device"),
        ({"threads": 0}, "--threads 0"),
        ({"budget_s": 0}, "budget"),
        ({"min_runs": 0}, "min_runs"),
    ],
)
def test_bad_options_are_user_errors(tiny, kwargs, fragment):
    with pytest.raises(EffprofError, match=fragment) as err:
        measure(tiny, TINY_SHAPE, **kwargs)
    assert err.value.exit_code == 2


def test_meta_model_is_a_user_error():
    with torch.device("meta"):
        model = make_tiny()
    with pytest.raises(EffprofError, match="meta device") as err:
        measure(model, TINY_SHAPE)
    assert err.value.exit_code == 2
    with pytest.raises(EffprofError, match="expected a torch.nn.Module"):
        measure("mobilenet_v2", TINY_SHAPE)


def test_bad_input_shape_is_a_user_error(tiny):
    with pytest.raises(EffprofError) as err:
        measure(tiny, (1, 3, 0, 32))
    assert err.value.exit_code == 2


class _Broken(nn.Module):
    def forward(self, x):
        raise RuntimeError("kernel not implemented for this dtype\nlong traceback detail")


class _Untraceable(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        # Every exporter path fails here: TorchScript tracing, and torch.export / dynamo (which feed
        # fake tensor subclasses), so the test holds whichever exporter this torch picks.
        if torch.jit.is_tracing() or torch.compiler.is_compiling() or type(x) is not torch.Tensor:
            raise RuntimeError("cannot be traced")
        return self.conv(x)


def test_failing_model_is_a_one_line_failure():
    before = torch.get_num_threads()
    with pytest.raises(EffprofError) as err:
        measure(_Broken(), TINY_SHAPE, threads=1, **FAST)
    assert err.value.exit_code == 1
    assert str(err.value) == (
        "eager backend failed on _Broken: RuntimeError: kernel not implemented for this dtype"
    )
    assert torch.get_num_threads() == before


def test_export_failure_is_a_one_line_failure():
    with pytest.raises(EffprofError) as err:
        measure(_Untraceable(), TINY_SHAPE, "onnxruntime", threads=1, **FAST)
    assert err.value.exit_code == 1
    assert str(err.value).startswith(
        "onnxruntime backend failed on _Untraceable: RuntimeError: cannot be traced"
    )


@needs_cuda
@pytest.mark.cuda
def test_eager_on_cuda(tiny):
    m = measure(tiny, TINY_SHAPE, "eager", device="cuda", **FAST)
    _assert_real_statistics(m, "eager", "cuda")


@needs_cuda
@pytest.mark.cuda
def test_onnxruntime_on_cuda(tiny):
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(EffprofError, match="CUDAExecutionProvider"):
            measure(tiny, TINY_SHAPE, "onnxruntime", device="cuda", **FAST)
        return
    m = measure(tiny, TINY_SHAPE, "onnxruntime", device="cuda", **FAST)
    _assert_real_statistics(m, "onnxruntime", "cuda")
    assert m.parity_max_abs_diff is not None and m.parity_max_abs_diff <= 1e-3


def test_onnxruntime_without_its_cuda_provider_is_refused_before_work(monkeypatch):
    # Seen on a GPU machine with the CPU-only onnxruntime wheel: without this check the request
    # built every model and failed row by row, the long message squeezed into the latency column.
    from effprof.latency import onnxrt
    from effprof.latency.registry import check_backends_on

    monkeypatch.setattr(onnxrt.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    check_backends_on(["eager", "onnxruntime"], "cpu")
    with pytest.raises(EffprofError) as err:
        check_backends_on(["eager", "onnxruntime"], "cuda")
    assert err.value.exit_code == 2
    assert str(err.value) == (
        "--device cuda: this onnxruntime has no CUDAExecutionProvider (available: CPUExecutionProvider); "
        "install onnxruntime-gpu or use --device cpu"
    )
