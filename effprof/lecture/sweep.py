"""``effprof sweep``: one model over resolutions or widths, with the growth exponent of its MACs.

Rule: count the model at each point (analytic counter, meta device), then fit log MACs against
log pixels (resolution sweep) or log width (width sweep) by least squares. The exponent says how
cost grows: a CNN's MACs and a Swin's window attention are ~linear in pixels (k ~ 1), a ViT's
global attention quadratic (k ~ 2); a width multiplier costs ~width^2 (pointwise convs).

Latency is a hook, not a column yet: pass ``measure`` (a callable taking the BuiltModel and
returning columns such as ``latency_ms``) and its columns join each row.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from effprof.counters.analytic import count_analytic
from effprof.counters.result import OP_CLASSES
from effprof.errors import EffprofError
from effprof.lecture.fit import PowerFit, fit_power_law
from effprof.models.build import BuiltModel, build_model
from effprof.models.spec import ModelSpec, parse_spec

#: keyword a registry factory takes for its width multiplier (MobileNetV1: width, torchvision: width_mult)
WIDTH_KEYWORDS = ("width", "width_mult")
#: op classes whose MACs get a column (the others carry no MACs)
MAC_CLASSES = tuple(c for c in OP_CLASSES if c.startswith("conv") or c in ("linear", "attention"))

Measure = Callable[[BuiltModel], Mapping[str, float]]


@dataclass
class SweepResult:
    """Rows of one sweep (one per point, failures kept as rows with ``error``) and its fits."""

    model: str
    axis: str  # "resolution" | "width"
    rows: list[dict[str, Any]]
    fits: dict[str, PowerFit] = field(default_factory=dict)
    class_columns: list[str] = field(default_factory=list)  # macs_<op class> present in the rows
    extra_columns: list[str] = field(default_factory=list)  # from the ``measure`` hook

    @property
    def x_name(self) -> str:
        return "pixels" if self.axis == "resolution" else "width"

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("error")]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def fits_table(self) -> list[dict[str, Any]]:
        """The fits as rows: quantity, exponent, prefactor, R^2, points."""
        return [
            {"quantity": name, "x": self.x_name, "exponent": f.exponent, "prefactor": f.prefactor, "r2": f.r2,
             "points": f.points}
            for name, f in self.fits.items()
        ]  # fmt: skip

    def reading(self) -> str:
        """One line on what the exponents mean."""
        if self.axis == "width":
            return "k ≈ 2: cost grows with width² (pointwise convs are Cin·Cout); k ≈ 1 where a layer scales in one width only."
        return (
            "k ≈ 1: cost linear in pixels (convs, MLPs, window attention); "
            "k ≈ 2: quadratic (global attention: N² tokens, N ∝ pixels)."
        )

    def __rich__(self):
        from effprof.lecture.render import render_sweep

        return render_sweep(self)


def parse_values(text: str, option: str, kind: type = int) -> list:
    """'128,160,224' -> [128, 160, 224]; a value that is not a positive number raises one line."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        try:
            value = kind(part)
        except ValueError:
            raise EffprofError(f"{option}: {part!r} is not a number (expected e.g. 128,160,224)") from None
        if not value > 0:
            raise EffprofError(f"{option}: values must be positive, got {part}")
        values.append(value)
    if len(set(values)) < 2:
        raise EffprofError(
            f"{option}: give 2 or more distinct comma-separated values to fit a growth exponent"
        )
    return values


def width_keyword(spec: ModelSpec) -> str:
    """The width keyword of a registry model's factory; anything else raises, naming the ones that have one."""
    from effprof.models import get_model_cfg, list_models

    def keyword(factory: Callable) -> str | None:
        params = inspect.signature(factory).parameters
        return next((k for k in WIDTH_KEYWORDS if k in params), None)

    found = keyword(get_model_cfg(spec.name).factory) if spec.kind == "registry" else None
    if found is None:
        able = [c.name for c in list_models() if keyword(c.factory)]
        raise EffprofError(
            f"--width needs a registered model whose factory takes a width keyword "
            f"({' or '.join(WIDTH_KEYWORDS)}); {spec.text or spec.name!r} does not. Models that do: {', '.join(able)}"
        )
    return found


def _point(spec: ModelSpec, resolution: int | None, batch: int, measure: Measure | None) -> dict[str, Any]:
    built = build_model(spec, resolution=resolution, batch=batch)
    counted = count_analytic(built.module, built.input_shape, name=built.label)
    row: dict[str, Any] = {
        "model": built.label,
        "input_shape": "x".join(map(str, built.input_shape)),
        "resolution": built.input_shape[-1],
        "pixels": built.input_shape[-1] * built.input_shape[-2],
        "params": counted.params,
        "macs": counted.macs,
        "flops": counted.flops,
        "other_ops": counted.other_ops,
    }
    by_class = counted.by_op_class()
    for op_class in MAC_CLASSES:
        row[f"macs_{op_class}"] = by_class.get(op_class, {}).get("macs", 0)
    if measure is not None:
        row.update(measure(built))
    return row


def sweep(
    model: str,
    *,
    resolutions: Sequence[int] | None = None,
    widths: Sequence[float] | None = None,
    resolution: int | None = None,
    batch: int = 1,
    measure: Measure | None = None,
    on_point: Callable[[dict[str, Any]], None] | None = None,
) -> SweepResult:
    """Count ``model`` at each resolution (or each width, at ``resolution``) and fit growth exponents.

    Exactly one of ``resolutions``/``widths``. A point the model rejects (a ViT at a resolution its
    patch does not divide) becomes a row with ``error`` and is left out of the fits.
    """
    if (resolutions is None) == (widths is None):
        raise EffprofError("sweep over --resolution or over --width: give exactly one")
    spec = parse_spec(model)
    if spec.kind == "onnx":  # one line before any work, not one failed row per point
        raise EffprofError(f"{spec.name}: an ONNX file has a fixed graph, so there is nothing to sweep; "
                           "sweep a model spec (NAME, tv:NAME, timm:NAME or pkg.module:factory)")  # fmt: skip
    axis = "resolution" if resolutions is not None else "width"
    rows: list[dict[str, Any]] = []
    if axis == "resolution":
        points = [(spec, r) for r in resolutions]
    else:
        keyword = width_keyword(spec)
        points = [
            (
                ModelSpec(spec.kind, spec.name, {**spec.kwargs, keyword: w}, f"{spec.name}({keyword}={w:g})"),
                resolution,
            )
            for w in widths
        ]
    for (point_spec, res), value in zip(points, resolutions or widths, strict=True):
        try:
            row = _point(point_spec, res, batch, measure)
        except EffprofError as exc:
            row = {"model": point_spec.label, "error": exc.message}
        row[axis] = value
        rows.append(row)
        if on_point is not None:
            on_point(row)
    ok = [r for r in rows if not r.get("error")]
    classes = [f"macs_{c}" for c in MAC_CLASSES if any(r.get(f"macs_{c}") for r in ok)]
    extra = [
        k
        for k in (ok[0] if ok else {})
        if measure is not None and k not in _BASE_COLUMNS and k not in classes
    ]
    return SweepResult(model, axis, rows, _fits(ok, axis, classes), classes, extra)


_BASE_COLUMNS = {
    "model",
    "input_shape",
    "resolution",
    "pixels",
    "params",
    "macs",
    "flops",
    "other_ops",
    "width",
} | {f"macs_{c}" for c in MAC_CLASSES}


def _fits(rows: list[dict[str, Any]], axis: str, classes: list[str]) -> dict[str, PowerFit]:
    x_key = "pixels" if axis == "resolution" else "width"
    if len({r[x_key] for r in rows}) < 2:
        return {}
    xs = [r[x_key] for r in rows]
    fits = {"macs": fit_power_law(xs, [r["macs"] for r in rows])}
    if axis == "width":
        fits["params"] = fit_power_law(xs, [r["params"] for r in rows])
    for column in classes:
        values = [r[column] for r in rows]
        if all(v > 0 for v in values):  # a class absent at some point has no exponent
            fits[column] = fit_power_law(xs, values)
    return fits
