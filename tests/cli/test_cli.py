"""The CLI through Typer's CliRunner: real commands, real files, and every bad input of the issue."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from effprof.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_compare_prints_both_models_with_published_figures():
    result = run("compare", "mobilenet_v2", "resnet50")
    assert result.exit_code == 0, result.output
    assert "3,504,872" in result.output and "25,557,032" in result.output
    assert "0.301" in result.output and "4.089" in result.output  # GMACs, torchvision's _ops
    assert "13.60x" in result.output  # resnet50's MACs relative to mobilenet_v2


def test_compare_writes_json_csv_and_markdown(tmp_path):
    paths = [tmp_path / "cmp.json", tmp_path / "cmp.csv", tmp_path / "sub" / "cmp.md"]
    result = run("compare", "mobilenet_v2", "resnet50", *[a for p in paths for a in ("-o", str(p))])
    assert result.exit_code == 0, result.output
    doc = json.loads(paths[0].read_text())
    assert doc["meta"]["versions"]["torch"]
    rows = {r["model"]: r for r in doc["rows"]}
    assert rows["mobilenet_v2"]["params"] == 3504872
    assert rows["resnet50"]["flops"] == 2 * rows["resnet50"]["macs"]
    df = pd.read_csv(paths[1])
    assert list(df.columns[:6]) == ["model", "source", "input_shape", "params", "macs", "flops"]
    assert df.loc[df.model == "resnet50", "params"].item() == 25557032
    assert "| mobilenet_v2" in paths[2].read_text()


def test_compare_keeps_going_when_one_model_fails(tmp_path):
    out = tmp_path / "cmp.csv"
    result = run("compare", "mobilenet_v2", "vit_b_16", "resnet18", "-r", "200", "-o", str(out))
    assert result.exit_code == 1  # some rows failed, the rest were written (issue 11 exit policy)
    df = pd.read_csv(out)
    assert list(df.model) == ["mobilenet_v2", "vit_b_16", "resnet18"]
    assert df.error.notna().tolist() == [False, True, False]
    assert "divisible by 16" in df.loc[df.model == "vit_b_16", "error"].item()
    assert "1 of 3 models failed: vit_b_16" in result.output


def test_profile_layers_csv(tmp_path):
    out = tmp_path / "mnv1.csv"
    result = run("profile", "mobilenet_v1(width=0.5)", "-r", "160", "--layers", "20", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "top 20 layers by measured time" in result.output
    assert "conv_depthwise" in result.output and "% time" in result.output
    df = pd.read_csv(out)
    (model,) = df[df.level == "model"].itertuples()  # one model-level row: one backend timed
    assert model.backend == "eager" and model.latency_ms > 0 and model.macs == 76524800
    df = df[df.level == "layer"]
    assert df.macs.sum() == 76524800  # the paper's 0.50 MobileNet-160: 76 M mult-adds (Table 7)
    assert df.share_macs.sum() == pytest.approx(1.0)
    assert df.share_latency.sum() == pytest.approx(1.0)
    assert set(df.backend) == {"eager"}
    assert set(df.op_class) >= {"conv_dense", "conv_depthwise", "conv_pointwise", "linear", "norm", "activation"}


def test_profile_reconcile_writes_reasons(tmp_path):
    out = tmp_path / "rec.json"
    result = run("profile", "mobilenet_v2", "--reconcile", "--backend", "none", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "fvcore counts batch_norm as flops" in result.output
    doc = json.loads(out.read_text())
    assert doc["reconcile"]["stock"]["coverage"]["torch"] == pytest.approx(1.0)
    assert doc["summary"]["macs_torch"] == doc["summary"]["macs"] == 300774272


def test_profile_count_only():
    result = run("profile", "resnet18", "--backend", "none", "--layers", "3")
    assert result.exit_code == 0, result.output
    assert "top 3 layers by MACs" in result.output and "latency" not in result.output


def test_compare_with_latency_writes_gap_files(tmp_path):
    csv, png = tmp_path / "gap.csv", tmp_path / "gap.png"
    result = run(
        "compare", "mobilenet_v1_025", "mobilenet_v1_050", "-r", "96", "--backend", "eager,onnxruntime",
        "--threads", "1", "--budget-s", "0.1", "-o", str(csv), "-o", str(png),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "x the MACs" in result.output and "x the latency" in result.output
    df = pd.read_csv(csv)
    assert sorted(df.backend) == ["eager", "eager", "onnxruntime", "onnxruntime"]
    assert (df.latency_ms > 0).all() and (df.gmacs_per_s > 0).all()
    assert df.parity_max_abs_diff.dropna().max() < 1e-3
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cuda_without_gpu_is_a_one_line_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    result = run("profile", "resnet18", "--device", "cuda")
    assert result.exit_code == 2 and "no CUDA device" in result.output
    assert result.output.strip().count("\n") == 0


def test_list_and_wildcards():
    result = run("list", "mobilenet*")
    assert result.exit_code == 0, result.output
    assert "mobilenet_v1_025" in result.output and "Howard et al. 2017" in result.output
    assert "resnet50" not in result.output
    assert run("list", "nothing*").exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("profile", "mobilenetv2"), "did you mean mobilenet_v2"),
        (("profile", "mobilenet_v1(0.5)"), "must be keywords"),
        (("profile", "mobilenet_v2(alpha=1)"), "does not take keyword 'alpha'"),
        (("profile", "resnet18", "-r", "0"), "--resolution must be a positive integer"),
        (("profile", "resnet18", "-r", "-5"), "--resolution must be a positive integer"),
        (("profile", "resnet18", "-b", "0"), "--batch must be a positive integer"),
        (("profile", "vit_b_16", "-r", "225"), "divisible by 16"),
        (("profile", "resnet18", "-o", "out.xlsx"), "unknown suffix '.xlsx'"),
        (("profile", "resnet18", "--backend", "tensorrt"), "unknown backend"),
        (("compare", "resnet18", "nonexistent_model"), "unknown model 'nonexistent_model'"),
    ],
)
def test_bad_input_one_line_exit_2_no_traceback(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0


def test_unwritable_output_is_rejected_before_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("profile", "resnet18", "-o", str(blocker / "out.csv"))
    assert result.exit_code == 2
    assert "not a writable directory" in result.output


@pytest.mark.parametrize("command", ["list", "profile", "compare"])
def test_help_shows_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "effprof" in result.output


def test_python_dash_m_effprof():
    done = subprocess.run(
        [sys.executable, "-m", "effprof", "compare", "mobilenet_v1_025", "mobilenet_v1_050"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mobilenet_v1_050" in done.stdout


@pytest.mark.parametrize(("command", "suffix"), [("compare", ".png"), ("compare", ".svg"), ("profile", ".png")])
def test_plots_are_written(tmp_path, command, suffix):
    out = tmp_path / f"plot{suffix}"
    models = ("mobilenet_v2", "resnet18") if command == "compare" else ("mobilenet_v1_025", "-r", "96")
    result = run(command, *models, "-o", str(out))
    assert result.exit_code == 0, result.output
    head = out.read_bytes()[:64]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in out.read_bytes()[:2000]


def test_list_writes_tables_but_has_nothing_to_plot(tmp_path):
    result = run("list", "resnet*", "-o", str(tmp_path / "models.csv"))
    assert result.exit_code == 0
    df = pd.read_csv(tmp_path / "models.csv")
    assert list(df.model) == ["resnet18", "resnet34", "resnet50", "resnet101"]
    assert df.loc[df.model == "resnet50", "paper_macs"].item() == 3.8e9
    assert run("list", "-o", str(tmp_path / "models.png")).exit_code == 2
