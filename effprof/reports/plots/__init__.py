"""Every figure effprof draws, by name: ``FIGURES[name](result, path)`` saves it (format by suffix).

Rule: a result type lists the names of the figures it can draw (``Result.figures``, effprof.results);
this module is the only place that knows how to draw them. ``-o x.png`` draws the first, an HTML
report embeds all of them. The drawing functions live one per kind of figure in this package
(compare, profile, roofline and predict, bench, scale, sweep, choose: pareto and search) and share the
helpers of ``style``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from effprof.errors import EffprofError
from effprof.reports.plots.bench import plot_changes
from effprof.reports.plots.choose import plot_choice
from effprof.reports.plots.compare import plot_compare
from effprof.reports.plots.profile import plot_profile
from effprof.reports.plots.roofline import plot_predictions, plot_roofline
from effprof.reports.plots.scale import plot_scale
from effprof.reports.plots.sweep import plot_sweep


def _bench_changes(result: Any, path: Path) -> Path | None:
    if getattr(result, "comparison", None) is None:
        return None
    return plot_changes(result.comparison.to_dict(), path, title=result.title)


#: figure name -> (caption in an HTML report, draw(result, path) -> path, or None when nothing to draw)
FIGURES: dict[str, tuple[str, Callable[[Any, Path], Path | None]]] = {
    "compare": ("MACs against measured latency per model (MACs and params when nothing was timed)",
                lambda r, p: plot_compare(r.to_pandas().infer_objects(), p, title=r.title)),
    "profile": ("share of MACs beside share of time (or of params) per op class",
                lambda r, p: plot_profile(r.to_pandas().infer_objects(), p)),
    "roofline": ("every layer against the device's roofs", lambda r, p: plot_roofline(r.roofline, p)),
    "predict": ("predicted against measured latency per model", lambda r, p: plot_predictions(r.source, p)),
    "bench_changes": ("change against the baseline per case (red: fails)", _bench_changes),
    "scale": ("MACs relative to B0 against 2^φ and the compound rule", lambda r, p: plot_scale(r.rows, p)),
    "sweep": ("MACs against the sweep's axis, with the fitted exponents", lambda r, p: plot_sweep(r.source, p)),
    "pareto": ("published top-1 against measured latency: the Pareto front, the target and the choice",
               lambda r, p: plot_choice(r.rows(), p, target_ms=r.target_ms, title=r.title, chosen=r.chosen_model())),
    "search": ("published top-1 against latency: every grid point predicted (hollow), the shortlist measured",
               lambda r, p: plot_choice(r.rows(), p, target_ms=r.target_ms, title=r.title, chosen=r.chosen_model(),
                                        predicted=True)),
}  # fmt: skip


def draw(result: Any, path: Path, figure: str | None = None) -> Path:
    """Save ``result``'s figure (its first, unless named) to ``path``; EffprofError when it has none to draw."""
    names = type(result).figures
    if not names:
        raise EffprofError(f"{result.title} has no figure to draw; write a table instead (.csv .json .md .html)")
    _, fn = FIGURES[figure or names[0]]
    if fn(result, path) is None:
        raise EffprofError("nothing to draw: this run has no data for the figure", exit_code=1)
    return path


__all__ = ["FIGURES", "draw"]
