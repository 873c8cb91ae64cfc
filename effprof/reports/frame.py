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
    row: dict[str, Any] = dict.fromkeys(MODEL_COLUMNS)
    row.update(model=p.model, source=p.source, input_shape=shape_str(p.input_shape), error=p.error)
    if p.count is not None:
        c = p.count
        row.update(params=c.params, macs=c.macs, flops=c.flops, other_ops=c.other_ops, activations=c.activations)
    return row


def layer_rows(p: ModelProfile) -> list[dict[str, Any]]:
    if p.count is None:
        return []
    total = p.count.macs or 1
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
        rows.append(row)
    return rows


def to_frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A DataFrame with ``columns`` first (in order), then any extra keys the rows carry."""
    extra = [k for r in rows for k in r if k not in columns]
    ordered = list(columns) + list(dict.fromkeys(extra))
    return pd.DataFrame(rows, columns=ordered)
