"""Put the C allocator in the state a running model leaves it in, before timing anything.

Rule: allocate and free one buffer just under glibc's largest dynamic mmap threshold (32 MiB on
64-bit) once per process. Freeing it raises glibc's mmap and trim thresholds, so later tensors of
a few MiB come from the heap instead of fresh mmap'd pages. Without it, a layer timed in a fresh
process pays a page fault per 4 KiB of every output, every run (here a 1x1 conv timed 4x slower,
1.5 ms instead of 0.33 ms), and a model's time depends on which model ran before it.
"""

from __future__ import annotations

import torch

#: under glibc's DEFAULT_MMAP_THRESHOLD_MAX (4 * 1024 * 1024 * sizeof(long) = 32 MiB): a bigger free
#: does not move the thresholds at all
PRIME_BYTES = 16 * 2**20

_primed = False


def prime_allocator() -> bool:
    """Allocate, touch and free PRIME_BYTES once per process; True the first time."""
    global _primed
    if _primed:
        return False
    buffer = torch.empty(PRIME_BYTES // 4, dtype=torch.float32)
    buffer.fill_(0.0)  # touch every page, as a real output would
    del buffer
    _primed = True
    return True
