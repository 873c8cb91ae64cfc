"""The shared timing loop: warm-up, block sizing, min_runs, sync placement, thread restore."""

from __future__ import annotations

import pytest
import torch

from effprof.latency import timer
from effprof.latency.timer import choose_block_size, time_runs, torch_threads


class FakeDevice:
    """An asynchronous device on a fake clock: run() only queues work, sync() waits for it."""

    def __init__(self, work_s: float) -> None:
        self.now = 0.0
        self.pending = 0.0
        self.work_s = work_s
        self.runs = 0
        self.syncs = 0

    def clock(self) -> float:
        return self.now

    def run(self) -> None:
        self.now += 1e-6  # the launch itself
        self.pending += self.work_s
        self.runs += 1

    def sync(self) -> None:
        self.now += self.pending
        self.pending = 0.0
        self.syncs += 1


def test_sync_inside_timed_region_counts_device_time(monkeypatch):
    dev = FakeDevice(work_s=0.004)
    monkeypatch.setattr(timer, "_clock", dev.clock)
    m = time_runs(dev.run, sync=dev.sync, backend="fake", device="cuda", threads=1, budget_s=0.1, min_runs=3)
    # Without sync in the timed region every block would read ~1 us, not 4 ms.
    assert m.median_ms == pytest.approx(4.001, rel=1e-6)
    assert m.runs >= 3 and m.runs_per_block >= 1


def test_min_runs_wins_over_a_tiny_budget(monkeypatch):
    dev = FakeDevice(work_s=0.05)
    monkeypatch.setattr(timer, "_clock", dev.clock)
    m = time_runs(dev.run, sync=dev.sync, backend="fake", device="cpu", threads=1, budget_s=1e-9, min_runs=7)
    assert len(m.times_s) == 7 and m.runs_per_block == 1


def test_budget_is_spent_and_warmup_is_excluded(monkeypatch):
    dev = FakeDevice(work_s=0.01)
    monkeypatch.setattr(timer, "_clock", dev.clock)
    m = time_runs(
        dev.run,
        sync=dev.sync,
        backend="fake",
        device="cpu",
        threads=1,
        budget_s=0.5,
        min_runs=2,
        warmup_runs=3,
        warmup_s=0.0,
    )
    assert m.warmup_runs == 3
    assert sum(m.times_s) * m.runs_per_block >= 0.5
    assert dev.runs == m.runs + m.warmup_runs


def test_real_runs_give_positive_finite_times():
    x = torch.randn(64, 64)
    m = time_runs(lambda: x @ x, backend="fake", device="cpu", threads=1, budget_s=0.02, min_runs=5)
    assert m.runs >= 5
    for value in (m.median_ms, m.iqr_ms, m.p90_ms, m.mean_ms, m.cv):
        assert value >= 0 and value == value and value != float("inf")
    assert m.median_ms > 0


def test_block_size_buries_overhead_for_fast_runs():
    assert choose_block_size(run_s=1e-5, overhead_s=1e-7, budget_s=1.0) == 100  # 1 ms block
    assert choose_block_size(run_s=0.05, overhead_s=1e-7, budget_s=1.0) == 1
    # CUDA-like sync overhead (10 us) asks for 10 ms blocks, capped to budget/20.
    assert choose_block_size(run_s=1e-4, overhead_s=1e-5, budget_s=1.0) == 100
    assert choose_block_size(run_s=1e-4, overhead_s=1e-5, budget_s=0.1) == 50
    assert choose_block_size(run_s=0.0, overhead_s=1e-7, budget_s=1.0) == 1


def test_threads_are_set_during_and_restored_after():
    before = torch.get_num_threads()
    seen = []
    time_runs(
        lambda: seen.append(torch.get_num_threads()),
        backend="fake",
        device="cpu",
        threads=1,
        budget_s=0.001,
        min_runs=2,
    )
    assert set(seen) == {1}
    assert torch.get_num_threads() == before


def test_threads_restored_when_the_run_raises():
    before = torch.get_num_threads()

    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        time_runs(boom, backend="fake", device="cpu", threads=1, budget_s=0.001, min_runs=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError), torch_threads(1):
        raise ValueError
    assert torch.get_num_threads() == before
