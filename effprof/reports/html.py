"""Self-contained HTML reports: one file with tables and plots inside, for lecture handouts and CI artifacts.

Rule: nothing is fetched when the page opens. No scripts, no stylesheets or fonts from the network:
plots are embedded as base64 PNG (``data:`` URLs), styles are inline, and the run's meta sits in a
``<details>`` block that needs no JavaScript to open.

``report_html(result)`` writes any result: its figures (the names its type lists, drawn by
effprof.reports.plots), then what its kind adds (a profile's summary, model rows per backend and
op-class table; a bench's verdict and diff tables), then its rows and its meta.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from effprof.errors import first_line
from effprof.reports.fmt import cell

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; font-size: 0.9em; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: 1em; font-size: 0.8em; }
.scroll { overflow-x: auto; }
figure { margin: 1em 0 2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
.verdict { font-size: 1.2em; padding: 0.5em 1em; border-radius: 4px; display: inline-block; }
.pass { background: #e6f4ea; color: #1e6b33; }
.fail { background: #fce8e6; color: #a50e0e; }
.inconclusive { background: #fef7e0; color: #7a4f01; }
.note { color: #8a5a00; }
"""

#: a figure in the page: (caption, PNG bytes) or (caption, a one-line reason it could not be drawn)
Figure = tuple[str, bytes | str]


def _table(df: pd.DataFrame) -> str:
    # Values were kept exact in the frame; rounding happens here, when rendering.
    shown = df.astype(object).apply(lambda column: column.map(cell))
    return f"<div class='scroll'>{shown.to_html(index=False, border=0, classes='effprof', escape=True)}</div>"


def _figure(caption: str, content: bytes | str) -> str:
    if isinstance(content, str):
        return f"<p class='note'>{html.escape(caption)}: not drawn ({html.escape(content)})</p>"
    data = base64.b64encode(content).decode("ascii")
    alt = html.escape(caption, quote=True)
    return (f"<figure><img alt=\"{alt}\" src=\"data:image/png;base64,{data}\">"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")  # fmt: skip


def to_html(
    df: pd.DataFrame,
    meta: dict[str, Any],
    title: str = "effprof report",
    *,
    blocks: Sequence[str] = (),
    figures: Sequence[Figure] = (),
    table_heading: str | None = None,
) -> str:
    """A whole page: ``blocks`` (HTML fragments, already escaped), ``figures``, the table, the run's meta."""
    meta_text = html.escape(json.dumps(meta, indent=2, default=str))
    heading = f"<h2>{html.escape(table_heading)}</h2>\n" if table_heading else ""
    body = "\n".join([*blocks, *(_figure(c, f) for c, f in figures), heading + _table(df)])
    return (
        f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n{body}\n"
        f"<details><summary>Run: versions, machine, settings</summary>\n<pre>{meta_text}</pre></details>\n"
        "</body></html>\n"
    )


def render_png(draw: Callable[[Path], Any]) -> bytes | str:
    """PNG bytes of what ``draw(path)`` saves, or a one-line reason when it draws nothing or fails."""
    with tempfile.TemporaryDirectory(prefix="effprof-plot-") as tmp:
        path = Path(tmp) / "plot.png"
        try:
            drawn = draw(path)
        # A report is written after minutes of measuring: a plot that cannot be drawn becomes a
        # note in the page, never a lost report.
        except Exception as exc:  # noqa: BLE001
            return f"{type(exc).__name__}: {first_line(exc)}"
        if drawn is None or not path.is_file():
            return "nothing to plot"
        return path.read_bytes()


def _key_values(items: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape('' if v is None else _fmt(v))}</td></tr>"
                   for k, v in items.items())  # fmt: skip
    return f"<table class='summary'>{rows}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


# Plain words: a headless browser or a printer may have no emoji font.
STATUS = {"fail": "FAIL", "ok": "within tolerance", "faster": "faster", "inconclusive": "INCONCLUSIVE",
          "info": "info"}  # fmt: skip


def _change_table(changes: list[dict[str, Any]], columns: dict[str, str]) -> str:
    """A table of comparison entries (bench JSON ``comparison``), ``columns`` mapping key -> header."""
    frame = pd.DataFrame(changes)
    if "status" in frame:
        frame["status"] = frame["status"].map(lambda s: STATUS.get(s, s))
    return _table(frame[[c for c in columns if c in frame.columns]].rename(columns=columns))


CHANGE_COLUMNS = {"case": "case", "metric": "metric", "baseline": "baseline", "current": "current",
                  "change_pct": "change %", "tolerance_pct": "tolerance %", "status": "status", "note": "note"}  # fmt: skip
LATENCY_COLUMNS = {"case": "case", "backend": "backend", "baseline_ms": "baseline ms", "current_ms": "current ms",
                   "baseline": "baseline × ref", "current": "current × ref", "change_pct": "change × ref %",
                   "change_low_pct": "95% low %", "change_high_pct": "95% high %", "tolerance_pct": "tolerance %",
                   "status": "status", "note": "note"}  # fmt: skip


def _bench_blocks(result: Any) -> list[str]:
    """A bench run's verdict (effprof.bench.verdict, decided once), its comparison tables and notes."""
    bench = result.meta.get("bench") or {}
    comparison = result.comparison.to_dict() if result.comparison is not None else None
    v = result.verdict()
    blocks = [f"<p class='verdict {'pass' if v.state == 'done' else v.state}'>{html.escape(v.words)}</p>",
              f"<p>Suite <code>{html.escape(str(bench.get('suite_file', '')))}</code>, latency normalised by "
              f"<b>{html.escape(str(bench.get('reference', '')))}</b> measured in the same run.</p>"]  # fmt: skip
    if comparison is not None:
        if result.baseline_path:
            blocks.append(f"<p>Baseline <code>{html.escape(str(result.baseline_path))}</code>.</p>")
        changes = comparison.get("changes") or []
        blocks.append("<h2>What changed</h2>")
        blocks.append(_change_table(changes, CHANGE_COLUMNS) if changes else "<p>No count changed.</p>")
        if comparison.get("latency"):
            blocks.append("<h2>Latency against the baseline</h2>")
            blocks.append(_change_table(comparison["latency"], LATENCY_COLUMNS))
            blocks.append(
                "<p>baseline / current: latency divided by the reference's, each from its own run (each model "
                "timed in slices alternating with the reference). A rise fails only when its whole 95% interval "
                "is beyond the tolerance; inconclusive when the interval straddles it or a row was contended. "
                "Absolute times are shown, not gated.</p>"
            )
        for note in comparison.get("notes") or []:
            blocks.append(f"<p class='note'>{html.escape(note)}</p>")
    df = result.to_pandas()
    reference = str(bench.get("reference", "reference"))
    results = {"model": "model", "input_shape": "input", "backend": "backend", "params": "params", "macs": "MACs",
               "activations": "activations", "latency_ms": "latency ms", "latency_norm": f"× {reference}",
               "error": "error"}  # fmt: skip
    return [*blocks, "<h2>Results</h2>", _table(df[[c for c in results if c in df.columns]].rename(columns=results))]


def _profile_blocks(result: Any) -> list[str]:
    """A profile's summary, its model rows (one per backend, so every backend's latency is kept) and op classes."""
    summary = {k: v for k, v in result.summary().items() if v is not None}
    return ["<h2>Summary</h2>", _key_values(summary),
            "<h2>Model, per backend</h2>", _table(result.model_frame()),
            "<h2>By op class</h2>", _table(result.op_class_frame())]  # fmt: skip


def _figures(result: Any) -> list[Figure]:
    """Every figure the result's type lists, drawn (or the one-line reason it could not be)."""
    from effprof.reports.plots import FIGURES

    figures = []
    for name in type(result).figures:
        caption, fn = FIGURES[name]
        drawn = render_png(lambda p, fn=fn: fn(result, p))
        if drawn != "nothing to plot":  # a figure with no data (no baseline to diff) is left out, not noted
            figures.append((caption, drawn))
    return figures


def report_html(result: Any) -> str:
    """The page of any result: what its kind adds, its figures, its rows, its meta."""
    kind = result.kind
    blocks: list[str] = []
    heading = None
    if kind == "bench":
        blocks, heading = _bench_blocks(result), "All columns"
    elif kind == "profile":
        # a RooflineReport holds its ProfileResult: the summary and op classes are the profile's
        blocks, heading = _profile_blocks(result if hasattr(result, "model_frame") else result.profile), "Layers"
    elif result.json_extra().get("summary") and isinstance(result.json_extra()["summary"], dict):
        blocks = ["<h2>Summary</h2>", _key_values(result.json_extra()["summary"])]
    return to_html(result.to_pandas(), result.meta, result.title, blocks=blocks, figures=_figures(result),
                   table_heading=heading)  # fmt: skip
