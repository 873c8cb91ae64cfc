"""Device limits: real (tiny) GEMM and bandwidth measurements, their statistics, and the per-machine cache."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hardware_helpers import TINY

from effprof.errors import EffprofError
from effprof.hardware import cache, limits
from effprof.hardware.limits import (
    DeviceLimits,
    default_working_set_bytes,
    device_limits,
    measure_bandwidth,
    measure_gemm,
    measure_limits,
)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")


def _positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


def test_gemm_peak_is_positive_and_keeps_raw_times():
    c = measure_gemm("fp32", n=64, threads=1, budget_s=0.02)
    assert c.kind == "compute" and c.work == 64**3
    assert _positive(c.rate_g_per_s)
    m = c.measurement
    assert len(m.times_s) >= 5 and all(t > 0 for t in m.times_s)  # raw times, min_runs honoured
    assert m.threads == 1 and isinstance(m.warnings, list)
    assert c.rate_per_s == pytest.approx(64**3 / (m.median_ms / 1e3))


@pytest.mark.parametrize("kind, arrays", [("copy", 2), ("triad", 3)])
def test_bandwidth_counts_each_array_once(kind, arrays):
    c = measure_bandwidth(kind, working_set_bytes=3 << 20, threads=1, budget_s=0.02)
    numel = (3 << 20) // (4 * arrays)
    assert c.kind == "memory" and c.work == arrays * numel * 4
    assert _positive(c.rate_g_per_s)


def test_measure_limits_gives_every_ceiling_and_a_ridge():
    lim = measure_limits("cpu", threads=1, **TINY)
    assert [c.name for c in lim.ceilings] == ["gemm", "copy", "triad", "cache_copy"]
    assert _positive(lim.peak_gmacs_per_s()) and _positive(lim.bandwidth_gb_per_s)
    assert lim.bandwidth_gb_per_s == max(lim.ceiling("copy").rate_g_per_s, lim.ceiling("triad").rate_g_per_s)
    assert lim.ridge_macs_per_byte() == pytest.approx(lim.peak_gmacs_per_s() / lim.bandwidth_gb_per_s)
    assert lim.machine["threads"] == 1 and lim.machine["cpu"]


def test_limits_round_trip_through_json():
    lim = measure_limits("cpu", threads=1, **TINY)
    back = DeviceLimits.from_dict(json.loads(json.dumps(lim.to_dict())))
    assert back.peak_gmacs_per_s() == lim.peak_gmacs_per_s()
    assert back.bandwidth_gb_per_s == lim.bandwidth_gb_per_s
    assert back.ceiling("gemm").measurement.times_s == lim.ceiling("gemm").measurement.times_s


def test_device_limits_are_cached_per_machine_and_refreshable(hw_cache):
    first = device_limits("cpu", threads=1, **TINY)
    assert not first.from_cache and first.cache_path.startswith(str(hw_cache))
    again = device_limits("cpu", threads=1, **TINY)
    assert again.from_cache and again.peak_gmacs_per_s() == first.peak_gmacs_per_s()
    fresh = device_limits("cpu", threads=1, refresh=True, **TINY)
    assert not fresh.from_cache
    # another thread count is another machine key: measured, not reused
    assert not device_limits("cpu", threads=2, **TINY).from_cache


def test_test_sized_measurements_never_stand_in_for_default_ones():
    key = cache.machine_description("cpu", 1)
    tiny = device_limits("cpu", threads=1, **TINY)
    assert tiny.cache_path != str(cache.cache_path("limits", key))


def test_a_corrupt_cache_file_is_measured_afresh():
    first = device_limits("cpu", threads=1, **TINY)
    with open(first.cache_path, "w") as fh:
        fh.write("{not json")
    assert not device_limits("cpu", threads=1, **TINY).from_cache


def test_default_working_set_is_beyond_the_last_level_cache():
    llc = limits.last_level_cache_bytes()
    size = default_working_set_bytes("cpu")
    assert size >= limits.MIN_WORKING_SET_BYTES
    if llc and limits.LLC_MULTIPLE * llc <= limits.MAX_WORKING_SET_BYTES:
        free = limits._available_memory_bytes()
        assert size >= limits.LLC_MULTIPLE * llc or (free and size == free // 4)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: measure_gemm("tf32", n=8), "use one of fp32"),
        (lambda: measure_gemm("int4", n=8), "GEMM dtype"),
        (lambda: measure_bandwidth("scale", working_set_bytes=1 << 16), "copy or triad"),
        (lambda: measure_gemm("fp32", n=8, budget_s=0), "must be > 0"),
    ],
)
def test_bad_requests_are_one_line_user_errors(call, message):
    with pytest.raises(EffprofError, match=message) as info:
        call()
    assert info.value.exit_code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_without_a_gpu_is_a_user_error():
    with pytest.raises(EffprofError, match="no CUDA device") as info:
        device_limits("cuda")
    assert info.value.exit_code == 2


@needs_cuda
def test_cuda_limits_cover_every_tensor_core_dtype():
    tf32_before = torch.backends.cuda.matmul.allow_tf32
    lim = measure_limits("cuda", gemm_n=256, working_set_bytes=8 << 20, budget_s=0.02)
    assert lim.dtypes == ["fp32", "tf32", "fp16", "bf16"]
    assert all(_positive(lim.peak_gmacs_per_s(d)) for d in lim.dtypes)
    assert _positive(lim.bandwidth_gb_per_s) and lim.machine["gpu"]
    # one launch costs more than copying an L2-sized set: no in-cache roof on a GPU
    assert [c.name for c in lim.ceilings if c.kind == "memory"] == ["copy", "triad"]
    assert torch.backends.cuda.matmul.allow_tf32 == tf32_before  # switched on for the tf32 GEMM only


def test_limits_are_contended_when_a_ceiling_was_timed_under_contention():
    from effprof.hardware.limits import Ceiling, DeviceLimits
    from effprof.latency import Measurement

    def ceiling(contended: bool) -> Ceiling:
        m = Measurement("gemm", "cpu", 2, [0.01, 0.011], contended=contended, others_cores=1.2 if contended else 0.0)
        return Ceiling("gemm", "compute", "fp32", 1e9, "n", m)

    assert not DeviceLimits("cpu", 2, [ceiling(False), ceiling(False)]).contended
    limits = DeviceLimits("cpu", 2, [ceiling(False), ceiling(True)])
    assert limits.contended and any("not cached" in n for n in limits.warnings)


def _gpu_limits() -> limits.DeviceLimits:
    from effprof.hardware.limits import Ceiling, DeviceLimits
    from effprof.latency import Measurement

    def ceiling(name: str, kind: str, dtype: str, work: float, seconds: float) -> Ceiling:
        return Ceiling(name, kind, dtype, work, "n", Measurement(name, "cuda", 16, [seconds] * 5))

    # an H200's measured figures: 25.4 TMAC/s fp32, 178 TMAC/s tf32, 4.3 TB/s
    return DeviceLimits("cuda", 16, [
        ceiling("gemm", "compute", "fp32", 25.4e12, 1.0), ceiling("gemm", "compute", "tf32", 178e12, 1.0),
        ceiling("copy", "memory", "fp32", 4.3e12, 1.0),
    ])  # fmt: skip


@pytest.fixture
def tf32_flags():
    """Set (cudnn, matmul) allow_tf32 flags; restored afterwards (matmul's is a property monkeypatch can't patch)."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32

    def set_flags(cudnn: bool, matmul: bool) -> None:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = cudnn, matmul

    yield set_flags
    set_flags(*before)


def test_convolutions_on_cuda_are_bounded_by_the_tf32_peak_while_cudnn_allows_tf32(tf32_flags):
    lim = _gpu_limits()
    tf32_flags(cudnn=True, matmul=False)
    assert lim.peak_for("conv_dense") == pytest.approx(178e3)
    assert lim.peak_for("linear") == pytest.approx(25.4e3)  # matmuls stay fp32 unless asked
    assert set(lim.tf32_peaks()) == {"conv_dense", "conv_pointwise", "conv_grouped", "conv_depthwise"}
    tf32_flags(cudnn=False, matmul=False)
    assert lim.peak_for("conv_dense") == pytest.approx(25.4e3) and lim.tf32_peaks() == {}
    tf32_flags(cudnn=False, matmul=True)
    assert set(lim.tf32_peaks()) == {"linear", "attention"}


def test_a_tf32_layer_sits_under_the_tf32_roof_in_the_model_roofline(tf32_flags):
    from effprof.counters.result import LayerCount
    from effprof.hardware.roofline import model_roofline

    tf32_flags(cudnn=True, matmul=False)
    lim = _gpu_limits()
    conv = LayerCount("conv", "Conv2d", "conv_dense", macs=178_000_000_000, bytes=1)
    fc = LayerCount("fc", "Linear", "linear", macs=25_400_000_000, bytes=1)
    rl = model_roofline("m", [conv, fc], peak_gmacs_per_s=lim.peak_gmacs_per_s(), bandwidth_gb_per_s=4.3e3,
                        device="cuda", peak_by_op_class=lim.tf32_peaks())  # fmt: skip
    # 178 GMACs at 178 TMAC/s and 25.4 GMACs at 25.4 TMAC/s: 1 ms each
    assert [r.compute_ms for r in rl.layers] == [pytest.approx(1.0), pytest.approx(1.0)]
    assert rl.notes and "their roof is 178,000.0 GMAC/s" in rl.notes[0]


def test_cpu_limits_have_no_tf32_roofs():
    from effprof.hardware.limits import Ceiling, DeviceLimits
    from effprof.latency import Measurement

    gemm = Ceiling("gemm", "compute", "fp32", 1e11, "n", Measurement("gemm", "cpu", 2, [1.0] * 5))
    assert DeviceLimits("cpu", 2, [gemm]).tf32_peaks() == {}
