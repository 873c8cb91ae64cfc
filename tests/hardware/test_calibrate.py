"""The calibration set and its timing: every block is one op class; timings are real and cached."""

from __future__ import annotations

import pytest
from conftest import TINY
from torch import nn

from effprof.counters.result import OP_CLASSES
from effprof.hardware.blocks import CALIBRATION_BLOCKS, Block
from effprof.hardware.calibrate import _count_block, device_calibration, time_blocks
from effprof.hardware.fit import POOLED
from effprof.hardware.limits import measure_limits

TINY_BLOCKS = (
    Block("conv_dense:tiny", "conv_dense", lambda: nn.Conv2d(4, 8, 3, padding=1), (1, 4, 8, 8)),
    Block("conv_dense:small", "conv_dense", lambda: nn.Conv2d(8, 8, 3, padding=1), (1, 8, 16, 16)),
    Block("activation:relu", "activation", nn.ReLU, (1, 8, 16, 16)),
)


def test_every_calibration_block_is_the_op_class_it_claims():
    for block in CALIBRATION_BLOCKS:
        _count_block(block)  # raises when a block counts as another class
    covered = {b.op_class for b in CALIBRATION_BLOCKS}
    assert covered == set(OP_CLASSES) - {"other"}
    assert len({b.name for b in CALIBRATION_BLOCKS}) == len(CALIBRATION_BLOCKS)


def test_no_calibration_block_is_a_registered_model():
    from effprof.models import list_models

    names = {c.name for c in list_models()}
    assert not any(b.name.split(":", 1)[1] in names for b in CALIBRATION_BLOCKS)


def test_time_blocks_counts_and_times_each_block():
    seen = []
    timings = time_blocks(TINY_BLOCKS, threads=1, budget_s=0.01, on_block=seen.append)
    assert [t.name for t in timings] == [b.name for b in TINY_BLOCKS] and seen == timings
    conv = timings[0]
    assert conv.macs == 8 * 4 * 9 * 8 * 8 and conv.calls == 1
    assert all(t.measured_ms > 0 and t.bytes > 0 for t in timings)


def test_calibration_is_cached_and_refit_against_the_limits():
    lim = measure_limits("cpu", threads=1, **TINY)
    first = device_calibration(lim, blocks=TINY_BLOCKS, budget_s=0.01)
    assert not first.from_cache and set(first.fits) == {"conv_dense", "activation", POOLED}
    again = device_calibration(lim, blocks=TINY_BLOCKS)
    assert again.from_cache and [t.measured_ms for t in again.timings] == [t.measured_ms for t in first.timings]
    # the same timings against other roofs give another fit: the fit is never stale
    lim.ceiling("gemm").measurement.times_s[:] = [t * 2 for t in lim.ceiling("gemm").measurement.times_s]
    refit = device_calibration(lim, blocks=TINY_BLOCKS)
    assert refit.from_cache
    assert refit.fits["conv_dense"].scale != pytest.approx(first.fits["conv_dense"].scale, rel=1e-6) or \
        first.fits["conv_dense"].scale == 0  # fmt: skip
    assert not device_calibration(lim, blocks=TINY_BLOCKS, refresh=True, budget_s=0.01).from_cache
