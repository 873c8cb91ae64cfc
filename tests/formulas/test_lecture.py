"""The closed-form lecture formulas against arithmetic written out by hand and the papers' numbers."""

import math

import pytest

from effprof.formulas import lecture as lf


def test_separable_conv_for_256_channels_3x3_at_56():
    assert lf.standard_conv_params(256, 256, 3) == 9 * 256 * 256
    assert lf.separable_conv_params(256, 256, 3) == 9 * 256 + 256 * 256
    assert lf.standard_conv_macs(256, 256, 3, 56) == 9 * 256 * 256 * 56 * 56
    assert lf.separable_conv_macs(256, 256, 3, 56) == (9 * 256 + 256 * 256) * 56 * 56
    assert lf.separable_reduction(256, 3) == pytest.approx(8.69, abs=0.005)  # "8 to 9 times less"


def test_separable_reduction_is_the_exact_ratio_for_any_cin():
    for cin in (3, 32, 100):
        ratio = lf.standard_conv_macs(cin, 64, 5, 7) / lf.separable_conv_macs(cin, 64, 5, 7)
        assert ratio == pytest.approx(lf.separable_reduction(64, 5))


def test_mobilenet_v1_closed_form_reproduces_the_papers_tables():
    # Howard et al. 2017, Table 6 (width) and Table 7 (resolution), million mult-adds.
    for alpha, paper in ((1.0, 569), (0.75, 325), (0.5, 149), (0.25, 41)):
        assert lf.mobilenet_v1_macs(alpha, 224) / 1e6 == pytest.approx(paper, rel=0.005)
    for res, paper in ((192, 418), (160, 290), (128, 186)):
        assert lf.mobilenet_v1_macs(1.0, res) / 1e6 == pytest.approx(paper, rel=0.005)


def test_mobilenet_v1_layer_and_scaling_rule():
    assert lf.mobilenet_v1_layer_macs(3, 32, 64, 112) == (9 * 32 + 32 * 64) * 112 * 112
    assert lf.width_resolution_scaling(0.5, 0.5) == 0.0625


def test_inverted_residual_params_macs_and_memory():
    c, e = 24, 6
    assert lf.inverted_residual_params(c, c, e) == c * 144 + 9 * 144 + 144 * c
    assert lf.inverted_residual_macs(c, c, e, 56) == 56 * 56 * (c * 144 + 9 * 144 + 144 * c)
    # stride 2: the expand runs at 56x56, depthwise and project at 28x28
    assert lf.inverted_residual_macs(c, 32, e, 56, stride=2) == 56 * 56 * c * 144 + 28 * 28 * (
        9 * 144 + 144 * 32
    )
    assert lf.inverted_residual_params(16, 24, 1) == 9 * 16 + 16 * 24  # e = 1: no expand conv
    assert lf.inverted_residual_live_channels(c, e) == 7 * c
    assert lf.inverted_residual_live_during_channels(c, e) == 13 * c
    assert lf.bottleneck_live_channels(c, e) == pytest.approx(28)


def test_se_counts():
    assert lf.se_params(256, 16) == 2 * 256 * 16  # the paper's 2C^2/r with r = 16
    assert lf.se_params(256, 16, bias=True) == 2 * 256 * 16 + 16 + 256
    assert lf.se_macs(96, 24) == 2 * 96 * 24
    assert lf.se_rescale_ops(96, 56, 56) == 96 * 56 * 56


def test_compound_scaling():
    assert lf.compound_coefficients(0) == (1.0, 1.0, 1.0)
    assert (
        lf.compound_flops_ratio(1) == pytest.approx(1.2 * 1.1**2 * 1.15**2) == pytest.approx(1.92, abs=0.001)
    )
    assert lf.compound_flops_ratio(3) == pytest.approx(lf.compound_flops_ratio(1) ** 3)
    assert [lf.compound_resolution(p) for p in range(8)] == [224, 258, 296, 341, 392, 451, 518, 596]


def test_vit_tokens_and_macs_of_vit_b_16():
    assert lf.vit_tokens(224, 16) == 196
    macs = lf.vit_macs_by_class(224, 16, 768, 12)
    assert macs["attention"] == 12 * 2 * 197**2 * 768
    assert macs["linear"] == 12 * 12 * 197 * 768**2 + 768 * 1000
    assert macs["conv_dense"] == 196 * 3 * 16 * 16 * 768
    # torchvision's published 17.564 GMACs for ViT-B/16
    assert sum(macs.values()) / 1e9 == pytest.approx(17.564, abs=0.001)


def test_swin_t_attention_is_linear_in_pixels():
    at224 = lf.swin_attention_macs(224)
    assert at224 == 2 * 49 * (2 * 56**2 * 96 + 2 * 28**2 * 192 + 6 * 14**2 * 384 + 2 * 7**2 * 768)
    assert lf.swin_attention_macs(448) == 4 * at224
    assert lf.padded_window_attention_macs(10, 7, 8) == 2 * 14 * 14 * 49 * 8  # padded to 14x14


def test_ghost_module_and_group_conv():
    # c=64 -> n=128, k=1, s=2, d=3 on 28x28
    assert lf.ghost_module_macs(64, 128, 28) == 64 * 64 * 784 + 64 * 9 * 784
    assert lf.ghost_speedup(2, 64, 1, 3) == pytest.approx(128 / 73)
    assert lf.ghost_speedup(2, 4096, 3, 3) == pytest.approx(2, rel=1e-3)  # -> s when s << c, d = k
    assert lf.group_conv_macs(240, 240, 1, 28, 3) == 240 * 80 * 784
    assert math.isclose(lf.group_conv_macs(240, 240, 1, 28, 1) / lf.group_conv_macs(240, 240, 1, 28, 8), 8)
