"""The training figures: ``profile --train``/``compare --train`` (forward, grad-input and grad-weight MACs
per image, stacked per model and freezing strategy) and ``effprof finetune`` (strategies A, B, C side by
side: MACs, time when timed, and memory for the run's epochs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from effprof.reports.plots.style import nothing_to_plot, pyplot, save

STRATEGY_COLOURS = ("#4c72b0", "#dd8452", "#55a868")


def plot_training(df: pd.DataFrame, path: Path, title: str = "effprof training") -> Path:
    """Stacked bars per model and strategy: forward, backward grad-input and grad-weight MACs per image."""
    ok = df[df["forward_macs"].notna()].drop_duplicates(["model", "freeze"]) if "forward_macs" in df.columns else df.iloc[0:0]
    if ok.empty:
        raise nothing_to_plot("no model was counted (every row failed)")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(ok)), 4), dpi=120)
    labels = [f"{m}\n{f}" for m, f in zip(ok["model"], ok["freeze"], strict=True)]
    batch = ok["training_macs"].astype(float) / ok["training_macs_per_image"].astype(float)
    bottom = pd.Series([0.0] * len(ok), index=ok.index)
    for column, name in (("forward_macs", "forward"), ("grad_input_macs", "grad-input"), ("grad_weight_macs", "grad-weight")):
        values = ok[column].astype(float) / batch / 1e9
        ax.bar(labels, values, bottom=bottom, label=name)
        bottom = bottom + values
    ax.set_ylabel("GMACs per image")
    ax.set_title(f"{title}: one training step", fontsize=9)
    ax.legend(fontsize=8)
    save(fig, path)
    return path


def plot_finetune(df: pd.DataFrame, path: Path, title: str = "effprof finetune") -> Path:
    """Bars per strategy: total MACs, total time (when timed) and memory, for the run's epochs."""
    if df.empty:
        raise nothing_to_plot("no strategy was counted")
    plt = pyplot()
    rows = df.drop_duplicates("strategy")
    panels = [("total_macs", "GMACs, all epochs", 1e9), ("memory_analytic_bytes", "memory (MiB, analytic)", 2**20)]
    if "total_s" in df.columns and df["total_s"].notna().any():
        panels.insert(1, ("total_s", "time, all epochs (s)", 1.0))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), dpi=120)
    labels = [str(s) for s in rows["strategy"]]
    for ax, (column, name, scale) in zip(axes, panels, strict=True):
        values = pd.to_numeric(rows[column], errors="coerce").fillna(0) / scale
        ax.bar(labels, values, color=list(STRATEGY_COLOURS[: len(labels)]))
        ax.set_title(name, fontsize=9)
        for i, v in enumerate(values):
            ax.annotate(f"{v:,.0f}" if v >= 100 else f"{v:.3g}", (i, v), ha="center", va="bottom", fontsize=8)
    model = str(df["model"].iloc[0]) if "model" in df.columns else ""
    fig.suptitle(f"{title}: {model} (A frozen+cached features, B later layers, C everything)", fontsize=9)
    save(fig, path)
    return path
