"""The profile figure: per op class, share of MACs beside share of time (or of params when untimed),
so a depthwise conv's small MAC share and large time share stand side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from effprof.reports.plots.style import nothing_to_plot, pyplot, save


def plot_profile(df: pd.DataFrame, path: Path, title: str = "effprof profile") -> Path:
    """Grouped bars per op class: share of MACs beside share of time (or of params)."""
    if df.empty or "op_class" not in df.columns:
        raise nothing_to_plot("the model has no layer rows")
    plt = pyplot()
    by_class = df.groupby("op_class").agg(macs=("macs", "sum"), params=("params", "sum"))
    second, label, what = "params", "share of params", "share of MACs and of params (counts only, no latency)"
    if "latency_ms" in df.columns and df["latency_ms"].notna().any():
        by_class["latency_ms"] = df.groupby("op_class")["latency_ms"].sum()
        second, label, what = "latency_ms", "share of time", "share of MACs vs share of measured time"
    shares = pd.DataFrame(
        {"share of MACs": by_class["macs"] / max(by_class["macs"].sum(), 1),
         label: by_class[second] / max(by_class[second].sum(), 1e-12)}
    )  # fmt: skip
    shares = shares.sort_values("share of MACs", ascending=False)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    (100 * shares).plot.bar(ax=ax, rot=30)
    ax.set_ylabel("%")
    model = df["model"].iloc[0] if len(df) else ""
    ax.set_title(f"{title}: {model}\n{what}", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    for tick in ax.get_xticklabels():
        tick.set_ha("right")
    save(fig, path)
    return path
