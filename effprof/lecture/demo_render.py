"""Rich renderings of the lecture demonstrations (``effprof roadmap``, ``effprof claims``), fitted to the terminal.

Rule: as every effprof table (effprof.reports.table), each fits the width it is given: the columns that
carry the lecture's point stay (a step's MACs and latency relative to step 0; a claim's measured ratio and
verdict), every number whole, the columns left out named under it; ``wide`` shows them all. Errors are
lines under the table, with a short ``error`` in the row. Rounding happens here only. Importing this
module registers both renderers (``effprof.results.renders``); the runners import it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from effprof.lecture.claims import FAILS, HOLDS, INCONCLUSIVE, ClaimRow, ClaimsResult
from effprof.lecture.roadmap import RoadmapResult
from effprof.reports.fmt import fixed, ms
from effprof.reports.table import ERROR_MARK, Column, error_lines, fit_table, hidden_note
from effprof.reports.trust import threads_line, warning_lines
from effprof.results import renders

VERDICT_STYLE = {HOLDS: "green", FAILS: "bold red", INCONCLUSIVE: "yellow"}


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:+.1f}%"


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


# --- roadmap --------------------------------------------------------------------------------------------------


def _interval(r: dict[str, Any]) -> str:
    """'1.15-1.31' for a paired ratio's 95% interval; '' for step 0 or an unpaired row."""
    low, high = r.get("latency_vs_step0_low"), r.get("latency_vs_step0_high")
    return "" if low is None or high is None or low == high else f"{low:.2f}-{high:.2f}"


def _backend_columns(backend: str) -> list[Column]:
    """A backend's latency columns: its ratio to step 0 stays; its ms, interval and doubt go (in that order) when
    space is short."""

    def timed(step: dict[str, Any]) -> dict[str, Any]:
        return step["timed"].get(backend, {})

    def ratio(step: dict[str, Any]) -> Any:
        r = timed(step)
        return ERROR_MARK if r.get("error") else _x(r.get("latency_vs_step0"))

    return [
        Column(f"{backend}\nms", lambda s: ms(timed(s).get("latency_ms")), drop=4),
        Column(f"{backend}\n× step 0", ratio),
        Column(f"{backend}\n95%", lambda s: _interval(timed(s)), drop=3),
        Column(f"{backend}\ndoubt", lambda s: timed(s).get("doubt") or "", "left", drop=2, text=True, style="yellow",
               wrap=12),
    ]  # fmt: skip


def _counted(cell):
    """A count cell of a step row; '' when the step was not counted (its GMACs cell says error)."""
    return lambda s: "" if s.get("macs") is None else cell(s)


def _roadmap_columns(backends: list[str]) -> list[Column]:
    return [
        Column("#", lambda s: str(s["step"])),
        Column("change", lambda s: s["label"] or s["change"], "left", text=True),
        Column("params", _counted(lambda s: f"{s['params'] / 1e6:.2f} M"), drop=5),
        Column("GMACs", lambda s: ERROR_MARK if s.get("macs") is None else fixed(s["macs"], 1e9, 3)),
        Column("paper\nGMACs", lambda s: f"{s['paper_macs'] / 1e9:.1f}", drop=3),
        Column("vs\npaper", _counted(lambda s: _pct(s["macs_error"])), drop=2),
        Column("top-1\n%", lambda s: f"{s['paper_top1']:.1f}", drop=5),
        Column("MACs\n× step 0", _counted(lambda s: _x(s.get("macs_vs_step0")))),
        *(c for b in backends for c in _backend_columns(b)),
    ]


def _steps(result: RoadmapResult) -> list[dict[str, Any]]:
    """One row per step: its count columns (from its first row) and its timed rows by backend."""
    steps: dict[int, dict[str, Any]] = {}
    for r in result.rows:
        step = steps.setdefault(r["step"], {**r, "timed": {}})
        if r.get("backend"):
            step["timed"][r["backend"]] = r
    return list(steps.values())


@renders(RoadmapResult)
def render_roadmap(result: RoadmapResult, *, width: int | None = None, wide: bool = False) -> Group:
    """One row per step: change, params, MACs vs the paper, top-1; then per backend latency and its ratio to step 0."""
    backends = [b for b in result.backends if any(r.get("backend") == b for r in result.rows)]
    fitted = fit_table("effprof roadmap: ResNet-50 -> ConvNeXt-T, one change per step (Liu et al. 2022, Fig. 2)",
                       _roadmap_columns(backends), _steps(result), width=width, wide=wide)  # fmt: skip
    failures = [(f"step {r['step']}" + (f" ({r['backend']})" if r.get("backend") else ""), r["error"])
                for r in result.rows if r.get("error")]  # fmt: skip
    timing = (" × step 0 under a backend: each step timed together with step 0 (ResNet-50) in alternating slices, "
              "95% interval; doubt: contended, or an interval wider than ±16% (noisy).") if backends else ""
    parts: list[Any] = [fitted.table, *error_lines(failures), Text(
        "GMACs: effprof's analytic count (multiply-adds, the paper's 'GFLOPs'); paper: Figure 2's GFLOPs; vs paper = "
        f"counted / paper - 1; top-1: Figure 2 (ImageNet-1K, the paper's training).{timing} The changes in full: "
        "-o x.csv.", style="dim")]  # fmt: skip
    worst = result.worst_macs_error()
    if worst is not None:
        parts.append(Text(f"worst MACs error against the paper: step {worst['step']} ({worst['change']}), "
                          f"{_pct(worst['macs_error'])}", style="bold"))  # fmt: skip
    gaps = result.gaps()
    for gap in gaps:
        doubt = f" [{gap['doubt']}]" if gap["doubt"] else ""
        parts.append(Text(f"step {gap['step']} on {gap['backend']}: MACs {_pct(gap['macs_change'])}, latency "
                          f"{_pct(gap['latency_change'])}: {gap['change']}{doubt}"))  # fmt: skip
    if backends and not gaps:
        parts.append(Text("no step made time grow more than 10 points beyond its MACs on these backends", style="dim"))
    line = threads_line(result.meta)
    parts += [*([line] if line and backends else []), *warning_lines(result.warnings)]
    parts += [n for n in [hidden_note(fitted.hidden, width)] if n]
    if result.interrupted:
        parts.append(Text("interrupted: only the steps above finished", style="yellow"))
    return Group(*parts)


# --- claims ---------------------------------------------------------------------------------------------------


def _claim_rows(result: ClaimsResult) -> list[dict[str, Any]]:
    """One row per (claim, backend), the claim's number and words on its first row only."""
    numbers = {claim_id: n for n, claim_id in enumerate(dict.fromkeys(r.claim.id for r in result.rows), 1)}
    rows, seen = [], set()
    for r in result.rows:
        first = r.claim.id not in seen
        seen.add(r.claim.id)
        rows.append({"row": r, "number": numbers[r.claim.id], "first": first})
    return rows


def _measured(row: ClaimRow) -> str | Text:
    if row.error:
        return ERROR_MARK
    return "" if row.evidence is None else f"{row.evidence.value:.3g}x"


def _claim_interval(row: ClaimRow) -> str:
    e = row.evidence
    return "" if e is None or e.low == e.high else f"{e.low:.3g}-{e.high:.3g}"


def _reason(row: ClaimRow) -> str:
    """Why the claim comes out so on this row, its counted part's verdict, and where the count is checked."""
    counted = f"; counted part: {row.counted_verdict}" if row.counted_verdict else ""
    reference = f" (see `{row.claim.reference}`)" if row.claim.reference else ""
    return row.why + counted + reference


def _claim_columns() -> list[Column]:
    def claim(key):
        return lambda x: key(x["row"]) if x["first"] else ""

    return [
        Column("#", lambda x: str(x["number"]) if x["first"] else ""),
        Column("claim (as stated)", claim(lambda r: r.claim.stated), "left", text=True, wrap=28),
        Column("measured ratio", claim(lambda r: r.claim.quantity), "left", drop=5, text=True, wrap=24),
        Column("holds if", claim(lambda r: r.claim.bounds.describe()), "left", drop=1),
        Column("on", lambda x: x["row"].backend or "count", "left"),
        Column("measured", lambda x: _measured(x["row"])),
        Column("95%", lambda x: _claim_interval(x["row"]), drop=3),
        Column("verdict", lambda x: Text(x["row"].verdict, style=VERDICT_STYLE[x["row"].verdict]), "left"),
        Column("doubt", lambda x: (x["row"].evidence.doubt if x["row"].evidence else "") or "", "left", drop=2,
               text=True, style="yellow", wrap=12),
        Column("why", lambda x: "" if x["row"].error else _reason(x["row"]), "left", drop=6, text=True, wrap=40,
               style="dim"),
    ]  # fmt: skip


@renders(ClaimsResult)
def render_claims(result: ClaimsResult, *, width: int | None = None, wide: bool = False) -> Group:
    """One row per claim and backend: the claim as stated, where it holds, the measured ratio, the verdict;
    why each comes out so (a column when it fits, else numbered lines under the table, one per claim: the
    reading of its last backend, named)."""
    rows = _claim_rows(result)
    fitted = fit_table("effprof claims: the lecture's latency claims, measured on this machine", _claim_columns(),
                       rows, width=width, wide=wide)  # fmt: skip
    failures = list(dict.fromkeys((f"{r.claim.group} ({r.backend})", r.error) for r in result.errors))
    parts: list[Any] = [fitted.table, *error_lines(failures)]  # type: ignore[arg-type]
    if "why" in fitted.hidden:  # the lecture's reading of each verdict is never left out: below the table
        last = {x["number"]: x["row"] for x in rows if not x["row"].error}
        where = "holds if" in fitted.hidden  # then the range goes with the reading
        parts += [Text(f"{n}. " + (f"[holds if {r.claim.bounds.describe()}] " if where else "")
                       + (f"on {r.backend}: " if r.backend else "") + _reason(r), style="dim")
                  for n, r in last.items()]  # fmt: skip
    summary = ", ".join(f"{n} {v}" for v, n in result.counts().items())
    parts += [Text(f"{len(result.rows)} (claim, backend) rows: {summary}.", style="bold"),
              Text("measured: trimmed geometric mean of paired-slice ratios, 95%: bootstrap interval; holds = the "
                   "whole interval in range, does not hold = wholly outside, inconclusive = it straddles an edge or "
                   "the timing was contended or noisy.", style="dim")]  # fmt: skip
    line = threads_line(result.meta)
    if line and result.backends:
        parts.append(line)
    parts += warning_lines(result.warnings)
    below = ("why", "holds if") if "why" in fitted.hidden else ()  # said in the lines under the table
    parts += [n for n in [hidden_note([h for h in fitted.hidden if h not in below], width)] if n]
    if result.interrupted:
        parts.append(Text("interrupted: only the claims above were judged", style="yellow"))
    return Group(*parts)
