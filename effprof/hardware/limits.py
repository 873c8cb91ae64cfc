"""The device's attainable limits: peak compute from a large GEMM, memory bandwidth from a large copy/triad.

Rule: each limit is a real timed kernel on the device, through effprof.latency's one timing loop
(raw times kept, median taken, spread warnings stored), and its rate is work / median time. The
roofline uses the best attainable figures: the GEMM peak of the model's dtype (fp32) and the larger
of the copy and triad bandwidths, measured on a working set well beyond the last-level cache.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from effprof.errors import EffprofError
from effprof.latency.devices import check_device, resolve_threads, sync_for
from effprof.latency.measurement import Measurement
from effprof.latency.timer import CALIBRATION_QUIET_WAIT_S, CALIBRATION_RETIMES, time_runs

#: dtypes the GEMM peak is measured in: fp32 on CPU (what the models run in); every tensor-core
#: dtype on CUDA, where they differ by 2-16x.
CPU_DTYPES = ("fp32",)
CUDA_DTYPES = ("fp32", "tf32", "fp16", "bf16")
_TORCH_DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

# A GEMM this size runs near the peak yet takes ~0.1-0.2 s on a 2-core CPU (n^3 = 8.6 GMACs) and
# ~20 ms in fp32 on a datacenter GPU.
CPU_GEMM_N = 2048
CUDA_GEMM_N = 8192
# The copy's working set is at least this many times the last-level cache (so it streams from
# DRAM), within [MIN, MAX] bytes and never more than a quarter of the free memory.
LLC_MULTIPLE = 2
MIN_WORKING_SET_BYTES = 64 * 2**20
MAX_WORKING_SET_BYTES = 2 * 2**30
CUDA_WORKING_SET_BYTES = 2 * 2**30
# A working set this small stays in cache: the in-cache copy rate shows how much faster than
# DRAM a layer whose activations never leave the cache can go (drawn as a dashed roof).
CACHE_WORKING_SET_BYTES = 4 * 2**20
DEFAULT_BUDGET_S = 0.6


@dataclass
class Ceiling:
    """One measured limit: ``work`` (MACs or bytes) done per run, and the runs' raw times."""

    name: str  # "gemm", "copy", "triad", "cache_copy"
    kind: str  # "compute" (work in MACs) or "memory" (work in bytes)
    dtype: str
    work: float
    size: str  # what ran, e.g. "2048x2048 @ 2048x2048" or "2 x 512 MiB"
    measurement: Measurement

    @property
    def rate_per_s(self) -> float:
        """Work per second at the median time (MACs/s or bytes/s)."""
        median_s = self.measurement.median_ms / 1e3
        return self.work / median_s if median_s > 0 else math.nan

    @property
    def rate_g_per_s(self) -> float:
        """GMAC/s for compute, GB/s (1e9 bytes) for memory."""
        return self.rate_per_s / 1e9

    @property
    def iqr_ratio(self) -> float:
        """IQR over median: how much to trust the rate."""
        m = self.measurement
        return m.iqr_ms / m.median_ms if m.median_ms > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        m = self.measurement
        return {
            "name": self.name, "kind": self.kind, "dtype": self.dtype, "work": self.work, "size": self.size,
            "rate_g_per_s": self.rate_g_per_s, "median_ms": m.median_ms, "iqr_ms": m.iqr_ms,
            "times_s": m.times_s, "runs_per_block": m.runs_per_block, "warmup_runs": m.warmup_runs,
            "threads": m.threads, "device": m.device, "warnings": m.warnings,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ceiling:
        m = Measurement(
            backend=d["name"], device=d["device"], threads=int(d["threads"]), times_s=[float(t) for t in d["times_s"]],
            runs_per_block=int(d["runs_per_block"]), warmup_runs=int(d["warmup_runs"]), warnings=list(d["warnings"]),
        )  # fmt: skip
        return cls(d["name"], d["kind"], d["dtype"], float(d["work"]), d["size"], m)


@dataclass
class DeviceLimits:
    """The measured ceilings of one device (and thread count), with what they were measured on."""

    device: str
    threads: int
    ceilings: list[Ceiling]
    machine: dict[str, Any] = field(default_factory=dict)
    measured_at: str = ""
    #: where the cache file lives, and whether this object came from it (set by the cache, not saved)
    cache_path: str | None = None
    from_cache: bool = False

    def ceiling(self, name: str, dtype: str = "fp32") -> Ceiling | None:
        return next((c for c in self.ceilings if c.name == name and c.dtype == dtype), None)

    @property
    def dtypes(self) -> list[str]:
        return [c.dtype for c in self.ceilings if c.kind == "compute"]

    def peak_gmacs_per_s(self, dtype: str = "fp32") -> float:
        """Attainable MACs per second of a large GEMM in ``dtype``, in GMAC/s."""
        gemm = self.ceiling("gemm", dtype)
        if gemm is None:
            raise EffprofError(f"no {dtype} GEMM peak was measured on {self.device}; measured: {', '.join(self.dtypes)}")
        return gemm.rate_g_per_s

    def peak_for(self, op_class: str, dtype: str = "fp32") -> float:
        """The GEMM peak that bounds one op class's ``dtype`` work here, in GMAC/s.

        Rule: fp32 work of the op classes PyTorch runs on TF32 tensor cores on this CUDA device
        (``tf32_op_classes()``) is bounded by the tf32 peak, everything else by its own dtype's.
        """
        if dtype == "fp32" and self.device.startswith("cuda") and op_class in tf32_op_classes():
            if self.ceiling("gemm", "tf32") is not None:
                return self.peak_gmacs_per_s("tf32")
        return self.peak_gmacs_per_s(dtype)

    def tf32_peaks(self, dtype: str = "fp32") -> dict[str, float]:
        """{op class: peak} for the op classes whose roof differs from ``dtype``'s GEMM peak (TF32 on CUDA)."""
        base = self.peak_gmacs_per_s(dtype)
        peaks = {c: self.peak_for(c, dtype) for c in sorted(tf32_op_classes())}
        return {c: p for c, p in peaks.items() if p != base}

    @property
    def bandwidth_gb_per_s(self) -> float:
        """Attainable DRAM bandwidth: the best of copy and triad, in GB/s (1e9 bytes)."""
        rates = [c.rate_g_per_s for c in self.ceilings if c.kind == "memory" and c.name != "cache_copy"]
        if not rates:
            raise EffprofError(f"no memory bandwidth was measured on {self.device}")
        return max(rates)

    @property
    def cache_gb_per_s(self) -> float | None:
        """Copy rate on a cache-resident working set (informational; the roofline uses DRAM)."""
        c = self.ceiling("cache_copy")
        return c.rate_g_per_s if c is not None else None

    def ridge_macs_per_byte(self, dtype: str = "fp32") -> float:
        """The ridge point: the intensity (MACs/byte) above which a kernel can be compute-bound."""
        return self.peak_gmacs_per_s(dtype) / self.bandwidth_gb_per_s

    @property
    def warnings(self) -> list[str]:
        notes = [f"{c.name} {c.dtype}: {w}" for c in self.ceilings for w in c.measurement.warnings]
        if self.contended:
            notes.append("measured while other processes used the CPU: not cached; re-run on a quiet machine")
        return notes

    @property
    def contended(self) -> bool:
        """Whether any ceiling was timed while other processes competed for the CPU (on every attempt)."""
        return any(c.measurement.contended for c in self.ceilings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device, "threads": self.threads, "machine": self.machine, "measured_at": self.measured_at,
            "ceilings": [c.to_dict() for c in self.ceilings],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeviceLimits:
        return cls(
            device=d["device"], threads=int(d["threads"]), ceilings=[Ceiling.from_dict(c) for c in d["ceilings"]],
            machine=dict(d.get("machine", {})), measured_at=d.get("measured_at", ""),
        )  # fmt: skip


def tf32_op_classes() -> frozenset[str]:
    """Op classes whose float32 work PyTorch runs on TF32 tensor cores on CUDA, under its current flags.

    Rule: convolutions when ``torch.backends.cudnn.allow_tf32`` (PyTorch's default: on), linear and
    attention matmuls when ``torch.backends.cuda.matmul.allow_tf32`` (default: off). Seen on an H200:
    resnet50 at batch 64 ran at 27.6 TMAC/s, above the 25.4 TMAC/s fp32 GEMM peak, 15% of tf32's 178.
    """
    classes: set[str] = set()
    if torch.backends.cudnn.allow_tf32:
        classes |= {"conv_dense", "conv_pointwise", "conv_grouped", "conv_depthwise"}
    if torch.backends.cuda.matmul.allow_tf32:
        classes |= {"linear", "attention"}
    return frozenset(classes)


def last_level_cache_bytes() -> int | None:
    """The largest CPU cache Linux reports (sysfs), in bytes; None where unknown."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    sizes = []
    try:
        for entry in os.listdir(base):
            try:
                with open(os.path.join(base, entry, "size"), encoding="ascii") as fh:
                    text = fh.read().strip().upper()
            except OSError:
                continue
            scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
            digits = text.rstrip("KMG")
            if digits.isdigit():
                sizes.append(int(digits) * scale)
    except OSError:
        return None
    return max(sizes) if sizes else None


def _available_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_working_set_bytes(device: str) -> int:
    """Bytes the bandwidth kernels touch in all: LLC_MULTIPLE x the last-level cache, within bounds."""
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        l2 = int(getattr(props, "L2_cache_size", 0) or 0)
        return max(CUDA_WORKING_SET_BYTES, 8 * l2)
    llc = last_level_cache_bytes() or 32 * 2**20
    size = min(max(LLC_MULTIPLE * llc, MIN_WORKING_SET_BYTES), MAX_WORKING_SET_BYTES)
    free = _available_memory_bytes()
    if free:
        size = min(size, free // 4)  # never push the machine into swap for a benchmark
    return size


@contextmanager
def _tf32(enabled: bool) -> Iterator[None]:
    # tf32 is a mode of fp32 matmuls, not a tensor dtype: switch it on only for that GEMM.
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous


def measure_gemm(
    dtype: str = "fp32", *, device: str = "cpu", threads: int | None = None, n: int | None = None,
    budget_s: float | None = None, min_runs: int = 5,
) -> Ceiling:  # fmt: skip
    """Attainable MACs/s of an n x n x n matrix multiply in ``dtype`` (n^3 MACs per run)."""
    device = check_device(device)
    threads = resolve_threads(threads)
    if dtype not in _TORCH_DTYPES or (dtype == "tf32" and not device.startswith("cuda")):
        valid = CUDA_DTYPES if device.startswith("cuda") else CPU_DTYPES
        raise EffprofError(f"GEMM dtype {dtype!r} on {device}: use one of {', '.join(valid)}")
    n = n or (CUDA_GEMM_N if device.startswith("cuda") else CPU_GEMM_N)
    if n < 1:
        raise EffprofError(f"GEMM size {n}: must be >= 1")
    # drawn on the device itself: 8192^2 normals on the CPU would take longer than the timing
    generator = torch.Generator(device=device).manual_seed(0)
    a, b = (torch.randn(n, n, generator=generator, device=device).to(_TORCH_DTYPES[dtype]) for _ in range(2))
    out = torch.empty(n, n, device=device, dtype=_TORCH_DTYPES[dtype])

    def run() -> None:
        torch.mm(a, b, out=out)  # out=: no allocation inside the timed region

    with _tf32(dtype == "tf32"):
        m = _time(run, device=device, threads=threads, budget_s=budget_s, min_runs=min_runs, name="gemm")
    return Ceiling("gemm", "compute", dtype, float(n) ** 3, f"{n}x{n} @ {n}x{n}", m)


def measure_bandwidth(
    kind: str = "copy", *, device: str = "cpu", threads: int | None = None, working_set_bytes: int | None = None,
    budget_s: float | None = None, min_runs: int = 5, name: str | None = None,
) -> Ceiling:  # fmt: skip
    """Attainable bytes/s of a streaming kernel over ``working_set_bytes`` in all (fp32 arrays).

    ``copy``: a[:] = b (2 arrays: one read, one written). ``triad``: a[:] = b + s*c (3 arrays: two
    read, one written). Bytes are STREAM's count: each array once per run, cache write-allocate
    traffic not counted, so the figure is comparable with published STREAM results.
    """
    device = check_device(device)
    threads = resolve_threads(threads)
    arrays = {"copy": 2, "triad": 3}.get(kind)
    if arrays is None:
        raise EffprofError(f"bandwidth kernel {kind!r}: use copy or triad")
    working_set_bytes = working_set_bytes or default_working_set_bytes(device)
    numel = max(1, working_set_bytes // (4 * arrays))
    # fill_ rather than randn: allocating and touching a GiB must not take longer than timing it
    a, b, c = (torch.empty(numel, device=device).fill_(1.0 + i) for i in range(3))

    def copy() -> None:
        a.copy_(b)

    def triad() -> None:
        torch.add(b, c, alpha=3.0, out=a)

    run = copy if kind == "copy" else triad
    m = _time(run, device=device, threads=threads, budget_s=budget_s, min_runs=min_runs, name=name or kind)
    moved = float(arrays * numel * 4)
    return Ceiling(name or kind, "memory", "fp32", moved, f"{arrays} x {_mib(numel * 4)}", m)


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB" if n_bytes >= 2**20 else f"{n_bytes / 2**10:,.0f} KiB"


def _time(
    run: Callable[[], None], *, device: str, threads: int, budget_s: float | None, min_runs: int, name: str
) -> Measurement:
    budget_s = DEFAULT_BUDGET_S if budget_s is None else budget_s
    if not budget_s > 0:
        raise EffprofError(f"budget {budget_s!r} s: must be > 0 seconds")
    try:
        # device limits are cached: wait longer for quiet than a model timing does
        return time_runs(run, sync=sync_for(device), backend=name, device=device, threads=threads,
                         budget_s=budget_s, min_runs=min_runs, warmup_runs=1, warmup_s=0.05,
                         retimes=CALIBRATION_RETIMES, quiet_wait_s=CALIBRATION_QUIET_WAIT_S)  # fmt: skip
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        raise EffprofError(f"{name} on {device}: out of memory; give a smaller size", exit_code=1) from None


def measure_limits(
    device: str = "cpu", *, threads: int | None = None, dtypes: tuple[str, ...] | None = None,
    gemm_n: int | None = None, working_set_bytes: int | None = None, budget_s: float | None = None,
    min_runs: int = 5, cache_ceiling: bool = True,
) -> DeviceLimits:  # fmt: skip
    """Measure the GEMM peak per dtype, copy and triad bandwidth (and the in-cache copy rate).

    The defaults take a few seconds on a 2-core CPU; tests pass tiny ``gemm_n`` and
    ``working_set_bytes``.
    """
    import datetime as dt

    from effprof.hardware.cache import machine_description

    device = check_device(device)
    threads = resolve_threads(threads)
    dtypes = dtypes or (CUDA_DTYPES if device.startswith("cuda") else CPU_DTYPES)
    options = {"device": device, "threads": threads, "budget_s": budget_s, "min_runs": min_runs}
    ceilings = [measure_gemm(d, n=gemm_n, **options) for d in dtypes]
    ceilings += [measure_bandwidth(k, working_set_bytes=working_set_bytes, **options) for k in ("copy", "triad")]
    # On a GPU one copy kernel of a cache-sized working set takes about a launch (~5 us): the rate
    # would be the launch overhead's, below DRAM bandwidth, so the in-cache roof is CPU-only.
    if cache_ceiling and not device.startswith("cuda"):
        small = min(CACHE_WORKING_SET_BYTES, working_set_bytes or CACHE_WORKING_SET_BYTES)
        ceilings.append(measure_bandwidth("copy", working_set_bytes=small, name="cache_copy", **options))
    return DeviceLimits(
        device=device, threads=threads, ceilings=ceilings, machine=machine_description(device, threads),
        measured_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )  # fmt: skip


def device_limits(
    device: str = "cpu", *, threads: int | None = None, refresh: bool = False, gemm_n: int | None = None,
    working_set_bytes: int | None = None, budget_s: float | None = None,
) -> DeviceLimits:  # fmt: skip
    """This machine's limits from the per-machine cache, measured (and cached) when absent or ``refresh``.

    Sizes other than the defaults are part of the cache key, so a quick test-sized measurement
    never stands in for a real one.
    """
    from effprof.hardware import cache

    device = check_device(device)
    threads = resolve_threads(threads)
    key = cache.machine_description(device, threads)
    if gemm_n is not None or working_set_bytes is not None:
        key.update(gemm_n=gemm_n, working_set_bytes=working_set_bytes)
    path = cache.cache_path("limits", key)
    doc = None if refresh else cache.load(path, cache.LimitsCache)  # None: absent or bad (then deleted)
    if doc is not None and doc["key"] == key:
        limits = DeviceLimits.from_dict(doc["limits"])
        if _complete(limits):
            limits.cache_path, limits.from_cache = str(path), True
            return limits
    limits = measure_limits(device, threads=threads, gemm_n=gemm_n, working_set_bytes=working_set_bytes,
                            budget_s=budget_s)  # fmt: skip
    if limits.contended:
        return limits  # figures taken under contention serve this run only; the next run measures again
    try:
        cache.save(path, {"key": key, "limits": limits.to_dict()})
    except EffprofError:
        return limits  # an unwritable cache (or a directory in its place): this run's figures, uncached
    limits.cache_path = str(path)
    return limits


def _complete(limits: DeviceLimits) -> bool:
    """Whether cached limits hold what the roofline reads: a GEMM peak per dtype and a DRAM bandwidth."""
    wanted = CUDA_DTYPES if limits.device.startswith("cuda") else CPU_DTYPES
    try:
        return all(limits.peak_gmacs_per_s(d) > 0 for d in wanted) and limits.bandwidth_gb_per_s > 0
    except EffprofError:  # a hand-edited file without them: measure afresh rather than fail every run
        return False
