"""The contention detector and the thread policy, against a fake clock and fake /proc/stat readings.

Nothing here depends on the machine's real load, except the one test marked ``real_probe``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from effprof.latency import contention
from effprof.latency.contention import (
    CpuProbe,
    choose_threads,
    is_contended,
    parse_proc_stat,
    sample_others,
    wait_for_quiet,
    watch,
)
from effprof.latency.timer import time_runs

TICKS = 100.0


class FakeMachine:
    """A machine whose other processes use ``load(t)`` cores at fake time t; the clock moves only when read."""

    def __init__(self, load: Callable[[float], float], *, cores: int = 2, own_cores: float = 0.0, step_s: float = 0.5):
        self.load, self.cores, self.own_cores, self.step_s = load, cores, own_cores, step_s
        self.t = 0.0
        self.others_ticks = 0.0
        self.own_s = 0.0
        self.slept_s = 0.0

    def _advance(self, dt: float) -> None:
        self.others_ticks += self.load(self.t) * dt * TICKS
        self.own_s += self.own_cores * dt
        self.t += dt

    def clock(self) -> float:
        self._advance(self.step_s)
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept_s += seconds
        self._advance(seconds)

    def read_stat(self) -> str:
        # /proc/stat's first line: user nice system idle iowait irq softirq steal guest guest_nice;
        # our own CPU time is in it too, as it is on a real machine
        busy = round(self.others_ticks + self.own_s * TICKS)
        return f"cpu  {busy} 0 0 987654 321 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"

    def probe(self) -> CpuProbe:
        return CpuProbe(read_stat=self.read_stat, self_cpu_s=lambda: self.own_s, clock=self.clock,
                        sleep=self.sleep, usable_cores=lambda: self.cores, ticks_per_s=TICKS)  # fmt: skip


def test_proc_stat_busy_is_everything_but_idle_and_iowait():
    # user 10, nice 20, system 30, idle 400, iowait 50, irq 6, softirq 7, steal 8
    assert parse_proc_stat("cpu  10 20 30 400 50 6 7 8 0 0\n") == 10 + 20 + 30 + 6 + 7 + 8
    assert parse_proc_stat("cpu  10 20 30 400\n") == 60  # old kernels: fewer columns
    assert parse_proc_stat("intr 1 2 3\n") is None
    assert parse_proc_stat("cpu  a b c d e\n") is None
    assert parse_proc_stat("") is None


def test_others_cores_exclude_our_own_cpu_time():
    machine = FakeMachine(lambda t: 1.5, own_cores=1.0)
    with watch(machine.probe()) as w:
        machine.sleep(2.0)
    assert w.others_cores == pytest.approx(1.5, abs=0.02)
    assert w.share == pytest.approx(0.75, abs=0.01)


def test_unreadable_proc_stat_means_unknown_never_contended():
    probe = CpuProbe(read_stat=lambda: None, clock=FakeMachine(lambda t: 0).clock)
    with watch(probe) as w:
        pass
    assert w.others_cores is None and not w.contended(threads=2)


def test_an_interval_too_short_for_jiffies_is_not_judged():
    machine = FakeMachine(lambda t: 2.0, step_s=0.01)
    with watch(machine.probe()) as w:
        pass
    assert w.others_cores is None


@pytest.mark.parametrize(
    ("others", "threads", "usable", "contended"),
    [
        (0.0, 2, 2, False),
        (0.29, 2, 2, False),  # daemons and rounding: under the 0.3-core slack
        (0.5, 2, 2, True),
        (1.0, 1, 2, False),  # one busy core beside a 1-thread timing on 2 cores: ours is free
        (1.5, 1, 2, True),
        (3.0, 4, 8, False),
        (4.5, 4, 8, True),
        (None, 2, 2, False),
    ],
)
def test_contended_when_others_take_cores_the_timing_needs(others, threads, usable, contended):
    assert is_contended(others, threads, usable) is contended


def test_default_threads_leave_out_the_cores_others_are_busy_on():
    machine = FakeMachine(lambda t: 1.0, cores=2)
    choice = choose_threads(None, probe=machine.probe())
    assert choice.threads == 1 and choice.usable_cores == 2
    assert choice.others_cores == pytest.approx(1.0, abs=0.05)
    assert "1 busy with other processes" in choice.reason
    assert choice.warning and "timed on 1 of 2 cores" in choice.warning
    assert machine.slept_s == pytest.approx(contention.THREAD_SAMPLE_S)


def test_default_threads_on_a_quiet_machine_are_all_usable_cores():
    choice = choose_threads(None, probe=FakeMachine(lambda t: 0.2, cores=4).probe())
    assert choice.threads == 4 and choice.warning is None and "all 4 usable cores" in choice.reason


def test_default_threads_never_drop_below_one():
    assert choose_threads(None, probe=FakeMachine(lambda t: 7.0, cores=2).probe()).threads == 1


def test_oversubscribed_request_is_clamped_with_a_warning():
    choice = choose_threads(999, probe=FakeMachine(lambda t: 0.0, cores=2).probe())
    assert choice.threads == 2
    assert choice.warning == "--threads 999 asks for more than the 2 cores this process may use: clamped to 2"


def test_an_explicit_request_is_kept_and_not_sampled():
    machine = FakeMachine(lambda t: 1.0, cores=2)
    choice = choose_threads(1, probe=machine.probe())
    assert (choice.threads, choice.warning, choice.reason) == (1, None, "--threads 1")
    assert machine.slept_s == 0


def test_wait_for_quiet_returns_when_the_load_stops():
    machine = FakeMachine(lambda t: 2.0 if t < 3.0 else 0.0)
    assert wait_for_quiet(threads=2, max_wait_s=10.0, probe=machine.probe())
    assert 3.0 <= machine.t < 10.0


def test_wait_for_quiet_gives_up_after_its_bound():
    machine = FakeMachine(lambda t: 2.0)
    assert not wait_for_quiet(threads=2, max_wait_s=3.0, probe=machine.probe())
    assert machine.t == pytest.approx(3.0, abs=1.5)  # one poll past the deadline at most


def test_sample_others_reads_the_load_while_sleeping():
    assert sample_others(1.0, FakeMachine(lambda t: 0.5).probe()) == pytest.approx(0.5, abs=0.02)


def _work() -> None:
    torch.ones(64, 64) @ torch.ones(64, 64)


def test_a_contended_timing_is_timed_again_after_quiet():
    machine = FakeMachine(lambda t: 2.0 if t < 4.0 else 0.0)
    m = time_runs(_work, backend="fake", device="cpu", threads=2, budget_s=0.01, min_runs=3,
                  retimes=1, quiet_wait_s=30.0, probe=machine.probe())  # fmt: skip
    assert m.retimes == 1 and not m.contended and m.others_cores == pytest.approx(0.0)
    assert m.to_row()["contended"] is None
    assert not any(contention.CONTENDED_NOTE in w for w in m.warnings)


def test_a_timing_that_stays_contended_keeps_its_numbers_and_says_so():
    machine = FakeMachine(lambda t: 1.6)
    m = time_runs(_work, backend="fake", device="cpu", threads=2, budget_s=0.01, min_runs=3,
                  retimes=2, quiet_wait_s=1.0, probe=machine.probe())  # fmt: skip
    assert m.retimes == 2 and m.contended and m.median_ms > 0
    assert m.others_cores == pytest.approx(1.6, abs=0.05)
    assert m.to_row()["contended"] == pytest.approx(0.8, abs=0.03)  # 1.6 of 2 cores
    assert m.warnings[0].startswith("other processes used 1.6 of 2 cores while this was timed (also after 2 re-timings)")


def test_the_least_contended_attempt_is_kept():
    loads = iter([1.8, 0.9, 1.4])
    current = {"load": next(loads)}

    class Scripted(FakeMachine):
        def sleep(self, seconds):  # each wait for quiet (one poll here) moves on to the next spell
            super().sleep(seconds)
            current["load"] = next(loads, current["load"])

    machine = Scripted(lambda t: current["load"])
    m = time_runs(_work, backend="fake", device="cpu", threads=2, budget_s=0.01, min_runs=3,
                  retimes=2, quiet_wait_s=0.0, probe=machine.probe())  # fmt: skip
    assert m.retimes == 2 and m.contended
    assert m.others_cores == pytest.approx(0.9, abs=0.05)


def test_a_quiet_first_attempt_is_not_timed_again():
    machine = FakeMachine(lambda t: 0.1)
    m = time_runs(_work, backend="fake", device="cpu", threads=2, budget_s=0.01, min_runs=3, probe=machine.probe())
    assert m.retimes == 0 and not m.contended and machine.slept_s == 0


@pytest.mark.real_probe
def test_our_own_busy_loop_is_not_someone_elses():
    with watch() as w:
        total = 0
        for i in range(3_000_000):
            total += i
    assert w.wall_s > 0
    if w.others_cores is not None:  # Linux: /proc/stat is there
        assert w.others_cores >= 0.0
