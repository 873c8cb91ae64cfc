"""The compare figure: the FLOPs-vs-latency gap, drawn from the same rows as the tables.

MACs against measured latency, one point per model, one colour per backend; without latency, MACs
and params per model relative to the first (titled for what it shows: counts, no time).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from effprof.reports.plots.style import log_axes, nothing_to_plot, pyplot, save


def _has(df: pd.DataFrame, column: str) -> bool:
    return column in df.columns and df[column].notna().any()


def plot_compare(df: pd.DataFrame, path: Path, title: str = "effprof compare") -> Path:
    """Scatter of GMACs vs latency per backend, or bars of MACs and params when nothing was timed."""
    ok = df[df["macs"].notna()] if "macs" in df.columns else df.iloc[0:0]
    if ok.empty:
        raise nothing_to_plot("no model was counted (every row failed)")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    if _has(ok, "latency_ms"):
        timed = ok[ok["latency_ms"].notna()]
        for (backend, device), group in timed.groupby(["backend", "device"], dropna=False):
            ax.scatter(group["macs"] / 1e9, group["latency_ms"], label=f"{backend} ({device})", s=40)
            for _, row in group.iterrows():
                ax.annotate(row["model"], (row["macs"] / 1e9, row["latency_ms"]), fontsize=8,
                            xytext=(4, 3), textcoords="offset points")  # fmt: skip
        ax.margins(0.15)
        log_axes(ax, "xy")
        ax.set_xlabel("GMACs (log)")
        ax.set_ylabel("latency, median ms (log)")
        ax.legend(fontsize=8)
        ax.set_title(f"{title}: MACs vs measured latency")
        ax.grid(True, which="major", alpha=0.3)
    else:
        models = ok["model"].drop_duplicates().tolist()
        first = ok.iloc[0]
        x = range(len(models))
        per_model = ok.drop_duplicates("model").set_index("model").loc[models]
        ax.bar([i - 0.2 for i in x], per_model["macs"] / first["macs"], width=0.4, label="MACs")
        ax.bar([i + 0.2 for i in x], per_model["params"] / first["params"], width=0.4, label="params")
        ax.set_xticks(list(x), models, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"× {first['model']}")
        ax.legend(fontsize=8)
        ax.set_title(f"{title}: MACs and params relative to {first['model']} (counts only, no latency)")
        ax.grid(True, axis="y", alpha=0.3)
    save(fig, path)
    return path
