"""The Python API: ``profile`` one model, ``compare`` several. The CLI is a thin layer over these.

Both accept a spec string or an nn.Module the caller already holds, and return results whose
``.to_pandas()`` gives DESIGN.md's rows and whose rich rendering is what the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.counters.result import CountResult
from effprof.errors import EffprofError
from effprof.models import BuiltModel, build_model, parse_spec
from effprof.reports import frame
from effprof.reports.meta import run_meta

ModelLike = str | nn.Module


@dataclass
class ModelProfile:
    """Everything measured about one model at one input shape; ``error`` set when it failed."""

    model: str
    source: str = ""
    input_shape: tuple[int, ...] = ()
    count: CountResult | None = None
    error: str | None = None
    exit_code: int = 0
    built: BuiltModel | None = field(default=None, repr=False)

    def model_rows(self) -> list[dict[str, Any]]:
        """Model-level rows (DESIGN.md columns)."""
        return [frame.model_row(self)]

    def layer_rows(self) -> list[dict[str, Any]]:
        """Layer-level rows (DESIGN.md columns), in forward order."""
        return frame.layer_rows(self)


@dataclass
class ProfileResult:
    """One model's profile: ``to_pandas()`` gives its layer rows, ``summary()`` its model row."""

    profile: ModelProfile
    meta: dict[str, Any]
    top_layers: int = 10

    def summary(self) -> dict[str, Any]:
        return self.profile.model_rows()[0]

    def to_pandas(self) -> pd.DataFrame:
        return frame.to_frame(self.profile.layer_rows(), frame.LAYER_COLUMNS)

    def __rich__(self):
        from effprof.reports.render import render_profile

        return render_profile(self)


@dataclass
class CompareResult:
    """Several models side by side: ``to_pandas()`` gives one model-level row per model (and backend)."""

    profiles: list[ModelProfile]
    meta: dict[str, Any]

    @property
    def failed(self) -> list[ModelProfile]:
        return [p for p in self.profiles if p.error]

    def to_pandas(self) -> pd.DataFrame:
        rows = [row for p in self.profiles for row in p.model_rows()]
        return frame.to_frame(rows, frame.MODEL_COLUMNS)

    def __rich__(self):
        from effprof.reports.render import render_compare

        return render_compare(self)


def _built(model: ModelLike | BuiltModel, input_shape, resolution, batch) -> BuiltModel:
    if isinstance(model, BuiltModel):
        return model
    if input_shape is not None:
        shape = tuple(int(d) for d in input_shape)
        if any(d <= 0 for d in shape):
            raise EffprofError(f"input_shape must be all positive, got {shape}")
        if isinstance(model, nn.Module):
            return BuiltModel(model, type(model).__name__, "module", shape)
        batch, resolution = shape[0], shape[-1]
    return build_model(model, resolution=resolution, batch=batch, device="meta")


def profile_model(
    model: ModelLike | BuiltModel,
    *,
    input_shape: Sequence[int] | None = None,
    resolution: int | None = None,
    batch: int = 1,
) -> ModelProfile:
    """Count one model; raises EffprofError on a bad spec or a shape the model rejects."""
    built = _built(model, input_shape, resolution, batch)
    count = count_analytic(built.module, built.input_shape, name=built.label)
    return ModelProfile(built.label, built.source, built.input_shape, count, built=built)


def profile(
    model: ModelLike,
    *,
    input_shape: Sequence[int] | None = None,
    resolution: int | None = None,
    batch: int = 1,
    layers: int = 10,
) -> ProfileResult:
    """Profile one model (spec string or nn.Module): totals, MACs by op class, per-layer rows.

    >>> effprof.profile("mobilenet_v2").summary()["macs"]   # doctest: +SKIP
    300774272
    """
    result = profile_model(model, input_shape=input_shape, resolution=resolution, batch=batch)
    return ProfileResult(result, run_meta(), top_layers=layers)


def check_specs(models: Sequence[ModelLike]) -> None:
    """Parse every spec before any work starts, so a typo fails at once (exit 2), not after minutes."""
    from effprof.models import get_model_cfg

    for m in models:
        if isinstance(m, str):
            spec = parse_spec(m)
            if spec.kind == "registry":
                get_model_cfg(spec.name)


def compare(
    models: Sequence[ModelLike],
    *,
    resolution: int | None = None,
    batch: int = 1,
    on_result: Callable[[ModelProfile], None] | None = None,
) -> CompareResult:
    """Profile each model; one that fails becomes a row with ``error`` and the others still report.

    ``resolution`` None means each model's own default. ``on_result`` is called as each model
    finishes (the CLI advances its progress bar there).
    """
    if not models:
        raise EffprofError("compare needs at least one model spec, e.g. effprof compare mobilenet_v2 resnet50")
    check_specs(models)
    profiles: list[ModelProfile] = []
    for m in models:
        label = m if isinstance(m, str) else type(m).__name__
        try:
            p = profile_model(m, resolution=resolution, batch=batch)
        except EffprofError as exc:
            p = ModelProfile(label, error=exc.message, exit_code=exc.exit_code)
        profiles.append(p)
        if on_result is not None:
            on_result(p)
    return CompareResult(profiles, run_meta())
