"""Interleaved timing of two models (measure_paired) and Measurement.merge, the one rule for repeated timings."""

from __future__ import annotations

import pytest
from latency_helpers import TINY_SHAPE, make_tiny
from torch import nn

from effprof.errors import EffprofError
from effprof.latency import Measurement, measure_paired


def _m(times, contended=False, others=None, runs_per_block=1):
    return Measurement("eager", "cpu", 1, list(times), runs_per_block=runs_per_block, contended=contended,
                       others_cores=others, usable_cores=2)  # fmt: skip


def test_merge_pools_block_times_and_keeps_each_slice():
    merged = Measurement.merge([_m([1e-3, 3e-3], others=0.2), _m([2e-3], others=0.4, runs_per_block=4)])
    assert merged.times_s == [1e-3, 3e-3, 2e-3]
    assert merged.median_ms == pytest.approx(2.0)
    assert merged.slice_ms == pytest.approx([2.0, 2.0])
    assert merged.runs == 2 + 4  # blocks of different sizes: counted per slice
    assert merged.others_cores == pytest.approx(0.3) and not merged.contended


def test_merge_is_contended_when_most_slices_were_and_says_how_many():
    merged = Measurement.merge([_m([1e-3], contended=True, others=1.5), _m([1e-3], contended=True, others=1.5),
                                _m([1e-3])])  # fmt: skip
    assert merged.contended and merged.slice_contended == [True, True, False]
    assert merged.warnings[0] == ("other processes contended 2 of 3 interleaved slices "
                                  "(those slices are left out of the comparison)")  # fmt: skip
    assert not Measurement.merge([_m([1e-3], contended=True), _m([1e-3]), _m([1e-3])]).contended


def test_merge_needs_a_slice():
    with pytest.raises(ValueError):
        Measurement.merge([])


def test_paired_timing_alternates_slices_of_both_models():
    tiny, bigger = make_tiny(), nn.Sequential(make_tiny(1), nn.Linear(10, 10))
    first, second = measure_paired((tiny, TINY_SHAPE, None), (bigger, TINY_SHAPE, None), threads=1,
                                   budget_s=0.03, slices=4)  # fmt: skip
    for m in (first, second):
        assert len(m.slice_ms) == 4 and m.slice_contended == [False] * 4
        assert m.input_shape == TINY_SHAPE and m.runs >= 4 * 3 and m.threads == 1
    assert first.threads_reason == "--threads 1"


def test_paired_timing_marks_contended_slices(busy_machine):
    busy_machine(2.0)
    first, second = measure_paired((make_tiny(), TINY_SHAPE, None), (make_tiny(1), TINY_SHAPE, None), threads=2,
                                   budget_s=0.02, slices=3)  # fmt: skip
    assert first.slice_contended == [True] * 3 and second.contended
    assert second.contended_share == pytest.approx(1.0)


def test_paired_timing_rejects_bad_requests_before_work():
    with pytest.raises(EffprofError, match="slices 0"):
        measure_paired((make_tiny(), TINY_SHAPE, None), (make_tiny(), TINY_SHAPE, None), slices=0)
    with pytest.raises(EffprofError, match="onnxruntime backend only"):
        measure_paired(("x.onnx", TINY_SHAPE, None), (make_tiny(), TINY_SHAPE, None), "eager", threads=1, slices=1)
