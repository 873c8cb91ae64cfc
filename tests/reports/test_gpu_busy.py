"""The CUDA profile footer: kernel time against latency says when a forward is launch-bound."""

from __future__ import annotations

from effprof.latency import LayerTimes
from effprof.reports.render import gpu_busy_line


def _times(device: str, kernel_ms: dict[str, float]) -> LayerTimes:
    return LayerTimes("eager", device, 16, 5, forward_ms=5.0, exclusive_ms=kernel_ms)


def test_a_forward_whose_kernels_fill_a_fifth_of_the_latency_is_launch_bound():
    # resnet50 at batch 1 on an H200: 0.80 ms of kernels in a 4.45 ms forward
    line = gpu_busy_line(_times("cuda", {"conv1": 0.5, "fc": 0.3}), 4.45)
    assert line is not None
    assert line.plain.startswith("GPU kernels: 0.8 ms of the 4.45 ms latency (18%): launch-bound")


def test_a_busy_gpu_is_stated_without_a_warning():
    line = gpu_busy_line(_times("cuda", {"conv1": 8.9}), 9.47)
    assert line is not None and line.plain == "GPU kernels: 8.9 ms of the 9.47 ms latency (94%)"
    assert "launch-bound" not in line.plain


def test_no_line_on_cpu_or_without_a_latency():
    assert gpu_busy_line(_times("cpu", {"conv1": 1.0}), 2.0) is None
    assert gpu_busy_line(_times("cuda", {"conv1": 1.0}), None) is None
