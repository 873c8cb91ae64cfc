"""The one timing loop every backend, command and calibration goes through, modelled on ``Timer.blocked_autorange``.

Rule: warm up, pick a block size so the timer's own overhead is negligible, then time whole
blocks until both the time budget is spent and ``min_runs`` blocks are in. ``sync`` runs inside
the timed region, so asynchronous device work (CUDA) is counted; thread count is set explicitly
and restored afterwards. While the blocks run, the CPU time other processes take is watched
(effprof/latency/contention.py): a contended timing is timed again, after waiting (bounded) for
the machine to go quiet, up to ``retimes`` times; the least contended attempt is kept, and if even
that one was contended the Measurement says so (``others_cores``, ``contended``, a warning).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from effprof.latency import contention
from effprof.latency.measurement import Measurement, spread_warnings

# Defaults sized so `compare mobilenet_v2 resnet50` on eager + onnxruntime stays well under a
# minute on a 2-core CPU: ~1 s of timing per (model, backend), plus warm-up and setup.
DEFAULT_BUDGET_S = 1.0
DEFAULT_MIN_RUNS = 5
DEFAULT_WARMUP_RUNS = 2
DEFAULT_WARMUP_S = 0.2

# A block should last at least this long, and at least OVERHEAD_FACTOR times an empty block
# (timer + sync): torch's blocked_autorange aims for the same ~0.1% overhead.
MIN_BLOCK_S = 1e-3
OVERHEAD_FACTOR = 1000
# Keep blocks short enough that the budget still yields several samples for the quartiles.
SAMPLES_PER_BUDGET = 20
# A contended timing is timed again this many times, each after waiting up to QUIET_WAIT_S for quiet:
# a few seconds at most per measurement, so a busy machine slows a run down boundedly.
DEFAULT_RETIMES = 1
DEFAULT_QUIET_WAIT_S = 3.0
# Device limits and calibrations are cached for later runs: they wait longer and retry more.
CALIBRATION_RETIMES = 2
CALIBRATION_QUIET_WAIT_S = 10.0

_clock = time.perf_counter


def _noop() -> None:
    return None


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the body with ``torch.set_num_threads(threads)``; always restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def _gc_paused() -> Iterator[None]:
    # timeit does the same: a collection landing in one block would be an outlier we made.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _time_block(run: Callable[[], Any], sync: Callable[[], None], number: int) -> float:
    """Wall seconds for ``number`` runs followed by one sync (0 runs measures the overhead)."""
    sync()
    start = _clock()
    for _ in range(number):
        run()
    sync()
    return _clock() - start


def choose_block_size(run_s: float, overhead_s: float, budget_s: float) -> int:
    """Runs per block: enough to bury the timer/sync overhead, few enough to leave many samples.

    ``run_s`` is the time of one run, ``overhead_s`` that of an empty timed block.
    """
    if run_s <= 0 or not math.isfinite(run_s):
        return 1
    target_s = max(MIN_BLOCK_S, OVERHEAD_FACTOR * overhead_s)
    target_s = min(target_s, budget_s / SAMPLES_PER_BUDGET)
    # The small epsilon keeps 1e-3 / 1e-5 (= 100.00000000000001 in floats) from becoming 101.
    return max(1, math.ceil(target_s / run_s - 1e-9))


def _timed_blocks(
    run: Callable[[], Any], sync: Callable[[], None], number: int, budget_s: float, min_runs: int
) -> list[float]:
    """Seconds per run of each timed block, until ``budget_s`` is spent and ``min_runs`` blocks are in."""
    times_s: list[float] = []
    total_s = 0.0
    while total_s < budget_s or len(times_s) < min_runs:
        block_s = _time_block(run, sync, number)
        total_s += block_s
        times_s.append(block_s / number)
    return times_s


def time_runs(
    run: Callable[[], Any],
    *,
    sync: Callable[[], None] | None = None,
    backend: str,
    device: str,
    threads: int,
    budget_s: float = DEFAULT_BUDGET_S,
    min_runs: int = DEFAULT_MIN_RUNS,
    warmup_runs: int = DEFAULT_WARMUP_RUNS,
    warmup_s: float = DEFAULT_WARMUP_S,
    retimes: int = DEFAULT_RETIMES,
    quiet_wait_s: float = DEFAULT_QUIET_WAIT_S,
    probe: contention.CpuProbe | None = None,
) -> Measurement:
    """Time ``run`` (a zero-argument "run once") and return its Measurement.

    Warm-up lasts at least ``warmup_runs`` runs and at least ``warmup_s`` seconds. Timing then
    continues block by block until ``budget_s`` of timed work is spent and at least ``min_runs``
    blocks (so at least ``min_runs`` runs) were recorded. A contended attempt is repeated after
    waiting for quiet (at most ``retimes`` more attempts, ``quiet_wait_s`` of waiting each).
    """
    sync = sync or _noop
    attempts: list[tuple[list[float], contention.Watch]] = []
    with torch_threads(threads), _gc_paused():
        # Warm-up: the first runs pay for allocation, kernel selection and cache misses.
        done = 0
        warm_start = _clock()
        last_run_s = math.inf
        while done < warmup_runs or _clock() - warm_start < warmup_s:
            last_run_s = min(last_run_s, _time_block(run, sync, 1))
            done += 1
        overhead_s = sorted(_time_block(run, sync, 0) for _ in range(5))[2]
        number = choose_block_size(last_run_s, overhead_s, budget_s)

        for attempt in range(max(0, retimes) + 1):
            if attempt:
                contention.wait_for_quiet(threads, max_wait_s=quiet_wait_s, probe=probe)
                _time_block(run, sync, number)  # caches went cold while we waited
            with contention.watch(probe) as w:
                times_s = _timed_blocks(run, sync, number, budget_s, min_runs)
            attempts.append((times_s, w))
            if not w.contended(threads):
                break

    # Least contended first; among equals (say, all unknown) the first attempt.
    times_s, w = min(attempts, key=lambda a: a[1].others_cores if a[1].others_cores is not None else 0.0)
    warnings = spread_warnings(times_s)
    if w.contended(threads):
        warnings.insert(0, contention.contention_warning(w.others_cores or 0.0, w.usable_cores, len(attempts) - 1))
    return Measurement(
        backend=backend,
        device=device,
        threads=threads,
        times_s=times_s,
        runs_per_block=number,
        warmup_runs=done,
        warnings=warnings,
        others_cores=w.others_cores,
        usable_cores=w.usable_cores,
        contended=w.contended(threads),
        retimes=len(attempts) - 1,
    )
