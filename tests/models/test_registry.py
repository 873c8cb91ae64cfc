"""The registry covers every seed architecture with its metadata; lookups suggest close names."""

import pytest

from effprof.errors import EffprofError
from effprof.models import get_model_cfg, list_models

REQUIRED = (
    "resnet18 resnet34 resnet50 resnet101 mobilenet_v1 mobilenet_v1_075 mobilenet_v1_050 mobilenet_v1_025 "
    "mobilenet_v2 mobilenet_v3_large mobilenet_v3_small "
    + " ".join(f"efficientnet_b{i}" for i in range(8))
    + " shufflenet_v2_x0_5 shufflenet_v2_x1_0 shufflenet_v2_x1_5 shufflenet_v2_x2_0 "
    "ghostnet_050 ghostnet_100 ghostnet_130 se_resnet50 mnasnet1_0 vit_ti_16 vit_s_16 vit_b_16 "
    "swin_t swin_s swin_b convnext_tiny convnext_small convnext_base"
).split()


def test_every_seed_architecture_is_registered_with_metadata():
    names = {cfg.name: cfg for cfg in list_models()}
    missing = set(REQUIRED) - set(names)
    assert not missing
    for cfg in names.values():
        assert cfg.family and cfg.source in ("torchvision", "timm", "effprof")
        assert cfg.resolution > 0
        assert cfg.paper is not None and cfg.paper.citation and cfg.paper.macs, cfg.name


def test_efficientnets_have_their_own_resolutions():
    expected = [224, 240, 260, 300, 380, 456, 528, 600]
    assert [get_model_cfg(f"efficientnet_b{i}").resolution for i in range(8)] == expected


def test_wildcards():
    assert [c.name for c in list_models("mobilenet_v3*")] == ["mobilenet_v3_large", "mobilenet_v3_small"]
    assert len(list_models("efficientnet_b?")) == 8
    assert list_models("nothing*") == []


def test_unknown_name_suggests_close_ones():
    with pytest.raises(EffprofError, match="did you mean.*mobilenet_v2"):
        get_model_cfg("mobilenetv2")
    with pytest.raises(EffprofError, match="effprof list"):
        get_model_cfg("zzzzzz")
