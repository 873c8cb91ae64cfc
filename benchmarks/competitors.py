"""Busy-loop competitor processes for the latency-trust benchmarks (contention.py, gate_stability.py).

Each competitor is a separate process spinning one core in pure Python, as a CI neighbour or a
browser tab would; they are always stopped when the ``with`` block ends, even on an error.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _spin(stop_after_s: float) -> None:
    deadline = time.monotonic() + stop_after_s
    x = 0
    while time.monotonic() < deadline:
        x += 1


@contextmanager
def competitors(n: int, max_s: float = 1800.0) -> Iterator[None]:
    """Run ``n`` busy-loop processes for the body (each also stops by itself after ``max_s``)."""
    ctx = mp.get_context("spawn")  # no fork of torch's thread pools
    procs = [ctx.Process(target=_spin, args=(max_s,), daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    time.sleep(0.5 if n else 0.0)  # let them get going before anything is sampled
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(timeout=5)
