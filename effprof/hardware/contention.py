"""Did another process (or the hypervisor) take CPU time while we were timing?

Rule: over the timed interval, compare the machine's busy CPU time (/proc/stat: everything but idle
and iowait, steal included, i.e. time the hypervisor gave to other guests) with this process's own
CPU time (os.times). The difference, divided by the wall time, is how many cores others used. On a
shared 2-core machine a timing that others took even a third of a core from is not this device's
figure: with PyTorch's threads waiting on each other, it can read many times slow.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

#: cores used by others above which a timing counts as contended (re-time it, or warn)
CONTENDED_CORES = 0.3
#: how a contended timing's warning starts (what cached figures are checked for)
CONTENDED_NOTE = "other processes used"
_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_s() -> float | None:
    """Machine-wide busy CPU seconds since boot, or None where /proc/stat is not readable."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(values) - values[3] - values[4]) / _TICKS_PER_S


def _self_s() -> float:
    t = os.times()
    return t.user + t.system


@dataclass
class Watch:
    """Filled in when the ``watch()`` block ends: cores others used on average (None: unknown)."""

    others_cores: float | None = None
    wall_s: float = 0.0

    @property
    def contended(self) -> bool:
        return self.others_cores is not None and self.others_cores > CONTENDED_CORES

    def warning(self) -> str | None:
        if not self.contended:
            return None
        return f"{CONTENDED_NOTE} {self.others_cores:.1f} cores while this was timed: it may read slow"


@contextmanager
def watch() -> Iterator[Watch]:
    """Measure how much CPU other processes used during the body."""
    result = Watch()
    busy0, self0, wall0 = _busy_s(), _self_s(), time.perf_counter()
    try:
        yield result
    finally:
        busy1, self1 = _busy_s(), _self_s()
        result.wall_s = time.perf_counter() - wall0
        # jiffies tick every 10 ms: below ~0.1 s of wall time the figure is mostly rounding
        if busy0 is not None and busy1 is not None and result.wall_s >= 0.1:
            result.others_cores = max(0.0, (busy1 - busy0) - (self1 - self0)) / result.wall_s


def wait_for_quiet(max_wait_s: float = 10.0, poll_s: float = 0.25, quiet_polls: int = 2) -> bool:
    """Sleep until others have used under CONTENDED_CORES for ``quiet_polls`` polls in a row; False on timeout.

    Returns at once (True) where /proc/stat is not readable: there is nothing to wait for.
    """
    deadline = time.perf_counter() + max_wait_s
    quiet = 0
    while True:
        busy0, self0, wall0 = _busy_s(), _self_s(), time.perf_counter()
        if busy0 is None:
            return True
        time.sleep(poll_s)
        busy1, self1 = _busy_s(), _self_s()
        others = max(0.0, (busy1 - busy0) - (self1 - self0)) / (time.perf_counter() - wall0)
        quiet = quiet + 1 if others <= CONTENDED_CORES else 0
        if quiet >= quiet_polls:
            return True
        if time.perf_counter() > deadline:
            return False


def least_contended(run: Callable[[], T], attempts: int = 3, max_wait_s: float = 10.0) -> tuple[T, Watch]:
    """Call ``run`` until an attempt is not contended (at most ``attempts`` times); keep the least contended.

    Contention on a shared machine comes in spells: before each retry, wait (up to ``max_wait_s``)
    for the other processes to go quiet.
    """
    best: tuple[T, Watch] | None = None
    for attempt in range(max(1, attempts)):
        if attempt:
            wait_for_quiet(max_wait_s)
        with watch() as w:
            value = run()
        if best is None or (w.others_cores or 0.0) < (best[1].others_cores or 0.0):
            best = (value, w)
        if not w.contended:
            break
    assert best is not None
    return best
