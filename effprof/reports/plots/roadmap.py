"""The roadmap figure (``effprof roadmap -o x.png``), a pure function: rows in, a matplotlib ``Figure`` out.

Top: counted GMACs per ConvNeXt-roadmap step next to the paper's. Bottom (when timed): each step's latency
relative to step 0 per backend (paired timing, 95% interval) next to its MACs relative to step 0. Nothing
is saved and no pyplot state is touched: ``save_figure`` (effprof.reports.plots.style) saves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from effprof.reports.plots.style import given, nothing_to_plot


def roadmap_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """Top: counted GMACs (bars) and the paper's (dots) per step. Bottom: each step's latency relative to
    step 0 per backend (paired timing, 95% interval) and its MACs relative to step 0 (dashed): where they
    part, time is not following MACs. '?' marks a contended or noisy ratio."""
    counted = {r["step"]: r for r in rows if given(r.get("macs"))}
    if not counted:
        raise nothing_to_plot("no roadmap step was counted")
    steps = sorted(counted)
    timed = [r for r in rows if given(r.get("latency_ms")) and not given(r.get("error"))]
    fig = Figure(figsize=(10, 7.5 if timed else 4.5), dpi=110)
    axes = fig.subplots(2 if timed else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    ax.bar(steps, [counted[s]["macs"] / 1e9 for s in steps], color="#9bbbd9", label="counted (effprof)")
    ax.plot(steps, [counted[s]["paper_macs"] / 1e9 for s in steps], "o", color="#c0392b", label="paper, Fig. 2")
    ax.set_ylabel("GMACs")
    ax.set_title("ConvNeXt roadmap: ResNet-50 -> ConvNeXt-T, one change per step")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="y", alpha=0.3)
    if timed:
        ax = axes[1]
        ax.plot(steps, [counted[s]["macs"] / counted[steps[0]]["macs"] for s in steps], "k--", alpha=0.6,
                label="MACs × first step (if time followed MACs)")  # fmt: skip
        for backend in dict.fromkeys(r["backend"] for r in timed):
            mine = sorted((r for r in timed if r["backend"] == backend and given(r.get("latency_vs_step0"))),
                          key=lambda r: r["step"])  # fmt: skip
            ys = [r["latency_vs_step0"] for r in mine]
            lows = [r["latency_vs_step0_low"] if given(r.get("latency_vs_step0_low")) else y for r, y in zip(mine, ys, strict=True)]
            highs = [r["latency_vs_step0_high"] if given(r.get("latency_vs_step0_high")) else y
                     for r, y in zip(mine, ys, strict=True)]  # fmt: skip
            ax.errorbar([r["step"] for r in mine], ys, yerr=[[y - lo for y, lo in zip(ys, lows, strict=True)],
                        [hi - y for y, hi in zip(ys, highs, strict=True)]], marker="o", capsize=3,
                        label=f"{backend}: latency × step 0 (95% interval)")  # fmt: skip
            for r in mine:
                if any(tag in str(r.get("doubt") or "") for tag in ("contended", "noisy")):
                    ax.annotate("?", (r["step"], r["latency_vs_step0"]), color="#b7791f", xytext=(3, 6),
                                textcoords="offset points")  # fmt: skip
        ax.set_ylabel("× step 0 (ResNet-50)")
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    labels = [f"{s}" for s in steps]
    axes[-1].set_xticks(steps, labels)
    axes[-1].set_xlabel("step (see the table: 0 = ResNet-50, 12 = ConvNeXt-T; ? = contended or noisy)")
    fig.tight_layout()
    return fig
