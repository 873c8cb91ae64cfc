"""Self-contained HTML reports: one file with tables and plots inside, for lecture handouts and CI artifacts.

Rule: nothing is fetched when the page opens. No scripts, no stylesheets or fonts from the network:
plots are embedded as base64 PNG (``data:`` URLs), styles are inline, and the run's meta sits in a
``<details>`` block that needs no JavaScript to open.

``to_html`` renders any table (list, formulas, sweep...); ``report_html`` adds what each kind of
report has: the profile's summary and op-class plot, compare's MACs-vs-latency plot, bench's
verdict, diff tables and change plot.
"""

from __future__ import annotations

import base64
import html
import json
import numbers
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


def _cell(value: Any) -> str:
    """Display text of one cell: whole numbers with thousands separators, 4 significant figures; '' if missing."""
    if value is None or value is pd.NA or (isinstance(value, numbers.Real) and value != value):  # None, NA, NaN
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral) or (isinstance(value, numbers.Real) and float(value).is_integer()
                                               and abs(value) >= 1000):  # fmt: skip
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    return str(value)


def _table(df: pd.DataFrame) -> str:
    # Values were kept exact in the frame; rounding happens here, when rendering.
    shown = df.astype(object).apply(lambda column: column.map(_cell))
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
            return f"{type(exc).__name__}: {exc}".splitlines()[0]
        if drawn is None or not path.is_file():
            return "nothing to plot"
        return path.read_bytes()


def _numeric(df: pd.DataFrame) -> pd.DataFrame:
    # Bench frames hold Python objects (whole numbers stay whole); plots want numeric columns.
    return df.infer_objects()


def _is_model_frame(df: pd.DataFrame) -> bool:
    # compare/bench rows (DESIGN.md model columns); `list` or `sweep` tables written as "compare" lack them.
    return {"model", "macs", "params", "backend"} <= set(df.columns) and df["macs"].notna().any()


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


def _profile_parts(df: pd.DataFrame, extra: dict[str, Any]) -> tuple[str, list[str], list[Figure]]:
    from effprof.reports.plots import plot_profile

    summary = extra.get("summary") or {}
    model = summary.get("model") or (df["model"].iloc[0] if len(df) and "model" in df else "")
    blocks = (
        ["<h2>Summary</h2>", _key_values({k: v for k, v in summary.items() if v is not None})]
        if summary
        else []
    )
    figures: list[Figure] = []
    if len(df) and {"op_class", "macs", "params"} <= set(df.columns):
        figures.append(("share of MACs and of time (or params) per op class",
                        render_png(lambda p: plot_profile(_numeric(df), p))))  # fmt: skip
    return f"effprof profile: {model}", blocks, figures


def _compare_figures(df: pd.DataFrame, title: str = "effprof compare") -> list[Figure]:
    from effprof.reports.plots import plot_compare

    if not _is_model_frame(df):
        return []
    return [("MACs against measured latency per model (MACs and params when nothing was timed)",
             render_png(lambda p: plot_compare(_numeric(df), p, title=title)))]  # fmt: skip


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


def _bench_parts(
    df: pd.DataFrame, meta: dict[str, Any], extra: dict[str, Any]
) -> tuple[str, list[str], list[Figure]]:
    from effprof.bench.plot import plot_changes

    bench = meta.get("bench") or {}
    comparison = extra.get("comparison")
    errors = int(df["error"].notna().sum()) if "error" in df.columns else 0
    failed = errors or (comparison or {}).get("failed")
    if comparison is None:
        verdict = (
            f"{errors} failed row{'s' if errors != 1 else ''}"
            if errors
            else "done (no baseline to compare with)"
        )
    elif failed:
        n = comparison.get("failures", 0)
        verdict = f"fail: {n} failure{'s' if n != 1 else ''} against the baseline"
    elif comparison.get("inconclusive"):
        n = comparison["inconclusive"]
        verdict = (f"inconclusive: {n} latency row{'s' if n != 1 else ''} too contended or noisy to judge "
                   "(counts within tolerance; see the notes in the latency table)")  # fmt: skip
    else:
        verdict = "pass: every count and normalised latency within tolerance"
    state = "fail" if failed else "inconclusive" if comparison and comparison.get("inconclusive") else "pass"
    blocks = [f"<p class='verdict {state}'>{html.escape(verdict)}</p>",
              f"<p>Suite <code>{html.escape(str(bench.get('suite_file', '')))}</code>, latency normalised by "
              f"<b>{html.escape(str(bench.get('reference', '')))}</b> measured in the same run.</p>"]  # fmt: skip
    figures = _compare_figures(df, title=f"effprof bench {bench.get('suite', '')}")
    if comparison is not None:
        if extra.get("baseline"):
            blocks.append(f"<p>Baseline <code>{html.escape(str(extra['baseline']))}</code>.</p>")
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
        figures.insert(0, ("change against the baseline per case (red: fails)",
                           render_png(lambda p: plot_changes(comparison, p))))  # fmt: skip
    blocks += list(extra.get("html_sections") or [])  # e.g. the lecture suite's roadmap and claims
    reference = str(bench.get("reference", "reference"))
    results = {"model": "model", "input_shape": "input", "backend": "backend", "params": "params", "macs": "MACs",
               "activations": "activations", "latency_ms": "latency ms", "latency_norm": f"× {reference}",
               "error": "error"}  # fmt: skip
    blocks += [
        "<h2>Results</h2>",
        _table(df[[c for c in results if c in df.columns]].rename(columns=results)),
    ]
    return f"effprof bench: {bench.get('suite', '')}", blocks, figures


def report_html(
    df: pd.DataFrame, meta: dict[str, Any], *, kind: str = "", extra: dict[str, Any] | None = None
) -> str:
    """The page for a report of ``kind`` (profile | compare | bench; anything else: the table alone)."""
    extra = extra or {}
    if kind == "profile":
        title, blocks, figures = _profile_parts(df, extra)
        return to_html(df, meta, title, blocks=blocks, figures=figures, table_heading="Layers")
    if kind == "bench":
        title, blocks, figures = _bench_parts(df, meta, extra)
        return to_html(df, meta, title, blocks=blocks, figures=figures, table_heading="All columns")
    if kind == "compare":
        return to_html(df, meta, "effprof compare", figures=_compare_figures(df))
    return to_html(df, meta)
