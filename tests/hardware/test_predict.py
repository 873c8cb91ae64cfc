"""predict_models on real (tiny) models, and the scoring of its result."""

from __future__ import annotations

import math

import pytest
from hardware_helpers import TINY

from effprof.errors import EffprofError
from effprof.hardware.calibrate import Calibration
from effprof.hardware.fit import Composition, Reference
from effprof.hardware.limits import measure_limits
from effprof.hardware.predict import ModelPrediction, PredictionResult, predict_models


@pytest.fixture(scope="module")
def limits():
    return measure_limits("cpu", threads=1, **TINY)


def _calibration(limits, composition: Composition | None = None) -> Calibration:
    """Every layer at half its roofline rate, whatever its class and size."""
    refs = [Reference("conv_dense", "Conv2d", 1e6, 1e6, 0.5)]
    return Calibration("cpu", 1, [], refs, composition=composition or Composition())


def test_predicts_three_ways_and_leaves_the_reference_out(limits):
    result = predict_models(["mobilenet_v1_025", "resnet18"], limits, _calibration(limits), reference="mobilenet_v1_025",
                            resolution=32, budget_s=0.01)  # fmt: skip
    ref, model = result.models
    assert ref.is_reference and ref.error_pct("macs") == pytest.approx(0.0)  # it predicts itself exactly
    assert [m.model for m in result.scored()] == ["resnet18"]
    for p in ("macs", "roofline", "calibrated"):
        assert model.predicted_ms[p] > 0
        assert result.mape(p) == pytest.approx(abs(model.error_pct(p)))
    # MACs only: the reference's achieved rate applied to resnet18's MACs
    assert model.predicted_ms["macs"] == pytest.approx(model.macs * ref.measured_ms / ref.macs)
    # calibrated, with every layer at half its roof and no composition: twice the plain roofline
    assert model.predicted_ms["calibrated"] == pytest.approx(2 * model.predicted_ms["roofline"])
    row = model.to_row()
    assert row["latency_ms"] == model.measured_ms and row["error_calibrated_pct"] == model.error_pct("calibrated")


def test_rounds_time_every_model_again_and_merge_by_measurement_merge(limits):
    timed = []
    result = predict_models(["resnet18"], limits, _calibration(limits), reference="mobilenet_v1_025", resolution=32,
                            budget_s=0.01, rounds=3, on_timed=timed.append)  # fmt: skip
    assert timed == ["mobilenet_v1_025", "resnet18"] * 3  # round-robin
    model = result.models[1]
    assert len(model.round_ms) == 3
    # one rule for repeated rounds: every run pooled, so the latency lies within the rounds' medians
    assert min(model.round_ms) <= model.measured_ms <= max(model.round_ms)
    assert model.measured_iqr_ms is not None and model.measured_iqr_ms >= 0
    with pytest.raises(EffprofError, match="rounds"):
        predict_models(["resnet18"], limits, _calibration(limits), rounds=0)


def test_a_failing_model_is_a_row_and_the_rest_still_score(limits):
    result = predict_models(["vit_ti_16", "mobilenet_v1_025"], limits, _calibration(limits),
                            reference="mobilenet_v1(width=0.25)", resolution=40, budget_s=0.01)  # fmt: skip
    by_name = {m.model: m for m in result.models}
    assert "divisible by 16" in by_name["vit_ti_16"].error
    assert [m.model for m in result.scored()] == ["mobilenet_v1_025"]


def test_a_bad_spec_fails_before_any_timing(limits):
    with pytest.raises(EffprofError, match="no registered model|unknown"):
        predict_models(["not_a_model"], limits, _calibration(limits), budget_s=0.01)
    with pytest.raises(EffprofError, match="at least one"):
        predict_models([], limits, _calibration(limits))


def test_mape_over_synthetic_rows(limits):
    rows = [
        ModelPrediction("ref", measured_ms=10.0, predicted_ms={"macs": 10.0, "roofline": 5.0, "calibrated": 9.0},
                        is_reference=True),
        ModelPrediction("a", measured_ms=10.0, predicted_ms={"macs": 20.0, "roofline": 5.0, "calibrated": 11.0}),
        ModelPrediction("b", measured_ms=20.0, predicted_ms={"macs": 10.0, "roofline": 5.0, "calibrated": 18.0}),
        ModelPrediction("c", error="failed"),
    ]  # fmt: skip
    result = PredictionResult(rows, "ref", limits, _calibration(limits))
    assert result.mape("macs") == pytest.approx((100 + 50) / 2)
    assert result.mape("roofline") == pytest.approx((50 + 75) / 2)
    assert result.mape("calibrated") == pytest.approx((10 + 10) / 2)
    assert result.summary()["models_scored"] == 2
    assert math.isnan(PredictionResult([], "ref", limits, _calibration(limits)).mape("macs"))
