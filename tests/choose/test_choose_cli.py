"""``effprof pareto`` and ``effprof search`` through Typer's CliRunner: files, exit codes, bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from effprof.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_pareto_writes_table_json_and_plot(tmp_path):
    csv, js, png = tmp_path / "p.csv", tmp_path / "p.json", tmp_path / "p.png"
    result = invoke("pareto", "mobilenet_v1_025", "mobilenet_v1(width=0.5)", "--target-ms", "1000", "--budget-s", "0.05",
                    "--threads", "1", "-o", str(csv), "-o", str(js), "-o", str(png))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "most accurate within 1000 ms" in result.output and "TF-slim MobileNet V1" in result.output
    df = pd.read_csv(csv)
    assert set(df["spec"]) == {"mobilenet_v1_025", "mobilenet_v1(width=0.5)"} and df["on_front"].all()
    doc = json.loads(js.read_text())
    assert doc["meta"]["command"] == "pareto" and doc["chosen"] in set(df["model"])
    assert png.stat().st_size > 10_000


def test_pareto_interrupt_exits_130_and_keeps_the_rows_written(tmp_path, ctrl_c_at_second_timing):
    csv = tmp_path / "p.csv"
    result = invoke("pareto", "mobilenet_v1_025", "mobilenet_v1_050", "--budget-s", "0.02", "--threads", "1", "-o", str(csv))
    assert result.exit_code == 130, result.output
    df = pd.read_csv(csv)
    assert df.loc[df.spec == "mobilenet_v1_025", "latency_ms"].notna().all()
    assert df.loc[df.spec == "mobilenet_v1_050", "latency_ms"].isna().all()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["pareto"], "give model specs, --all"), (["pareto", "resnet18", "--all"], "not both"),
     (["pareto", "resnet18", "--target-ms", "-3"], "--target-ms"), (["pareto", "resnet18", "--w", "2"], "--w"),
     (["pareto", "resnet18", "--backend", "eager,onnxruntime"], "one backend"),
     (["pareto", "resnet18", "-o", "x.txt"], "unknown suffix"),
     (["search", "mobilenet_v2"], "needs --target-ms"), (["search", "vgg", "--target-ms", "5"], "no search grid"),
     (["pareto", "--family", "nope"], "families:")],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_search_quick_writes_rows_and_the_plot(tmp_path):
    csv, png = tmp_path / "s.csv", tmp_path / "s.png"
    result = invoke("search", "mobilenet_v1", "--target-ms", "1000", "--quick", "--shortlist", "1", "--budget-s", "0.02",
                    "--threads", "1", "-o", str(csv), "-o", str(png))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "answer (measured" in result.output and "MACs only" in result.output
    df = pd.read_csv(csv)
    assert len(df) == 16 and df["predicted_ms"].notna().all() and df["latency_ms"].notna().sum() >= 2
    assert png.stat().st_size > 10_000
