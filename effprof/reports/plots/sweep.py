"""The sweep figure: MACs (total and by op class) against the sweep's axis on log-log axes, with the
fitted growth exponents in the legend. Drawn from a lecture SweepResult (its rows, fits and columns)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from effprof.reports.plots.style import log_axes, nothing_to_plot, pyplot, save


def plot_sweep(result: Any, path: Path) -> Path:
    """Log-log plot of MACs (total and by op class) against the sweep's x, with fitted exponents."""
    ok = [r for r in result.rows if not r.get("error")]
    if not ok:
        raise nothing_to_plot(f"every point of the {result.model} sweep failed")
    plt = pyplot()
    x_key = result.x_name
    xs = [r[x_key] for r in ok]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for column in ("macs", *result.class_columns):
        ys = [r[column] for r in ok]
        if not any(ys):
            continue
        fit = result.fits.get(column)
        label = column.removeprefix("macs_") if column != "macs" else "MACs (total)"
        label += f"  k={fit.exponent:.2f}" if fit else ""
        ax.plot(xs, ys, marker="o", linewidth=2.5 if column == "macs" else 1.2, label=label)
    log_axes(ax, "xy")
    ax.set_xlabel(x_key + (" (H·W)" if x_key == "pixels" else " multiplier"))
    ax.set_ylabel("MACs")
    ax.set_title(f"{result.model}: MACs ∝ {x_key}^k")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)
    return path
