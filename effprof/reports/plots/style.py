"""What every effprof figure shares: a display-free pyplot, and log axes whose tick labels never overlap."""

from __future__ import annotations

import math
from typing import Any

from effprof.errors import EffprofError
from effprof.reports.fmt import missing


def pyplot():
    """matplotlib.pyplot on the Agg backend: files only, never a display. Imported on use (it is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def nothing_to_plot(why: str) -> EffprofError:
    # exit 1: the run is not a typo; it left nothing for this figure to show
    return EffprofError(f"nothing to draw: {why}", exit_code=1)


def given(value: Any) -> bool:
    """A value is there: not None, NaN or pandas' NA (a missing cell of a DataFrame's records), not ''."""
    return not missing(value) and value != ""


def save_figure(fig, path) -> None:
    """Save a figure made without pyplot (``matplotlib.figure.Figure``, as the lecture figures are); format by suffix."""
    fig.savefig(path)


def _tick_label(value: float, _pos: Any = None) -> str:
    """1 -> '1', 0.5 -> '0.5', 20000 -> '20k': short labels that do not collide."""
    if value <= 0:
        return ""
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:g}{prefix}"
    return f"{value:g}"


def log_axes(ax, which: str = "xy") -> None:
    """Put ``which`` axes on a log scale with readable ticks.

    Rule: labelled ticks at 1-2-5 of each decade when the axis spans under three decades, at the
    decades alone when it spans more; minor ticks unlabelled. matplotlib's default labels minor ticks
    on a short log axis, and their labels (``2×10^1``, ``3×10^1`` ...) run into each other.
    Call after the data is drawn (the span decides the ticks).
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for name in which:
        axis = ax.xaxis if name == "x" else ax.yaxis
        (ax.set_xscale if name == "x" else ax.set_yscale)("log")
        lo, hi = ax.get_xlim() if name == "x" else ax.get_ylim()
        decades = math.log10(hi / lo) if lo > 0 and hi > lo else 1.0
        subs = (1.0, 2.0, 5.0) if decades < 3 else (1.0,)
        axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=15))
        axis.set_major_formatter(FuncFormatter(_tick_label))
        axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10)), numticks=15))
        axis.set_minor_formatter(NullFormatter())


def save(fig, path) -> None:
    """Lay out, save (format by ``path``'s suffix) and close ``fig``."""
    plt = pyplot()
    try:
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def declutter(fig, ax, texts: list) -> None:
    """Drop point labels (``ax.annotate`` with an offset) that that would overlap one placed before them, and pull in any that leave the axes.

    Greedy in the order given (put the labels that matter first); the points stay, only their names go.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    placed = []
    for text in texts:
        extent = text.get_window_extent(renderer)
        if extent.x1 > box.x1:  # off the right edge: write it to the left of its point
            text.set_horizontalalignment("right")
            dx, dy = text.xyann
            text.xyann = (-abs(dx), dy)
            extent = text.get_window_extent(renderer)
        if any(extent.overlaps(other) for other in placed):
            text.remove()
            continue
        placed.append(extent)
