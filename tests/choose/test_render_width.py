"""The pareto and search tables fit 80 and 120 columns like every effprof table (issue 12): numbers whole, the
ranking reward kept, the columns left out named, a long error under the table; they are Result types whose
``-o`` suffixes, JSON and figures follow from the type."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from rich.console import Console

from effprof.choose.accuracy import Accuracy, Candidate, Lookup
from effprof.choose.render import render_pareto, render_search
from effprof.choose.result import Choice, ParetoResult, SearchResult
from effprof.latency import Measurement
from effprof.reports.writers import check_outputs, write_output
from effprof.results import PLOT_SUFFIXES, TABLE_SUFFIXES, Result, renderer_of

LONG_ERROR = "onnxruntime: CUDAExecutionProvider failed: " + "the requested provider could not be loaded " * 4


def _choice(name: str, ms: float | None, top1: float | None, *, predicted: float | None = None,
            pixel1: float | None = None, error: str | None = None) -> Choice:  # fmt: skip
    acc = Accuracy(top1, None, 224, "Hand et al., a table typed for this test") if top1 is not None else None
    cand = Candidate(name, 224, "Test", Lookup(acc, "" if acc else "none published here", pixel1))
    measurements = [Measurement("eager", "cpu", 1, [ms / 1e3] * 5)] if ms is not None else []
    profile = SimpleNamespace(count=SimpleNamespace(macs=123_456_789, params=4_321_000), measurements=measurements,
                              error=None, latency_errors={"eager": error} if error else {})  # fmt: skip
    return Choice(cand, profile, predicted_ms=predicted, shortlisted=predicted is not None and ms is not None)


def _pareto() -> ParetoResult:
    choices = [_choice("mobilenet_v2(width_mult=0.35)", 2.0, 60.3, pixel1=4.5),
               _choice("mobilenet_v2(width_mult=0.75)", 5.25, 69.8, pixel1=14.2),
               _choice("efficientnet_b0", 12.5, 77.692, pixel1=30.0), _choice("resnet18", 40.0, 69.758),
               _choice("mobilenet_v2(width_mult=1.4)", None, 75.0, error=LONG_ERROR)]  # fmt: skip
    meta = {"backends": ["eager"], "device": "cpu", "threads": 1}
    return ParetoResult(choices, meta, target_ms=10.0)


def _search() -> SearchResult:
    choices = [_choice("mobilenet_v2(width_mult=0.35)", 2.5, 60.3, predicted=1.75),
               _choice("mobilenet_v2(width_mult=0.75)", 6.0, 69.8, predicted=4.5),
               _choice("mobilenet_v2(width_mult=1.3)", None, 74.4, predicted=31.25)]  # fmt: skip
    meta = {"backends": ["eager"], "device": "cpu", "threads": 1}
    return SearchResult("MobileNetV2 width x resolution (TF-slim)", choices, meta, target_ms=5.0, predictor="hand")


def printed(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 120])
def test_pareto_fits_with_every_number_whole_and_the_error_below(width):
    text = printed(render_pareto(_pareto(), width=width), width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width and "…" not in text
    table = [line for line in lines if line.startswith(("│", "┃"))]
    header = table[0]
    assert "top-1 %" in header and "latency ms" in header and "reward soft" in header  # what the ranking is
    # soft reward = top-1 x (latency / 10 ms)^-0.07: 77.692 x 1.25^-0.07 = 77.692 x e^(-0.07 ln 1.25) = 76.488
    assert "76.49" in text and "12.5" in text and "77.7" in text
    assert any("1.4" in line and "error" in line for line in table)  # the marker in its row
    assert not any("CUDAExecutionProvider" in line for line in table)
    below = " ".join(line.strip() for line in lines if line not in table)
    assert "error: mobilenet_v2(width_mult=1.4) @224: eager: onnxruntime: CUDAExecutionProvider failed" in below
    assert f"not shown at {width} columns:" in text and "chosen (soft reward, T = 10 ms): efficientnet_b0" in below


def test_pareto_wide_shows_every_column():
    text = printed(render_pareto(_pareto(), width=None, wide=True), 300)
    for header in ("top-5 %", "src", "IQR ms", "GMACs", "params M", "front", "≤10 ms", "reward hard", "doubt"):
        assert header in text
    assert "not shown" not in text


@pytest.mark.parametrize("width", [80, 120])
def test_search_fits_with_predicted_and_measured_whole(width):
    text = printed(render_search(_search(), width=width), width)
    assert max(len(line) for line in text.splitlines()) <= width and "…" not in text
    header = next(line for line in text.splitlines() if "model" in line and "top-1" in line)
    assert "predicted ms" in header and "measured ms" in header
    for value in ("1.75", "2.5", "4.5", "6", "31.2"):
        assert value in text
    assert "answer (measured, most accurate within 5 ms): mobilenet_v2(width_mult=0.35) @224" in " ".join(text.split())


def test_the_choose_results_are_results_with_figures(tmp_path):
    for result_type, figure in ((ParetoResult, "pareto"), (SearchResult, "search")):
        assert issubclass(result_type, Result) and result_type.figures == (figure,)
        assert result_type.suffixes() == TABLE_SUFFIXES + PLOT_SUFFIXES
        check_outputs([tmp_path / "x.png", tmp_path / "x.html"], result_type)
    result = _pareto()
    assert renderer_of(result) is render_pareto and renderer_of(_search()) is render_search
    doc = json.loads(write_output(tmp_path / "p.json", result).read_text())
    assert doc["chosen"] == doc["summary"]["chosen"] == "efficientnet_b0 @224" and doc["meta"]["backends"] == ["eager"]
    assert doc["summary"]["most_accurate_within_target"] == "mobilenet_v2(width_mult=0.75) @224"  # 69.8% in 5.25 ms
    assert doc["device_vs_pixel1"]["spearman"] == pytest.approx(1.0)  # same order here as on the Pixel 1
    assert [r["model"] for r in doc["rows"]][:2] == ["efficientnet_b0 @224", "mobilenet_v2(width_mult=0.75) @224"]
    assert write_output(tmp_path / "p.png", result).read_bytes()[:4] == b"\x89PNG"
    page = write_output(tmp_path / "s.html", _search()).read_text()
    assert "data:image/png;base64," in page and "predicted_answer" in page  # the figure and the summary
