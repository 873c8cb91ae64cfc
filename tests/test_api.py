"""The Python API: a notebook's way in, with modules as readily as specs."""

import pandas as pd
import pytest
import torch
from torch import nn

import effprof
from effprof.errors import EffprofError
from effprof.reports.frame import LAYER_COLUMNS, MODEL_COLUMNS


def test_profile_a_spec():
    result = effprof.profile("mobilenet_v2")
    summary = result.summary()
    assert summary["params"] == 3504872
    assert summary["flops"] == 2 * summary["macs"]
    df = result.to_pandas()
    assert tuple(df.columns[: len(LAYER_COLUMNS)]) == LAYER_COLUMNS
    assert df.macs.sum() == summary["macs"]


def test_profile_a_module_the_user_holds():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    result = effprof.profile(model, input_shape=(4, 3, 32, 32))
    assert result.summary()["macs"] == 4 * (8 * 32 * 32 * 27 + 8 * 2)
    assert result.summary()["model"] == "Sequential"
    assert next(model.parameters()).device.type == "cpu"


def test_compare_rows_and_failures_as_data():
    result = effprof.compare(["mobilenet_v1_025", "vit_b_16", "resnet18"], resolution=200)
    df = result.to_pandas()
    assert tuple(df.columns[: len(MODEL_COLUMNS)]) == MODEL_COLUMNS
    assert df.error.notna().tolist() == [False, True, False]
    assert [p.model for p in result.failed] == ["vit_b_16"]


def test_compare_validates_specs_before_work():
    with pytest.raises(EffprofError, match="unknown model"):
        effprof.compare(["resnet18", "nope_nope"])


def test_rich_rendering(capsys):
    from rich.console import Console

    Console(width=200).print(effprof.compare(["mobilenet_v2", "resnet50"]))
    printed = capsys.readouterr().out
    assert "13.60x" in printed and "7.29x" in printed


def test_profile_times_and_attributes_layers():
    result = effprof.profile("mobilenet_v1_025", resolution=96, backends="eager", threads=1, budget_s=0.2)
    (row,) = result.profile.model_rows()
    assert row["backend"] == "eager" and row["latency_ms"] > 0 and row["runs"] >= 5
    assert row["gmacs_per_s"] == pytest.approx(row["macs"] / (row["latency_ms"] / 1e3) / 1e9)
    df = result.to_pandas()
    assert df.share_latency.sum() == pytest.approx(1.0)
    assert (df.latency_ms >= 0).all()
    assert df.loc[df.op_class == "conv_depthwise", "latency_ms"].sum() > 0


def test_compare_backend_failure_is_a_row_and_others_still_report():
    class NoExport(nn.Module):
        def forward(self, x):
            return torch.fft.rfft2(x).abs()  # no ONNX symbolic for complex FFT in the legacy exporter

    result = effprof.compare([nn.Conv2d(3, 4, 3), NoExport()], resolution=16, backends="eager,onnxruntime",
                             threads=1, budget_s=0.05)  # fmt: skip
    df = result.to_pandas()
    assert len(df) == 4
    ok = df[df.error.isna()]
    assert set(ok.backend) == {"eager", "onnxruntime"} and (ok.latency_ms > 0).all()
    failed = df[df.error.notna()]
    assert list(failed.backend) == ["onnxruntime"] and list(failed.model) == ["NoExport"]


def test_cuda_request_without_a_gpu_fails_before_work():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(EffprofError, match="no CUDA device"):
        effprof.compare(["resnet18"], backends="eager", device="cuda")


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(EffprofError, match="eager"):
        effprof.profile("resnet18", backends="tensorrt")


def test_interrupt_keeps_finished_models(monkeypatch):
    from effprof import api

    real = api.profile_model
    calls = []

    def interrupted_on_second(model, **kwargs):
        calls.append(model)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(model, **kwargs)

    monkeypatch.setattr(api, "profile_model", interrupted_on_second)
    result = effprof.compare(["mobilenet_v1_025", "resnet18", "resnet50"])
    assert result.interrupted
    assert [p.model for p in result.profiles] == ["mobilenet_v1_025"]


def test_three_counters_side_by_side_and_auto_threshold():
    result = effprof.compare(["mobilenet_v2", "vit_b_16"], counters="analytic,fvcore,torch")
    df = result.to_pandas().set_index("model")
    # conv/linear agree exactly; fvcore also counts BatchNorm as flops, ~4.5% high on mobilenet_v2
    assert df.loc["mobilenet_v2", "macs_torch"] == df.loc["mobilenet_v2", "macs"]
    assert df.loc["mobilenet_v2", "macs_fvcore"] / df.loc["mobilenet_v2", "macs"] == pytest.approx(1.045, abs=0.01)
    # FlopCounterMode counts on the meta device, where attention decomposes into two bmm: exact on ViT
    # (on CPU it misses the fused attention kernel, 715,327,488 MACs); fvcore has no attention handle
    assert df.loc["vit_b_16", "macs_torch"] == df.loc["vit_b_16", "macs"] == 17_563_828_224
    auto_result = effprof.compare(["mobilenet_v2", "vit_b_16"])
    auto = auto_result.to_pandas().set_index("model")
    assert auto.loc["mobilenet_v2", "macs_fvcore"] > 0  # 0.3 GMACs: cheap, counted by default
    assert pd.isna(auto.loc["vit_b_16", "macs_fvcore"])  # 17.6 GMACs: over the automatic limit, and says so
    assert auto.loc["vit_b_16", "macs_torch"] == 17_563_828_224  # on meta: counted at any size
    vit = auto_result.profiles[1]
    assert "over the automatic limit of 5" in vit.counter_skipped["fvcore"] and not vit.counter_errors


def test_reconcile_names_every_difference():
    result = effprof.profile("vit_b_16", reconcile=True, backends="none")
    stock = result.reconciliation()
    assert stock.unexplained == []
    assert stock.coverage["fvcore"] == pytest.approx(1 - 715_327_488 / 17_563_828_224, abs=1e-4)
    reasons = " ".join(stock.reasons())
    assert "scaled_dot_product_attention" in reasons and "layer_norm" in reasons
    completed = result.reconciliation(completed=True)
    assert completed.coverage["fvcore+effprof"] == pytest.approx(1.0)
    assert completed.coverage["torch+effprof"] == pytest.approx(1.0)


def test_unknown_counter_is_an_error():
    with pytest.raises(EffprofError, match="unknown counter thop"):
        effprof.compare(["resnet18"], counters="analytic,thop")


def test_registry_wildcards_expand_in_order():
    from effprof.api import expand_specs

    assert expand_specs(["resnet5*", "tv:resnet18", "mobilenet_v3_*"]) == [
        "resnet50", "tv:resnet18", "mobilenet_v3_large", "mobilenet_v3_small"
    ]  # fmt: skip
    assert len(expand_specs(["*"])) >= 38
    with pytest.raises(EffprofError, match="no registered model matches"):
        expand_specs(["nothing*"])
