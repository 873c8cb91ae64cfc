"""The figures of ``effprof pareto`` and ``effprof search``: published top-1 vs measured latency, log latency axis.

Drawn from the results' rows (plain dicts, effprof.choose.result), so this module knows no choose type.
Rule: measured points filled (contended ones ringed in orange), the Pareto front drawn through the
measured points as a staircase, the target T a dashed vertical line, the chosen model named; in a
search, every grid point's prediction as a hollow marker, joined to its measurement where there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from effprof.reports.plots.style import declutter, log_axes, nothing_to_plot, pyplot, save


def plot_choice(rows: list[dict[str, Any]], path: Path, *, target_ms: float | None, title: str,
                chosen: str | None = None, predicted: bool = False) -> Path:  # fmt: skip
    """Draw ``rows`` (ParetoResult/SearchResult rows) to ``path``; EffprofError (exit 1) when nothing is drawable."""
    measured = [r for r in rows if r["latency_ms"] is not None and r["top1_pct"] is not None]
    guessed = [r for r in rows if predicted and r.get("predicted_ms") is not None and r["top1_pct"] is not None]
    if not measured and not guessed:
        raise nothing_to_plot("no model has both a measured latency and a published accuracy")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    if guessed:
        ax.scatter([r["predicted_ms"] for r in guessed], [r["top1_pct"] for r in guessed], s=28, facecolors="none",
                   edgecolors="0.55", label="predicted (screening)")  # fmt: skip
        for r in guessed:
            if r["latency_ms"] is not None:
                ax.plot([r["predicted_ms"], r["latency_ms"]], [r["top1_pct"]] * 2, color="0.75", lw=0.8, zorder=1)
    if measured:
        calm = [r for r in measured if not r.get("contended")]
        busy = [r for r in measured if r.get("contended")]
        ax.scatter([r["latency_ms"] for r in calm], [r["top1_pct"] for r in calm], s=30, color="tab:blue",
                   label="measured", zorder=3)  # fmt: skip
        if busy:
            ax.scatter([r["latency_ms"] for r in busy], [r["top1_pct"] for r in busy], s=30, color="tab:blue",
                       edgecolors="tab:orange", linewidths=1.5, label="measured, contended", zorder=3)  # fmt: skip
        front = sorted((r for r in measured if r["on_front"]), key=lambda r: r["latency_ms"])
        if front:
            xs, ys = [], []
            for r in front:  # staircase: accuracy holds until the next faster-but-better point
                if xs:
                    xs.append(r["latency_ms"])
                    ys.append(ys[-1])
                xs.append(r["latency_ms"])
                ys.append(r["top1_pct"])
            ax.plot(xs, ys, color="tab:red", lw=1.5, label="Pareto front", zorder=2)
            # the chosen model's name first, then the front from the most accurate down: a label that
            # would overlap one already placed is left out (its point stays)
            labels = sorted(front, key=lambda r: (r["model"] != chosen, -r["top1_pct"]))
            texts = [ax.annotate(r["model"], (r["latency_ms"], r["top1_pct"]), fontsize=7, xytext=(4, -9),
                                 textcoords="offset points") for r in labels]  # fmt: skip
    if target_ms is not None:
        ax.axvline(target_ms, color="tab:green", ls="--", lw=1.2, label=f"target T = {target_ms:g} ms")
    if chosen is not None:
        pick = next((r for r in measured if r["model"] == chosen), None)
        if pick is not None:
            ax.scatter([pick["latency_ms"]], [pick["top1_pct"]], s=160, marker="*", color="gold", edgecolors="black",
                       zorder=4, label=f"chosen: {chosen}")  # fmt: skip
    log_axes(ax, "x")
    ax.set_xlabel("latency, median (ms, log scale)")
    ax.set_ylabel("ImageNet-1K top-1 (%), published")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    if measured and front:
        declutter(fig, ax, texts)
    save(fig, path)
    return path
