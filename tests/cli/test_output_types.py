"""Issue 12 on the command line: the suffixes a command accepts follow from its result type, progress off
a terminal, nothing heavy imported for --help, and ONNX files timed where they can run."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from effprof.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def help_words(command: str) -> str:
    """The --help text as one line of words (rich's panel borders and line breaks taken out)."""
    return " ".join(run(command, "--help").output.replace("│", " ").split())


@pytest.mark.parametrize("command", ["list", "hw", "formulas"])
def test_help_offers_no_plot_where_there_is_no_figure(command):
    help_text = help_words(command)
    assert ".csv .json .md .html" in help_text and ".png" not in help_text and ".svg" not in help_text


@pytest.mark.parametrize("command", ["compare", "profile", "scale", "sweep", "predict", "bench", "pareto", "search"])
def test_help_offers_plots_where_there_is_a_figure(command):
    assert ".csv .json .md .html .png .svg" in help_words(command)


def test_formulas_png_is_a_one_line_usage_error_before_any_work(tmp_path):
    result = run("formulas", "dwconv", "-o", tmp_path / "x.png")
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "KeyError" not in result.output
    assert "unknown suffix '.png'; use one of .csv, .json, .md, .html" in result.output
    assert not (tmp_path / "x.png").exists()


def test_scale_draws_its_own_figure(tmp_path):
    png = tmp_path / "scale.png"
    result = run("scale", "-o", png)
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_help_and_import_load_neither_torch_nor_pandas():
    code = ("import sys, effprof, effprof.cli; from effprof.cli import app; "
            "print(sorted(m for m in ('torch', 'pandas', 'numpy', 'matplotlib') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.strip() == "[]"
    help_run = subprocess.run([sys.executable, "-X", "importtime", "-m", "effprof", "--help"], capture_output=True,
                              text=True, cwd=REPO, check=True)  # fmt: skip
    assert "Usage" in help_run.stdout and " torch" not in help_run.stderr and "pandas" not in help_run.stderr


def test_list_loads_neither_torch_nor_pandas_and_shows_torchvisions_params():
    listed = subprocess.run([sys.executable, "-X", "importtime", "-m", "effprof", "list", "resnet*"],
                            capture_output=True, text=True, cwd=REPO, check=True, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip() for line in listed.stderr.splitlines() if "|" in line}
    assert not imported & {"torch", "pandas", "numpy", "matplotlib", "torchvision", "timm"}
    # torchvision's published num_params for ResNet-50 (ResNet50_Weights.IMAGENET1K_V1.meta), from the shipped table
    assert "25.6 M" in listed.stdout and "resnet50" in listed.stdout


def test_off_a_terminal_each_finished_model_is_one_plain_line(tmp_path):
    result = run("compare", "mobilenet_v1_025", "mobilenet_v1_050", "-r", 64, "--counters", "analytic")
    assert result.exit_code == 0, result.output
    assert "effprof: counting 1/2 mobilenet_v1_025 (" in result.output
    assert "effprof: counting 2/2 mobilenet_v1_050 (" in result.output


def _export(path: Path, shape=(1, 3, 32, 32)) -> Path:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * shape[2] * shape[3], 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), torch.randn(*shape), str(path), dynamo=False)  # fixed shape: no dynamic axes
    return path


def test_an_onnx_file_is_timed_on_onnxruntime_by_default(tmp_path):
    path = _export(tmp_path / "tiny.onnx")
    out = tmp_path / "p.json"
    result = run("profile", path, "--threads", 1, "--budget-s", 0.05, "-o", out)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(out.read_text())["models"]
    assert row["backend"] == "onnxruntime" and row["latency_ms"] > 0 and row["error"] is None
    # conv 8x3x3x3 per output pixel of 32x32, then the linear layer: the graph's own arithmetic
    assert row["macs"] == 8 * 27 * 32 * 32 + 8 * 32 * 32 * 4


def test_a_fixed_shape_onnx_at_another_resolution_is_a_clear_error(tmp_path):
    path = _export(tmp_path / "fixed.onnx")
    result = run("profile", path, "-r", 64, "--backend", "none")
    assert result.exit_code == 2, result.output
    assert "has a fixed input shape 1x3x32x32; the requested 1x3x64x64 does not match it" in result.output
    assert result.output.strip().count("\n") == 0


def test_profile_exports_one_model_row_per_backend(tmp_path):
    csv, js = tmp_path / "p.csv", tmp_path / "p.json"
    result = run("profile", "mobilenet_v1_025", "-r", 64, "--backend", "eager,onnxruntime", "--threads", 1,
                 "--budget-s", 0.05, "--counters", "analytic", "-o", csv, "-o", js)  # fmt: skip
    assert result.exit_code == 0, result.output
    models = pd.read_csv(csv).query("level == 'model'")
    assert sorted(models.backend) == ["eager", "onnxruntime"] and (models.latency_ms > 0).all()
    doc = json.loads(js.read_text())
    assert sorted(r["backend"] for r in doc["models"]) == ["eager", "onnxruntime"]
    assert sum(r["macs"] for r in doc["op_classes"]) == doc["summary"]["macs"]
