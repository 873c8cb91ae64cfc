"""``profile --train`` / ``compare --train``: what one training step of a model costs, per freezing strategy.

Orchestration only: the counts come from effprof.counters.training (analytic, per layer) and
effprof.counters.training_torch (FlopCounterMode's measured forward + backward, the differences
named); the timed step and its peak memory from effprof.latency.training. One row per (model,
optimizer) -- or one row per model when nothing is timed (``backends`` empty).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd
from torch import nn

from effprof.api import Timing, check_specs, expand_specs, timing_meta
from effprof.counters.training import TrainingCount, count_training
from effprof.counters.training_torch import TrainingReconciliation, count_training_torch, reconcile_training
from effprof.errors import EffprofError
from effprof.latency.training import (
    TrainingStep,
    check_train_backend,
    measure_training_step,
    parse_optimizers,
)
from effprof.latency.training_layers import TrainingLayerTimes, row_ms, training_layer_times
from effprof.models import BuiltModel, build_model, contained, parse_batch, parse_resolution
from effprof.reports.training import render_training
from effprof.results import Result, renders, shape_str

MODEL_COLUMNS = (
    "model", "input_shape", "freeze", "replaced_head", "first_trainable", "params", "trainable_params",
    "forward_macs", "grad_input_macs", "grad_weight_macs", "backward_macs", "training_macs",
    "training_macs_per_image", "backward_other_ops", "macs_torch_training", "torch_named_difference_macs",
    "torch_unexplained_pct", "optimizer", "backend", "device", "threads", "step_ms", "step_iqr_ms", "runs",
    "contended", "others_cores", "memory_analytic_bytes", "params_bytes", "grads_bytes", "optimizer_state_bytes",
    "activation_bytes", "saved_activation_bytes", "peak_bytes_measured", "peak_method", "error",
)  # fmt: skip
LAYER_COLUMNS = (
    "model", "freeze", "layer", "type", "op_class", "forward_macs", "grad_input_macs", "grad_weight_macs",
    "backward_macs", "backward_other_ops", "trainable_params", "saved_bytes", "forward_ms", "backward_ms",
)  # fmt: skip


@dataclass
class TrainingProfile:
    """One model under one freezing strategy: counts, FlopCounterMode's check, timed steps per optimizer."""

    model: str
    input_shape: tuple[int, ...] = ()
    freeze: str = "none"
    count: TrainingCount | None = None
    check: TrainingReconciliation | None = None
    steps: list[TrainingStep] = field(default_factory=list)
    step_errors: dict[str, str] = field(default_factory=dict)
    check_error: str | None = None
    #: per-layer forward/backward time of one eager step (profile --train with a timed backend)
    layer_times: TrainingLayerTimes | None = None
    layer_times_error: str | None = None
    error: str | None = None
    exit_code: int = 0
    backend: str = ""
    device: str = "cpu"

    def _base(self) -> dict[str, Any]:
        row: dict[str, Any] = {"model": self.model, "input_shape": shape_str(self.input_shape), "freeze": self.freeze}
        c = self.count
        if c is not None:
            row |= {
                "replaced_head": c.setup.replaced, "first_trainable": c.setup.first_trainable,
                "params": c.params, "trainable_params": c.trainable_params, "forward_macs": c.forward_macs,
                "grad_input_macs": c.grad_input_macs, "grad_weight_macs": c.grad_weight_macs,
                "backward_macs": c.backward_macs, "training_macs": c.training_macs,
                "training_macs_per_image": c.training_macs_per_image, "backward_other_ops": c.backward_other_ops,
                "saved_activation_bytes": c.saved_activation_bytes,
            }  # fmt: skip
        if self.check is not None:
            row |= {"macs_torch_training": self.check.torch_macs,
                    "torch_named_difference_macs": self.check.explained_macs,
                    "torch_unexplained_pct": 100 * self.check.relative_unexplained}  # fmt: skip
        return row

    def _memory(self, optimizer: str) -> dict[str, Any]:
        if self.count is None:
            return {}
        parts = self.count.memory_bytes(optimizer)
        return {"memory_analytic_bytes": parts.pop("total_bytes"), **parts}

    def model_rows(self) -> list[dict[str, Any]]:
        """One row per timed optimizer (or per failed one); one row when nothing was timed."""
        base = self._base()
        errors = "; ".join(e for e in (self.error, self.check_error) if e) or None
        if not self.steps and not self.step_errors:
            return [base | self._memory("sgd") | {"optimizer": "sgd", "error": errors}]
        rows = []
        for s in self.steps:
            m = s.measurement
            rows.append(base | self._memory(s.optimizer) | {
                "optimizer": s.optimizer, "backend": m.backend, "device": m.device, "threads": m.threads,
                "step_ms": m.median_ms, "step_iqr_ms": m.iqr_ms, "runs": m.runs, "contended": m.contended,
                "others_cores": m.others_cores, "peak_bytes_measured": s.peak_bytes, "peak_method": s.peak_method,
                "error": errors,
            })  # fmt: skip
        for optimizer, message in self.step_errors.items():
            rows.append(base | self._memory(optimizer) | {"optimizer": optimizer, "backend": self.backend,
                                                          "device": self.device, "error": message})  # fmt: skip
        return rows

    def row_times(self) -> dict[tuple[str, str], tuple[float, float | None]]:
        """(forward ms, backward ms) per (layer, op class) count row; empty when no layer was timed."""
        if self.layer_times is None or self.count is None:
            return {}
        return row_ms(self.layer_times, self.count.layers)

    def layer_rows(self) -> list[dict[str, Any]]:
        if self.count is None:
            return []
        times = self.row_times()
        return [
            {"model": self.model, "freeze": self.freeze, "layer": r.layer, "type": r.type, "op_class": r.op_class,
             "forward_macs": r.forward_macs, "grad_input_macs": r.grad_input_macs,
             "grad_weight_macs": r.grad_weight_macs, "backward_macs": r.backward_macs,
             "backward_other_ops": r.backward_other_ops, "trainable_params": r.trainable_params,
             "saved_bytes": r.saved_bytes, "forward_ms": times.get((r.layer, r.op_class), (None, None))[0],
             "backward_ms": times.get((r.layer, r.op_class), (None, None))[1]}
            for r in self.count.layers
        ]  # fmt: skip


def frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows in the given column order (a column no row has stays, empty)."""
    return pd.DataFrame(rows).reindex(columns=list(columns))


@dataclass
class TrainingResult(Result):
    """``profile --train`` / ``compare --train``: ``to_pandas()`` gives one row per (model, optimizer);
    ``layers_frame()`` one per layer, which ``-o x.json`` writes under its ``layers`` key."""

    kind: ClassVar[str] = "train"
    figures: ClassVar[tuple[str, ...]] = ("training",)

    profiles: list[TrainingProfile]
    meta: dict[str, Any]
    top_layers: int = 10
    interrupted: bool = False

    @property
    def failed(self) -> list[TrainingProfile]:
        return [p for p in self.profiles if p.error]

    def to_pandas(self) -> pd.DataFrame:
        return frame([r for p in self.profiles for r in p.model_rows()], MODEL_COLUMNS)

    def layers_frame(self) -> pd.DataFrame:
        return frame([r for p in self.profiles for r in p.layer_rows()], LAYER_COLUMNS)

    def summary(self) -> dict[str, Any]:
        return self.profiles[0].model_rows()[0] if self.profiles else {}

    def failures(self) -> list[str]:
        """What was requested and not measured, one item per model and part."""
        out = []
        for p in self.profiles:
            out += [f"{p.model}: {e}" for e in (p.error, p.check_error) if e]
            out += [f"{p.model} {o}: {e}" for o, e in p.step_errors.items()]
            out += [f"{p.model} per-layer time: {p.layer_times_error}"] if p.layer_times_error else []
        return out

    @property
    def title(self) -> str:
        return "effprof training"

    def json_extra(self) -> dict[str, Any]:
        return {"layers": self.layers_frame().to_dict("records")}


# the reports sit below training and know no training type: the rendering is registered here
renders(TrainingResult)(render_training)


def train_profile_model(
    built: BuiltModel,
    *,
    freeze: str = "none",
    num_classes: int | None = None,
    optimizers: Sequence[str] = ("sgd",),
    backend: str | None = "eager",
    device: str = "cpu",
    threads: Any = None,
    budget_s: float | None = None,
    check: bool = True,
    layer_times: bool = False,
) -> TrainingProfile:
    """Count (and with ``backend``, time) one training step of a built model under ``freeze``.

    ``layer_times`` (eager only) also profiles a few steps with the first optimizer for each
    layer's forward and backward ms. A bad strategy or head raises EffprofError (exit 2) before
    any timing; a failed step, check or layer profile is recorded on the profile.
    """
    p = TrainingProfile(built.label, built.input_shape, freeze, backend=backend or "", device=device)
    p.count = count_training(built.module, built.input_shape, freeze=freeze, num_classes=num_classes, name=built.label)
    if check:
        try:
            torch_count = count_training_torch(built.module, built.input_shape, freeze=freeze, num_classes=num_classes)
            p.check = reconcile_training(built.module, p.count, torch_count)
        except EffprofError as exc:
            p.check_error = f"FlopCounterMode check: {exc.message}"
    if backend:
        budget = {"budget_s": budget_s} if budget_s is not None else {}
        for optimizer in optimizers:
            try:
                p.steps.append(measure_training_step(
                    built.rebuild("cpu"), built.input_shape, freeze=freeze, num_classes=num_classes,
                    optimizer=optimizer, backend=backend, device=device, threads=threads, **budget,
                ))  # fmt: skip
            except EffprofError as exc:
                p.step_errors[optimizer] = exc.message
    if layer_times and backend == "eager" and p.steps:
        try:
            p.layer_times = training_layer_times(
                built.rebuild("cpu"), built.input_shape, freeze=freeze, num_classes=num_classes,
                optimizer=optimizers[0], device=device, threads=threads,
            )  # fmt: skip
        except EffprofError as exc:
            p.layer_times_error = exc.message
    return p



def training_timing(backends: Any, who: str, **options: Any) -> tuple[Timing, str | None]:
    """The resolved Timing of a training run and its one backend (eager or compile; None: count only).
    ``who`` names the command in the error for more than one backend."""
    timing = Timing.parse(backends, **options).resolved()
    if len(timing.backends) > 1:
        raise EffprofError(f"{who} times one backend at a time (eager or compile), got {', '.join(timing.backends)}")
    backend = timing.backends[0] if timing.backends else None
    if backend:
        check_train_backend(backend)
    return timing, backend


def profile_training(
    models: Any | Sequence[Any],
    *,
    freeze: str = "none",
    num_classes: int | None = None,
    optimizers: str | Sequence[str] = "sgd,adamw",
    resolution: Any = None,
    batch: Any = 1,
    backends: str | Sequence[str] | None = "eager",
    device: str = "cpu",
    threads: int | None = None,
    budget_s: float | None = None,
    layers: int = 10,
    check: bool = True,
    on_result: Callable[[TrainingProfile], None] | None = None,
) -> TrainingResult:
    """Training cost of each model (spec or nn.Module; one, or a list) under one freezing strategy.

    ``backends``: "eager" or "compile" (one), or None/"none" to count only. A model that fails
    becomes a row with ``error``; Ctrl-C returns what finished, ``interrupted`` set.

    >>> effprof.profile_training("resnet18", freeze="backbone", num_classes=3).summary()  # doctest: +SKIP
    """
    models = expand_specs([models] if isinstance(models, (str, nn.Module)) else list(models))
    check_specs(models)
    optimizer_names = parse_optimizers(optimizers)
    batch, resolution = parse_batch(batch), parse_resolution(resolution)
    if backends == "auto":  # profile's default: a training step runs in PyTorch, so auto is eager
        backends = "eager"
    timing, backend = training_timing(backends, "--train", device=device, threads=threads, budget_s=budget_s)
    meta = timing_meta(timing) | {"command": "train", "freeze": freeze, "num_classes": num_classes,
                                  "optimizers": list(optimizer_names)}  # fmt: skip
    result = TrainingResult([], meta, top_layers=layers)
    for i, m in enumerate(models):
        label = m if isinstance(m, str) else type(m).__name__
        try:
            with contained(label, "profiling"):
                built = build_model(m, resolution=resolution, batch=batch, device="meta")
                p = train_profile_model(built, freeze=freeze, num_classes=num_classes, optimizers=optimizer_names,
                                        backend=backend, device=timing.device, threads=timing.threads,
                                        budget_s=timing.budget_s, layer_times=len(models) == 1 and layers > 0)  # fmt: skip
        except EffprofError as exc:
            if len(models) == 1 or (i == 0 and exc.exit_code == 2 and _is_setup_error(exc)):
                raise
            p = TrainingProfile(label, freeze=freeze, error=exc.message, exit_code=exc.exit_code)
        except KeyboardInterrupt:
            result.interrupted = True
            break
        result.profiles.append(p)
        if on_result is not None:
            on_result(p)
    return result


def _is_setup_error(exc: EffprofError) -> bool:
    """A mistake in --freeze/--num-classes (same for every model): fail at once instead of per row."""
    return exc.message.startswith(("--freeze", "--num-classes"))
