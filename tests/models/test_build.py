"""Building from every spec form, without weights, and the errors a user can hit."""

import sys
import textwrap

import pytest
import torch

from effprof.errors import EffprofError
from effprof.models import build_model


def test_registry_model_builds_on_meta_with_default_resolution():
    b = build_model("efficientnet_b3")
    assert b.input_shape == (1, 3, 300, 300)
    assert all(p.is_meta for p in b.module.parameters())


def test_keyword_arguments_reach_the_factory():
    half = build_model("mobilenet_v2(width_mult=0.5)").module
    full = build_model("mobilenet_v2").module
    assert sum(p.numel() for p in half.parameters()) < sum(p.numel() for p in full.parameters())


def test_vit_learns_the_resolution():
    b = build_model("vit_b_16", resolution=384)
    assert b.module.image_size == 384 and b.input_shape == (1, 3, 384, 384)


def test_torchvision_and_timm_prefixes():
    assert build_model("tv:regnet_x_400mf").source == "torchvision"  # constructor computes: built on CPU, moved
    assert build_model("timm:resnet18d").source == "timm"


def test_cpu_build_has_real_weights():
    module = build_model("mobilenet_v1_025", device="cpu").module
    assert all(p.device.type == "cpu" for p in module.parameters())
    assert torch.isfinite(module(torch.randn(1, 3, 64, 64))).all()


def test_user_factory_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "mymodels.py").write_text(
        textwrap.dedent(
            """
            from torch import nn
            def tiny(channels=8):
                return nn.Sequential(nn.Conv2d(3, channels, 3), nn.ReLU())
            def not_a_model():
                return 42
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    b = build_model("mymodels:tiny(channels=4)")
    assert b.source == "import" and b.module[0].out_channels == 4
    with pytest.raises(EffprofError, match="did not return an nn.Module"):
        build_model("mymodels:not_a_model")
    with pytest.raises(EffprofError, match="has no attribute 'nope'"):
        build_model("mymodels:nope")
    sys.modules.pop("mymodels", None)


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("resnet5", {}, "did you mean resnet50"),
        ("tv:resnet5", {}, "unknown torchvision model 'resnet5'"),
        ("timm:not_a_timm_model_xyz", {}, "unknown timm model"),
        ("mobilenet_v2(alpha=2)", {}, "does not take keyword 'alpha'; it takes: width_mult"),
        ("mobilenet_v1(width=-1)", {}, "width must be > 0"),
        ("vit_b_16", {"resolution": 225}, "divisible by 16 .* try 224"),
        ("resnet18", {"resolution": 0}, "--resolution must be a positive integer"),
        ("resnet18", {"batch": -2}, "--batch must be a positive integer"),
        ("no_such_pkg.mod:factory", {}, "cannot import 'no_such_pkg.mod'"),
    ],
)
def test_bad_input_is_one_line_effprof_error(spec, kwargs, message):
    with pytest.raises(EffprofError, match=message) as info:
        build_model(spec, **kwargs)
    assert "\n" not in str(info.value)


def test_rebuild_is_deterministic_so_export_caches_hit():
    b = build_model("mobilenet_v1_025")
    first, second = b.rebuild("cpu"), b.rebuild("cpu")
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), second.parameters(), strict=True))
    assert not all(p.is_meta for p in first.parameters())


def test_compound_scaled_model_defaults_to_its_own_resolution():
    assert build_model("efficientnet(phi=3)").input_shape == (1, 3, 341, 341)
    assert build_model("efficientnet").input_shape == (1, 3, 224, 224)
    assert build_model("efficientnet(phi=3)", resolution=300).input_shape[-1] == 300
    with pytest.raises(EffprofError, match="phi must be >= 0"):
        build_model("efficientnet(phi=-1)")
