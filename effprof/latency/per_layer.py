"""Where the time goes: exclusive milliseconds per module, per forward.

Rule (eager): every submodule's forward is wrapped in a ``record_function("effprof::<path>")``
range by forward pre/post hooks; under ``torch.profiler`` each *top-level* op (an op whose
parent event is a module range) is charged to that module. A module's exclusive time is the
time of its own ops, not its children's, so containers get ~0 and exclusive times add up to the
forward minus Python/hook overhead. On CUDA the ops' device (kernel) time is charged instead of
their CPU time.

Rule (onnxruntime): ORT's own profiler (``enable_profiling``) gives each node's kernel time;
nodes are mapped back to module paths through the exporter's scope names (see onnx_scope.py).

Module paths follow ``model.named_modules()``: "" is the root, else the dotted name.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile

from effprof.errors import EffprofError
from effprof.latency import contention
from effprof.latency.base import backend_failure
from effprof.latency.devices import (
    check_device,
    check_input_shape,
    check_model,
    example_input,
    resolve_threads,
)
from effprof.latency.timer import torch_threads

# Kineto prints "USDT: profiler_start/stop" lines to stderr on every profile, which would land
# in the CLI's output; a level above all of its levels silences it. Read on the profiler's first
# use, so setting it here (before any profiling) is enough; a user's own setting wins.
os.environ.setdefault("KINETO_LOG_LEVEL", "6")

RANGE_PREFIX = "effprof::"
# A C++ range object: a fraction of the Python ``record_function``'s cost per module, which
# matters with ~150 modules per forward. Private, so fall back to the public class without it.
record_range = getattr(torch._C._profiler, "_RecordFunctionFast", None) or record_function
DEFAULT_ITERATIONS = 5
DEFAULT_WARMUP = 2
PER_LAYER_BACKENDS = ("eager", "onnxruntime")


@dataclass
class LayerTimes:
    """Per-module time of one forward, averaged over ``iterations`` profiled forwards.

    ``exclusive_ms`` maps module path -> ms of the module's own ops (children excluded);
    ``forward_ms`` is the whole forward as the profiler saw it (profiler overhead included, so
    use the shares, and ``measure()`` for the latency itself). Eager on CPU also gives
    ``overhead_ms``: the module's own wall time that is not in its ops (its Python, dispatch,
    the profiling hooks), so ``exclusive_ms + overhead_ms`` adds up to ``forward_ms``. For
    onnxruntime, ``node_ms`` and ``op_type_ms`` give the exclusive time by ORT node and op type.
    """

    backend: str
    device: str
    threads: int
    iterations: int
    forward_ms: float
    exclusive_ms: dict[str, float]
    inclusive_ms: dict[str, float] = field(default_factory=dict)
    overhead_ms: dict[str, float] = field(default_factory=dict)
    node_ms: dict[str, float] | None = None
    op_type_ms: dict[str, float] | None = None
    #: one-line notes about trust in the shares (other processes competing while profiling)
    warnings: list[str] = field(default_factory=list)

    def row_ms(self, rows: Iterable[Any]) -> dict[tuple[str, str], float]:
        """Measured exclusive time per (module, op class) count row (``CountResult.layers``).

        A module's time is split among its op-class rows in proportion to the bytes each moves (most
        modules have one row; an attention module has its matmuls and softmax in one forward).
        """
        by_module: dict[str, list] = {}
        for row in rows:
            by_module.setdefault(row.layer, []).append(row)
        shares: dict[tuple[str, str], float] = {}
        for path, ms in self.exclusive_ms.items():
            found = by_module.get(path)
            if not found:
                continue
            total_bytes = sum(r.bytes for r in found)
            for r in found:
                shares[(path, r.op_class)] = ms * (r.bytes / total_bytes if total_bytes else 1 / len(found))
        return shares

    @property
    def attributed_ms(self) -> float:
        """Sum of the exclusive times."""
        return sum(self.exclusive_ms.values())

    @property
    def unattributed_ms(self) -> float:
        """Forward time no module's ops account for (Python, hooks, framework overhead)."""
        return self.forward_ms - self.attributed_ms

    @property
    def coverage(self) -> float:
        """attributed_ms / forward_ms: how much of the forward the per-module ops explain."""
        return self.attributed_ms / self.forward_ms if self.forward_ms > 0 else 0.0

    def shares(self) -> dict[str, float]:
        """Each module's fraction of the attributed time (sums to 1 when anything was timed)."""
        total = self.attributed_ms
        return {k: (v / total if total > 0 else 0.0) for k, v in self.exclusive_ms.items()}


@contextmanager
def quiet_profile(activities: list[ProfilerActivity]) -> Iterator[profile]:
    """``torch.profiler.profile`` without its once-per-process UserWarnings (some torch versions warn
    that events are cleared per cycle on CUDA), which would otherwise land in effprof's output."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Profiler clears events", category=UserWarning)
        with profile(activities=activities) as prof:
            yield prof


@contextmanager
def module_ranges(model: nn.Module) -> Iterator[None]:
    """Wrap every module's forward (root included) in a ``effprof::<path>`` profiler range."""
    names = {module: name for name, module in model.named_modules()}
    stack: list[Any] = []

    def enter(module: nn.Module, args: Any) -> None:
        rf = record_range(RANGE_PREFIX + names[module])
        rf.__enter__()
        stack.append(rf)

    def leave(module: nn.Module, args: Any, output: Any) -> None:
        # always_call: runs even when forward raises, so ranges stay balanced.
        if stack:
            stack.pop().__exit__(None, None, None)

    handles = []
    try:
        for module in names:
            handles.append(module.register_forward_pre_hook(enter))
            handles.append(module.register_forward_hook(leave, always_call=True))
        yield
    finally:
        for handle in handles:
            handle.remove()
        while stack:
            stack.pop().__exit__(None, None, None)


@dataclass
class Attribution:
    """Microseconds summed over every profiled forward, by module path."""

    op_us: dict[str, float]  # the module's own top-level ops
    wall_us: dict[str, float]  # the module's range minus its child modules' ranges
    inclusive_us: dict[str, float]  # the module's range, children included
    root_us: float
    forwards: int


def range_path(evt: Any) -> str | None:
    name = evt.name
    return name[len(RANGE_PREFIX) :] if name.startswith(RANGE_PREFIX) else None


def attribute_events(events: Any, *, use_device_time: bool) -> Attribution:
    """Charge profiler events to the module ranges that own them.

    An op whose parent event is an ``effprof::`` range is charged to that module (ops nested in
    other ops are already inside their parent's time). A range's wall-clock time minus its child
    ranges' is the module's exclusive wall time, Python and hooks included; on CUDA, where the
    charged time is kernel time, only the op time is meaningful.
    """
    op_us: dict[str, float] = defaultdict(float)
    wall_us: dict[str, float] = defaultdict(float)
    inclusive_us: dict[str, float] = defaultdict(float)
    root_us = 0.0
    forwards = 0

    def duration(evt: Any) -> float:
        return float(evt.device_time_total if use_device_time else evt.cpu_time_total)

    for evt in events:
        if evt.device_type != torch.autograd.DeviceType.CPU:
            continue  # device-side copies of ranges, and kernels: reached through their CPU op
        path = range_path(evt)
        parent = evt.cpu_parent
        if path is None:
            owner = range_path(parent) if parent is not None else None
            if owner is not None:
                op_us[owner] += duration(evt)
            continue
        op_us[path] += 0.0  # containers appear with 0 rather than not at all
        inclusive_us[path] += duration(evt)
        wall_us[path] += evt.cpu_time_total
        while parent is not None and range_path(parent) is None:
            parent = parent.cpu_parent
        if parent is not None:
            wall_us[range_path(parent)] -= evt.cpu_time_total
        if path == "":
            root_us += duration(evt)
            forwards += 1
    return Attribution(dict(op_us), dict(wall_us), dict(inclusive_us), root_us, forwards)


def _eager_layer_times(
    model: nn.Module, example: torch.Tensor, *, device: str, threads: int, iterations: int, warmup: int
) -> LayerTimes:
    was_training = model.training
    model.eval().to(device)
    activities = [ProfilerActivity.CPU]
    cuda = device.startswith("cuda")
    if cuda:
        activities.append(ProfilerActivity.CUDA)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                model(example)
            if cuda:
                torch.cuda.synchronize()
            with module_ranges(model), quiet_profile(activities) as prof:
                for _ in range(iterations):
                    model(example)
                if cuda:
                    torch.cuda.synchronize()
    finally:
        model.train(was_training)
    att = attribute_events(prof.events(), use_device_time=cuda)
    n = max(att.forwards, 1)
    exclusive_ms = {k: v / n / 1e3 for k, v in att.op_us.items()}
    overhead_ms = (
        {} if cuda else {k: max(0.0, v / n / 1e3 - exclusive_ms.get(k, 0.0)) for k, v in att.wall_us.items()}
    )
    return LayerTimes(
        backend="eager",
        device=device,
        threads=threads,
        iterations=att.forwards,
        forward_ms=att.root_us / n / 1e3,
        exclusive_ms=exclusive_ms,
        inclusive_ms={k: v / n / 1e3 for k, v in att.inclusive_us.items()},
        overhead_ms=overhead_ms,
    )


def parse_ort_profile(
    trace: list[dict[str, Any]], *, skip_runs: int
) -> tuple[dict[str, tuple[str, float]], float, int]:
    """From an ORT profile trace: ({node: (op_type, total_us)}, total model_run us, runs), after ``skip_runs``.

    Node kernel events ("cat": "Node", name "<node>_kernel_time") are kept only inside the
    model_run windows that count, so warm-up runs are left out.
    """
    runs = sorted(
        (e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"),
        key=lambda e: e["ts"],
    )
    kept = runs[skip_runs:]
    windows = [(e["ts"], e["ts"] + e["dur"]) for e in kept]
    nodes: dict[str, tuple[str, float]] = {}
    suffix = "_kernel_time"
    for e in trace:
        if e.get("cat") != "Node" or not e.get("name", "").endswith(suffix):
            continue
        ts = e["ts"]
        if not any(lo <= ts <= hi for lo, hi in windows):
            continue
        name = e["name"][: -len(suffix)]
        op = e.get("args", {}).get("op_name", "?")
        prev = nodes.get(name, (op, 0.0))[1]
        nodes[name] = (op, prev + float(e["dur"]))
    return nodes, float(sum(e["dur"] for e in kept)), len(kept)


def _onnx_layer_times(
    path: Path,
    feed_shape: tuple[int, ...],
    *,
    device: str,
    threads: int,
    iterations: int,
    warmup: int,
    known_modules: set[str] | None,
    example: torch.Tensor | None,
) -> LayerTimes:
    import onnx

    from effprof.latency.onnx_scope import NodeMapper
    from effprof.latency.onnxrt import _check_shape, _check_single_input, _feed, create_session

    with tempfile.TemporaryDirectory(prefix="effprof-ortprof-") as tmp:
        session = create_session(
            path, device=device, threads=threads, profile_prefix=os.path.join(tmp, "ort")
        )
        inp = _check_single_input(session, str(path))
        _check_shape(inp.shape, feed_shape, inp.name, str(path))
        feeds = {inp.name: _feed(inp.type, feed_shape, example)}
        for _ in range(warmup + iterations):
            session.run(None, feeds)
        trace_file = session.end_profiling()
        trace = json.loads(Path(trace_file).read_text())
    nodes, run_us, runs = parse_ort_profile(trace, skip_runs=warmup)
    n = max(runs, 1)
    mapper = NodeMapper(onnx.load(str(path), load_external_data=False).graph, known_modules)
    node_ms: dict[str, float] = {}
    op_type_ms: dict[str, float] = defaultdict(float)
    exclusive_ms: dict[str, float] = defaultdict(float)
    if known_modules:
        exclusive_ms.update(dict.fromkeys(known_modules, 0.0))
    for name, (op, us) in nodes.items():
        ms = us / n / 1e3
        node_ms[name] = ms
        op_type_ms[op] += ms
        exclusive_ms[mapper.module_path(name, op)] += ms
    return LayerTimes(
        backend="onnxruntime",
        device=device,
        threads=threads,
        iterations=runs,
        forward_ms=run_us / n / 1e3,
        exclusive_ms=dict(exclusive_ms),
        node_ms=node_ms,
        op_type_ms=dict(op_type_ms),
    )


def _noted(times: LayerTimes, w: contention.Watch) -> LayerTimes:
    """Warn on ``times`` when others competed while profiling (no re-timing: only the shares are used)."""
    if w.contended(times.threads):
        times.warnings.append(contention.contention_warning(w.others_cores or 0.0, w.usable_cores, 0))
    return times


def _check_counts(iterations: int, warmup: int) -> None:
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise EffprofError(f"iterations {iterations!r}: must be a whole number >= 1")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise EffprofError(f"warmup {warmup!r}: must be a whole number >= 0")


def per_layer_times(
    model: nn.Module,
    input_shape: tuple[int, ...],
    backend: str = "eager",
    *,
    device: str = "cpu",
    threads: int | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    warmup: int = DEFAULT_WARMUP,
    cache_key: str | None = None,
) -> LayerTimes:
    """Exclusive time per module path for ``backend`` ("eager" or "onnxruntime"), in ms per forward."""
    device = check_device(device)
    name = backend.strip().lower()
    if name not in PER_LAYER_BACKENDS:
        raise EffprofError(
            f"per-layer times: backend {backend!r} is not supported; use {' or '.join(PER_LAYER_BACKENDS)}"
        )
    threads = resolve_threads(threads)
    shape = check_input_shape(input_shape)
    _check_counts(iterations, warmup)
    check_model(model)
    with torch_threads(threads), contention.watch() as w:
        try:
            times = _model_layer_times(model, shape, name, device=device, threads=threads, iterations=iterations,
                                       warmup=warmup, cache_key=cache_key)  # fmt: skip
        except EffprofError:
            raise
        except Exception as exc:
            raise backend_failure(name, model, exc) from exc
    return _noted(times, w)


def _model_layer_times(
    model: nn.Module, shape: tuple[int, ...], name: str, *, device: str, threads: int, iterations: int,
    warmup: int, cache_key: str | None,
) -> LayerTimes:  # fmt: skip
    example = example_input(shape, device)
    if name == "eager":
        return _eager_layer_times(model, example, device=device, threads=threads, iterations=iterations,
                                  warmup=warmup)  # fmt: skip
    from effprof.latency.onnx_export import export_onnx
    from effprof.latency.onnxrt import _model_device, providers_for

    providers_for(device)
    was_training = model.training
    model.eval()
    try:
        x = example.to(_model_device(model))
        export = export_onnx(model, x, cache_key=cache_key)
    finally:
        model.train(was_training)
    return _onnx_layer_times(export.path, shape, device=device, threads=threads, iterations=iterations,
                             warmup=warmup, known_modules={n for n, _ in model.named_modules()}, example=x)  # fmt: skip


def per_layer_onnx_file(
    path: str | Path,
    input_shape: tuple[int, ...],
    *,
    device: str = "cpu",
    threads: int | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    warmup: int = DEFAULT_WARMUP,
) -> LayerTimes:
    """Per-node, per-op-type and (for torch-exported files) per-module time of an ``.onnx`` file."""
    device = check_device(device)
    threads = resolve_threads(threads)
    shape = check_input_shape(input_shape)
    _check_counts(iterations, warmup)
    path = Path(path)
    if not path.is_file():
        raise EffprofError(f"{path}: no such ONNX file; give the path to an existing .onnx file")
    with torch_threads(threads), contention.watch() as w:
        try:
            times = _onnx_layer_times(path, shape, device=device, threads=threads, iterations=iterations,
                                      warmup=warmup, known_modules=None, example=None)  # fmt: skip
        except EffprofError:
            raise
        except Exception as exc:
            raise backend_failure("onnxruntime", path.name, exc) from exc
    return _noted(times, w)
