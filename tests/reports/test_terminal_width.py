"""Tables fit the terminal (issue 12): at 80 and 120 columns every number is whole, the columns left out
are named under the table, and a long error is a line below it with a short ``error`` in its row."""

import re

import pytest
from rich.console import Console

import effprof
from effprof.latency import Measurement
from effprof.reports.render import render_compare, render_profile
from effprof.results import CompareResult, ModelProfile

#: torchvision's published figures (weights metadata: num_params, _ops in GMACs)
PUBLISHED = {"mobilenet_v2": ("3,504,872", "0.301"), "resnet50": ("25,557,032", "4.089")}
LONG_ERROR = "onnxruntime: CUDAExecutionProvider failed: " + "the requested provider could not be loaded " * 5


@pytest.fixture(scope="module")
def counted() -> CompareResult:
    return effprof.compare(["mobilenet_v2", "resnet50"], counters="analytic,fvcore,torch")


def printed(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 120])
def test_compare_fits_with_every_number_whole(counted, width):
    text = printed(render_compare(counted, width=width), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text  # nothing cut short
    for params, gmacs in PUBLISHED.values():
        assert params in text and gmacs in text
    header = next(line for line in text.splitlines() if "model" in line and "params" in line)
    assert "GMACs" in header and "MACs ×" in header
    assert "13.60x" in text  # resnet50's MACs over mobilenet_v2's, the ratio the table exists for
    assert re.search(rf"not shown at {width} columns: .*activations", text)


def test_wide_shows_every_column(counted):
    text = printed(render_compare(counted, width=None, wide=True), 300)
    for header in ("input", "GMACs fvcore", "GMACs torch", "GFLOPs", "other ops", "activations", "params ×"):
        assert header in text
    assert "not shown" not in text


def _timed_profile() -> ModelProfile:
    from effprof import api

    p = api.profile_model("mobilenet_v1_025", resolution=64, counters=("analytic",))
    p.measurements.append(Measurement("eager", "cpu", 2, times_s=[0.0021, 0.0020, 0.0022, 0.0019, 0.0020]))
    p.latency_errors["onnxruntime"] = LONG_ERROR
    return p


@pytest.mark.parametrize("width", [80, 120])
def test_a_long_backend_error_goes_under_the_table(width):
    result = CompareResult([_timed_profile()], {})
    text = printed(render_compare(result, width=width), width)
    lines = text.splitlines()
    table = [line for line in lines if line.startswith(("│", "┃"))]
    assert any("mobilenet_v1_025" in line and "error" in line for line in table)  # the marker in its row
    assert not any("CUDAExecutionProvider" in line for line in table)  # the message is not in a cell
    assert "2" in next(line for line in table if "eager" in line)  # the eager row keeps its numbers
    below = " ".join(line.strip() for line in lines if not line.startswith(("│", "┃", "┏", "┡", "└")))
    assert "error: mobilenet_v1_025 (onnxruntime): onnxruntime: CUDAExecutionProvider failed" in below
    assert max(len(line) for line in lines) <= width


@pytest.mark.parametrize("width", [80, 120])
def test_profile_fits(width):
    result = effprof.profile("mobilenet_v2", backends="none", counters="analytic")
    text = printed(render_profile(result, width=width), width)
    assert max(len(line) for line in text.splitlines()) <= width and "…" not in text
    assert "300,774,272" in text and "3,504,872" in text  # torchvision's _ops (MACs) and num_params
