"""FlopCounterMode adapter: FLOPs / 2, effprof module paths, uncounted ops reported, completion."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import effprof  # noqa: F401  (installs the torchvision shim before anything imports it)
from effprof.counters.analytic import count_analytic
from effprof.counters.torch_mode import count_torch
from effprof.errors import EffprofError


class Inner(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 16, 1)

    def forward(self, x):
        return self.pw(F.relu(self.conv(x)))


class Gram(nn.Module):
    def forward(self, x):
        return x @ (x.t() @ x)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Sequential(Inner())
        self.head = nn.Linear(16, 4)
        self.loose = [Gram()]  # called, but not a registered submodule

    def forward(self, x):
        x = self.body(self.stem(x)).mean((2, 3))
        return self.head(self.loose[0](x))


SHAPE = (2, 3, 6, 6)


def test_matches_analytic_per_module_in_macs():
    result = count_torch(Net(), SHAPE)
    analytic = count_analytic(Net(), SHAPE)
    assert result.counter == "torch"
    assert result.macs == analytic.macs  # FlopCounterMode's FLOPs halved at the adapter
    assert result.macs_by_module == {k: v for k, v in analytic.macs_by_module.items() if v}
    assert set(result.macs_by_module) == {"stem", "body.0.conv", "body.0.pw", "head", ""}
    assert result.macs_by_module[""] == 2 * 16 * 16 * 2  # the unregistered Gram's stay with its caller
    assert sum(result.macs_by_module.values()) == result.macs
    classes = {(row.layer, row.op_class) for row in result.layers}
    assert ("body.0.conv", "conv_depthwise") in classes and ("body.0.pw", "conv_pointwise") in classes


def test_non_mac_ops_are_ignored_with_reason_not_unsupported():
    result = count_torch(Net(), SHAPE)
    assert not result.unsupported
    assert "aten::relu" in result.ignored and "aten::mean" in result.ignored
    assert "multiply-accumulate" in result.ignored["aten::relu"][1]


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24)

    def forward(self, x):
        q, k, v = self.qkv(x).unflatten(-1, (3, 2, 4)).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v)


def test_meta_counts_attention_cpu_reports_it_completed_fixes_it():
    model = nn.Sequential(Attention())
    shape = (2, 5, 8)
    analytic = count_analytic(model, shape)
    core = 2 * 2 * 5 * 5 * (4 + 4)
    assert count_torch(model, shape).macs == analytic.macs  # meta: math path, two bmm
    on_cpu = count_torch(model, shape, device="cpu")
    op = "aten::_scaled_dot_product_flash_attention_for_cpu"
    assert on_cpu.macs == analytic.macs - core
    assert on_cpu.unsupported == {op: 1}
    assert on_cpu.unsupported_by_module == {"0": {op: 1}}
    completed = count_torch(model, shape, device="cpu", completed=True)
    assert completed.counter == "torch+effprof"
    assert completed.macs == analytic.macs
    assert completed.completed_ops == {op: core}
    assert completed.macs_by_module["0"] == core


def test_callers_module_untouched():
    model = Net().train()
    fastpath = torch.backends.mha.get_fastpath_enabled()
    count_torch(model, SHAPE)
    count_torch(model, SHAPE, device="cpu")
    assert model.training and model.body[0].training
    assert model.stem.weight.device.type == "cpu"
    assert torch.backends.mha.get_fastpath_enabled() == fastpath


def test_mha_fast_path_is_off_even_under_no_grad():
    class Wrap(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    model = Wrap()
    with torch.inference_mode():
        cpu = count_torch(model, (2, 5, 8), device="cpu", completed=True)
    assert cpu.macs == count_analytic(model, (2, 5, 8)).macs


def test_bad_shape_is_effprof_error():
    with pytest.raises(EffprofError, match="FlopCounterMode cannot run Net"):
        count_torch(Net(), (1, 4, 6, 6))


def test_model_built_under_inference_mode():
    with torch.inference_mode():
        model = Net()  # its weights are inference tensors
        assert count_torch(model, SHAPE).macs == count_torch(Net(), SHAPE).macs
        assert count_torch(model, SHAPE, device="cpu").macs == count_torch(Net(), SHAPE).macs


class DataDependent(nn.Module):
    """Reads a value (``.item()``): impossible on the meta device, fine on CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        steps = int(x.abs().sum().item() >= 0) + 1  # always 2, but only data can say so
        for _ in range(steps):
            x = x + 0
        return self.fc(x)


def test_auto_counts_on_meta_and_falls_back_to_cpu_with_a_note():
    exact = count_torch(nn.Linear(6, 4), (3, 6), device="auto")
    assert exact.macs == 3 * 6 * 4 and exact.notes == []  # meta: no note
    with pytest.raises(EffprofError):
        count_torch(DataDependent(), (3, 6), device="meta")
    fallback = count_torch(DataDependent(), (3, 6), device="auto")
    assert fallback.macs == 3 * 6 * 4
    assert len(fallback.notes) == 1 and "counted on CPU tensors" in fallback.notes[0]
