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
