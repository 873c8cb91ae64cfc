"""The bench figure: change against the baseline per case, one bar each, the tolerance drawn as a line.

Drawn from the ``comparison`` block of a bench JSON (plain dicts), so an HTML report can be rebuilt
from the file alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from effprof.reports.plots.style import pyplot, save


def plot_changes(comparison: dict[str, Any], path: Path, title: str = "effprof bench") -> Path | None:
    """Bars of normalised-latency change (and any count change) per case; None when nothing to draw."""
    plt = pyplot()
    items = [c for c in [*comparison.get("latency", []), *comparison.get("changes", [])]
             if isinstance(c.get("change_pct"), int | float)]  # fmt: skip
    if not items:
        return None
    labels = [f"{c['case']} {c['metric'].replace('latency_norm', 'latency × ref')}"
              + (f" [{c['backend']}]" if c.get("backend") else "") for c in items]  # fmt: skip
    values = [c["change_pct"] for c in items]
    palette = {"fail": "#d62728", "faster": "#2ca02c", "inconclusive": "#ff7f0e"}
    colours = [palette.get(c["status"], "#1f77b4") for c in items]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1.6), dpi=120)
    ax.barh(range(len(items)), values, color=colours)
    # the 95% interval of each latency change: a verdict is only as sure as this bar
    for i, c in enumerate(items):
        if isinstance(c.get("change_low_pct"), int | float) and isinstance(c.get("change_high_pct"), int | float):
            ax.plot([c["change_low_pct"], c["change_high_pct"]], [i, i], color="#333", linewidth=1.2)
    ax.set_yticks(range(len(items)), labels, fontsize=8)
    ax.invert_yaxis()
    for tick, colour in zip(ax.get_yticklabels(), colours, strict=True):
        if colour == "#d62728":  # a failing change may be too small to see as a bar: mark its label
            tick.set_color(colour)
    latency_tol = {
        c["tolerance_pct"] for c in comparison.get("latency", []) if c.get("tolerance_pct") is not None
    }
    for tol in latency_tol:
        ax.axvline(tol, color="#d62728", linestyle="--", linewidth=1, label=f"latency tolerance +{tol:g}%")
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlabel("change against the baseline (%)")
    ax.set_title(f"{title}: change against the baseline\n(red: fails, orange: inconclusive; black line: 95% interval)", fontsize=10)
    if latency_tol:
        ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    save(fig, path)
    return path
