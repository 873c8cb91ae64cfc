"""fvcore adapter: units, exclusive per-module figures, unsupported ops, completion, no noise."""

from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import effprof  # noqa: F401  (installs the torchvision shim before anything imports it)
from effprof.counters.analytic import count_analytic
from effprof.counters.fvcore import count_fvcore
from effprof.errors import EffprofError


class Attn(nn.Module):
    """Linear projections around F.scaled_dot_product_attention, the op stock fvcore misses."""

    def __init__(self, dim: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.ReLU()
        self.unused = nn.Linear(4, 4)  # never called: fvcore would log it
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.act(self.bn(self.conv(x)))
        x = x + 1  # an elementwise op fvcore has no handle for
        return self.fc(torch.flatten(self.pool(x), 1))


SHAPE = (2, 3, 8, 8)


def test_units_and_stock_extras():
    result = count_fvcore(Block(), SHAPE)
    conv = 2 * 8 * 8 * 8 * 3 * 9
    fc = 2 * 8 * 10
    bn = 2 * (2 * 8 * 8 * 8)  # fvcore: 2 "flops" per element for an affine batch norm in eval
    pool = 2 * 8 * 8 * 8  # fvcore: 1 per input element of adaptive_avg_pool2d
    assert result.counter == "fvcore"
    assert result.macs == conv + fc + bn + pool  # fvcore's flop is a MAC: no conversion
    assert result.macs_by_op == {"conv": conv, "linear": fc, "batch_norm": bn, "adaptive_avg_pool2d": pool}
    assert result.mac_ops_by_module() == {"conv": conv, "fc": fc}
    assert result.params == sum(p.numel() for p in Block().parameters())
    assert result.activations == 2 * 8 * 8 * 8 + 2 * 10  # conv and linear outputs


def test_exclusive_by_module_sums_to_total():
    result = count_fvcore(Block(), SHAPE)
    assert result.macs_by_module == {"conv": 27648, "bn": 2048, "pool": 1024, "fc": 160}
    assert sum(result.macs_by_module.values()) == result.macs
    analytic = count_analytic(Block(), SHAPE)
    assert result.mac_ops_by_module()["conv"] == analytic.macs_by_module["conv"]
    assert {row.op_class for row in result.layers} >= {"conv_dense", "linear", "norm", "pool"}


def test_unsupported_reported_per_module_and_completed():
    model = nn.Sequential(Attn())
    shape = (2, 5, 8)
    stock = count_fvcore(model, shape)
    analytic = count_analytic(model, shape)
    attention = 2 * 2 * 5 * 5 * 4 * 2  # B x H x L x S x (E + Ev)
    assert stock.unsupported["aten::scaled_dot_product_attention"] == 1
    assert stock.unsupported_by_module["0"]["aten::scaled_dot_product_attention"] == 1
    assert "0.qkv" not in stock.unsupported_by_module  # exclusive: charged to the caller only
    assert stock.macs == analytic.macs - attention
    completed = count_fvcore(model, shape, completed=True)
    assert completed.counter == "fvcore+effprof"
    assert completed.macs == analytic.macs
    assert completed.completed_ops == {"scaled_dot_product_attention": attention}
    assert "aten::scaled_dot_product_attention" not in completed.unsupported


def test_silent(capfd, caplog):
    with caplog.at_level(logging.DEBUG):
        count_fvcore(Block(), SHAPE)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_meta_model_is_materialised_and_callers_module_untouched():
    model = Block().to("meta").train()
    result = count_fvcore(model, SHAPE)
    assert result.mac_ops_by_module()["conv"] == 27648
    assert all(p.is_meta for p in model.parameters())
    assert model.training and model.bn.training  # eval() only for the count


def test_cpu_model_used_in_place_and_restored():
    model = Block().train()
    fastpath = torch.backends.mha.get_fastpath_enabled()
    weights = model.conv.weight.detach().clone()
    count_fvcore(model, SHAPE)
    assert model.training
    assert torch.backends.mha.get_fastpath_enabled() == fastpath
    assert torch.equal(model.conv.weight, weights)
    assert not model._forward_hooks and not model.conv._forward_pre_hooks


def test_bad_shape_is_effprof_error():
    with pytest.raises(EffprofError, match="fvcore cannot trace"):
        count_fvcore(Block(), (1, 4, 8, 8))


def test_model_built_under_inference_mode():
    with torch.inference_mode():
        model = Block()
        assert count_fvcore(model, SHAPE).macs == count_fvcore(Block(), SHAPE).macs
