"""Sweeps over resolution and width: the exponents the lecture claims, failures kept as rows."""

import pytest
from rich.console import Console

from effprof.errors import EffprofError
from effprof.lecture.render import render_sweep
from effprof.lecture.sweep import parse_values, sweep
from effprof.reports.plots.sweep import plot_sweep


def test_vit_attention_is_quadratic_and_the_rest_linear():
    result = sweep("vit_b_16", resolutions=[224, 320, 448])
    assert result.fits["macs_attention"].exponent == pytest.approx(2, abs=0.02)
    assert result.fits["macs_linear"].exponent == pytest.approx(1, abs=0.01)
    assert 1.0 < result.fits["macs"].exponent < 1.2  # total: mostly linear layers at these sizes
    assert [r["resolution"] for r in result.rows] == [224, 320, 448]
    assert result.rows[0]["macs"] == 17_563_828_224  # torchvision's 17.564 GMACs


def test_swin_attention_is_linear():
    result = sweep("swin_t", resolutions=[224, 448, 672])
    assert result.fits["macs_attention"].exponent == pytest.approx(1, abs=1e-6)
    assert result.fits["macs"].exponent == pytest.approx(1, abs=1e-3)


def test_cnn_total_is_linear_and_has_no_attention():
    result = sweep("mobilenet_v2", resolutions=[128, 160, 224, 320])
    assert result.fits["macs"].exponent == pytest.approx(1, abs=0.02)
    assert "macs_attention" not in result.fits and "macs_attention" not in result.class_columns


def test_width_sweep_uses_the_factorys_keyword():
    v1 = sweep("mobilenet_v1", widths=[0.25, 0.5, 1.0])
    assert [r["model"] for r in v1.rows] == [
        "mobilenet_v1(width=0.25)",
        "mobilenet_v1(width=0.5)",
        "mobilenet_v1(width=1)",
    ]
    assert v1.fits["macs_conv_pointwise"].exponent == pytest.approx(2, abs=1e-6)
    assert v1.fits["macs"].exponent == pytest.approx(1.9, abs=0.05)
    v2 = sweep("mobilenet_v2", widths=[0.5, 1.0], resolution=160)
    assert (
        v2.rows[0]["model"] == "mobilenet_v2(width_mult=0.5)" and v2.rows[0]["input_shape"] == "1x3x160x160"
    )


def test_width_sweep_on_a_model_without_a_width_keyword_is_a_clear_error():
    with pytest.raises(EffprofError, match="width keyword.*'resnet50' does not.*mobilenet_v1"):
        sweep("resnet50", widths=[0.5, 1.0])
    with pytest.raises(EffprofError, match="does not"):
        sweep("tv:mobilenet_v2", widths=[0.5, 1.0])


def test_a_rejected_point_is_a_row_and_left_out_of_the_fit():
    result = sweep("vit_ti_16", resolutions=[200, 224, 448])
    assert "divisible by 16" in result.rows[0]["error"]
    assert len(result.failed) == 1 and result.fits["macs"].points == 2
    # the row says error; its message is a line under the table, not text squeezed into a cell
    console = Console(width=100, record=True)
    console.print(render_sweep(result))
    lines = console.export_text().splitlines()
    row = next(line for line in lines if line.strip().startswith("│") and " 200 " in line)
    assert "error" in row and "divisible" not in row
    assert any(line.startswith("error: resolution 200: ") and "divisible by 16" in line for line in lines)


def test_an_onnx_file_is_refused_before_any_work(tmp_path):
    with pytest.raises(EffprofError, match="nothing to sweep"):
        sweep(str(tmp_path / "model.onnx"), resolutions=[224, 320])


def test_measure_hook_adds_columns():
    result = sweep("mobilenet_v2", resolutions=[96, 128], measure=lambda built: {"latency_ms": 1.0})
    assert result.extra_columns == ["latency_ms"] and result.rows[1]["latency_ms"] == 1.0


def test_plot_is_written(tmp_path):
    # the figure the CLI draws; its writer (reports.writers) makes the folder and writes atomically
    path = plot_sweep(sweep("swin_t", resolutions=[224, 448]), tmp_path / "swin.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [("224", "2 or more"), ("224,abc", "not a number"), ("224,-1", "positive"), ("224,224", "distinct")],
)
def test_parse_values_errors(text, match):
    with pytest.raises(EffprofError, match=match):
        parse_values(text, "--resolution")


def test_exactly_one_axis():
    with pytest.raises(EffprofError, match="exactly one"):
        sweep("mobilenet_v2", resolutions=[128, 160], widths=[0.5, 1.0])
