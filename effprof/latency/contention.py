"""Did other processes (or the hypervisor) take CPU time while we were timing, and how many cores are ours?

Rule: over an interval, compare the machine's busy CPU time (/proc/stat's first line: everything but
idle and iowait, steal included, i.e. time the hypervisor gave to other guests) with this process's own
CPU time (os.times). The difference, divided by the wall time, is how many cores others used.

A timing is *contended* when others used more of the cores than the timing left free: with ``threads``
of ``usable`` cores in use, others may take ``usable - threads`` cores without touching ours, and
``CONTENDED_CORES`` more as slack for daemons and jiffy rounding. PyTorch's threads wait on each other
at every op, so a timing that others took even a third of a core from can read many times slow.

Every reading goes through a ``CpuProbe``, so the detector and the thread policy are tested with a fake
clock and fake /proc/stat text instead of real load.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: cores used by others, beyond the ones a timing leaves free, above which it counts as contended
CONTENDED_CORES = 0.3
#: how a contended timing's warning starts (what cached figures are checked for)
CONTENDED_NOTE = "other processes used"
#: below this much wall time a jiffy-based reading (10 ms ticks) is mostly rounding: not judged
MIN_JUDGED_WALL_S = 0.1
#: how long the thread policy samples the machine before timing
THREAD_SAMPLE_S = 0.25


def parse_proc_stat(text: str) -> float | None:
    """Busy CPU ticks of the whole machine from /proc/stat text (the ``cpu`` line), or None if absent.

    Busy = user + nice + system + irq + softirq + steal (idle and iowait left out).
    """
    first = text.split("\n", 1)[0].split()
    if len(first) < 5 or first[0] != "cpu":
        return None
    try:
        values = [int(v) for v in first[1:9]]
    except ValueError:
        return None
    values += [0] * (8 - len(values))
    return float(sum(values) - values[3] - values[4])


def _read_proc_stat() -> str | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            return fh.readline()
    except OSError:
        return None


def _self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def _cgroup_cpu_limit(path: str = "/sys/fs/cgroup/cpu.max") -> float | None:
    """The cgroup v2 CPU quota in cores (``--cpus 2`` in a container), or None when unlimited/unknown."""
    try:
        with open(path, encoding="ascii") as fh:
            quota, period = fh.read().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        cores = int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None
    return cores if cores > 0 else None


def _usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup quota (containers)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_limit()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


@dataclass(frozen=True)
class CpuProbe:
    """Where readings come from; tests pass fakes (a scripted /proc/stat, a fake clock and sleep)."""

    read_stat: Callable[[], str | None] = _read_proc_stat
    self_cpu_s: Callable[[], float] = _self_cpu_s
    clock: Callable[[], float] = time.perf_counter
    sleep: Callable[[float], None] = time.sleep
    usable_cores: Callable[[], int] = _usable_cores
    ticks_per_s: float = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0

    def busy_s(self) -> float | None:
        text = self.read_stat()
        ticks = parse_proc_stat(text) if text else None
        return None if ticks is None else ticks / self.ticks_per_s


#: the real machine; tests replace it with monkeypatch
PROBE = CpuProbe()


def is_contended(others_cores: float | None, threads: int, usable_cores: int) -> bool:
    """True when others took more than the ``usable - threads`` free cores plus CONTENDED_CORES of slack."""
    if others_cores is None:
        return False
    free = max(0, usable_cores - threads)
    return others_cores > free + CONTENDED_CORES


@dataclass
class Watch:
    """Filled in when the ``watch()`` block ends: cores others used on average (None: unknown)."""

    others_cores: float | None = None
    wall_s: float = 0.0
    usable_cores: int = 1

    def contended(self, threads: int) -> bool:
        return is_contended(self.others_cores, threads, self.usable_cores)

    @property
    def share(self) -> float | None:
        """Others' use as a share of the usable cores (1.0: as many cores as this process may use)."""
        return None if self.others_cores is None else self.others_cores / self.usable_cores


def contention_warning(others_cores: float, usable_cores: int, retimes: int) -> str:
    """The one line a contended row carries (it starts with CONTENDED_NOTE)."""
    again = f" (also after {retimes} re-timing{'s' if retimes != 1 else ''})" if retimes else ""
    return (
        f"{CONTENDED_NOTE} {others_cores:.1f} of {usable_cores} cores while this was timed{again}, "
        "so it may read slow (time it on a quiet machine)"
    )


@contextmanager
def watch(probe: CpuProbe | None = None) -> Iterator[Watch]:
    """Measure how much CPU other processes used during the body."""
    probe = probe or PROBE
    result = Watch(usable_cores=probe.usable_cores())
    busy0, self0, wall0 = probe.busy_s(), probe.self_cpu_s(), probe.clock()
    try:
        yield result
    finally:
        busy1, self1 = probe.busy_s(), probe.self_cpu_s()
        result.wall_s = probe.clock() - wall0
        if busy0 is not None and busy1 is not None and result.wall_s >= MIN_JUDGED_WALL_S:
            result.others_cores = max(0.0, (busy1 - busy0) - (self1 - self0)) / result.wall_s


def sample_others(seconds: float = THREAD_SAMPLE_S, probe: CpuProbe | None = None) -> float | None:
    """Cores others use right now, averaged over ``seconds`` of sleeping (None where unreadable)."""
    probe = probe or PROBE
    with watch(probe) as w:
        probe.sleep(seconds)
    return w.others_cores


def wait_for_quiet(
    threads: int,
    max_wait_s: float = 3.0,
    poll_s: float = 0.25,
    quiet_polls: int = 2,
    probe: CpuProbe | None = None,
) -> bool:
    """Sleep until a timing on ``threads`` would not be contended for ``quiet_polls`` polls in a row.

    False once ``max_wait_s`` has passed without that; True at once where /proc/stat is not readable
    (there is nothing to wait for).
    """
    probe = probe or PROBE
    deadline = probe.clock() + max_wait_s
    quiet = 0
    while True:
        others = sample_others(poll_s, probe)
        if others is None:
            return True
        quiet = quiet + 1 if not is_contended(others, threads, probe.usable_cores()) else 0
        if quiet >= quiet_polls:
            return True
        if probe.clock() >= deadline:
            return False


@dataclass(frozen=True)
class ThreadChoice:
    """The thread count a run times with, and why (shown in the table and the report meta)."""

    threads: int
    reason: str
    usable_cores: int
    others_cores: float | None = None
    #: set when the count differs from what the user asked or a quiet machine would get
    warning: str | None = None


def choose_threads(
    requested: int | None, *, probe: CpuProbe | None = None, sample_s: float = THREAD_SAMPLE_S
) -> ThreadChoice:
    """Threads to time with.

    Rule: a request above the usable cores is clamped to them, with a warning; no request means the
    usable cores minus the cores other processes are busy on (sampled for ``sample_s`` just before
    timing, rounded to whole cores), at least 1. ``requested`` must already be validated (int >= 1).
    """
    probe = probe or PROBE
    usable = probe.usable_cores()
    if requested is not None:
        if requested > usable:
            return ThreadChoice(
                usable, f"--threads {requested} clamped to the {usable} usable cores", usable,
                warning=f"--threads {requested} asks for more than the {usable} cores this process may use: "
                f"clamped to {usable}",
            )  # fmt: skip
        return ThreadChoice(requested, f"--threads {requested}", usable)
    others = sample_others(sample_s, probe)
    busy = math.floor(others + 0.5) if others is not None else 0
    threads = max(1, usable - busy)
    if others is None:
        return ThreadChoice(threads, f"all {usable} usable cores; other processes' load unknown", usable)
    if threads == usable:
        return ThreadChoice(threads, f"all {usable} usable cores; others busy on {others:.1f}", usable, others)
    return ThreadChoice(
        threads, f"{usable} usable cores - {busy} busy with other processes", usable, others,
        warning=f"timed on {threads} of {usable} cores: other processes were busy on {others:.1f} cores "
        "(a quiet machine would use all of them and may read faster)",
    )  # fmt: skip
