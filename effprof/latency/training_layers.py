"""Where a training step's time goes: forward and backward milliseconds per module.

Rule: the step (forward, cross-entropy loss, backward, optimizer step) runs under ``torch.profiler``
with every module's forward in an ``effprof::<path>`` range (per_layer.module_ranges).

- Forward: an op whose parent event is a module's range is charged to that module (exclusive,
  as per_layer.attribute_events does for inference).
- Backward: the profiler stamps each forward op with autograd's sequence number (the number the
  next node will get), and the engine's ``autograd::engine::evaluate_function: <Node>`` event
  carries the number of its node. The event's time -- its backward kernels included -- is charged
  to the module whose range held the last forward op stamped with that number, the op that made
  the node. A layer autograd never reaches (frozen, before the first
  trainable one) gets no backward time, as it gets no backward MACs.
- Not a layer's: ``AccumulateGrad`` nodes (adding into ``.grad``), the loss (forward and
  backward, outside the model) and the optimizer's step, each reported as one figure.

On CUDA the kernels' device time is charged, not the launching CPU time. The profiled steps carry
the profiler's overhead: use the shares and ``step_ms`` from the timing loop, not these sums, as
the step's latency.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.profiler import ProfilerActivity

from effprof.latency import contention
from effprof.latency.base import backend_failure
from effprof.latency.contention import ThreadChoice
from effprof.latency.devices import check_device, check_input_shape, example_input, resolve_threads, sync_for
from effprof.latency.per_layer import module_ranges, quiet_profile, range_path
from effprof.latency.timer import torch_threads
from effprof.latency.training import LOSS_RANGE, OPTIMIZER_RANGE, make_optimizer, step_body
from effprof.models.freeze import setup_training

_EVALUATE = "autograd::engine::evaluate_function: "


@dataclass
class TrainingLayerTimes:
    """Per-module forward and backward ms of one training step, averaged over ``iterations`` steps.

    ``forward_ms``/``backward_ms`` map module path -> ms (a module autograd never reached is absent
    from ``backward_ms``). ``backward_total_ms`` is every backward node's time, so
    ``attributed_backward_ms / backward_total_ms`` says how much of the backward the layers explain.
    """

    device: str
    threads: int
    iterations: int
    step_ms: float
    forward_ms: dict[str, float]
    backward_ms: dict[str, float]
    backward_total_ms: float
    loss_ms: float
    accumulate_grad_ms: float
    optimizer_ms: float
    warnings: list[str] = field(default_factory=list)

    @property
    def attributed_backward_ms(self) -> float:
        return sum(self.backward_ms.values())

    @property
    def backward_coverage(self) -> float:
        total = self.backward_total_ms
        return self.attributed_backward_ms / total if total > 0 else 0.0


def _owner(evt: Any) -> str | None:
    """The innermost effprof range above ``evt`` (its module path), or None outside every range."""
    parent = evt.cpu_parent
    while parent is not None:
        path = range_path(parent)
        if path is not None:
            return path
        parent = parent.cpu_parent
    return None


def attribute_training_events(events: Any, *, use_device_time: bool, steps: int) -> dict[str, Any]:
    """Charge a profiled training step's events to modules; every figure in ms per step."""

    def duration(evt: Any) -> float:
        return float(evt.device_time_total if use_device_time else evt.cpu_time_total)

    cpu = sorted((e for e in events if e.device_type == torch.autograd.DeviceType.CPU),
                 key=lambda e: e.time_range.start)  # fmt: skip
    forward_owner: dict[tuple[int, int], str] = {}  # (forward thread, sequence number) -> module path
    forward_us: dict[str, float] = defaultdict(float)
    backward_us: dict[str, float] = defaultdict(float)
    evaluated: list[Any] = []
    loss_us = optimizer_us = 0.0
    for evt in cpu:
        if evt.name.startswith(_EVALUATE):
            evaluated.append(evt)
            continue
        if evt.name == LOSS_RANGE:
            loss_us += duration(evt)
        elif evt.name == OPTIMIZER_RANGE:
            optimizer_us += duration(evt)
        owner = _owner(evt)
        if owner is None:
            continue
        if evt.sequence_nr >= 0:
            # an op is stamped with the number the *next* node will get, whether or not it makes
            # one (a frozen conv does not): the last op stamped N is the one that made node N
            forward_owner[(evt.thread, evt.sequence_nr)] = owner
        if range_path(evt) is None and range_path(evt.cpu_parent) == owner and not owner.startswith("("):
            forward_us[owner] += duration(evt)  # a top-level op of the module: its exclusive forward
    backward_total_us = accumulate_us = 0.0
    for evt in evaluated:
        us = duration(evt)
        backward_total_us += us
        if evt.name.endswith("AccumulateGrad"):
            accumulate_us += us
            continue
        owner = forward_owner.get((evt.fwd_thread, evt.sequence_nr))
        if owner == "(loss)":
            loss_us += us
        elif owner is not None and not owner.startswith("("):
            backward_us[owner] += us
    per = 1e3 * max(steps, 1)
    return {
        "forward_ms": {k: v / per for k, v in forward_us.items()},
        "backward_ms": {k: v / per for k, v in backward_us.items()},
        "backward_total_ms": backward_total_us / per,
        "loss_ms": loss_us / per,
        "accumulate_grad_ms": accumulate_us / per,
        "optimizer_ms": optimizer_us / per,
    }


def training_layer_times(
    model: nn.Module,
    input_shape: tuple[int, ...],
    *,
    freeze: str = "none",
    num_classes: int | None = None,
    optimizer: str = "sgd",
    device: str = "cpu",
    threads: int | ThreadChoice | None = None,
    iterations: int = 3,
    warmup: int = 1,
) -> TrainingLayerTimes:
    """Profile ``iterations`` eager training steps of ``model`` (changed in place: head, freezing,
    device, train mode) and charge their time to modules; a failure is EffprofError(exit_code=1)."""
    device = check_device(device)
    shape = check_input_shape(input_shape)
    threads = resolve_threads(threads)
    setup_training(model, freeze, num_classes)
    cuda = device.startswith("cuda")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with torch_threads(threads), contention.watch() as w:
        try:
            model.to(device).train()
            opt = make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad])
            x = example_input(shape, device)
            y = torch.zeros(shape[0], dtype=torch.long, device=device)
            sync = sync_for(device)
            body = step_body(model, opt, x, y)

            def step() -> None:
                opt.zero_grad(set_to_none=True)
                body()

            for _ in range(warmup):
                step()
            sync()
            with module_ranges(model), quiet_profile(activities) as prof:
                start = time.perf_counter()
                for _ in range(iterations):
                    step()
                sync()
                step_ms = (time.perf_counter() - start) * 1e3 / iterations
            figures = attribute_training_events(prof.events(), use_device_time=cuda, steps=iterations)
        except Exception as exc:  # noqa: BLE001 - the model's failure, recorded on its row
            raise backend_failure("eager training (per layer)", model, exc) from exc
    times = TrainingLayerTimes(device=device, threads=threads, iterations=iterations,
                               step_ms=step_ms, **figures)  # fmt: skip
    if w.contended(threads):
        times.warnings.append(contention.contention_warning(w.others_cores or 0.0, w.usable_cores, 0))
    return times


def row_ms(times: TrainingLayerTimes, rows: Any) -> dict[tuple[str, str], tuple[float, float | None]]:
    """(forward ms, backward ms) per (module, op class) count row; None: autograd never reached it.

    A module's time is split among its op-class rows in proportion to their forward (backward)
    MACs, evenly where it has none (most modules have one row).
    """
    by_module: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_module[row.layer].append(row)
    out: dict[tuple[str, str], tuple[float, float | None]] = {}
    for path, found in by_module.items():
        fwd, bwd = times.forward_ms.get(path, 0.0), times.backward_ms.get(path)
        fwd_macs = sum(r.forward_macs for r in found)
        bwd_macs = sum(r.backward_macs for r in found)
        for r in found:
            f_share = r.forward_macs / fwd_macs if fwd_macs else 1 / len(found)
            b_share = r.backward_macs / bwd_macs if bwd_macs else 1 / len(found)
            out[(path, r.op_class)] = (fwd * f_share, None if bwd is None else bwd * b_share)
    return out
