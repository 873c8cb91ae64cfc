"""Roofline arithmetic: the least time a layer can take on a device, and what bounds it.

Rule: a layer doing ``macs`` multiply-accumulates and moving ``bytes`` cannot finish faster than
``max(macs / peak, bytes / bandwidth)``. Its arithmetic intensity (MACs per byte) against the
device's ridge point (peak / bandwidth) says which roof it sits under: compute above the ridge,
memory below. Layers without MACs (norm, activation, pool, elementwise) are memory-bound by their
bytes. Efficiency = roofline time / measured time (1 = at the roof).

Everything here is a pure function of numbers: no timing, no torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from effprof.counters.result import OP_CLASSES, LayerCount

#: What the per-layer bytes and times assume; printed beside every roofline table.
ASSUMPTIONS = (
    "roofline time = max(MACs / peak GMAC/s, bytes / DRAM GB/s); bytes = inputs + outputs + weights, fp32, "
    "each read or written once (no re-reads, no cache reuse); peak = fp32 GEMM; layers without MACs "
    "(norm, activation, pool, elementwise) are memory-bound by their bytes. efficiency = roofline / measured: "
    "low = far from the roof; above 100% = faster than DRAM allows, i.e. the data came from cache."
)  # fmt: skip


def roofline_time_ms(macs: float, bytes_moved: float, peak_gmacs_per_s: float, bandwidth_gb_per_s: float) -> float:
    """max(MACs / peak, bytes / bandwidth) in milliseconds."""
    return max(compute_time_ms(macs, peak_gmacs_per_s), memory_time_ms(bytes_moved, bandwidth_gb_per_s))


def compute_time_ms(macs: float, peak_gmacs_per_s: float) -> float:
    """MACs at the compute roof, in ms."""
    return macs / (peak_gmacs_per_s * 1e9) * 1e3


def memory_time_ms(bytes_moved: float, bandwidth_gb_per_s: float) -> float:
    """Bytes at the memory roof, in ms."""
    return bytes_moved / (bandwidth_gb_per_s * 1e9) * 1e3


def intensity_macs_per_byte(macs: float, bytes_moved: float) -> float:
    """MACs per byte moved; 0 when nothing moves (or no MACs)."""
    return macs / bytes_moved if bytes_moved > 0 else 0.0


def ridge_macs_per_byte(peak_gmacs_per_s: float, bandwidth_gb_per_s: float) -> float:
    """The intensity where the two roofs meet: peak / bandwidth."""
    return peak_gmacs_per_s / bandwidth_gb_per_s


def bound(macs: float, bytes_moved: float, ridge: float) -> str:
    """"compute" when the intensity reaches the ridge point, else "memory" (so every MAC-free layer)."""
    return "compute" if macs > 0 and intensity_macs_per_byte(macs, bytes_moved) >= ridge else "memory"


def attainable_gmacs_per_s(intensity: float, peak_gmacs_per_s: float, bandwidth_gb_per_s: float) -> float:
    """The roof at ``intensity``: min(peak, bandwidth x intensity), in GMAC/s."""
    return min(peak_gmacs_per_s, bandwidth_gb_per_s * intensity)


def efficiency(roofline_ms: float, measured_ms: float | None) -> float | None:
    """roofline / measured (1.0 = at the roof); None without a positive measured time."""
    if measured_ms is None or not measured_ms > 0 or not math.isfinite(measured_ms):
        return None
    return roofline_ms / measured_ms


@dataclass(frozen=True)
class LayerRoofline:
    """One (module, op class) row against the roofs; ``measured_ms`` when time was attributed to it."""

    layer: str
    type: str
    op_class: str
    macs: int
    bytes: int
    intensity: float
    bound: str
    compute_ms: float
    memory_ms: float
    roofline_ms: float
    measured_ms: float | None = None

    @property
    def efficiency(self) -> float | None:
        return efficiency(self.roofline_ms, self.measured_ms)

    @property
    def achieved_gmacs_per_s(self) -> float | None:
        """MACs per measured second, in GMAC/s (the point's height on the roofline plot)."""
        if not self.macs or not self.measured_ms:
            return None
        return self.macs / (self.measured_ms / 1e3) / 1e9

    @property
    def achieved_gb_per_s(self) -> float | None:
        if not self.bytes or not self.measured_ms:
            return None
        return self.bytes / (self.measured_ms / 1e3) / 1e9


def layer_roofline(
    layer: LayerCount, peak_gmacs_per_s: float, bandwidth_gb_per_s: float, measured_ms: float | None = None
) -> LayerRoofline:
    """One counted layer against the roofs."""
    compute = compute_time_ms(layer.macs, peak_gmacs_per_s)
    memory = memory_time_ms(layer.bytes, bandwidth_gb_per_s)
    ridge = ridge_macs_per_byte(peak_gmacs_per_s, bandwidth_gb_per_s)
    return LayerRoofline(
        layer=layer.layer, type=layer.type, op_class=layer.op_class, macs=layer.macs, bytes=layer.bytes,
        intensity=intensity_macs_per_byte(layer.macs, layer.bytes), bound=bound(layer.macs, layer.bytes, ridge),
        compute_ms=compute, memory_ms=memory, roofline_ms=max(compute, memory), measured_ms=measured_ms,
    )  # fmt: skip


@dataclass(frozen=True)
class OpClassRoofline:
    """Layers of one op class summed: roofline and measured time, and how many sit under each roof."""

    op_class: str
    layers: int
    macs: int
    bytes: int
    roofline_ms: float
    measured_ms: float | None
    memory_bound: int
    compute_bound: int

    @property
    def intensity(self) -> float:
        """MACs over bytes of the class as a whole."""
        return intensity_macs_per_byte(self.macs, self.bytes)

    @property
    def efficiency(self) -> float | None:
        return efficiency(self.roofline_ms, self.measured_ms)

    @property
    def bound(self) -> str:
        """The roof most of its layers sit under ("memory" on a tie: MAC-free layers)."""
        return "compute" if self.compute_bound > self.memory_bound else "memory"

    @property
    def achieved_gmacs_per_s(self) -> float | None:
        if not self.macs or not self.measured_ms:
            return None
        return self.macs / (self.measured_ms / 1e3) / 1e9


def by_op_class(rows: Iterable[LayerRoofline]) -> list[OpClassRoofline]:
    """Sum rows per op class (OP_CLASSES order); measured time only where some row has one."""
    groups: dict[str, list[LayerRoofline]] = {}
    for r in rows:
        groups.setdefault(r.op_class, []).append(r)
    out = []
    for op_class in sorted(groups, key=lambda c: OP_CLASSES.index(c) if c in OP_CLASSES else len(OP_CLASSES)):
        rs = groups[op_class]
        timed = [r.measured_ms for r in rs if r.measured_ms is not None]
        out.append(OpClassRoofline(
            op_class=op_class, layers=len(rs), macs=sum(r.macs for r in rs), bytes=sum(r.bytes for r in rs),
            roofline_ms=sum(r.roofline_ms for r in rs), measured_ms=sum(timed) if timed else None,
            memory_bound=sum(r.bound == "memory" for r in rs), compute_bound=sum(r.bound == "compute" for r in rs),
        ))  # fmt: skip
    return out


@dataclass
class Roofline:
    """A model's layers against one device's roofs, with the model's measured latency if known."""

    model: str
    device: str
    threads: int
    dtype: str
    peak_gmacs_per_s: float
    bandwidth_gb_per_s: float
    layers: list[LayerRoofline]
    #: the model's measured latency (the timing loop's median), for the whole-model comparison
    latency_ms: float | None = None
    cache_gb_per_s: float | None = None
    assumptions: str = ASSUMPTIONS
    notes: list[str] = field(default_factory=list)

    @property
    def ridge_macs_per_byte(self) -> float:
        return ridge_macs_per_byte(self.peak_gmacs_per_s, self.bandwidth_gb_per_s)

    @property
    def roofline_ms(self) -> float:
        """Sum of the layers' roofline times: the model's least time if every layer ran at its roof."""
        return sum(r.roofline_ms for r in self.layers)

    @property
    def measured_layers_ms(self) -> float | None:
        """Sum of the time attributed to layers (profiled forwards), None when nothing was attributed."""
        timed = [r.measured_ms for r in self.layers if r.measured_ms is not None]
        return sum(timed) if timed else None

    @property
    def efficiency(self) -> float | None:
        """Model roofline time / measured latency."""
        return efficiency(self.roofline_ms, self.latency_ms)

    def op_classes(self) -> list[OpClassRoofline]:
        return by_op_class(self.layers)

    def to_rows(self) -> list[dict]:
        """One dict per layer: the roofline columns a report adds to the layer rows."""
        return [
            {"layer": r.layer or "(root)", "op_class": r.op_class, "bound": r.bound, "roofline_ms": r.roofline_ms,
             "compute_ms": r.compute_ms, "memory_ms": r.memory_ms, "efficiency": r.efficiency,
             "achieved_gmacs_per_s": r.achieved_gmacs_per_s}
            for r in self.layers
        ]  # fmt: skip

    def summary(self) -> dict:
        """JSON-ready figures of the whole model and the device."""
        return {
            "device": self.device, "threads": self.threads, "dtype": self.dtype,
            "peak_gmacs_per_s": self.peak_gmacs_per_s, "bandwidth_gb_per_s": self.bandwidth_gb_per_s,
            "cache_gb_per_s": self.cache_gb_per_s, "ridge_macs_per_byte": self.ridge_macs_per_byte,
            "roofline_ms": self.roofline_ms, "latency_ms": self.latency_ms, "efficiency": self.efficiency,
            "measured_layers_ms": self.measured_layers_ms, "assumptions": self.assumptions,
        }  # fmt: skip


def model_roofline(
    model: str,
    layers: Sequence[LayerCount],
    *,
    peak_gmacs_per_s: float,
    bandwidth_gb_per_s: float,
    measured_ms: Mapping[tuple[str, str], float] | None = None,
    latency_ms: float | None = None,
    device: str = "cpu",
    threads: int = 1,
    dtype: str = "fp32",
    cache_gb_per_s: float | None = None,
    peak_by_op_class: Mapping[str, float] | None = None,
) -> Roofline:
    """Every layer against the roofs; ``measured_ms`` maps (module path, op class) to attributed ms.

    A layer's compute roof is ``peak_by_op_class[its op class]`` where given (TF32 convolutions on
    CUDA), else ``peak_gmacs_per_s``.
    """
    peaks = peak_by_op_class or {}
    if not (peak_gmacs_per_s > 0 and bandwidth_gb_per_s > 0):
        from effprof.errors import EffprofError

        raise EffprofError(f"roofline needs a positive peak and bandwidth, got {peak_gmacs_per_s} GMAC/s, "
                           f"{bandwidth_gb_per_s} GB/s")  # fmt: skip
    timed = measured_ms or {}
    rows = [
        layer_roofline(layer, peaks.get(layer.op_class, peak_gmacs_per_s), bandwidth_gb_per_s,
                       timed.get((layer.layer, layer.op_class)) if measured_ms is not None else None)  # fmt: skip
        for layer in layers
    ]
    notes = [f"{', '.join(c for c in sorted(peaks) if peaks[c] == peak)} run on TF32 tensor cores here: "
             f"their roof is {peak:,.1f} GMAC/s" for peak in sorted(set(peaks.values()))]  # fmt: skip
    return Roofline(model, device, threads, dtype, peak_gmacs_per_s, bandwidth_gb_per_s, rows, latency_ms,
                    cache_gb_per_s, notes=notes)  # fmt: skip
