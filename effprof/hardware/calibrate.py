"""Calibrate the roofline on this device: time the calibration layers and networks, fit, cache.

Rule: every layer of effprof.hardware.blocks and every network of effprof.hardware.networks is
counted (analytic MACs, bytes, op calls) and timed with the eager backend through
effprof.latency's timing loop, re-timed while another process competes for the CPU. Only these
raw figures are cached per machine; the efficiencies and the composition fit are recomputed from
them against the current device limits whenever a calibration is loaded, so re-measuring the
limits never leaves a stale fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from effprof.errors import EffprofError
from effprof.hardware import blocks as block_set
from effprof.hardware import cache
from effprof.hardware import networks as network_set
from effprof.hardware.blocks import Block
from effprof.hardware.fit import (
    ClassFit,
    Composition,
    Reference,
    Sample,
    calibrated_layer_ms,
    fit_classes,
    fit_composition,
)
from effprof.hardware.limits import DeviceLimits
from effprof.hardware.roofline import roofline_time_ms

# ~0.2 s per layer with warm-up, ~0.5 s per network: the whole set times in about 40 s on 2 cores.
DEFAULT_BLOCK_BUDGET_S = 0.12
DEFAULT_NETWORK_BUDGET_S = 0.3


@dataclass(frozen=True)
class BlockTiming:
    """What one calibration layer did and how long it took (the cached, limit-free part)."""

    name: str
    op_class: str
    macs: int
    bytes: int
    calls: int
    measured_ms: float
    iqr_ms: float = 0.0
    warnings: tuple[str, ...] = ()
    type: str = ""  # the layer's module class, as the counter names it for a model's layers
    contended: bool = False  # other processes took CPU time while it was timed, every attempt

    def roofline_ms(self, limits: DeviceLimits, dtype: str = "fp32") -> float:
        return roofline_time_ms(self.macs, self.bytes, limits.peak_gmacs_per_s(dtype), limits.bandwidth_gb_per_s)

    def sample(self, limits: DeviceLimits, dtype: str = "fp32") -> Sample:
        return Sample(self.op_class, self.roofline_ms(limits, dtype), self.calls, self.measured_ms, self.name)

    def reference(self, limits: DeviceLimits, dtype: str = "fp32") -> Reference:
        """This layer as a reference point: its size per call and its efficiency against ``limits``."""
        return Reference(self.op_class, self.type, self.macs / self.calls, self.bytes / self.calls,
                         self.roofline_ms(limits, dtype) / self.measured_ms, self.name)  # fmt: skip


@dataclass(frozen=True)
class NetworkTiming:
    """A calibration network: its counted layers (macs, bytes, calls, op class, type), op calls, time."""

    name: str
    layers: tuple[tuple[int, int, int, str, str], ...]
    op_calls: int  # every torch call of its forward: counted layers' and those ignored on purpose
    measured_ms: float
    warnings: tuple[str, ...] = ()
    contended: bool = False


@dataclass
class Calibration:
    """The calibrated roofline of one device: per-layer efficiencies and how layers compose."""

    device: str
    threads: int
    timings: list[BlockTiming]
    #: per layer: its size and efficiency, what the calibrated predictor interpolates between
    references: list[Reference]
    networks: list[NetworkTiming] = field(default_factory=list)
    #: network time = scale x sum of calibrated layer times + overhead x op calls (fitted on ``networks``)
    composition: Composition = field(default_factory=Composition)
    #: per class: (scale, overhead) summary of the layers, for the report
    fits: dict[str, ClassFit] = field(default_factory=dict)
    measured_at: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    cache_path: str | None = None
    from_cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "threads": self.threads, "measured_at": self.measured_at, "machine": self.machine,
                "timings": [asdict(t) for t in self.timings], "networks": [asdict(n) for n in self.networks]}  # fmt: skip

    @property
    def contended(self) -> list[str]:
        """Names of the layers and networks other processes competed with on every attempt."""
        return [t.name for t in (*self.timings, *self.networks) if t.contended]

    @property
    def warnings(self) -> list[str]:
        if not self.contended:
            return []
        return [f"{len(self.contended)} of {len(self.timings) + len(self.networks)} calibration timings were taken while "
                "other processes used the CPU (left out of the fit where others remain); this calibration is not "
                "cached: re-run with --refresh on a quiet machine"]  # fmt: skip


def count_op_calls(count) -> int:
    """Torch calls of one forward: those of the counted layers and those ignored on purpose (views, copies...)."""
    return sum(r.calls for r in count.layers) + sum(calls for calls, _ in count.ignored.values())


def _count_block(block: Block):
    from effprof.counters.analytic import count_analytic

    count = count_analytic(block.build(), block.input_shape, name=block.name)
    classes = {row.op_class for row in count.layers}
    if block.op_class != "network" and classes != {block.op_class}:
        # a layer must be one op class, or its time cannot be charged to one (a bug in blocks.py)
        raise EffprofError(f"calibration block {block.name} counts as {sorted(classes)}, not {block.op_class}", exit_code=1)
    return count


def _time_block(module, input_shape: tuple[int, ...], *, device: str, threads: int, budget_s: float):
    """The eager backend's run of ``module``, through effprof.latency's timing loop.

    Like ``effprof.latency.measure`` but with a short warm-up (2 runs, 30 ms): a single layer is
    warm after its first runs, and ~200 blocks must time in well under a minute.
    """
    from effprof.latency import get_backend
    from effprof.latency.base import backend_failure
    from effprof.latency.devices import example_input
    from effprof.latency.timer import CALIBRATION_QUIET_WAIT_S, CALIBRATION_RETIMES, time_runs, torch_threads

    with torch_threads(threads):
        try:
            prepared = get_backend("eager").prepare(module, example_input(input_shape, device), device=device,
                                                    threads=threads, cache_key=None)  # fmt: skip
            try:
                return time_runs(prepared.run, sync=prepared.sync, backend="eager", device=device, threads=threads,
                                 budget_s=budget_s, min_runs=5, warmup_runs=2, warmup_s=0.03,
                                 retimes=CALIBRATION_RETIMES, quiet_wait_s=CALIBRATION_QUIET_WAIT_S)  # fmt: skip
            finally:
                prepared.close()
        except EffprofError:
            raise
        except Exception as exc:
            raise backend_failure("eager", module, exc) from exc


def _timed(block: Block, *, device: str, threads: int, budget_s: float):
    """(count, Measurement) of one block on a seeded instance, re-timed while others compete for the CPU."""
    import torch

    count = _count_block(block)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = block.build()
    m = _time_block(module, block.input_shape, device=device, threads=threads, budget_s=budget_s)
    return count, m, m.contended


def time_blocks(
    blocks: Sequence[Block] | None = None, *, device: str = "cpu", threads: int | None = None,
    budget_s: float | None = None, on_block: Callable[[str], None] | None = None,
) -> list[BlockTiming]:  # fmt: skip
    """Count and time every calibration layer with the eager backend (the same timing loop as models)."""
    from effprof.latency.allocator import prime_allocator
    from effprof.latency.devices import check_device, resolve_threads

    device, threads = check_device(device), resolve_threads(threads)
    prime_allocator()  # time layers in the allocator state a model runs in, not a fresh process's
    budget = DEFAULT_BLOCK_BUDGET_S if budget_s is None else budget_s
    out = []
    for block in block_set.CALIBRATION_BLOCKS if blocks is None else blocks:
        count, m, contended = _timed(block, device=device, threads=threads, budget_s=budget)
        out.append(BlockTiming(
            name=block.name, op_class=block.op_class, macs=count.macs, bytes=sum(r.bytes for r in count.layers),
            calls=sum(r.calls for r in count.layers), measured_ms=m.median_ms, iqr_ms=m.iqr_ms,
            warnings=tuple(m.warnings), type=count.layers[0].type, contended=contended,
        ))  # fmt: skip
        if on_block is not None:
            on_block(block.name)
    return out


def time_networks(
    networks: Sequence[Block] | None = None, *, device: str = "cpu", threads: int | None = None,
    budget_s: float | None = None, on_block: Callable[[str], None] | None = None,
) -> list[NetworkTiming]:  # fmt: skip
    """Count and time every calibration network whole, with the eager backend."""
    from effprof.latency.allocator import prime_allocator
    from effprof.latency.devices import check_device, resolve_threads

    device, threads = check_device(device), resolve_threads(threads)
    prime_allocator()
    budget = DEFAULT_NETWORK_BUDGET_S if budget_s is None else budget_s
    out = []
    for net in network_set.CALIBRATION_NETWORKS if networks is None else networks:
        count, m, contended = _timed(net, device=device, threads=threads, budget_s=budget)
        layers = tuple((r.macs, r.bytes, r.calls, r.op_class, r.type) for r in count.layers)
        out.append(NetworkTiming(net.name, layers, count_op_calls(count), m.median_ms, tuple(m.warnings), contended))
        if on_block is not None:
            on_block(net.name)
    return out


def fit_calibration(timings: Sequence[BlockTiming], limits: DeviceLimits, dtype: str = "fp32") -> dict[str, ClassFit]:
    """Per-class (scale, overhead) summaries of the timed layers against ``limits``' roofs."""
    return fit_classes(t.sample(limits, dtype) for t in timings)


def compose(
    networks: Sequence[NetworkTiming], references: Sequence[Reference], limits: DeviceLimits, dtype: str = "fp32"
) -> Composition:
    """Fit network time = scale x sum of the layers' calibrated times + overhead x op calls."""
    if not networks or not references:
        return Composition()
    peak, bandwidth = limits.peak_gmacs_per_s(dtype), limits.bandwidth_gb_per_s
    sums = [sum(calibrated_layer_ms(macs, b, calls, op_class, kind, peak, bandwidth, references)
                for macs, b, calls, op_class, kind in n.layers) for n in networks]  # fmt: skip
    return fit_composition(sums, [n.op_calls for n in networks], [n.measured_ms for n in networks])


#: fewer clean networks than this and the composition is fitted on the contended ones too
MIN_NETWORKS = 3


def _clean_timings(timings: Sequence[BlockTiming]) -> list[BlockTiming]:
    """The timings to fit on: the uncontended ones, and a class's contended ones only if it has no other."""
    clean_classes = {t.op_class for t in timings if not t.contended}
    return [t for t in timings if t.measured_ms > 0 and (not t.contended or t.op_class not in clean_classes)]


def build_calibration(
    timings: Sequence[BlockTiming], networks: Sequence[NetworkTiming], limits: DeviceLimits, **meta: Any
) -> Calibration:
    """Everything derived from the raw timings against ``limits``: references, composition, summaries.

    Timings other processes competed with are left out wherever uncontended ones remain: one
    contended network reads many times slow and would drag the composition fit with it.
    """
    usable = _clean_timings(timings)
    references = [t.reference(limits) for t in usable]
    clean_nets = [n for n in networks if not n.contended]
    nets = clean_nets if len(clean_nets) >= MIN_NETWORKS else list(networks)
    return Calibration(limits.device, limits.threads, list(timings), references, list(networks),
                       compose(nets, references, limits), fit_calibration(usable, limits), **meta)  # fmt: skip


def _cached_timings(doc: dict[str, Any] | None, key: dict[str, Any]):
    """(timings, networks) of a validated cache document timed under ``key``, else None (time afresh).

    The timings must be exactly the key's layers and networks, in order: a file that names others
    was edited, and fitting on it would silently calibrate against the wrong layers.
    """
    if doc is None or doc["key"] != key:
        return None
    raw = doc["calibration"]
    if [t["name"] for t in raw["timings"]] != key["blocks"] or [n["name"] for n in raw["networks"]] != key["networks"]:
        return None
    timings = [BlockTiming(**{**t, "warnings": tuple(t["warnings"])}) for t in raw["timings"]]
    nets = [NetworkTiming(n["name"], tuple(tuple(r) for r in n["layers"]), n["op_calls"], n["measured_ms"],
                          tuple(n["warnings"]), n["contended"]) for n in raw["networks"]]  # fmt: skip
    return timings, nets


def device_calibration(
    limits: DeviceLimits, *, refresh: bool = False, blocks: Sequence[Block] | None = None,
    networks: Sequence[Block] | None = None, budget_s: float | None = None,
    on_block: Callable[[str], None] | None = None,
) -> Calibration:  # fmt: skip
    """The calibration of ``limits``' device from the per-machine cache, timed (and cached) when absent.

    ``blocks`` and ``networks`` default to effprof.hardware's calibration sets; their names are part
    of the cache key, so a changed set is timed afresh.
    """
    blocks = block_set.CALIBRATION_BLOCKS if blocks is None else blocks
    networks = network_set.CALIBRATION_NETWORKS if networks is None else networks
    key = {**cache.machine_description(limits.device, limits.threads), "blocks": [b.name for b in blocks],
           "networks": [n.name for n in networks]}  # fmt: skip
    path = cache.cache_path("calibration", key)
    doc = None if refresh else cache.load(path, cache.CalibrationCache)  # None: absent or bad (then deleted)
    cached = _cached_timings(doc, key)
    if cached is not None:
        try:
            return build_calibration(*cached, limits, measured_at=doc["calibration"]["measured_at"], machine=key,
                                     cache_path=str(path), from_cache=True)  # fmt: skip
        except (ValueError, ArithmeticError):
            pass  # well-typed figures no measurement could give (say, a layer of 0 MACs and 0 bytes): time afresh
    options = {"device": limits.device, "threads": limits.threads, "on_block": on_block}
    timings = time_blocks(blocks, budget_s=budget_s, **options)
    nets = time_networks(networks, **options)
    result = build_calibration(timings, nets, limits, measured_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               machine=key, cache_path=str(path))  # fmt: skip
    if result.contended:  # a calibration taken under contention serves this run only
        result.cache_path = None
        return result
    try:
        cache.save(path, {"key": key, "calibration": result.to_dict()})
    except EffprofError:
        result.cache_path = None  # an unwritable cache (or a directory in its place): this run's, uncached
    return result
