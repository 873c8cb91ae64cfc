"""effprof.pareto and effprof.search on real small models, timed briefly (eager)."""

from __future__ import annotations

import pytest

import effprof
from effprof.choose import grid_search
from effprof.errors import EffprofError
from effprof.hardware.calibrate import Calibration
from effprof.hardware.fit import Composition, Reference
from effprof.hardware.limits import measure_limits
from effprof.latency import Measurement

TINY_LIMITS = {"gemm_n": 64, "working_set_bytes": 1 << 20, "budget_s": 0.02}


def test_pareto_measures_ranks_and_says_what_has_no_accuracy():
    result = effprof.pareto(["mobilenet_v1_025", "mobilenet_v3_small", "efficientnet(phi=1)"], target_ms=1000.0,
                            budget_s=0.05, threads=1)  # fmt: skip
    df = result.to_pandas()
    rows = {r["spec"]: r for r in df.to_dict("records")}
    assert set(rows) == {"mobilenet_v1_025", "mobilenet_v3_small", "efficientnet(phi=1)"}
    v1 = rows["mobilenet_v1_025"]
    assert v1["resolution"] == 224 and v1["top1_pct"] == 49.8 and "TF-slim" in v1["accuracy_source"]
    assert v1["latency_ms"] > 0 and v1["backend"] == "eager" and v1["macs"] == pytest.approx(41e6, rel=0.01)
    assert rows["mobilenet_v3_small"]["top1_pct"] == 67.668
    phi = rows["efficientnet(phi=1)"]
    assert phi["latency_ms"] > 0 and phi["rank"] != phi["rank"]  # measured, never ranked (NaN in the frame)
    assert "no published" in phi["accuracy_source"]
    # both accurate rows are within 1 s: the hard reward is the accuracy itself
    assert rows["mobilenet_v3_small"]["reward_hard"] == 67.668
    assert result.meta["command"] == "pareto" and result.meta["target_ms"] == 1000.0
    assert not result.interrupted and not result.failed()


def test_pareto_ctrl_c_keeps_what_was_measured(ctrl_c_at_second_timing):
    result = effprof.pareto(["mobilenet_v1_025", "mobilenet_v1_050", "mobilenet_v2"], budget_s=0.02, threads=1)
    assert result.interrupted and result.pending == 2
    timed = [r for r in result.rows() if r["latency_ms"] is not None]
    assert [r["spec"] for r in timed] == ["mobilenet_v1_025"]  # smallest MACs first, kept
    assert sum(1 for r in result.rows() if r["note"] and "interrupted" in r["note"]) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "give model specs, --all"), ({"models": ["resnet18"], "all_models": True}, "not both"),
     ({"models": ["resnet18"], "target_ms": 0}, "--target-ms"), ({"models": ["resnet18"], "w": 0.5}, "--w"),
     ({"models": ["resnet18"], "backend": "eager,onnxruntime"}, "one backend"),
     ({"family": "nosuchfamily"}, "families:"), ({"models": ["resnet18"], "rank_by": "hard"}, "needs --target-ms"),
     ({"models": ["nosuch_model"]}, "unknown model")],
)  # fmt: skip
def test_pareto_refuses_bad_requests_before_any_work(kwargs, message):
    with pytest.raises(EffprofError, match=message) as info:
        effprof.pareto(**kwargs)
    assert info.value.exit_code == 2


@pytest.fixture(scope="module")
def fake_device():
    limits = measure_limits("cpu", threads=1, **TINY_LIMITS)
    # every layer at a tenth of its roofline rate, plus 20 us per op call: a crude but monotone predictor
    refs = [Reference(c, "", 1e6, 1e6, 0.1) for c in ("conv_dense", "conv_depthwise", "conv_pointwise", "linear",
                                                      "norm", "activation", "pool", "elementwise")]  # fmt: skip
    return limits, Calibration("cpu", 1, [], refs, composition=Composition(1.0, 0.02))


def test_search_screens_the_whole_grid_and_measures_only_the_shortlist(fake_device):
    limits, calibration = fake_device
    result = effprof.search("mobilenet_v1", target_ms=1000.0, shortlist=2, budget_s=0.02, threads=1,
                            limits=limits, calibration=calibration)  # fmt: skip
    rows = result.rows()
    assert len(rows) == 16 and all(r["predicted_ms"] > 0 for r in rows)
    measured = result.measured()
    # the two most accurate predicted within 1.5 s are measured first; later looks add only better ones
    assert {"mobilenet_v1 @224", "mobilenet_v1 @192"} <= {r["model"] for r in measured} and len(measured) <= 2 * (1 + grid_search.MAX_LOOKS)
    assert result.answer()["model"] == "mobilenet_v1 @224"  # 70.9%, surely within a second
    assert result.scale is not None and result.scale > 0
    assert "calibrated" in result.predictor
    summary = result.summary()
    assert summary["measured"] == len(measured) and summary["candidates"] == 16
    assert result.to_pandas().shape[0] == 16


def test_search_looks_again_with_rescaled_predictions_until_nothing_better_is_left(fake_device, monkeypatch):
    # predicted: 1 ms per 10 MMACs; measured: a quarter of that (a backend 4x faster than the predictor thinks).
    # Within T = 5 ms is MACs <= 200 M: the most accurate such grid point is mobilenet_v2 @160 (154 M, 68.8%).
    monkeypatch.setattr(grid_search, "calibrated_ms", lambda count, *a: count.macs / 1e7)

    def fake_time(choice, timing):
        ms = choice.profile.count.macs / 4e7
        choice.profile.measurements.append(Measurement("eager", "cpu", 1, [ms / 1e3] * 5))

    monkeypatch.setattr(grid_search, "time_choice", fake_time)
    limits, calibration = fake_device
    result = effprof.search("mobilenet_v2", target_ms=5.0, limits=limits, calibration=calibration, threads=1)
    # the first shortlist (predicted within 7.5 ms: <= 75 M MACs) tops out at 63.9%; rescaled by 0.25 the
    # second look reaches 300 M MACs and finds 68.8% within 5 ms; nothing more accurate is left after it
    assert result.answer()["model"] == "mobilenet_v2 @160"
    assert result.scale == pytest.approx(0.25)
    assert any(n.startswith("look 2") for n in result.notes) and not any(n.startswith("look 3") for n in result.notes)
    measured = {r["model"] for r in result.measured()}
    assert len(measured) == 10 and "mobilenet_v2 @224" not in measured  # 301 M: over even the rescaled band
    assert result.misranked() == [] and result.rank_correlation() == pytest.approx(1.0)


def test_search_quick_anchors_on_one_measured_configuration():
    result = effprof.search("mobilenet_v1", target_ms=0.001, shortlist=1, budget_s=0.02, threads=1, quick=True)
    anchor = next(r for r in result.rows() if r["model"] == "mobilenet_v1 @224")
    assert anchor["latency_ms"] == pytest.approx(anchor["predicted_ms"]) and "anchor" in anchor["note"]
    # nothing is predicted within a microsecond: the predicted-fastest configuration is measured instead
    assert any("predicted fastest" in n for n in result.notes)
    fastest = min(result.rows(), key=lambda r: r["predicted_ms"])
    assert fastest["latency_ms"] is not None and result.answer() is None


def test_search_refuses_bad_requests():
    with pytest.raises(EffprofError, match="no search grid"):
        effprof.search("resnet", target_ms=5)
    with pytest.raises(EffprofError, match="needs --target-ms"):
        effprof.search("mobilenet_v2", target_ms=None)
    with pytest.raises(EffprofError, match="--margin"):
        effprof.search("mobilenet_v2", target_ms=5, margin=-1)


def test_grids_are_the_published_tables():
    g, cands = grid_search.grid("MobileNetV2")
    assert len(cands) == 22 and all(c.accuracy is not None and c.published.pixel1_ms for c in cands)
    g, cands = grid_search.grid("efficientnet")
    assert [c.label for c in cands[:3]] == ["efficientnet_b0 @224", "efficientnet_b1 @240", "efficientnet_b2 @288"]
    assert all(c.accuracy is None for c in cands[8:]) and len(cands) == 15
