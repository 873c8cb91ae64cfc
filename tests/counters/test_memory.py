"""Activation memory: liveness sweep on meta, the inverted-residual argument, activation conventions."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import effprof  # noqa: F401  (installs the torchvision shim before anything imports it)
from effprof.counters.analytic import count_analytic
from effprof.counters.fvcore import count_fvcore
from effprof.counters.memory import peak_activation_bytes
from effprof.errors import EffprofError

FP32 = 4


@pytest.mark.parametrize("expansion", [2, 6])
def test_inverted_residual_holds_input_plus_expanded(expansion):
    from torchvision.models.mobilenetv2 import InvertedResidual

    channels, size = 16, 14
    block = InvertedResidual(channels, channels, 1, expansion)
    est = peak_activation_bytes(block, (1, channels, size, size))
    per_channel = size * size * FP32
    # Between ops: the block input (kept for the residual add) + one expanded tensor.
    assert est.peak_held_bytes == (1 + expansion) * channels * per_channel
    # During the depthwise conv its expanded input and expanded output are both alive.
    assert est.peak_bytes == (1 + 2 * expansion) * channels * per_channel
    assert est.peak_op == "aten::convolution" and est.peak_module == "conv.1.0"
    assert est.bytes_by_module["conv.1.0"] == est.peak_bytes


def test_without_inplace_fusions_norms_cost_a_second_buffer():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
    shape = (1, 3, 10, 10)
    out = 8 * 10 * 10 * FP32
    fused = peak_activation_bytes(model, shape)
    unfused = peak_activation_bytes(model, shape, inplace=False)
    assert fused.peak_bytes == 3 * 10 * 10 * FP32 + out  # conv: input + output
    assert unfused.peak_bytes >= 2 * out  # batch norm writes a new tensor
    assert fused.output_bytes == out and fused.input_bytes == 3 * 10 * 10 * FP32


def test_views_and_weights_are_not_activations():
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 1000))
    est = peak_activation_bytes(model, (1, 3, 4, 4))
    # the 48x1000 weight and its transpose view are not counted
    assert est.peak_bytes == (48 + 1000) * FP32
    assert est.written_bytes == 1000 * FP32


def test_activation_conventions_agree():
    from torchvision.models import resnet18

    model = resnet18()
    shape = (1, 3, 64, 64)
    est = peak_activation_bytes(model, shape)
    analytic = count_analytic(model, shape)
    fv = count_fvcore(model, shape)
    # fvcore / RegNet convention: elements output by conv and linear ops, counted three ways
    assert est.mac_output_elements == analytic.activations == fv.activations
    assert est.written_bytes >= est.mac_output_elements * FP32 >= est.peak_bytes > est.peak_held_bytes


def test_attention_scores_are_effprofs_convention():
    import torch.nn.functional as F

    class Attn(nn.Module):
        def forward(self, x):
            return F.scaled_dot_product_attention(x, x, x)

    shape = (1, 2, 6, 4)
    est = peak_activation_bytes(Attn(), shape)
    scores, out = 2 * 6 * 6, 2 * 6 * 4
    assert est.mac_output_elements == count_analytic(Attn(), shape).activations == scores + out


def test_callers_module_untouched_and_bad_shape():
    model = nn.Sequential(nn.Conv2d(3, 4, 3))
    peak_activation_bytes(model, (1, 3, 8, 8))
    assert model[0].weight.device.type == "cpu"
    assert not model[0]._forward_hooks
    with pytest.raises(EffprofError, match="rejects input shape"):
        peak_activation_bytes(model, (1, 5, 8, 8))


def test_real_model_is_fast_and_finds_peak_in_early_layers():
    from effprof.models import build_model

    built = build_model("mobilenet_v2")
    est = peak_activation_bytes(built.module, built.input_shape)
    assert est.peak_module.startswith("features.")
    assert 0 < est.peak_held_bytes < est.peak_bytes < 16 * 2**20
    assert torch.backends.mha.get_fastpath_enabled()


def test_same_answer_under_inference_mode():
    # Under inference mode the dispatcher hands conv2d/linear to dispatch modes undecomposed.
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(288, 10))
    shape = (1, 3, 8, 8)
    plain = peak_activation_bytes(model, shape)
    with torch.inference_mode():
        inside = peak_activation_bytes(model, shape)
        built_inside = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(288, 10))
        weights_inside = peak_activation_bytes(built_inside, shape)
    assert (inside.peak_bytes, inside.mac_output_elements) == (plain.peak_bytes, plain.mac_output_elements)
    assert weights_inside.mac_output_elements == plain.mac_output_elements == 288 + 10
