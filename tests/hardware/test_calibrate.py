"""The calibration sets and their timing: every layer is one op class; timings are real and cached."""

from __future__ import annotations

import pytest
from hardware_helpers import TINY, TINY_BLOCKS, TINY_NETWORKS

from effprof.counters.result import OP_CLASSES
from effprof.hardware.blocks import CALIBRATION_BLOCKS
from effprof.hardware.calibrate import (
    BlockTiming,
    NetworkTiming,
    _count_block,
    build_calibration,
    count_op_calls,
    device_calibration,
    time_blocks,
    time_networks,
)
from effprof.hardware.fit import POOLED
from effprof.hardware.limits import measure_limits
from effprof.hardware.networks import CALIBRATION_NETWORKS


def test_every_calibration_layer_is_the_op_class_it_claims():
    for block in CALIBRATION_BLOCKS:
        _count_block(block)  # raises when a layer counts as another class
    assert {b.op_class for b in CALIBRATION_BLOCKS} == set(OP_CLASSES) - {"other"}
    assert len({b.name for b in CALIBRATION_BLOCKS}) == len(CALIBRATION_BLOCKS)


def test_calibration_networks_count_and_mix_op_classes():
    for net in CALIBRATION_NETWORKS:
        count = _count_block(net)
        assert count.macs > 0 and len({r.op_class for r in count.layers}) >= 3
        assert count_op_calls(count) > sum(r.calls for r in count.layers)  # views and copies run too


def test_no_calibration_block_is_a_registered_model():
    from effprof.models import list_models

    names = {c.name for c in list_models()}
    every = (*CALIBRATION_BLOCKS, *CALIBRATION_NETWORKS)
    assert not any(b.name.split(":", 1)[1] in names for b in every)


def test_time_blocks_counts_and_times_each_layer():
    seen = []
    timings = time_blocks(TINY_BLOCKS, threads=1, budget_s=0.01, on_block=seen.append)
    assert [t.name for t in timings] == [b.name for b in TINY_BLOCKS] == seen
    conv = timings[0]
    assert conv.macs == 8 * 4 * 9 * 8 * 8 and conv.calls == 1 and conv.type == "Conv2d"
    assert all(t.measured_ms > 0 and t.bytes > 0 for t in timings)


def test_time_networks_keeps_their_layers_and_op_calls():
    (net, _) = time_networks(TINY_NETWORKS, threads=1, budget_s=0.01)
    assert net.measured_ms > 0 and [layer[3] for layer in net.layers] == ["conv_dense", "activation"]
    assert net.op_calls == 2


def test_calibration_is_cached_and_refit_against_the_limits():
    lim = measure_limits("cpu", threads=1, **TINY)
    options = {"blocks": TINY_BLOCKS, "networks": TINY_NETWORKS, "budget_s": 0.01}
    first = device_calibration(lim, **options)
    assert not first.from_cache and set(first.fits) == {"conv_dense", "activation", POOLED}
    assert len(first.references) == 3 and first.composition.networks == 2
    again = device_calibration(lim, **options)
    assert again.from_cache and [t.measured_ms for t in again.timings] == [t.measured_ms for t in first.timings]
    assert again.composition == first.composition
    # the same timings against other roofs give other efficiencies: the fit is never stale
    for c in lim.ceilings:
        c.measurement.times_s[:] = [t * 2 for t in c.measurement.times_s]
    refit = device_calibration(lim, **options)
    assert refit.from_cache
    # half the peak and bandwidth: twice the roofline time, so twice the efficiency at the same measured time
    assert refit.references[0].efficiency == pytest.approx(2 * first.references[0].efficiency)
    assert not device_calibration(lim, refresh=True, **options).from_cache


def test_contended_timings_are_left_out_of_the_fit():
    lim = measure_limits("cpu", threads=1, **TINY)
    conv = [BlockTiming(f"conv_dense:{i}", "conv_dense", 10**6 * (i + 1), 10**5, 1, 1.0, type="Conv2d") for i in range(3)]
    slow = BlockTiming("conv_dense:slow", "conv_dense", 10**6, 10**5, 1, 50.0, type="Conv2d", contended=True)
    lonely = BlockTiming("pool:only", "pool", 0, 10**5, 1, 0.5, type="MaxPool2d", contended=True)
    nets = [NetworkTiming(f"network:{i}", ((10**6, 10**5, 1, "conv_dense", "Conv2d"),), 3, 1.2 + i / 10)
            for i in range(3)] + [NetworkTiming("network:slow", ((10**6, 10**5, 1, "conv_dense", "Conv2d"),), 3, 90.0,
                                                contended=True)]  # fmt: skip
    cal = build_calibration([*conv, slow, lonely], nets, lim)
    names = {r.name for r in cal.references}
    assert "conv_dense:slow" not in names  # clean conv timings remain
    assert "pool:only" in names  # a class's only timing is kept, contended or not
    assert cal.composition.networks == 3  # the contended network is left out
    assert cal.contended == ["conv_dense:slow", "pool:only", "network:slow"]
    assert "not cached" in cal.warnings[0]
