"""nn.LSTM / nn.GRU / nn.RNN: effprof's recurrent formula against the arithmetic, torch's modules and
FlopCounterMode, and on every counter (analytic, fvcore, FlopCounterMode on meta and CPU)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import effprof  # noqa: F401  (installs the torchvision shim before anything imports it)
from effprof.counters.analytic import count_analytic
from effprof.counters.fvcore import count_fvcore
from effprof.counters.reconcile import is_mac_op, op_class_of, reconcile
from effprof.counters.torch_mode import count_torch
from effprof.formulas import ops

# batch 3, sequence 5, 8 features -> hidden 16; two layers, both directions, batch first.
B, T, F, H = 3, 5, 8, 16
SHAPE = (B, T, F)

# Written out: gates x (input + hidden) x hidden x seq x batch, per direction (2) and layer; layer 1
# reads both directions of layer 0 (2 x 16 = 32 features).
EXPECTED_MACS = {
    nn.LSTM: 2 * 4 * (8 + 16) * 16 * 5 * 3 + 2 * 4 * (32 + 16) * 16 * 5 * 3,  # 138,240
    nn.GRU: 2 * 3 * (8 + 16) * 16 * 5 * 3 + 2 * 3 * (32 + 16) * 16 * 5 * 3,  # 103,680
    nn.RNN: 2 * 1 * (8 + 16) * 16 * 5 * 3 + 2 * 1 * (32 + 16) * 16 * 5 * 3,  # 34,560
}
MODES = {nn.LSTM: "LSTM", nn.GRU: "GRU", nn.RNN: "RNN_TANH"}


def _make(cls, **kw) -> nn.Module:
    torch.manual_seed(0)
    return cls(F, H, num_layers=2, bidirectional=True, batch_first=True, **kw)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_formula_against_the_arithmetic(cls):
    assert EXPECTED_MACS[cls] == {nn.LSTM: 138_240, nn.GRU: 103_680, nn.RNN: 34_560}[cls]
    mode = MODES[cls]
    assert ops.rnn_macs(mode, F, H, T, B, num_layers=2, bidirectional=True) == EXPECTED_MACS[cls]
    # one layer, one direction is the cell formula itself
    gates = ops.RNN_GATES[mode]
    assert (
        ops.rnn_macs(mode, F, H, T, B) == ops.rnn_cell_macs(gates, F, H, T * B) == gates * (F + H) * H * T * B
    )


def test_lstm_projection_formula():
    # proj_size 5: W_hh reads the 5-wide state, W_hr (5 x 16) adds 16 x 5 per step; layer 1 reads 2 x 5.
    per_step = 2 * (4 * (8 + 5) * 16 + 16 * 5) + 2 * (4 * (10 + 5) * 16 + 16 * 5)
    assert ops.rnn_macs("LSTM", F, H, T, B, num_layers=2, bidirectional=True, proj_size=5) == per_step * T * B


@pytest.mark.parametrize(
    ("cls", "kw"),
    [(nn.LSTM, {}), (nn.LSTM, {"proj_size": 5}), (nn.GRU, {}), (nn.RNN, {}), (nn.GRU, {"bias": False})],
)
def test_params_formula_against_torchs_module(cls, kw):
    module = _make(cls, **kw)
    mode = MODES[cls]
    expected = sum(p.numel() for p in module.parameters())
    assert ops.rnn_params(mode, F, H, num_layers=2, bidirectional=True, **kw) == expected


class _Tagger(nn.Module):
    """A recurrent layer inside a model: its params and MACs must land in its own layer row."""

    def __init__(self, cls) -> None:
        super().__init__()
        self.rnn = _make(cls)
        self.head = nn.Linear(2 * H, 4)

    def forward(self, x):
        out = self.rnn(x)[0]
        return self.head(out[:, -1])


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_analytic_counts_the_layer_with_its_params(cls):
    model = _Tagger(cls)
    result = count_analytic(model, SHAPE)
    assert not result.unsupported
    rows = [r for r in result.layers if r.layer == "rnn"]
    assert sum(r.macs for r in rows) == EXPECTED_MACS[cls]
    assert sum(r.params for r in rows) == sum(p.numel() for p in model.rnn.parameters())
    assert {r.op_class for r in rows} == {"linear", "activation"} and all(
        r.type == cls.__name__ for r in rows
    )
    # the gate nonlinearities are other_ops: gates x hidden x steps x directions x layers
    assert sum(r.other_ops for r in rows) == ops.RNN_GATES[MODES[cls]] * H * T * B * 2 * 2
    assert result.macs == EXPECTED_MACS[cls] + B * 2 * H * 4
    assert sum(r.params for r in result.layers) == result.params


@pytest.mark.parametrize("cls", [nn.GRU, nn.RNN])
def test_analytic_equals_flopcountermode_on_cpu(cls):
    """On CPU torch runs GRU/RNN as addmm/mm, which FlopCounterMode counts (2 FLOPs per MAC)."""
    model = _make(cls)
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(SHAPE))
    assert counter.get_total_flops() == 2 * EXPECTED_MACS[cls] == 2 * count_analytic(model, SHAPE).macs


def test_lstm_on_cpu_flopcountermode_counts_only_the_decomposed_path():
    """FlopCounterMode has no formula for oneDNN's LSTM kernel (0 on CPU); without oneDNN it matches."""
    model = _make(nn.LSTM)
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(SHAPE))
    stock_cpu = counter.get_total_flops()
    with torch.backends.mkldnn.flags(enabled=False), FlopCounterMode(display=False) as counter:
        model(torch.randn(SHAPE))
    assert counter.get_total_flops() == 2 * EXPECTED_MACS[nn.LSTM] == 2 * count_analytic(model, SHAPE).macs
    if stock_cpu == 0:  # oneDNN took the call: effprof's adapter names it and completes it
        stock = count_torch(model, SHAPE, device="cpu")
        assert stock.macs == 0 and stock.unsupported == {"aten::mkldnn_rnn_layer": 4}
        completed = count_torch(model, SHAPE, device="cpu", completed=True)
        assert completed.macs == EXPECTED_MACS[nn.LSTM]
        assert completed.completed_ops == {"aten::mkldnn_rnn_layer": EXPECTED_MACS[nn.LSTM]}


@pytest.mark.parametrize("kw", [{}, {"proj_size": 5}])
def test_lstm_torch_on_meta_and_completed_cpu_agree_with_analytic(kw):
    model = _make(nn.LSTM, **kw)
    analytic = count_analytic(model, SHAPE).macs
    assert count_torch(model, SHAPE).macs == analytic  # meta: decomposed into matmuls torch counts
    assert count_torch(model, SHAPE, device="cpu", completed=True).macs == analytic


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_fvcore_stock_reports_the_op_and_completed_counts_it(cls):
    model = _make(cls)
    op = f"aten::{'rnn_tanh' if cls is nn.RNN else cls.__name__.lower()}"
    stock = count_fvcore(model, SHAPE)
    assert stock.macs == 0 and stock.unsupported == {op: 1}
    completed = count_fvcore(model, SHAPE, completed=True)
    assert completed.macs == EXPECTED_MACS[cls] and not completed.unsupported
    rec = reconcile({"analytic": count_analytic(model, SHAPE), "fvcore": stock})
    assert rec.unexplained == [] and rec.coverage["fvcore"] == 0.0
    assert f"fvcore: {op} unsupported (1 call), 0 counted" in rec.reasons("fvcore")


@pytest.mark.parametrize(
    ("layout", "shape", "steps"),
    [("seq_first", (T, B, F), T * B), ("unbatched", (T, F), T)],
)
def test_other_layouts_count_every_step_once(layout, shape, steps):
    torch.manual_seed(0)
    model = nn.LSTM(F, H)  # batch_first=False
    macs = count_analytic(model, shape).macs
    assert macs == 4 * (F + H) * H * steps
    assert count_torch(model, shape).macs == macs


def test_packed_sequence_counts_only_the_real_steps():
    """A PackedSequence of lengths 5, 3, 2 runs the cell 10 times, not 5 x 3 = 15."""

    class Packed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(F, H, batch_first=True)

        def forward(self, x):
            packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([5, 3, 2]), batch_first=True)
            return self.rnn(packed)[0].data

    macs = count_analytic(Packed(), SHAPE).macs
    assert macs == 3 * (F + H) * H * (5 + 3 + 2)


def test_recurrent_ops_are_mac_ops_of_the_linear_class():
    for op in ("lstm", "aten::gru", "aten::rnn_tanh", "rnn_relu", "aten::mkldnn_rnn_layer"):
        assert is_mac_op(op) and op_class_of(op) == "linear"
