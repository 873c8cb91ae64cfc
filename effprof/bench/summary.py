"""The Markdown summary of a bench run: what the terminal prints, ``-o x.md`` and ``$GITHUB_STEP_SUMMARY`` hold.

Rule: failures first, then what changed, then latency (absolute and normalised side by side), then
every row. Exact counts keep their digits (a one-parameter change must be visible); times get
three significant figures.
"""

from __future__ import annotations

import math
from typing import Any

from effprof.bench.compare import Comparison, case_of
from effprof.bench.verdict import bench_verdict
from effprof.reports.fmt import count as _count
from effprof.reports.fmt import ms as _ms

STATUS = {"fail": "❌ fail", "ok": "within tolerance", "faster": "faster", "inconclusive": "⚠️ inconclusive",
          "info": "info"}  # fmt: skip


def _pct(value: float | None) -> str:
    """Signed percent, with enough digits that a tiny change does not print as 0.00%."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return f"{'+' if value > 0 else '-'}inf%"
    if value == 0 or abs(value) >= 1:
        return f"{value:+.1f}%"
    return f"{value:+.2g}%"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def verdict(rows: list[dict[str, Any]], comparison: Comparison | None, interrupted: bool = False) -> str:
    """The headline of the summary: the run's one verdict (effprof.bench.verdict) with its icon."""
    v = bench_verdict(rows, comparison, interrupted)
    return f"{v.icon} {v.words}"


def _changes(comparison: Comparison) -> list[str]:
    shown = [c for c in comparison.changes if c.metric != "error"]
    if not shown:
        return ["No count changed: params, MACs and activations are identical to the baseline."]
    rows = []
    for c in shown:
        delta = "" if c.baseline is None or c.current is None else f"{c.current - c.baseline:+,.0f}"
        tol = "" if c.tolerance_pct is None else f"±{c.tolerance_pct:g}%"
        rows.append([c.case.label, c.metric, _count(c.baseline), _count(c.current), delta, _pct(c.change_pct),
                     tol, STATUS[c.status] if not c.note else f"{STATUS[c.status]}: {c.note}"])  # fmt: skip
    return _table(["case", "metric", "baseline", "current", "difference", "change", "tolerance", "status"],
                  rows, right={2, 3, 4, 5, 6})  # fmt: skip


def _latency(comparison: Comparison, reference: str) -> list[str]:
    if not comparison.latency:
        return []
    lines = [f"### Latency, normalised by {reference} measured in the same run", ""]
    rows = [[c.case.label, c.backend or "", _ms(c.baseline_ms), _ms(c.current_ms), f"{c.baseline:.3f}",
             f"{c.current:.3f}", _pct(c.change_pct), _span(c), f"+{c.tolerance_pct:g}%",
             STATUS[c.status] if not c.note else f"{STATUS[c.status]}: {c.note}"]
            for c in comparison.latency]  # fmt: skip
    lines += _table(["case", "backend", "baseline ms", "current ms", "baseline × ref", "current × ref",
                     "change × ref", "95% interval", "tolerance", "status"], rows, right={2, 3, 4, 5, 6, 7, 8})  # fmt: skip
    lines += ["", "Each model is timed in slices alternating with the reference; a latency change fails only "
              "when its whole 95% interval (a bootstrap of both runs' slice-pair ratios) is above the "
              "tolerance, and is inconclusive when the interval straddles it or a row was contended."]  # fmt: skip
    for backend, factor in comparison.speed.items():
        pace = f"{max(factor, 1 / factor):.2f}x {'slower' if factor >= 1 else 'faster'}"
        lines += ["", f"This machine ran {reference} {pace} than the baseline's on {backend}: "
                  "absolute times are shown, not gated."]  # fmt: skip
    return ["", *lines]


def _span(c) -> str:
    if c.change_low_pct is None or c.change_high_pct is None:
        return ""
    return f"{_pct(c.change_low_pct)} to {_pct(c.change_high_pct)}"


def _warnings(rows: list[dict[str, Any]]) -> list[str]:
    """Every warning stored on a row (contention, spread, threads), one bullet each, once per message."""
    by_message: dict[str, list[str]] = {}
    for r in rows:
        for message in filter(None, str(r.get("warnings") or "").split("; ")):
            label = f"{case_of(r).label} ({r.get('backend')})"
            by_message.setdefault(message, [])
            if label not in by_message[message]:
                by_message[message].append(label)
    timed = {f"{case_of(r).label} ({r.get('backend')})" for r in rows if r.get("backend")}
    return [f"- {'every row' if len(on) > 1 and set(on) == timed else ', '.join(on)}: {message}"
            for message, on in by_message.items()]  # fmt: skip


def _rows(rows: list[dict[str, Any]], reference: str) -> list[str]:
    body = []
    for r in rows:
        body.append([case_of(r).label, r.get("input_shape") or "", r.get("backend") or "", _count(r.get("params")),
                     _count(r.get("macs")), _count(r.get("activations")), _ms(r.get("latency_ms")),
                     "" if r.get("latency_norm") is None else f"{r['latency_norm']:.3f}",
                     str(r.get("error") or "")])  # fmt: skip
    return _table(["case", "input", "backend", "params", "MACs", "activations", "latency ms", f"× {reference}",
                   "error"], body, right={3, 4, 5, 6, 7})  # fmt: skip


def markdown_summary(
    suite_name: str,
    rows: list[dict[str, Any]],
    meta: dict[str, Any],
    comparison: Comparison | None = None,
    *,
    baseline_path: str | None = None,
    interrupted: bool = False,
    details: bool = True,
) -> str:
    """The whole summary as Markdown; ``details`` folds the full row table (GitHub renders <details>)."""
    bench = meta.get("bench", {})
    reference = bench.get("reference", "")
    env = meta.get("environment") or {}
    backends = ", ".join(meta.get("backends") or []) or "none (counts only)"
    threads = meta.get("threads") or env.get("torch_threads")
    if meta.get("threads_reason"):
        threads = f"{threads} ({meta['threads_reason']})"
    lines = [f"## effprof bench {suite_name}: {verdict(rows, comparison, interrupted)}", "",
             f"Suite `{bench.get('suite_file', suite_name)}`: {len({case_of(r) for r in rows})} cases, backends "
             f"{backends} on {env.get('device', 'cpu')} ({env.get('cpu', '?')}, threads {threads}), "
             f"latency reference {reference}, effprof {(meta.get('versions') or {}).get('effprof')}."]  # fmt: skip
    if baseline_path:
        lines[-1] += f" Baseline `{baseline_path}`."
    errors = [r for r in rows if r.get("error")]
    if errors:
        lines += ["", "### Failed rows", ""]
        lines += [
            f"- {case_of(r).label}{' on ' + r['backend'] if r.get('backend') else ''}: {r['error']}"
            for r in errors
        ]
    warned = _warnings(rows)
    if warned:
        lines += ["", "### Warnings", "", *warned]
    if comparison is not None:
        lines += ["", "### What changed", "", *_changes(comparison)]
        lines += _latency(comparison, reference)
        if comparison.notes:
            lines += ["", "### Notes", "", *(f"- {n}" for n in comparison.notes)]
    table = _rows(rows, reference)
    if details:
        lines += ["", "<details><summary>All rows</summary>", "", *table, "", "</details>"]
    else:
        lines += ["", "### All rows", "", *table]
    return "\n".join(lines) + "\n"
