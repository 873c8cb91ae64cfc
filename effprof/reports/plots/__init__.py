"""Every figure effprof draws, by name: ``FIGURES[name](result, path)`` saves it (format by suffix).

Rule: a result type lists the names of the figures it can draw (``Result.figures``, effprof.results);
this module is the only place that knows how to draw them. ``-o x.png`` draws the first, an HTML
report embeds all of them. The drawing functions live one per kind of figure in this package
(compare, profile, roofline and predict, bench, scale, sweep, training, choose: pareto and search, and
the lecture's roadmap, claims and explain figures, which are pure functions returning a ``Figure``) and
share the helpers of ``style``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from effprof.errors import EffprofError
from effprof.reports.plots.bench import plot_changes
from effprof.reports.plots.choose import plot_choice
from effprof.reports.plots.claims import claims_figure
from effprof.reports.plots.compare import plot_compare
from effprof.reports.plots.explain import FIGURE_TOPICS, explain_figure
from effprof.reports.plots.profile import plot_profile
from effprof.reports.plots.roadmap import roadmap_figure
from effprof.reports.plots.roofline import plot_predictions, plot_roofline
from effprof.reports.plots.scale import plot_scale
from effprof.reports.plots.style import save_figure
from effprof.reports.plots.sweep import plot_sweep
from effprof.reports.plots.training import plot_finetune, plot_training


def _bench_changes(result: Any, path: Path) -> Path | None:
    if getattr(result, "comparison", None) is None:
        return None
    return plot_changes(result.comparison.to_dict(), path, title=result.title)


def _records(result: Any) -> list[dict[str, Any]]:
    return result.to_pandas().to_dict("records")


def _pure(figure: Callable[[Any], Any]) -> Callable[[Any, Path], Path]:
    """draw(result, path) of a pure figure function (result in, ``Figure`` out)."""

    def draw(result: Any, path: Path) -> Path:
        save_figure(figure(result), path)
        return path

    return draw


def _explain(result: Any, path: Path) -> Path | None:
    """An explain topic's figure; None for a topic without one (the CLI refuses -o x.png for those first)."""
    explanation = result.source
    if explanation.topic not in FIGURE_TOPICS:
        return None
    save_figure(explain_figure(explanation.topic, explanation.config), path)
    return path


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
    "training": ("forward, grad-input and grad-weight MACs per image of one training step",
                 lambda r, p: plot_training(r.to_pandas(), p, title=r.title)),
    "finetune": ("strategies A, B, C: MACs, time and memory for all epochs",
                 lambda r, p: plot_finetune(r.to_pandas(), p, title=r.title)),
    "roadmap": ("GMACs per step against the paper's, and latency × step 0 against MACs × step 0",
                _pure(lambda r: roadmap_figure(_records(r)))),
    "claims": ("each claim's measured ratio and 95% interval against the range where it holds",
               _pure(lambda r: claims_figure(_records(r)))),
    "explain": ("the topic's figure, from the lecture formulas", _explain),
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
