"""Files of the lecture demonstrations: ``-o`` of ``effprof roadmap``/``claims``, and their sections in the
``effprof bench benchmarks/lecture.toml`` handout.

Rule: tables (.csv .json .md) go through effprof's table writer; .png/.svg draw the demonstration's
figure (effprof.lecture.figures); .html is one self-contained page (table and figure inside), the same
fragment the bench handout embeds (``section_html``). Every file is written atomically.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from effprof.errors import EffprofError
from effprof.lecture.claims_run import run_claims
from effprof.lecture.figures import claims_figure, roadmap_figure
from effprof.lecture.roadmap import run_roadmap
from effprof.reports.html import _cell, render_png, to_html
from effprof.reports.writers import PLOT_SUFFIXES, atomic_path, write_plot, write_table

FigureFn = Callable[[Sequence[dict[str, Any]]], Figure]


def _save(figure: FigureFn, rows: Sequence[dict[str, Any]]) -> Callable[[Path], Path]:
    def draw(path: Path) -> Path:
        figure(rows).savefig(path)
        return path

    return draw


def section_html(heading: str, df: pd.DataFrame, figure: FigureFn, notes: Sequence[str] = (),
                 columns: dict[str, str] | None = None) -> str:  # fmt: skip
    """An HTML fragment: heading, notes, the figure (embedded PNG, or a line saying why not), the table."""
    rows = df.to_dict("records")
    png = render_png(_save(figure, rows))
    parts = [f"<h2>{html.escape(heading)}</h2>", *(f"<p>{html.escape(n)}</p>" for n in notes)]
    if isinstance(png, bytes):
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img alt=\"{html.escape(heading, quote=True)}\" src=\"data:image/png;base64,{data}\"></figure>")
    else:
        parts.append(f"<p class='note'>figure not drawn ({html.escape(png)})</p>")
    shown = df[[c for c in columns if c in df.columns]].rename(columns=columns) if columns else df
    table = shown.astype(object).apply(lambda col: col.map(_cell)).to_html(index=False, border=0, escape=True)
    parts.append(f"<div class='scroll'>{table}</div>")
    return "\n".join(parts)


def write_demo(
    outputs: Sequence[Path], df: pd.DataFrame, meta: dict[str, Any], figure: FigureFn, *, title: str,
    notes: Sequence[str] = (), columns: dict[str, str] | None = None, on_written: Callable[[Path], None] | None = None,
) -> None:  # fmt: skip
    """Write ``df`` to each path by suffix: tables, the figure (.png/.svg), or a page with both (.html)."""
    for path in outputs:
        suffix = path.suffix.lower()
        if suffix in PLOT_SUFFIXES:
            write_plot(path, _save(figure, df.to_dict("records")))
        elif suffix == ".html":
            page = to_html(df, meta, title, blocks=[section_html(title, df, figure, notes, columns)],
                           table_heading="All columns")  # fmt: skip
            try:
                with atomic_path(path) as tmp:
                    tmp.write_text(page, encoding="utf-8")
            except OSError as exc:
                raise EffprofError(f"cannot write {str(path)!r}: {exc.strerror or exc}", exit_code=1) from None
        else:
            write_table(path, df, meta)
        if on_written is not None:
            on_written(path)


def run_demos(names: Sequence[str], timing) -> tuple[list[Any], list[str]]:
    """Run the named demonstrations ("roadmap", "claims") as ``timing`` (an api.Timing, threads resolved) asks;
    their results and their HTML sections, for a bench suite's handout."""
    options = {"device": timing.device, "threads": timing.threads, "budget_s": timing.budget_s}
    results, sections = [], []
    for name in names:
        if name == "roadmap":
            result = run_roadmap(timing.backends, meta={"command": "roadmap"}, **options)
            sections.append(section_html("ConvNeXt roadmap: ResNet-50 -> ConvNeXt-T", result.to_pandas(), roadmap_figure,
                                         ROADMAP_NOTES, ROADMAP_COLUMNS))  # fmt: skip
        else:
            result = run_claims(timing.backends, meta={"command": "claims"}, **options)
            sections.append(section_html("The lecture's latency claims, measured here", result.to_pandas(),
                                         claims_figure, CLAIMS_NOTES, CLAIM_COLUMNS))  # fmt: skip
        results.append(result)
    return results, sections


ROADMAP_NOTES = ("MACs stay near 4.1-4.5 G from step to step while measured latency moves: the depthwise, large-kernel "
                 "and LayerNorm steps cost time that their MACs do not show.",)  # fmt: skip
CLAIMS_NOTES = ("Each claim reduced to one measured ratio with a 95% interval (paired timing); holds when the interval "
                "lies in the stated range, does not hold when it lies outside, inconclusive when it straddles an edge "
                "or the timing was contended or noisy.",)  # fmt: skip
ROADMAP_COLUMNS = {"step": "step", "change": "change", "params": "params", "macs": "MACs", "paper_macs": "paper MACs",
                   "macs_error": "MACs error", "paper_top1": "top-1 %", "backend": "backend", "latency_ms": "latency ms",
                   "latency_vs_step0": "latency × step 0", "macs_vs_step0": "MACs × step 0", "doubt": "doubt"}  # fmt: skip
CLAIM_COLUMNS = {"claim": "claim (as stated)", "quantity": "measured ratio", "backend": "backend", "measured": "measured",
                 "measured_low": "95% low", "measured_high": "95% high", "holds_if": "holds if", "verdict": "verdict",
                 "doubt": "doubt", "why": "why", "reference": "see also"}  # fmt: skip
