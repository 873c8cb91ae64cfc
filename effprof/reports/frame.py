"""Rows -> pandas DataFrame, with DESIGN.md's column order. Values stay exact; rendering rounds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from effprof.api import ModelProfile

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


def shape_str(shape: tuple[int, ...] | None) -> str:
    """(1, 3, 224, 224) -> '1x3x224x224' (one CSV cell, no commas)."""
    return "x".join(str(d) for d in shape) if shape else ""


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
        row = {**base, **m.to_row()}
        if base["macs"] and m.median_ms > 0:
            row["gmacs_per_s"] = base["macs"] / (m.median_ms / 1e3) / 1e9
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


def layer_rows(p: ModelProfile) -> list[dict[str, Any]]:
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
            model=p.model,
            source=p.source,
            input_shape=shape_str(p.input_shape),
            layer=layer.layer or "(root)",
            type=layer.type,
            op_class=layer.op_class,
            output_shape=shape_str(layer.output_shape),
            params=layer.params,
            macs=layer.macs,
            flops=2 * layer.macs,
            other_ops=layer.other_ops,
            activations=layer.activations,
            bytes=layer.bytes,
            intensity=layer.intensity,
            share_macs=layer.macs / total,
        )
        if lt is not None:
            ms = times.get((layer.layer, layer.op_class), 0.0)
            row.update(backend=lt.backend, device=lt.device, threads=lt.threads, latency_ms=ms,
                       share_latency=ms / total_ms if total_ms else None)  # fmt: skip
        rows.append(row)
    return rows


#: whole-number columns: nullable Int64, so one failed row (no count) does not turn them into floats
INTEGER_COLUMNS = ("params", "macs", "flops", "other_ops", "macs_fvcore", "macs_torch", "activations", "bytes",
                   "runs", "threads")  # fmt: skip


def to_frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A DataFrame with ``columns`` first (in order), then any extra keys the rows carry.

    Count columns are nullable integers (``Int64``): a missing value is ``<NA>``, written as an empty
    CSV cell and JSON null, and the others stay exact integers instead of becoming ``4.1e+07``.
    """
    extra = [k for r in rows for k in r if k not in columns]
    ordered = list(columns) + list(dict.fromkeys(extra))
    df = pd.DataFrame(rows, columns=ordered)
    for column in INTEGER_COLUMNS:
        if column in df.columns:
            # from the rows, not from df: the DataFrame has already made a column with a None float64
            df[column] = _nullable_int([r.get(column) for r in rows], df[column])
    return df


def _nullable_int(values: list[Any], column: pd.Series) -> pd.Series:
    # A column that holds anything but whole numbers (a user's extra key) is left as it is.
    try:
        return pd.Series(pd.array(values, dtype="Int64"), index=column.index, name=column.name)
    except (TypeError, ValueError):
        return column
