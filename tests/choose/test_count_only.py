"""``--backend none``: pareto counts and lists the published figures (nothing ranked), search screens by
prediction only (nothing measured); the forms that need a measurement are one-line usage errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torchvision
from typer.testing import CliRunner

import effprof
from effprof.choose import grid_search
from effprof.cli import app
from effprof.errors import EffprofError
from effprof.hardware.calibrate import Calibration
from effprof.hardware.fit import Composition, Reference
from effprof.hardware.limits import measure_limits

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_pareto_counts_only_and_ranks_nothing():
    result = effprof.pareto(["mobilenet_v2", "mobilenet_v1_025"], backend="none")
    rows = {r["spec"]: r for r in result.rows()}
    v2 = rows["mobilenet_v2"]
    # torchvision's own figures for its released MobileNetV2: _ops (GMACs), num_params, the best top-1 at 224
    weights = torchvision.models.MobileNet_V2_Weights
    best = max(w.meta["_metrics"]["ImageNet-1K"]["acc@1"] for w in weights)
    assert v2["macs"] == pytest.approx(weights.IMAGENET1K_V2.meta["_ops"] * 1e9, rel=1e-3)
    assert v2["params"] == weights.IMAGENET1K_V2.meta["num_params"] and v2["top1_pct"] == best
    assert v2["pixel1_ms"] == 73.8  # TF-slim V2 table, mobilenet_v2_1.0_224
    assert rows["mobilenet_v1_025"]["top1_pct"] == 49.8  # TF-slim V1 table, MobileNet_v1_0.25_224
    for r in rows.values():
        assert r["latency_ms"] is None and r["rank"] is None and r["on_front"] is None and r["error"] is None
    assert result.meta["backends"] == [] and not result.timed and result.chosen() is None
    assert [r["spec"] for r in result.rows()] == ["mobilenet_v1_025", "mobilenet_v2"]  # smallest MACs first


def test_pareto_target_with_nothing_timed_is_refused():
    with pytest.raises(EffprofError, match="--backend none times nothing") as info:
        effprof.pareto(["mobilenet_v2"], backend="none", target_ms=5)
    assert info.value.exit_code == 2


@pytest.fixture(scope="module")
def fake_device():
    limits = measure_limits("cpu", threads=1, gemm_n=64, working_set_bytes=1 << 20, budget_s=0.02)
    refs = [Reference(c, "", 1e6, 1e6, 0.1) for c in ("conv_dense", "conv_depthwise", "conv_pointwise", "linear",
                                                      "norm", "activation", "pool", "elementwise")]  # fmt: skip
    return limits, Calibration("cpu", 1, [], refs, composition=Composition(1.0, 0.02))


def test_search_with_nothing_timed_predicts_every_point_and_measures_none(fake_device, monkeypatch):
    monkeypatch.setattr(grid_search, "calibrated_ms", lambda count, *a: count.macs / 1e7)  # 1 ms per 10 MMACs
    limits, calibration = fake_device
    result = effprof.search("mobilenet_v1", target_ms=5.0, backend="none", limits=limits, calibration=calibration)
    rows = {r["model"]: r for r in result.rows()}
    assert len(rows) == 16 and all(r["latency_ms"] is None and not r["shortlisted"] for r in rows.values())
    assert result.measured() == [] and result.answer() is None and not result.timed
    # within 5 ms is <= 50 M MACs: the TF-slim table's most accurate such point is MobileNet_v1_0.5_128 (49 M, 56.3%)
    predicted = result.predicted_answer()
    assert predicted["model"] == "mobilenet_v1(width=0.5) @128" and predicted["predicted_ms"] < 5.0
    assert any("nothing measured" in n for n in result.notes)
    assert result.summary()["answer"] is None and result.summary()["predicted_answer"] == predicted["model"]


def test_search_quick_with_nothing_timed_is_a_one_line_usage_error():
    result = invoke("search", "mobilenet_v2", "--target-ms", 5, "--quick", "--backend", "none")
    assert result.exit_code == 2, result.output
    assert "leave out --quick" in result.output and result.output.strip().count("\n") == 0


def test_cli_pareto_backend_none_writes_counts(tmp_path):
    csv, js = tmp_path / "p.csv", tmp_path / "p.json"
    result = invoke("pareto", "mobilenet_v1_025", "mobilenet_v1_050", "--backend", "none", "-o", csv, "-o", js)
    assert result.exit_code == 0, result.output
    assert "nothing timed" in result.output and "no Pareto front" in result.output
    df = pd.read_csv(csv)
    assert df["latency_ms"].isna().all() and list(df["top1_pct"]) == [49.8, 63.3]  # TF-slim V1 at 224
    assert json.loads(js.read_text())["chosen"] is None


@pytest.mark.parametrize("args", [("--target-ms", 5), ("-o", "x.png")])
def test_cli_pareto_backend_none_refuses_what_needs_a_measurement(args, tmp_path):
    args = tuple(tmp_path / a if str(a).endswith(".png") else a for a in args)
    result = invoke("pareto", "mobilenet_v2", "--backend", "none", *args)
    assert result.exit_code == 2, result.output
    assert "--backend none" in result.output and result.output.strip().count("\n") == 0
