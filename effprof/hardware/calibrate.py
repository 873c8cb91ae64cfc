"""Calibrate the roofline per op class on this device: time the calibration blocks, fit, cache.

Rule: every block of effprof.hardware.blocks is counted (analytic MACs, bytes, op calls) and timed
with the eager backend through effprof.latency's timing loop; the raw (MACs, bytes, calls, ms) per
block are cached per machine, and the per-class fit (effprof.hardware.fit) is recomputed from them
against the current device limits whenever a calibration is loaded, so re-measuring the limits
never leaves a stale fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from effprof.errors import EffprofError
from effprof.hardware import blocks as block_set
from effprof.hardware import cache
from effprof.hardware.blocks import Block
from effprof.hardware.fit import ClassFit, Sample, fit_classes
from effprof.hardware.limits import DeviceLimits
from effprof.hardware.roofline import roofline_time_ms

# ~0.3 s per block with warm-up: the ~80 blocks take well under a minute on 2 cores.
DEFAULT_BLOCK_BUDGET_S = 0.15


@dataclass(frozen=True)
class BlockTiming:
    """What one calibration block did and how long it took (the cached, limit-free part)."""

    name: str
    op_class: str
    macs: int
    bytes: int
    calls: int
    measured_ms: float
    iqr_ms: float = 0.0
    warnings: tuple[str, ...] = ()

    def sample(self, limits: DeviceLimits, dtype: str = "fp32") -> Sample:
        roof = roofline_time_ms(self.macs, self.bytes, limits.peak_gmacs_per_s(dtype), limits.bandwidth_gb_per_s)
        return Sample(self.op_class, roof, self.calls, self.measured_ms, self.name)


@dataclass
class Calibration:
    """Per-op-class fits of the roofline on one device, from timed calibration blocks."""

    device: str
    threads: int
    timings: list[BlockTiming]
    fits: dict[str, ClassFit]
    measured_at: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    cache_path: str | None = None
    from_cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "threads": self.threads, "measured_at": self.measured_at,
                "machine": self.machine, "timings": [t.__dict__ | {"warnings": list(t.warnings)} for t in self.timings]}  # fmt: skip


def _count_block(block: Block):
    from effprof.counters.analytic import count_analytic

    count = count_analytic(block.build(), block.input_shape, name=block.name)
    classes = {row.op_class for row in count.layers}
    if classes != {block.op_class}:
        # a block must be one op class, or its time cannot be charged to one (a bug in blocks.py)
        raise EffprofError(f"calibration block {block.name} counts as {sorted(classes)}, not {block.op_class}", exit_code=1)
    return count


def time_blocks(
    blocks: Sequence[Block] | None = None, *, device: str = "cpu", threads: int | None = None,
    budget_s: float | None = None, on_block: Callable[[BlockTiming], None] | None = None,
) -> list[BlockTiming]:  # fmt: skip
    """Count and time every block with the eager backend (real latency, same loop as models)."""
    import torch

    from effprof.latency import measure

    out = []
    for block in block_set.CALIBRATION_BLOCKS if blocks is None else blocks:
        count = _count_block(block)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            module = block.build()
        m = measure(module, block.input_shape, "eager", device=device, threads=threads,
                    budget_s=DEFAULT_BLOCK_BUDGET_S if budget_s is None else budget_s)  # fmt: skip
        timing = BlockTiming(
            name=block.name, op_class=block.op_class, macs=count.macs, bytes=sum(r.bytes for r in count.layers),
            calls=sum(r.calls for r in count.layers), measured_ms=m.median_ms, iqr_ms=m.iqr_ms,
            warnings=tuple(m.warnings),
        )  # fmt: skip
        out.append(timing)
        if on_block is not None:
            on_block(timing)
    return out


def fit_calibration(timings: Sequence[BlockTiming], limits: DeviceLimits, dtype: str = "fp32") -> dict[str, ClassFit]:
    """Per-class (scale, overhead) fits of the timed blocks against ``limits``' roofs."""
    return fit_classes(t.sample(limits, dtype) for t in timings)


def device_calibration(
    limits: DeviceLimits, *, refresh: bool = False, blocks: Sequence[Block] | None = None,
    budget_s: float | None = None, on_block: Callable[[BlockTiming], None] | None = None,
) -> Calibration:  # fmt: skip
    """The calibration of ``limits``' device from the per-machine cache, timed (and cached) when absent.

    ``blocks`` defaults to effprof.hardware.blocks.CALIBRATION_BLOCKS; their names are part of the key.
    """
    blocks = block_set.CALIBRATION_BLOCKS if blocks is None else blocks
    key = {**cache.machine_description(limits.device, limits.threads), "blocks": [b.name for b in blocks]}
    path = cache.cache_path("calibration", key)
    doc = None if refresh else cache.load(path)
    timings: list[BlockTiming] | None = None
    measured_at = ""
    if doc is not None and doc.get("key") == key:
        try:
            timings = [BlockTiming(**{**t, "warnings": tuple(t.get("warnings", ()))}) for t in doc["calibration"]["timings"]]
            measured_at = doc["calibration"].get("measured_at", "")
        except (KeyError, TypeError):
            timings = None  # an old or hand-edited file: time afresh
    from_cache = timings is not None
    if timings is None:
        timings = time_blocks(blocks, device=limits.device, threads=limits.threads, budget_s=budget_s, on_block=on_block)
        measured_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    result = Calibration(limits.device, limits.threads, timings, fit_calibration(timings, limits), measured_at,
                         key, str(path), from_cache)  # fmt: skip
    if not from_cache:
        cache.save(path, {"key": key, "calibration": result.to_dict()})
    return result
