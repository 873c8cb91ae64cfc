"""Roofline arithmetic on layers whose MACs and bytes are written out by hand."""

from __future__ import annotations

import pytest
from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.counters.result import LayerCount
from effprof.hardware.roofline import (
    attainable_gmacs_per_s,
    bound,
    by_op_class,
    compute_time_ms,
    efficiency,
    intensity_macs_per_byte,
    layer_roofline,
    memory_time_ms,
    model_roofline,
    ridge_macs_per_byte,
    roofline_time_ms,
)

# A made-up device with round numbers: 100 GMAC/s, 10 GB/s, so the ridge is 10 MACs/byte.
PEAK, BW = 100.0, 10.0

# 3x3 conv, 64 -> 64 channels, 56x56, stride 1, padding 1, no bias, batch 1, fp32:
CONV_MACS = 64 * 64 * 3 * 3 * 56 * 56  # every output element: 64 x 3 x 3 multiply-adds -> 115,605,504
CONV_BYTES = 4 * (64 * 56 * 56 + 64 * 64 * 3 * 3 + 64 * 56 * 56)  # input + weight + output -> 1,753,088
# 3x3 depthwise conv, 64 channels, 56x56: each output element sees one channel's 3 x 3 window
DW_MACS = 64 * 3 * 3 * 56 * 56  # 1,806,336
DW_BYTES = 4 * (64 * 56 * 56 + 64 * 1 * 3 * 3 + 64 * 56 * 56)  # 1,607,936


def _only_row(module: nn.Module, shape=(1, 64, 56, 56)) -> LayerCount:
    (row,) = count_analytic(module, shape).layers
    return row


def test_analytic_counter_moves_the_bytes_written_out_above():
    conv = _only_row(nn.Conv2d(64, 64, 3, padding=1, bias=False))
    dw = _only_row(nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False))
    assert (conv.macs, conv.bytes, conv.op_class) == (CONV_MACS, CONV_BYTES, "conv_dense")
    assert (dw.macs, dw.bytes, dw.op_class) == (DW_MACS, DW_BYTES, "conv_depthwise")


def test_dense_conv_is_compute_bound():
    r = layer_roofline(_only_row(nn.Conv2d(64, 64, 3, padding=1, bias=False)), PEAK, BW)
    assert r.intensity == pytest.approx(CONV_MACS / CONV_BYTES)  # ~65.9 MACs/byte
    assert r.compute_ms == pytest.approx(CONV_MACS / 100e9 * 1e3)  # 1.156 ms
    assert r.memory_ms == pytest.approx(CONV_BYTES / 10e9 * 1e3)  # 0.175 ms
    assert r.roofline_ms == pytest.approx(1.15605504)
    assert r.bound == "compute"


def test_depthwise_conv_is_memory_bound():
    r = layer_roofline(_only_row(nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)), PEAK, BW)
    assert r.intensity == pytest.approx(DW_MACS / DW_BYTES)  # ~1.12 MACs/byte, far below the ridge of 10
    assert r.roofline_ms == pytest.approx(0.1607936)  # bytes / bandwidth
    assert r.compute_ms == pytest.approx(0.01806336)
    assert r.bound == "memory"


def test_layers_without_macs_are_memory_bound_by_their_bytes():
    relu = _only_row(nn.ReLU())
    r = layer_roofline(relu, PEAK, BW)
    assert relu.bytes == 2 * 4 * 64 * 56 * 56  # read the input, write the output
    assert (r.bound, r.intensity, r.compute_ms) == ("memory", 0.0, 0.0)
    assert r.roofline_ms == pytest.approx(relu.bytes / 10e9 * 1e3)


@pytest.mark.parametrize(
    "macs, bytes_moved, expected",
    # 0 bytes: intensity is reported as 0, so nothing places the layer above the ridge
    [(0, 100, "memory"), (999, 100, "memory"), (1000, 100, "compute"), (5000, 100, "compute"), (10, 0, "memory")],
)
def test_bound_splits_at_the_ridge(macs, bytes_moved, expected):
    assert bound(macs, bytes_moved, ridge=10.0) == expected


def test_pure_formulas():
    assert ridge_macs_per_byte(PEAK, BW) == 10.0
    assert compute_time_ms(1e9, 100.0) == pytest.approx(10.0)
    assert memory_time_ms(1e9, 10.0) == pytest.approx(100.0)
    assert roofline_time_ms(1e9, 1e9, 100.0, 10.0) == pytest.approx(100.0)
    assert intensity_macs_per_byte(10, 0) == 0.0
    assert attainable_gmacs_per_s(2.0, PEAK, BW) == 20.0  # under the memory roof
    assert attainable_gmacs_per_s(50.0, PEAK, BW) == 100.0  # under the compute roof
    assert efficiency(1.0, 4.0) == 0.25
    assert efficiency(1.0, None) is None and efficiency(1.0, 0.0) is None


def test_model_roofline_sums_layers_and_op_classes():
    layers = [
        LayerCount("a", "Conv2d", "conv_dense", macs=CONV_MACS, bytes=CONV_BYTES),
        LayerCount("b", "Conv2d", "conv_depthwise", macs=DW_MACS, bytes=DW_BYTES),
        LayerCount("c", "Conv2d", "conv_depthwise", macs=DW_MACS, bytes=DW_BYTES),
        LayerCount("d", "ReLU", "activation", bytes=1_000_000),
    ]
    measured = {("a", "conv_dense"): 2.0, ("b", "conv_depthwise"): 0.5, ("c", "conv_depthwise"): 0.5}
    rl = model_roofline("toy", layers, peak_gmacs_per_s=PEAK, bandwidth_gb_per_s=BW, measured_ms=measured,
                        latency_ms=4.0)  # fmt: skip
    assert rl.roofline_ms == pytest.approx(1.15605504 + 2 * 0.1607936 + 0.1)
    assert rl.efficiency == pytest.approx(rl.roofline_ms / 4.0)
    assert rl.measured_layers_ms == 3.0
    assert rl.layers[0].efficiency == pytest.approx(1.15605504 / 2.0)
    assert rl.layers[0].achieved_gmacs_per_s == pytest.approx(CONV_MACS / 2e-3 / 1e9)
    assert rl.layers[3].measured_ms is None and rl.layers[3].efficiency is None  # no time attributed
    classes = {c.op_class: c for c in by_op_class(rl.layers)}
    dw = classes["conv_depthwise"]
    assert (dw.layers, dw.macs, dw.bytes, dw.memory_bound, dw.bound) == (2, 2 * DW_MACS, 2 * DW_BYTES, 2, "memory")
    assert dw.roofline_ms == pytest.approx(2 * 0.1607936) and dw.measured_ms == 1.0
    assert classes["conv_dense"].bound == "compute"
    assert classes["activation"].measured_ms is None
    assert [c.op_class for c in by_op_class(rl.layers)] == ["conv_dense", "conv_depthwise", "activation"]


def test_rows_carry_the_columns_a_report_joins_on():
    rl = model_roofline("toy", [LayerCount("", "Net", "elementwise", bytes=40)], peak_gmacs_per_s=PEAK,
                        bandwidth_gb_per_s=BW)  # fmt: skip
    (row,) = rl.to_rows()
    assert row["layer"] == "(root)" and row["bound"] == "memory" and row["efficiency"] is None
    assert rl.summary()["ridge_macs_per_byte"] == 10.0
