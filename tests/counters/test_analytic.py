"""The analytic counter on small modules (arithmetic written out) and on whole models (published metadata)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.errors import EffprofError
from effprof.models import build_model, list_models


def _by_class(result):
    return {k: v["macs"] for k, v in result.by_op_class().items()}


def test_conv_bn_relu_counts_and_classes():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
    r = count_analytic(model, (2, 3, 32, 32))
    assert r.macs == 2 * 16 * 16 * 16 * 3 * 9
    assert r.params == 16 * 3 * 9 + 2 * 16
    assert r.other_ops == 2 * (2 * 16 * 16 * 16)  # BN + ReLU, one per output element
    assert r.activations == 2 * 16 * 16 * 16  # conv output only
    assert {row.op_class for row in r.layers} == {"conv_dense", "norm", "activation"}


def test_depthwise_separable_split():
    model = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.Conv2d(32, 64, 1))
    r = count_analytic(model, (1, 32, 14, 14))
    assert _by_class(r) == {"conv_depthwise": 32 * 14 * 14 * 9, "conv_pointwise": 64 * 14 * 14 * 32}


def test_dilated_strided_conv_uses_output_shape():
    conv = nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2)
    r = count_analytic(conv, (1, 8, 17, 17))
    out = (17 + 4 - 4 - 1) // 2 + 1
    assert r.macs == 8 * out * out * 8 * 9


def test_linear_with_leading_dims_and_hand_written_matmul():
    class Mixer(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(32, 64)
            self.w = nn.Parameter(torch.randn(64, 16))

        def forward(self, x):
            return self.fc(x) @ self.w

    r = count_analytic(Mixer(), (2, 10, 32))
    assert _by_class(r) == {"linear": 2 * 10 * 32 * 64 + 2 * 10 * 64 * 16}


def test_functional_attention_and_residual_add_are_seen():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(64, 192)

        def forward(self, x):
            b, n, c = x.shape
            q, k, v = self.qkv(x).reshape(b, n, 3, 4, 16).permute(2, 0, 3, 1, 4).unbind(0)
            y = F.scaled_dot_product_attention(q, k, v)
            return x + y.transpose(1, 2).reshape(b, n, c)

    r = count_analytic(Block(), (1, 50, 64))
    classes = _by_class(r)
    assert classes["attention"] == 2 * 4 * 50 * 50 * 16
    assert classes["linear"] == 50 * 64 * 192
    assert r.by_op_class()["elementwise"]["other_ops"] == 50 * 64  # the residual add
    assert not r.unsupported


def test_bmm_and_einsum_between_activations_is_attention():
    class M(nn.Module):
        def forward(self, x):
            return torch.einsum("bij,bjk->bik", x, x.transpose(1, 2)) + torch.bmm(x, x.transpose(1, 2))

    r = count_analytic(M(), (3, 7, 5))
    assert _by_class(r) == {"attention": 2 * 3 * 7 * 5 * 7, "elementwise": 0}


def test_multihead_attention_module():
    mha = nn.MultiheadAttention(64, 4, batch_first=True)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = mha

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    n, e = 10, 64
    r = count_analytic(M(), (2, n, e))
    assert r.macs == 2 * (4 * n * e * e + 2 * n * n * e)
    assert _by_class(r) == {"linear": 2 * 4 * n * e * e, "attention": 2 * 2 * n * n * e}


def test_unsupported_op_is_reported_per_module_not_silent():
    class Odd(nn.Module):
        def forward(self, x):
            return torch.cumprod(x, dim=1)

    model = nn.Sequential(nn.Conv2d(3, 3, 1), Odd())
    r = count_analytic(model, (1, 3, 8, 8))
    assert r.unsupported == {"cumprod": 1}
    assert r.unsupported_by_module == {"1": {"cumprod": 1}}


def test_view_ops_are_ignored_with_a_reason():
    r = count_analytic(nn.Flatten(), (2, 3, 4, 4))
    assert r.macs == 0 and r.other_ops == 0
    assert "flatten" in r.ignored and "no arithmetic" in r.ignored["flatten"][1]


@pytest.mark.parametrize(
    ("op", "reason"),
    [
        ("type_as", "no arithmetic"),  # timm eva02 (rotary embedding)
        ("long", "no arithmetic"),  # timm mvitv2 (relative positions)
        ("fold", "no MACs"),  # timm volo (Outlooker attention)
    ],
)
def test_mac_free_ops_found_on_timm_models_are_ignored_with_a_reason(op, reason):
    class Uses(nn.Module):
        def forward(self, x):
            if op == "fold":  # (1, 3*2*2, 16) patches of a 8x8 image -> the image
                return F.fold(F.unfold(x, 2, stride=2), (8, 8), 2, stride=2)
            return x.type_as(x) if op == "type_as" else x + x.long()

    r = count_analytic(Uses(), (1, 3, 8, 8))
    assert not r.unsupported and r.macs == 0
    assert op in r.ignored and reason in r.ignored[op][1] and "\n" not in r.ignored[op][1]


def test_shared_parameters_counted_once_and_trainable_split():
    lin = nn.Linear(8, 8)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    model[0].bias.requires_grad_(False)
    r = count_analytic(model, (1, 8))
    assert r.params == 8 * 8 + 8
    assert r.trainable_params == 8 * 8
    assert r.macs == 2 * 8 * 8


def test_callers_module_is_left_on_its_device():
    model = nn.Conv2d(3, 4, 3)
    count_analytic(model, (1, 3, 8, 8))
    assert model.weight.device.type == "cpu"
    assert torch.isfinite(model.weight).all()


def test_rejected_shape_is_one_line_effprof_error():
    with pytest.raises(EffprofError, match=r"rejects input shape \(1, 4, 8, 8\)"):
        count_analytic(nn.Conv2d(3, 4, 3), (1, 4, 8, 8))


def test_layer_macs_sum_to_total():
    b = build_model("mobilenet_v2")
    r = count_analytic(b.module, b.input_shape)
    assert sum(row.macs for row in r.layers) == r.macs
    assert sum(r.macs_by_module.values()) == r.macs
    assert sum(row.params for row in r.layers) == r.params


TORCHVISION_MODELS = [cfg.name for cfg in list_models() if cfg.torchvision_name]


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_matches_torchvision_metadata(name):
    """params exactly torchvision's num_params; MACs within 1% of its _ops (GMACs) at its resolution.

    torchvision prints _ops with 3 decimals (shufflenet_v2_x0_5: 0.040 for 0.0405), so half a unit
    of that last digit is allowed too.
    """
    import torchvision

    cfg = next(c for c in list_models() if c.name == name)
    weights = torchvision.models.get_model_weights(cfg.torchvision_name).DEFAULT
    resolution = weights.transforms().crop_size[0]
    b = build_model(name, resolution=resolution)
    r = count_analytic(b.module, b.input_shape)
    assert r.params == weights.meta["num_params"]
    reference = weights.meta["_ops"]
    assert r.macs / 1e9 == pytest.approx(reference, abs=max(0.01 * reference, 0.0005))
    assert not r.unsupported


@pytest.mark.parametrize(
    ("name", "weights", "resolution"),
    [("googlenet", "GoogLeNet_Weights", 224), ("inception_v3", "Inception_V3_Weights", 299)],
)
def test_tv_spec_builds_googlenet_and_inception_as_released(name, weights, resolution):
    """``tv:googlenet`` without weights used to keep both aux heads: 13,004,888 params, not 6,624,904.

    The released GoogLeNet drops them; the released Inception v3 keeps its one (torchvision's
    num_params counts it), so both must equal num_params exactly, and MACs its _ops (3 decimals).
    """
    import torchvision

    meta = getattr(torchvision.models, weights).IMAGENET1K_V1.meta
    b = build_model(f"tv:{name}", resolution=resolution)
    r = count_analytic(b.module, b.input_shape)
    assert r.params == meta["num_params"]
    assert r.macs / 1e9 == pytest.approx(meta["_ops"], abs=0.0005)
    assert not r.unsupported


@pytest.mark.parametrize(
    ("width", "paper_macs", "paper_params"),
    [(1.0, 569e6, 4.2e6), (0.75, 325e6, 2.6e6), (0.5, 149e6, 1.3e6), (0.25, 41e6, 0.5e6)],
)
def test_mobilenet_v1_matches_paper_table(width, paper_macs, paper_params):
    """Howard et al. 2017, Table 6: mult-adds and params per width multiplier, within 3%."""
    b = build_model(f"mobilenet_v1(width={width})")
    r = count_analytic(b.module, b.input_shape)
    assert r.macs == pytest.approx(paper_macs, rel=0.03)
    # the paper rounds params to 0.1M: 0.47M prints as 0.5M, so allow the rounding
    assert r.params == pytest.approx(paper_params, abs=0.05e6)


def test_every_registered_model_counts_with_nothing_unsupported():
    for cfg in list_models():
        b = build_model(cfg.name)
        r = count_analytic(b.module, b.input_shape, name=cfg.name)
        assert r.macs > 0 and r.params > 0, cfg.name
        assert not r.unsupported, (cfg.name, r.unsupported)
        if cfg.paper and cfg.paper.macs:
            # every paper figure within 10% (mnasnet's paper row is the A1 variant; ResNet-50's
            # paper figure predates torchvision's stride-on-3x3 variant)
            assert r.macs == pytest.approx(cfg.paper.macs, rel=0.10), cfg.name
