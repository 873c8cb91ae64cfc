"""The Python API: ``profile`` one model, ``compare`` several. The CLI is a thin layer over these.

Both accept a spec string or an nn.Module the caller already holds, and return results
(effprof.results) whose ``.to_pandas()`` gives DESIGN.md's rows and whose rich rendering
(effprof.reports.render, registered on import here) is what the CLI prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.errors import EffprofError
from effprof.latency.contention import ThreadChoice
from effprof.models import (
    BuiltModel,
    build_model,
    check_input_shape,
    check_specs,  # re-exported: the one spec check lives with the models
    contained,
    parse_batch,
    parse_resolution,
    parse_spec,
)
from effprof.models.spec import check_spec_length, shown
from effprof.reports import render  # noqa: F401  (registers the rich renderings of the results)
from effprof.reports.meta import run_meta
from effprof.results import CompareResult, ModelProfile, ProfileResult

__all__ = ["CompareResult", "ModelProfile", "ProfileResult", "Timing", "compare", "profile"]

ModelLike = str | nn.Module


COUNTERS = ("analytic", "fvcore", "torch")
#: fvcore runs the model for real on the CPU, so by default it runs only up to this size
#: (effprof.counters.fvcore.FVCORE_AUTO_MAX_GMACS); FlopCounterMode counts on meta at any size
AUTO_COUNTERS_MAX_GMACS = 5.0


def parse_counters(spec: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``"analytic,fvcore,torch"`` -> a tuple; None means automatic (the extras when they are cheap)."""
    if spec is None or spec == "auto":
        return None
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec) if n.strip()]
    unknown = [n for n in names if n not in COUNTERS]
    if unknown or not names:
        raise EffprofError(f"unknown counter {', '.join(unknown) or '(none)'}: use a comma-separated list of {', '.join(COUNTERS)} (or auto)")
    return tuple(dict.fromkeys(["analytic", *names]))


def _extra_counts(p: ModelProfile, counters: tuple[str, ...] | None, *, completed: bool = False) -> None:
    """Run fvcore (on CPU tensors, as its users do) and FlopCounterMode (on meta; CPU where meta fails)."""
    from effprof.counters.fvcore import count_fvcore, fvcore_skip_reason
    from effprof.counters.torch_mode import count_torch

    if p.built is None or p.count is None:
        return
    if counters is None:
        counters = COUNTERS
        skipped = fvcore_skip_reason(p.count.macs)
        if skipped:
            p.counter_skipped["fvcore"] = skipped
            counters = tuple(c for c in COUNTERS if c != "fvcore")
    runs = {"fvcore": lambda m, c: count_fvcore(m, p.input_shape, completed=c),
            "torch": lambda m, c: count_torch(m, p.input_shape, completed=c, device="auto")}  # fmt: skip
    for name in counters:
        if name not in runs:
            continue
        for done in (False, True) if completed else (False,):
            key = f"{name}+effprof" if done else name
            try:
                p.counts[key] = runs[name](p.built.module, done)
            except EffprofError as exc:
                p.counter_errors[key] = exc.message


@dataclass(frozen=True)
class Timing:
    """How to time: which backends (empty = count only), on which device, with how many threads.

    ``threads`` is the user's request (None: the thread policy decides) until ``resolved()`` turns it
    into the ThreadChoice the whole run times with, made once, just before timing starts.
    """

    backends: tuple[str, ...] = ()
    device: str = "cpu"
    threads: int | ThreadChoice | None = None
    budget_s: float | None = None
    #: attribute measured time to layers (profile does, compare does not: it costs a profiled run)
    per_layer: bool = False

    @classmethod
    def parse(cls, backends: str | Sequence[str] | None, **kwargs: Any) -> Timing:
        """``"eager,onnxruntime"`` (or a list); None, "" or "none" mean count only.

        A bad device, thread count or budget fails here, before any work.
        """
        from effprof.latency import parse_backends
        from effprof.latency.devices import check_device, check_threads
        from effprof.latency.registry import check_backends_on
        from effprof.latency.runner import check_budget

        if backends is None or backends == "" or backends == "none" or list(backends) == ["none"]:
            return cls((), **kwargs)
        timing = cls(tuple(parse_backends(backends)), **kwargs)
        check_device(timing.device)  # a CUDA request on a CPU machine fails before any work
        check_backends_on(timing.backends, timing.device)  # e.g. onnxruntime without its CUDA provider
        check_threads(timing.threads)
        if timing.budget_s is not None:
            check_budget(timing.budget_s)
        return timing

    def resolved(self) -> Timing:
        """This timing with its threads chosen (the policy samples the machine's load once, here)."""
        from effprof.latency.devices import thread_choice

        if not self.backends or isinstance(self.threads, ThreadChoice):
            return self
        return dataclasses.replace(self, threads=thread_choice(self.threads))


def _built(model: ModelLike | BuiltModel, input_shape, resolution, batch) -> BuiltModel:
    """The model built on meta for ``input_shape`` exactly as given (any H and W, any channels), else
    for ``resolution`` (one side, "HxW" or (H, W)) and ``batch``."""
    if isinstance(model, BuiltModel):
        return model
    if input_shape is None:
        return build_model(model, resolution=resolution, batch=batch, device="meta")
    shape = check_input_shape(input_shape)
    if isinstance(model, nn.Module):
        return BuiltModel(model, type(model).__name__, "module", shape)
    # The spec learns (H, W) (a ViT sizes its position embedding by it); the shape is kept whole.
    spatial = shape[-2:] if len(shape) >= 3 else resolution
    built = build_model(model, resolution=spatial, batch=shape[0], device="meta")
    return dataclasses.replace(built, input_shape=shape)


def _label(model: ModelLike | BuiltModel) -> str:
    """How a model is named in its error row before it is built."""
    if isinstance(model, BuiltModel):
        return model.label
    if isinstance(model, str):
        return model if len(model) <= 80 else model[:80] + "..."
    return type(model).__name__


def time_profile(p: ModelProfile, timing: Timing) -> None:
    """Measure each backend; a failing backend is recorded, the others still run."""
    from effprof import latency

    options: dict[str, Any] = {"device": timing.device, "threads": timing.threads}
    budget = {"budget_s": timing.budget_s} if timing.budget_s is not None else {}
    onnx_file = p.source == "onnx"
    module = None
    if not onnx_file:
        assert p.built is not None
        module = p.built.rebuild("cpu")
    for backend in timing.backends:
        try:
            if onnx_file:
                if backend != "onnxruntime":
                    raise EffprofError(f"an .onnx file runs on the onnxruntime backend only, not {backend}")
                m = latency.measure_onnx_file(p.model, p.input_shape, **options, **budget)
            else:
                m = latency.measure(module, p.input_shape, backend, cache_key=p.model, **options, **budget)
            p.measurements.append(m)
        except EffprofError as exc:
            p.latency_errors[backend] = exc.message
            continue
        if timing.per_layer and p.layer_times is None and backend in latency.per_layer.PER_LAYER_BACKENDS:
            try:
                if onnx_file:
                    p.layer_times = latency.per_layer_onnx_file(p.model, p.input_shape, **options)
                else:
                    p.layer_times = latency.per_layer_times(
                        module, p.input_shape, backend, cache_key=p.model, **options
                    )
            except EffprofError as exc:
                p.latency_errors[f"{backend} per layer"] = exc.message


def profile_model(
    model: ModelLike | BuiltModel,
    *,
    input_shape: Sequence[int] | None = None,
    resolution: int | None = None,
    batch: int = 1,
    timing: Timing | None = None,
    counters: tuple[str, ...] | None = ("analytic",),
    completed: bool = False,
) -> ModelProfile:
    """Count one model (with the other ``counters`` too; None = automatic), then time it as ``timing`` asks.

    Raises EffprofError on a bad spec, size or shape; anything the model's own code raises
    (``sys.exit()`` in forward, a BaseException) becomes EffprofError(exit_code=1) naming the model,
    and only a real Ctrl-C/SIGTERM passes. A backend that fails to run is recorded on the profile
    (``latency_errors``) instead.
    """
    batch = parse_batch(batch)
    resolution = parse_resolution(resolution)
    if isinstance(model, str):
        check_specs([model])
    with contained(_label(model), "profiling"):
        return _profile_model(model, input_shape, resolution, batch, timing, counters, completed)


def _profile_model(model, input_shape, resolution, batch, timing, counters, completed) -> ModelProfile:
    if isinstance(model, str) and parse_spec(model).kind == "onnx":
        from effprof.counters.onnx_graph import count_onnx

        path = parse_spec(model).name
        shape = check_input_shape(input_shape) if input_shape is not None else None
        check_onnx_shape(path, shape, batch=batch if batch != 1 else None, resolution=resolution)
        count = count_onnx(path, shape, batch=batch if batch != 1 else None, resolution=resolution)
        result = ModelProfile(path, "onnx", count.input_shape, count)
    else:
        built = _built(model, input_shape, resolution, batch)
        count = count_analytic(built.module, built.input_shape, name=built.label)
        result = ModelProfile(built.label, built.source, built.input_shape, count, built=built)
        _extra_counts(result, counters, completed=completed)
    if timing is not None and timing.backends:
        time_profile(result, timing)
    return result


def _onnx_declared_input(path: str) -> list[int | None] | None:
    """The declared dims of an ONNX file's one input (None for a dynamic dim); None when unreadable or
    multi-input (count_onnx says why). Reads the graph only, not external weights."""
    import onnx

    try:
        graph = onnx.load(path, load_external_data=False).graph
    except Exception:  # noqa: BLE001 - count_onnx reports an unreadable file in its own words
        return None
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        return None
    return [int(d.dim_value) if d.HasField("dim_value") else None for d in inputs[0].type.tensor_type.shape.dim]


def check_onnx_shape(path: str, shape: tuple[int, ...] | None, *, batch: int | None, resolution: Any) -> None:
    """Refuse a requested size that a fixed-shape ONNX input does not have (exit 2), before any counting.

    An exported graph with fixed dims was traced at that size: its reshapes and pooling are baked in,
    so recounting it at another size would be a silent guess and ONNX Runtime would refuse to run it.
    """
    declared = _onnx_declared_input(path)
    if not declared:
        return
    wanted: list[int | None] = list(shape) if shape is not None else [None] * len(declared)
    if shape is None and batch is not None:
        wanted[0] = batch
    if shape is None and resolution is not None and len(declared) >= 3:
        wanted[-2:] = [resolution, resolution] if isinstance(resolution, int) else list(resolution)
    if len(wanted) != len(declared):
        return  # count_onnx names the rank mismatch
    clash = [(d, w) for d, w in zip(declared, wanted, strict=True) if d is not None and w is not None and d != w]
    if clash:
        fixed = "x".join("?" if d is None else str(d) for d in declared)
        asked = "x".join(str(w if w is not None else d if d is not None else "?") for d, w in zip(declared, wanted, strict=True))
        raise EffprofError(f"{shown(path)} has a fixed input shape {fixed}; the requested {asked} does not match "
                           "it: drop -r/-b (or give its own size), or export the model with dynamic axes")  # fmt: skip


def default_backends(model: ModelLike) -> str:
    """The backend ``profile`` times on when none is named: onnxruntime for an .onnx file, else eager."""
    if isinstance(model, str) and parse_spec(model).kind == "onnx":
        return "onnxruntime"
    return "eager"


def profile(
    model: ModelLike,
    *,
    input_shape: Sequence[int] | None = None,
    resolution: int | None = None,
    batch: int = 1,
    backends: str | Sequence[str] | None = None,
    device: str = "cpu",
    threads: int | None = None,
    budget_s: float | None = None,
    layers: int = 10,
    counters: str | Sequence[str] | None = None,
    reconcile: bool = False,
) -> ProfileResult:
    """Profile one model (spec string or nn.Module): totals, MACs by op class, per-layer rows.

    With ``backends`` (e.g. "eager" or ["eager", "onnxruntime"]; "auto": onnxruntime for an .onnx
    file, else eager) it also measures latency and attributes the measured time to layers and op classes. ``counters`` adds fvcore's and
    FlopCounterMode's answers (default: when the model is small enough for them to be quick);
    ``reconcile`` runs all three, stock and effprof-completed, for ``ProfileResult.reconciliation``.

    >>> effprof.profile("mobilenet_v2").summary()["macs"]   # doctest: +SKIP
    300774272

    One training step instead (backward MACs, step time, memory): ``effprof.profile_training``.
    """
    if backends == "auto":
        if isinstance(model, str):
            check_specs([model])
        backends = default_backends(model)
    timing = Timing.parse(backends, device=device, threads=threads, budget_s=budget_s, per_layer=True).resolved()
    chosen = COUNTERS if reconcile else parse_counters(counters)
    result = profile_model(
        model, input_shape=input_shape, resolution=resolution, batch=batch, timing=timing,
        counters=chosen, completed=reconcile,
    )  # fmt: skip
    return ProfileResult(result, timing_meta(timing), top_layers=layers, show_reconcile=reconcile)


def timing_meta(timing: Timing) -> dict[str, Any]:
    """The report ``meta`` for a run timed as ``timing`` asks: versions, machine, device, threads and why."""
    from effprof.latency import environment

    threads: dict[str, Any] = {"threads": timing.threads}
    if isinstance(timing.threads, ThreadChoice):
        choice = timing.threads
        threads = {"threads": choice.threads, "threads_reason": choice.reason, "usable_cores": choice.usable_cores,
                   "others_cores_before_timing": choice.others_cores}  # fmt: skip
    return run_meta(environment=environment(timing.device if timing.backends else "cpu"),
                    device=timing.device, **threads, backends=list(timing.backends))  # fmt: skip


def expand_specs(models: Sequence[ModelLike]) -> list[ModelLike]:
    """Registry wildcards become the names they match: ``"mobilenet*"``, or ``"*"`` for the whole registry."""
    from effprof.models import list_models

    expanded: list[ModelLike] = []
    for m in models:
        if isinstance(m, str):
            check_spec_length(m)  # before fnmatch compiles it
        if isinstance(m, str) and any(ch in m for ch in "*?[") and "(" not in m and ":" not in m:
            matched = [cfg.name for cfg in list_models(m)]
            if not matched:
                raise EffprofError(f"no registered model matches {m!r}; run `effprof list` to see them all")
            expanded.extend(matched)
        else:
            expanded.append(m)
    return expanded


def compare(
    models: Sequence[ModelLike],
    *,
    resolution: int | None = None,
    batch: int = 1,
    backends: str | Sequence[str] | None = None,
    device: str = "cpu",
    threads: int | None = None,
    budget_s: float | None = None,
    counters: str | Sequence[str] | None = None,
    on_progress: Callable[[CompareResult], None] | None = None,
) -> CompareResult:
    """Profile each model; one that fails becomes a row with ``error`` and the others still report.

    ``resolution`` None means each model's own default. Every spec, size, backend, device, thread
    count, budget and counter is checked before any work (EffprofError, exit 2). ``on_progress``
    gets the result so far: once when the work starts (no profiles yet; ``planned`` models), then
    after each model (the CLI moves its progress and rewrites its files there, so an interrupt keeps
    what finished). Ctrl-C stops the run and returns the models already finished, ``interrupted`` set.
    """
    models = expand_specs(models)
    if not models:
        raise EffprofError("compare needs at least one model spec, e.g. effprof compare mobilenet_v2 resnet50")
    check_specs(models)
    batch, resolution = parse_batch(batch), parse_resolution(resolution)  # a bad size fails before any work
    timing = Timing.parse(backends, device=device, threads=threads, budget_s=budget_s)
    chosen = parse_counters(counters)
    timing = timing.resolved()  # threads chosen once, so every model times with the same count
    result = CompareResult([], timing_meta(timing), planned=len(models))
    try:
        if on_progress is not None:
            on_progress(result)
        for m in models:
            try:
                p = profile_model(m, resolution=resolution, batch=batch, timing=timing, counters=chosen)
            except EffprofError as exc:
                p = ModelProfile(_label(m), error=exc.message, exit_code=exc.exit_code)
            result.profiles.append(p)
            if on_progress is not None:
                on_progress(result)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (effprof.cli raises it): keep every finished model
        result.interrupted = True
    return result
