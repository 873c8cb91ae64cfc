"""The Python API: a notebook's way in, with modules as readily as specs."""

import pytest
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
