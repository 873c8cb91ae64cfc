"""Plots for ``-o x.png`` / ``-o x.svg``: the FLOPs-vs-latency gap, drawn from the same rows as the tables.

- compare: MACs vs measured latency, one point per model, one colour per backend (without latency:
  MACs and params per model, relative to the first).
- profile: share of MACs next to share of time per op class (without latency: share of MACs and of
  params), so a depthwise conv's small MAC share and large time share stand side by side.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from effprof.errors import EffprofError


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    return plt


def _has(df: pd.DataFrame, column: str) -> bool:
    return column in df.columns and df[column].notna().any()


def _nothing_to_plot(why: str) -> EffprofError:
    # exit 1: the run is not a typo; it left nothing for this figure to show
    return EffprofError(f"nothing to draw: {why}", exit_code=1)


def plot_compare(df: pd.DataFrame, path: Path, title: str = "effprof compare") -> Path:
    """Scatter of GMACs vs latency per backend, or bars of MACs and params when nothing was timed."""
    ok = df[df["macs"].notna()] if "macs" in df.columns else df.iloc[0:0]
    if ok.empty:
        raise _nothing_to_plot("no model was counted (every row failed)")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    if _has(ok, "latency_ms"):
        timed = ok[ok["latency_ms"].notna()]
        for (backend, device), group in timed.groupby(["backend", "device"], dropna=False):
            ax.scatter(group["macs"] / 1e9, group["latency_ms"], label=f"{backend} ({device})", s=40)
            for _, row in group.iterrows():
                ax.annotate(row["model"], (row["macs"] / 1e9, row["latency_ms"]), fontsize=8,
                            xytext=(4, 3), textcoords="offset points")  # fmt: skip
        ax.set_xlabel("GMACs")
        ax.set_ylabel("latency, median (ms)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set_title(f"{title}: MACs vs measured latency")
    else:
        models = ok["model"].drop_duplicates().tolist()
        first = ok.iloc[0]
        x = range(len(models))
        per_model = ok.drop_duplicates("model").set_index("model").loc[models]
        ax.bar([i - 0.2 for i in x], per_model["macs"] / first["macs"], width=0.4, label="MACs")
        ax.bar([i + 0.2 for i in x], per_model["params"] / first["params"], width=0.4, label="params")
        ax.set_xticks(list(x), models, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"relative to {first['model']}")
        ax.legend(fontsize=8)
        ax.set_title(f"{title}: MACs and params (no latency measured)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_profile(df: pd.DataFrame, path: Path, title: str = "effprof profile") -> Path:
    """Grouped bars per op class: share of MACs beside share of time (or of params)."""
    if df.empty or "op_class" not in df.columns:
        raise _nothing_to_plot("the model has no layer rows")
    plt = _pyplot()
    by_class = df.groupby("op_class").agg(macs=("macs", "sum"), params=("params", "sum"))
    second, label = "params", "share of params"
    if _has(df, "latency_ms"):
        by_class["latency_ms"] = df.groupby("op_class")["latency_ms"].sum()
        second, label = "latency_ms", "share of time"
    shares = pd.DataFrame(
        {"share of MACs": by_class["macs"] / max(by_class["macs"].sum(), 1),
         label: by_class[second] / max(by_class[second].sum(), 1e-12)}
    )  # fmt: skip
    shares = shares.sort_values("share of MACs", ascending=False)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    (100 * shares).plot.bar(ax=ax, rot=30)
    ax.set_ylabel("%")
    model = df["model"].iloc[0] if len(df) else ""
    ax.set_title(f"{title}: {model}")
    ax.grid(True, axis="y", alpha=0.3)
    for tick in ax.get_xticklabels():
        tick.set_ha("right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
