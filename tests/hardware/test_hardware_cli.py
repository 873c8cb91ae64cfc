"""``effprof hw``, ``effprof predict`` and ``effprof profile --roofline`` through Typer's CliRunner (tiny sizes)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from hardware_helpers import TINY_BLOCKS, TINY_NETWORKS
from typer.testing import CliRunner

from effprof.cli import app

runner = CliRunner()
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_hw_prints_peaks_ridge_and_caches(tiny_defaults, tmp_path):
    result = run("hw", "--threads", 1, "-o", tmp_path / "hw.json")
    assert result.exit_code == 0, result.output
    assert "GMAC/s" in result.output and "GB/s" in result.output and "ridge point fp32" in result.output
    doc = json.loads((tmp_path / "hw.json").read_text())
    assert {r["name"] for r in doc["rows"]} == {"gemm", "copy", "triad", "cache_copy"}
    assert doc["ridge_macs_per_byte"]["fp32"] > 0 and doc["limits"]["ceilings"][0]["times_s"]
    assert "cached" in run("hw", "--threads", 1).output
    assert "measured" in run("hw", "--threads", 1, "--refresh").output


@no_cuda
@pytest.mark.parametrize("command", [("hw",), ("profile", "mobilenet_v1_025", "-r", "32", "--roofline")])
def test_cuda_without_a_gpu_is_one_line_and_exit_2(command):
    result = run(*command, "--device", "cuda")
    assert result.exit_code == 2
    assert "no CUDA device" in result.output and "Traceback" not in result.output


def test_profile_roofline_writes_the_plot_and_the_columns(tiny_defaults, tmp_path):
    png, csv, js = tmp_path / "rl.png", tmp_path / "rl.csv", tmp_path / "rl.json"
    result = run("profile", "mobilenet_v1_025", "-r", 32, "--threads", 1, "--budget-s", 0.02, "--roofline",
                 "-o", png, "-o", csv, "-o", js)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "roofline by op class" in result.output and "efficiency" in result.output
    assert "each read or written once" in result.output  # the assumptions are stated
    assert png.read_bytes()[:4] == b"\x89PNG"
    df = pd.read_csv(csv)
    assert {"bound", "roofline_ms", "efficiency"} <= set(df.columns)
    # tiny test-sized roofs put the ridge anywhere: check the rule, not where this machine's ridge falls
    summary = json.loads(js.read_text())["roofline"]
    above = (df.macs > 0) & (df.intensity >= summary["ridge_macs_per_byte"])
    assert (df.bound == above.map({True: "compute", False: "memory"})).all()
    assert (df[df.macs == 0].bound == "memory").all()
    assert summary["roofline_ms"] == pytest.approx(df.roofline_ms.sum())
    assert summary["latency_ms"] > 0 and summary["efficiency"] > 0


def test_profile_roofline_without_timing_still_draws(tiny_defaults, tmp_path):
    svg = tmp_path / "rl.svg"
    result = run("profile", "mobilenet_v1_025", "-r", 32, "--threads", 1, "--backend", "none", "--roofline", "-o", svg)
    assert result.exit_code == 0, result.output
    assert "roofline time" in result.output and "measured latency" not in result.output
    assert svg.read_text().lstrip().startswith("<?xml")


def test_predict_prints_the_three_mapes(tiny_defaults, monkeypatch, tmp_path):
    from effprof.hardware import blocks, networks

    monkeypatch.setattr(blocks, "CALIBRATION_BLOCKS", TINY_BLOCKS)
    monkeypatch.setattr(networks, "CALIBRATION_NETWORKS", TINY_NETWORKS)
    csv, png = tmp_path / "p.csv", tmp_path / "p.png"
    result = run("predict", "mobilenet_v1_025", "resnet18", "--reference", "mobilenet_v1(width=0.25)", "-r", "32x48",
                 "--threads", 1, "--budget-s", 0.01, "-o", csv, "-o", png)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "mean absolute percentage error over 2 models" in result.output
    for label in ("MACs only", "roofline", "calibrated roofline"):
        assert label in result.output
    df = pd.read_csv(csv)
    assert list(df.model) == ["mobilenet_v1(width=0.25)", "mobilenet_v1_025", "resnet18"]
    assert df.reference.tolist() == [True, False, False]
    assert set(df.input_shape) == {"1x3x32x48"}  # -r HxW, as on every command
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, message",
    [(("predict", "resnet18", "--quick"), "not both"), (("predict", "resnet_9000"), "resnet_9000"),
     (("predict", "resnet18", "-o", "x.xlsx"), "unknown suffix"), (("hw", "-o", "hw.png"), "unknown suffix"),
     (("predict", "resnet18", "-r", "10x"), "like 224 or 224x320")],
)  # fmt: skip
def test_user_mistakes_are_one_line_errors(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
