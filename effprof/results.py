"""What effprof measured, as typed results: rows with DESIGN.md's columns, ``to_pandas()``, ``meta``, and
the figures each result can draw.

Rule: a result holds exact values; rounding happens only when rendering (effprof.reports). Every
result type says, as class attributes, what it is (``kind``) and which figures it can draw
(``figures``, names that effprof.reports.plots knows), so the file suffixes a command accepts follow
from its result type before any work: ``Result.suffixes()``.

This module sits below the API and the reports: api.py builds these results, reports/ renders and
writes them. It imports nothing heavy at module level (pandas is imported when a frame is made),
so the command line can ask a result type for its suffixes without paying for pandas or torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from effprof.counters.result import CountResult
    from effprof.latency import LayerTimes, Measurement
    from effprof.models import BuiltModel

TABLE_SUFFIXES = (".csv", ".json", ".md", ".html")
PLOT_SUFFIXES = (".png", ".svg")

MODEL_COLUMNS = (
    "model", "source", "input_shape", "params", "macs", "flops", "other_ops", "macs_fvcore",
    "macs_torch", "activations", "backend", "device", "threads", "latency_ms", "latency_iqr_ms",
    "latency_p90_ms", "runs", "gmacs_per_s", "error",
)  # fmt: skip
LAYER_COLUMNS = (
    "model", "source", "input_shape", "layer", "type", "op_class", "output_shape", "params", "macs",
    "flops", "other_ops", "macs_fvcore", "macs_torch", "activations", "bytes", "intensity",
    "backend", "device", "threads", "latency_ms", "share_macs", "share_latency",
)  # fmt: skip
#: whole-number columns: nullable Int64, so one failed row (no count) does not turn them into floats
INTEGER_COLUMNS = ("params", "macs", "flops", "other_ops", "macs_fvcore", "macs_torch", "activations", "bytes",
                   "runs", "threads")  # fmt: skip


def shape_str(shape: tuple[int, ...] | None) -> str:
    """(1, 3, 224, 224) -> '1x3x224x224' (one CSV cell, no commas)."""
    return "x".join(str(d) for d in shape) if shape else ""


def gmacs_per_s(macs: float | None, median_ms: float | None) -> float | None:
    """Achieved rate: MACs / median latency, in GMAC/s; None when either is missing or zero."""
    if not macs or not median_ms or median_ms <= 0:
        return None
    return macs / (median_ms / 1e3) / 1e9


# --- one model ------------------------------------------------------------------------------------


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
    #: one per backend that ran; a backend that failed is in ``latency_errors`` instead
    measurements: list[Measurement] = field(default_factory=list)
    latency_errors: dict[str, str] = field(default_factory=dict)
    #: measured time per module (exclusive), from the first backend that attributes time per layer
    layer_times: LayerTimes | None = None
    #: the other counters' stock answers (fvcore, torch), and any that failed
    counts: dict[str, CountResult] = field(default_factory=dict)
    counter_errors: dict[str, str] = field(default_factory=dict)
    #: counters left out on purpose (not failures): name -> one line saying why, for the table footer
    counter_skipped: dict[str, str] = field(default_factory=dict)

    def reconcile(self, *, completed: bool = False):
        """Where the counters disagree per layer and why (effprof.counters.reconcile).

        ``completed`` reconciles the effprof-completed counters instead of the stock ones.
        """
        # Imported on use, for startup speed: the command line reads this module for its suffixes.
        from effprof.counters.reconcile import reconcile
        from effprof.errors import EffprofError

        if self.count is None:
            raise EffprofError(f"{self.model}: nothing was counted, so there is nothing to reconcile")
        others = {name: c for name, c in self.counts.items() if name.endswith("+effprof") == completed}
        if not others:
            raise EffprofError(f"{self.model}: reconciling needs fvcore or torch counts (--counters analytic,fvcore,torch)")
        return reconcile({"analytic": self.count, **others})

    def failures(self) -> list[str]:
        """What was requested of this model and not measured: its count, a backend, per-layer time, a counter."""
        if self.error:
            return [self.error]
        return [f"{what}: {message}" for what, message in (*self.latency_errors.items(), *self.counter_errors.items())]

    def model_rows(self) -> list[dict[str, Any]]:
        """Model-level rows (DESIGN.md columns): one per backend, or one when nothing was timed."""
        return model_rows(self)

    def layer_rows(self) -> list[dict[str, Any]]:
        """Layer-level rows (DESIGN.md columns), in forward order."""
        return layer_rows(self)


def model_row(p: ModelProfile) -> dict[str, Any]:
    """The counts of one model, with no latency columns filled."""
    row: dict[str, Any] = dict.fromkeys(MODEL_COLUMNS)
    row.update(model=p.model, source=p.source, input_shape=shape_str(p.input_shape), error=p.error)
    if p.count is not None:
        c = p.count
        row.update(params=c.params, macs=c.macs, flops=c.flops, other_ops=c.other_ops, activations=c.activations)
    for name, column in (("fvcore", "macs_fvcore"), ("torch", "macs_torch")):
        if name in p.counts:
            row[column] = p.counts[name].macs
    return row


def model_rows(p: ModelProfile) -> list[dict[str, Any]]:
    """One row per backend timed (a failed backend keeps its row, with ``error``); one if none was."""
    base = model_row(p)
    rows = []
    for m in p.measurements:
        row = {**base, **m.to_row(), "gmacs_per_s": gmacs_per_s(base["macs"], m.median_ms)}
        if m.parity_max_abs_diff is not None:
            row["parity_max_abs_diff"] = m.parity_max_abs_diff
        if m.warnings:
            row["warnings"] = "; ".join(m.warnings)
        rows.append(row)
    for backend, message in p.latency_errors.items():
        if " " not in backend:  # "eager per layer" failures stay off the model rows
            rows.append({**base, "backend": backend, "error": message})
    return rows or [base]


def layer_latency_ms(p: ModelProfile) -> dict[tuple[str, str], float]:
    """Measured exclusive time per (module, op class) row (``LayerTimes.row_ms``: split by bytes moved)."""
    if p.layer_times is None or p.count is None:
        return {}
    return p.layer_times.row_ms(p.count.layers)


def op_class_latency_ms(p: ModelProfile) -> dict[str, float]:
    """Measured time per op class (the sum of its layer rows' attributed time); {} when not timed per layer."""
    by_class: dict[str, float] = {}
    for (_, op_class), ms in layer_latency_ms(p).items():
        by_class[op_class] = by_class.get(op_class, 0.0) + ms
    return by_class


def layer_rows(p: ModelProfile) -> list[dict[str, Any]]:
    """One row per (module, op class) with its counts, its share of MACs and, when timed, of time."""
    if p.count is None:
        return []
    total = p.count.macs or 1
    times = layer_latency_ms(p)
    total_ms = sum(times.values())
    lt = p.layer_times
    rows = []
    for layer in p.count.layers:
        row: dict[str, Any] = dict.fromkeys(LAYER_COLUMNS)
        row.update(
            model=p.model, source=p.source, input_shape=shape_str(p.input_shape), layer=layer.layer or "(root)",
            type=layer.type, op_class=layer.op_class, output_shape=shape_str(layer.output_shape),
            params=layer.params, macs=layer.macs, flops=2 * layer.macs, other_ops=layer.other_ops,
            activations=layer.activations, bytes=layer.bytes, intensity=layer.intensity,
            share_macs=layer.macs / total,
        )  # fmt: skip
        if lt is not None:
            ms = times.get((layer.layer, layer.op_class), 0.0)
            row.update(backend=lt.backend, device=lt.device, threads=lt.threads, latency_ms=ms,
                       share_latency=ms / total_ms if total_ms else None)  # fmt: skip
        rows.append(row)
    return rows


def op_class_rows(p: ModelProfile) -> list[dict[str, Any]]:
    """One row per op class, heaviest in MACs first: layers, params, MACs, other ops, their shares and time."""
    if p.count is None:
        return []
    c = p.count
    times = op_class_latency_ms(p)
    total_ms = sum(times.values())
    rows = []
    for op_class, v in sorted(c.by_op_class().items(), key=lambda kv: -kv[1]["macs"]):
        share_macs = v["macs"] / c.macs if c.macs else 0.0
        row = {"op_class": op_class, "layers": v["layers"], "params": v["params"],
               "share_params": v["params"] / c.params if c.params else None, "macs": v["macs"],
               "share_macs": share_macs, "other_ops": v["other_ops"]}  # fmt: skip
        if times:
            share_time = times.get(op_class, 0.0) / total_ms if total_ms else 0.0
            row.update(latency_ms=times.get(op_class, 0.0), share_latency=share_time,
                       time_per_macs=share_time / share_macs if share_macs else None)  # fmt: skip
        rows.append(row)
    return rows


def to_frame(rows: list[dict[str, Any]], columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A DataFrame with ``columns`` first (in order), then any extra keys the rows carry.

    Count columns are nullable integers (``Int64``): a missing value is ``<NA>``, written as an empty
    CSV cell and JSON null, and the others stay exact integers instead of becoming ``4.1e+07``.
    """
    import pandas as pd  # on use, for startup speed (see the module docstring)

    extra = [k for r in rows for k in r if k not in columns]
    ordered = list(columns) + list(dict.fromkeys(extra))
    df = pd.DataFrame(rows, columns=ordered)
    for column in INTEGER_COLUMNS:
        if column in df.columns:
            # from the rows, not from df: the DataFrame has already made a column with a None float64
            df[column] = _nullable_int([r.get(column) for r in rows], df[column])
    return df


def _nullable_int(values: list[Any], column: pd.Series) -> pd.Series:
    import pandas as pd

    # A column that holds anything but whole numbers (a user's extra key) is left as it is.
    try:
        return pd.Series(pd.array(values, dtype="Int64"), index=column.index, name=column.name)
    except (TypeError, ValueError):
        return column


# --- result types ---------------------------------------------------------------------------------

#: result type -> the function that renders it for rich (registered by effprof.reports.render)
_RENDERERS: dict[type, Callable[..., Any]] = {}


def renders(result_type: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(result, width=..., wide=...)`` as the rich rendering of ``result_type`` (and its subclasses)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _RENDERERS[result_type] = fn
        return fn

    return register


def renderer_of(result: Any) -> Callable[..., Any] | None:
    """The registered renderer of ``result``'s type or its nearest base; None when there is none."""
    return next((_RENDERERS[t] for t in type(result).__mro__ if t in _RENDERERS), None)


class Result:
    """What every result has: ``meta``, ``to_pandas()``, its ``kind`` and the ``figures`` it can draw.

    ``json_frame()`` is what ``-o x.json`` writes as its rows (``to_pandas()`` unless a result keeps
    more for machines than for tables) and ``json_extra()`` the other top-level keys beside ``meta``.
    """

    kind: ClassVar[str] = "table"
    #: figure names (effprof.reports.plots.FIGURES); the first is what ``-o x.png`` draws
    figures: ClassVar[tuple[str, ...]] = ()
    meta: dict[str, Any]

    @classmethod
    def suffixes(cls) -> tuple[str, ...]:
        """The ``-o`` suffixes this result can be written as: tables always, plots when it has a figure."""
        return TABLE_SUFFIXES + (PLOT_SUFFIXES if cls.figures else ())

    @property
    def title(self) -> str:
        return f"effprof {self.kind}"

    def to_pandas(self) -> pd.DataFrame:
        raise NotImplementedError

    def json_frame(self) -> pd.DataFrame:
        return self.to_pandas()

    def json_extra(self) -> dict[str, Any]:
        return {}

    def __rich_console__(self, console, options):
        render = renderer_of(self)
        if render is None:  # effprof.reports.render not imported: the rows, as pandas prints them
            yield str(self.to_pandas())
            return
        yield render(self, width=options.max_width)


@dataclass
class ProfileResult(Result):
    """One model's profile: ``to_pandas()`` gives its layer rows, ``model_frame()`` one row per backend."""

    kind: ClassVar[str] = "profile"
    figures: ClassVar[tuple[str, ...]] = ("profile",)

    profile: ModelProfile
    meta: dict[str, Any]
    top_layers: int = 10
    show_reconcile: bool = False

    @property
    def title(self) -> str:
        return f"effprof profile: {self.profile.model}"

    def reconciliation(self, *, completed: bool = False):
        """Per-layer disagreements between the counters, with reasons and coverage."""
        return self.profile.reconcile(completed=completed)

    def summary(self) -> dict[str, Any]:
        """The model-level row of the first backend (or the counts alone when nothing was timed)."""
        return self.profile.model_rows()[0]

    def to_pandas(self) -> pd.DataFrame:
        return to_frame(self.profile.layer_rows(), LAYER_COLUMNS)

    def model_frame(self) -> pd.DataFrame:
        """One model-level row per backend (DESIGN.md model columns), failed backends with ``error``."""
        return to_frame(self.profile.model_rows(), MODEL_COLUMNS)

    def op_class_frame(self) -> pd.DataFrame:
        return to_frame(op_class_rows(self.profile))

    def export_frame(self) -> pd.DataFrame:
        """What a CSV or Markdown file holds: the model rows (one per backend), then the layer rows.

        ``level`` says which a row is ("model" or "layer"): sum a column over ``level == "layer"``.
        """
        import pandas as pd

        models, layers = self.model_frame(), self.to_pandas()
        models.insert(0, "level", "model")
        layers.insert(0, "level", "layer")
        return pd.concat([models, layers], ignore_index=True)

    def json_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"summary": self.summary(), "models": self.profile.model_rows(),
                                 "op_classes": op_class_rows(self.profile)}  # fmt: skip
        if self.show_reconcile:
            extra["reconcile"] = {
                kind: {"coverage": rec.coverage, "rows": rec.to_rows(only_disagreements=True)}
                for kind, rec in (("stock", self.reconciliation()), ("completed", self.reconciliation(completed=True)))
            }
        return extra


@dataclass
class CompareResult(Result):
    """Several models side by side: ``to_pandas()`` gives one model-level row per model (and backend)."""

    kind: ClassVar[str] = "compare"
    figures: ClassVar[tuple[str, ...]] = ("compare",)

    profiles: list[ModelProfile]
    meta: dict[str, Any]
    interrupted: bool = False
    #: how many models the run set out to profile (the progress total)
    planned: int = 0

    @property
    def failed(self) -> list[ModelProfile]:
        return [p for p in self.profiles if p.error]

    def to_pandas(self) -> pd.DataFrame:
        return to_frame(self.rows(), MODEL_COLUMNS)

    def rows(self) -> list[dict[str, Any]]:
        return [row for p in self.profiles for row in p.model_rows()]


@dataclass
class TableResult(Result):
    """A result that is one table of plain rows (``effprof list``, ``hw``, ``formulas``, ``scale``...).

    ``extra`` holds the other top-level keys of its JSON; ``source`` the library object the rows
    came from (what a figure or a rich rendering may need).
    """

    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    source: Any = field(default=None, repr=False)

    def to_pandas(self) -> pd.DataFrame:
        return to_frame(self.rows)

    def json_extra(self) -> dict[str, Any]:
        return dict(self.extra)


class ModelListResult(TableResult):
    """``effprof list``: one row per registered model (family, resolution, params, the paper's figures)."""

    kind = "list"


class LimitsResult(TableResult):
    """``effprof hw``: one row per measured ceiling; ``source`` is the DeviceLimits."""

    kind = "hw"


class ChecksResult(TableResult):
    """``effprof formulas``: one row per checked quantity (formula value, counted, error, verdict)."""

    kind = "formulas"


class ScaleResult(TableResult):
    """``effprof scale``: EfficientNet B0-B7 next to 2^phi and the literal compound rule."""

    kind = "scale"
    figures = ("scale",)


class SweepReport(TableResult):
    """``effprof sweep``: one row per point; ``source`` is the lecture SweepResult (its fits, its plot)."""

    kind = "sweep"
    figures = ("sweep",)


class PredictReport(TableResult):
    """``effprof predict``: one row per model; ``source`` is the hardware PredictionResult."""

    kind = "predict"
    figures = ("predict",)


@dataclass
class RooflineReport(Result):
    """``profile --roofline``: the profile's layer rows with the roofline columns; ``roofline`` the Roofline."""

    kind: ClassVar[str] = "profile"
    figures: ClassVar[tuple[str, ...]] = ("roofline",)

    profile: ProfileResult
    roofline: Any
    rows_frame: Any = field(default=None, repr=False)  # the layer rows with bound, roofline_ms, efficiency

    @property
    def meta(self) -> dict[str, Any]:  # type: ignore[override]
        return self.profile.meta

    @property
    def title(self) -> str:
        return f"effprof profile --roofline: {self.profile.profile.model}"

    def to_pandas(self) -> pd.DataFrame:
        return self.rows_frame if self.rows_frame is not None else self.profile.to_pandas()

    def json_extra(self) -> dict[str, Any]:
        return {**self.profile.json_extra(), "roofline": self.roofline.summary()}
