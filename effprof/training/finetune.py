"""``effprof finetune``: the lecture's three transfer-learning strategies side by side, with what each costs.

- **A** (small dataset): freeze the backbone, train a new head on *pre-computed* features: the
  backbone runs forward once per image (inference, no autograd), its outputs -- the head's inputs --
  are cached, then every epoch trains the head alone on the cache.
- **B** (medium): unfreeze the later layers: the head and the last quarter of the backbone's
  parameterised layers train (effprof.models.freeze, strategy ``later``).
- **C** (large): fine-tune everything.

Cost rule, for ``dataset_size`` images, ``epochs`` epochs, batch ``B``:

- B, C: epoch MACs = images x training MACs per image; epoch time = images / B x measured step time.
- A: once = images x backbone forward MACs per image (time: images / B x measured backbone
  inference latency); epoch = images x the head's training MACs per image (time: images / B x
  the measured head-only step). Total = once + epochs x epoch. The feature cache holds images x
  feature elements x 4 bytes.

Every count is effprof's analytic one (effprof.counters.training); step times go through the shared
timing loop (effprof.latency.training, effprof.latency.measure); ``backend=None`` counts only.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd
import torch
from torch import nn

from effprof.api import check_specs, timing_meta
from effprof.counters.training import TrainingCount, count_training
from effprof.errors import EffprofError
from effprof.latency import measure
from effprof.latency.training import (
    TrainingStep,
    measure_inference_peak,
    measure_training_step,
    parse_optimizers,
)
from effprof.models import BuiltModel, build_model, contained, parse_batch, parse_resolution
from effprof.models.freeze import check_num_classes, find_head, replace_head
from effprof.reports.training import render_finetune
from effprof.results import Result, renders
from effprof.training.profile import training_timing

STRATEGIES = {
    "A": ("backbone", "frozen, cached features"),
    "B": ("later", "later layers"),
    "C": ("none", "everything"),
}
COLUMNS = (
    "model", "strategy", "description", "freeze", "first_trainable", "replaced_head", "trainable_params",
    "training_macs_per_image", "once_macs", "epoch_macs", "total_macs", "optimizer", "backend", "device",
    "threads", "batch", "step_ms", "contended", "others_cores", "once_s", "epoch_s", "total_s",
    "memory_analytic_bytes", "peak_bytes_measured", "peak_method", "feature_cache_bytes", "dataset_size",
    "epochs", "error",
)  # fmt: skip


@dataclass
class StrategyCost:
    """One strategy on one model: counts, and (when timed) a step time per optimizer."""

    strategy: str
    freeze: str
    description: str
    count: TrainingCount
    #: strategy A: the backbone's forward MACs per image (the one feature pass) and the head's own count
    backbone_forward_macs_per_image: float = 0.0
    feature_elements_per_image: int = 0
    backbone_forward_peak_bytes: int = 0
    model_param_bytes: int = 0  # the whole model's, held during A's feature pass
    backbone_latency_ms: float | None = None
    backbone_peak_bytes_measured: int | None = None  # strategy A's feature pass, measured
    steps: list[TrainingStep] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class FinetuneResult(Result):
    """The three strategies of one model: ``to_pandas()`` gives one row per (strategy, optimizer)."""

    kind: ClassVar[str] = "finetune"
    figures: ClassVar[tuple[str, ...]] = ("finetune",)

    model: str
    input_shape: tuple[int, ...]
    num_classes: int
    dataset_size: int
    epochs: int
    strategies: list[StrategyCost]
    meta: dict[str, Any]
    optimizers: tuple[str, ...] = ("sgd",)

    @property
    def batch(self) -> int:
        return int(self.input_shape[0])

    def _row(self, s: StrategyCost, optimizer: str, step: TrainingStep | None, error: str | None) -> dict[str, Any]:
        c, n, batch = s.count, self.dataset_size, self.batch
        per_image = c.training_macs_per_image
        once = s.backbone_forward_macs_per_image * n if s.strategy == "A" else 0.0
        epoch = per_image * n
        memory = c.memory_bytes(optimizer)["total_bytes"]
        if s.strategy == "A":  # the feature pass runs the backbone in inference: its params and widest layer
            memory = max(memory, s.model_param_bytes + s.backbone_forward_peak_bytes)
        row: dict[str, Any] = {
            "model": self.model, "strategy": s.strategy, "description": s.description, "freeze": s.freeze,
            "first_trainable": c.setup.first_trainable, "replaced_head": c.setup.replaced,
            "trainable_params": c.trainable_params, "training_macs_per_image": per_image, "once_macs": once,
            "epoch_macs": epoch, "total_macs": once + self.epochs * epoch, "optimizer": optimizer,
            "batch": batch, "memory_analytic_bytes": memory, "dataset_size": n, "epochs": self.epochs,
            "feature_cache_bytes": s.feature_elements_per_image * n * 4 if s.strategy == "A" else None,
            "error": error,
        }  # fmt: skip
        if step is not None:
            m = step.measurement
            steps_per_epoch = math.ceil(n / batch)
            epoch_s = steps_per_epoch * m.median_ms / 1e3
            once_s = steps_per_epoch * s.backbone_latency_ms / 1e3 if s.backbone_latency_ms is not None else 0.0
            row |= {"backend": m.backend, "device": m.device, "threads": m.threads, "step_ms": m.median_ms,
                    "contended": m.contended, "others_cores": m.others_cores, "once_s": once_s, "epoch_s": epoch_s,
                    "total_s": once_s + self.epochs * epoch_s, "peak_bytes_measured": step.peak_bytes,
                    "peak_method": step.peak_method}  # fmt: skip
            if s.strategy == "A" and step.peak_bytes is not None and s.backbone_peak_bytes_measured is not None:
                # as the analytic figure: the larger of the feature pass and a head-only step
                row["peak_bytes_measured"] = max(step.peak_bytes, s.backbone_peak_bytes_measured)
        return row

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for s in self.strategies:
            timed = {st.optimizer: st for st in s.steps}
            for optimizer in self.optimizers:
                out.append(self._row(s, optimizer, timed.get(optimizer), s.errors.get(optimizer)))
        return out

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows()).reindex(columns=list(COLUMNS))

    def failures(self) -> list[str]:
        return [f"strategy {s.strategy} {o}: {e}" for s in self.strategies for o, e in s.errors.items()]


# the reports sit below training and know no training type: the rendering is registered here
renders(FinetuneResult)(render_finetune)


def head_input_shape(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of what the head receives (the cached features of strategy A), from one meta forward."""
    head = model.get_submodule(find_head(model))
    seen: list[tuple[int, ...]] = []
    hook = head.register_forward_pre_hook(lambda _m, args: seen.append(tuple(args[0].shape)))
    try:
        with torch.no_grad():
            model(torch.empty(input_shape, device="meta"))
    finally:
        hook.remove()
    if not seen:
        raise EffprofError(f"the head {find_head(model)!r} of {type(model).__name__} never ran: cannot cache its inputs")
    return seen[0]


def _head_only(model: nn.Module) -> nn.Module:
    """The head container alone, as a model of its own (for the head-only epochs of strategy A)."""
    return copy.deepcopy(model.get_submodule(find_head(model)))


def _backbone_only(model: nn.Module) -> nn.Module:
    """``model`` (changed in place) with its head replaced by nn.Identity: what computes the cached features."""
    setattr(model, find_head(model), nn.Identity())
    return model


def _strategy_a(built: BuiltModel, num_classes: int) -> tuple[StrategyCost, nn.Module, tuple[int, ...]]:
    meta = copy.deepcopy(built.module)
    replace_head(meta, num_classes)
    features = head_input_shape(meta, built.input_shape)
    head = _head_only(meta)
    count = count_training(head, features, freeze="none", name=f"{built.label} head")
    # the trainable-params and first-trainable columns speak of the whole model, frozen backbone and all
    whole = count_training(built.module, built.input_shape, freeze="backbone", num_classes=num_classes)
    count.setup = whole.setup  # params and memory stay the head's: the epochs need only the head and the cache
    freeze, description = STRATEGIES["A"]
    cost = StrategyCost("A", freeze, description, count)
    batch = built.input_shape[0]
    cost.backbone_forward_macs_per_image = (whole.forward_macs - count.forward_macs) / batch
    cost.feature_elements_per_image = math.prod(features) // batch
    cost.backbone_forward_peak_bytes = whole.forward_peak_bytes
    cost.model_param_bytes = whole.param_bytes
    return cost, head, features


def finetune(
    model: Any,
    *,
    num_classes: int,
    dataset_size: int = 1000,
    epochs: int = 10,
    resolution: Any = None,
    batch: Any = 8,
    backend: str | None = "eager",
    optimizers: str = "sgd",
    device: str = "cpu",
    threads: int | None = None,
    budget_s: float | None = None,
    on_strategy: Callable[[StrategyCost], None] | None = None,
) -> FinetuneResult:
    """Cost of strategies A, B, C for ``model`` (spec or nn.Module) fine-tuned to ``num_classes``.

    ``backend`` "eager" or "compile" times each step; None or "none" counts only. A strategy whose
    step fails keeps its counts and records the error.
    """
    check_num_classes(num_classes)
    for what, value, low in (("--dataset-size", dataset_size, 1), ("--epochs", epochs, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 10**9:
            raise EffprofError(f"{what} {value!r}: must be a whole number from {low} to 1000000000")
    if isinstance(model, str):
        check_specs([model])
    optimizer_names = parse_optimizers(optimizers)
    batch, resolution = parse_batch(batch), parse_resolution(resolution)
    timing, backend = training_timing(backend, "finetune", device=device, threads=threads, budget_s=budget_s)
    label = model if isinstance(model, str) else type(model).__name__
    with contained(label, "fine-tuning"):
        built = build_model(model, resolution=resolution, batch=batch, device="meta")
        find_head(built.module)  # no head: one line, before any work
        meta = timing_meta(timing) | {"command": "finetune", "num_classes": num_classes, "dataset_size": dataset_size,
                                      "epochs": epochs, "optimizers": list(optimizer_names)}  # fmt: skip
        result = FinetuneResult(built.label, built.input_shape, num_classes, dataset_size, epochs, [], meta,
                                optimizers=optimizer_names)  # fmt: skip
        budget = {"budget_s": timing.budget_s} if timing.budget_s is not None else {}
        for key, (freeze, description) in STRATEGIES.items():
            if key == "A":
                cost, head, features = _strategy_a(built, num_classes)
            else:
                count = count_training(built.module, built.input_shape, freeze=freeze, num_classes=num_classes)
                cost, head, features = StrategyCost(key, freeze, description, count), None, built.input_shape
            if backend:
                if key == "A":
                    try:  # the one feature pass: the backbone's peak (first: it counts the params moving to the
                        # device) and its inference latency, on the same batch
                        backbone = _backbone_only(built.rebuild("cpu"))
                        cost.backbone_peak_bytes_measured, _ = measure_inference_peak(
                            backbone, built.input_shape, device=timing.device)  # fmt: skip
                        m = measure(backbone, built.input_shape, backend, device=timing.device, threads=timing.threads,
                                    **budget)  # fmt: skip
                        cost.backbone_latency_ms = m.median_ms
                    except EffprofError as exc:
                        cost.errors["features"] = exc.message
                for optimizer in optimizer_names:
                    try:
                        target = copy.deepcopy(head).to_empty(device="cpu") if key == "A" else built.rebuild("cpu")
                        if key == "A":
                            _reset(target)
                        cost.steps.append(measure_training_step(
                            target, features, freeze="none" if key == "A" else freeze,
                            num_classes=None if key == "A" else num_classes,
                            optimizer=optimizer, backend=backend, device=timing.device, threads=timing.threads,
                            **budget,
                        ))  # fmt: skip
                    except EffprofError as exc:
                        cost.errors[optimizer] = exc.message
            result.strategies.append(cost)
            if on_strategy is not None:
                on_strategy(cost)
    return result


def _reset(module: nn.Module) -> None:
    """Give a head materialised from meta real values (its own reset_parameters, else zeros)."""
    for m in module.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
        else:
            with torch.no_grad():
                for t in [*m.parameters(recurse=False), *m.buffers(recurse=False)]:
                    t.zero_()
