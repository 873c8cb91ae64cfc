"""The literal compound-scaling EfficientNet, torchvision's released table, and ``scale_table``."""

import pytest
import torchvision

from effprof.errors import EffprofError
from effprof.lecture.scale import scale_table
from effprof.models import build_model, get_model_cfg
from effprof.models.compound import OFFICIAL, build_efficientnet, default_resolution


def _params(module):
    return sum(p.numel() for p in module.parameters())


def test_official_table_matches_torchvision():
    # width/depth multipliers as torchvision's efficientnet_bN pass them: same architecture, same params
    for variant in OFFICIAL:
        ours = build_model(variant.name).module
        rebuilt = build_efficientnet(variant.width_mult, variant.depth_mult)
        assert _params(rebuilt) == _params(ours), variant.name
        assert get_model_cfg(variant.name).resolution == variant.resolution
    assert torchvision.models.efficientnet_b0 is not None


def test_literal_model_is_b0_at_phi_0_and_registered():
    cfg = get_model_cfg("efficientnet")
    assert cfg.family == "EfficientNet" and cfg.source == "effprof" and cfg.resolution == 224
    assert _params(build_model("efficientnet(phi=0)").module) == 5_288_548  # torchvision's B0
    assert [default_resolution(p) for p in (0, 1, 3, 7)] == [224, 258, 341, 596]
    with pytest.raises(EffprofError, match="phi must be >= 0"):
        build_model("efficientnet(phi=-1)")


def test_scale_table_b0_to_b7():
    rows = scale_table()
    assert [r["model"] for r in rows] == [f"efficientnet_b{i}" for i in range(8)]
    assert rows[0]["macs_vs_b0"] == 1.0 and rows[0]["literal_macs_vs_phi0"] == 1.0
    assert rows[7]["macs"] == 37_745_884_192  # torchvision's 37.746 GMACs at 600 px
    assert rows[7]["two_pow_phi"] == 128 and rows[7]["rule_macs_ratio"] == pytest.approx(96.28, abs=0.01)
    # both grow ~2x per step overall, neither exactly: released B7 is 97.8x, literal phi=7 is 102.8x
    assert 90 < rows[7]["macs_vs_b0"] < 110 and 90 < rows[7]["literal_macs_vs_phi0"] < 110
    assert rows[1]["literal_resolution"] == 258 and rows[1]["resolution"] == 240
