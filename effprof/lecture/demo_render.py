"""Rich renderings of the lecture demonstrations (``effprof roadmap``, ``effprof claims``). Rounding happens here only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from effprof.lecture.claims import FAILS, HOLDS, INCONCLUSIVE
from effprof.reports.render import add_row, fixed
from effprof.reports.trust import threads_line, warning_lines

if TYPE_CHECKING:
    from effprof.lecture.claims import ClaimRow, ClaimsResult
    from effprof.lecture.roadmap import RoadmapResult

VERDICT_STYLE = {HOLDS: "green", FAILS: "bold red", INCONCLUSIVE: "yellow"}


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:+.1f}%"


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _ratio(r: dict) -> str:
    """'1.23x [1.15-1.31]' (step 0 and unpaired rows: just the ratio)."""
    value, low, high = r.get("latency_vs_step0"), r.get("latency_vs_step0_low"), r.get("latency_vs_step0_high")
    if value is None:
        return ""
    return f"{value:.2f}x" if low is None or low == high else f"{value:.2f}x [{low:.2f}-{high:.2f}]"


def render_roadmap(result: RoadmapResult) -> Group:
    """One row per step: change, params, MACs vs the paper, top-1; then per backend latency and its ratio to step 0."""
    backends = [b for b in result.backends if any(r.get("backend") == b for r in result.rows)]
    table = Table(title="effprof roadmap: ResNet-50 -> ConvNeXt-T, one change per step (Liu et al. 2022, Fig. 2)",
                  title_justify="left")  # fmt: skip
    cols = ["#", "change", "params", "GMACs", "paper", "error", "top-1 %", "MACs ×"]
    for b in backends:
        cols += [f"{b} ms", f"{b} × step 0", f"{b} doubt"]
    for col in cols:
        table.add_column(col, justify="left" if col == "change" or col.endswith("doubt") else "right",
                         no_wrap=not col.endswith("doubt"), overflow="fold")  # fmt: skip
    steps = dict.fromkeys(r["step"] for r in result.rows)
    for step in steps:
        rows = [r for r in result.rows if r["step"] == step]
        first = rows[0]
        label = first.get("label") or first["change"]
        if first.get("macs") is None:
            add_row(table, str(step), label, Text(f"error: {first.get('error')}", style="red"))
            continue
        cells: list = [str(step), label, f"{first['params'] / 1e6:.2f} M", fixed(first["macs"], 1e9, 3),
                       f"{first['paper_macs'] / 1e9:.1f}", _pct(first["macs_error"]), f"{first['paper_top1']:.1f}",
                       _x(first.get("macs_vs_step0"))]  # fmt: skip
        for b in backends:
            r = next((r for r in rows if r.get("backend") == b), {})
            if r.get("error"):
                cells += [Text("error", style="red"), "", Text(r["error"], style="red")]
                continue
            ms = r.get("latency_ms")
            cells += ["" if ms is None else f"{ms:.3g}", _ratio(r), Text(r.get("doubt") or "", style="yellow")]
        add_row(table, *cells)
    parts: list = [table, Text(
        "GMACs: effprof's analytic count (multiply-adds, the paper's 'GFLOPs'); paper: Figure 2's GFLOPs; error = "
        "counted / paper - 1; top-1: Figure 2 (ImageNet-1K, the paper's training). × step 0: each step timed together "
        "with step 0 (ResNet-50) in alternating slices, [95% interval]; doubt: contended, or an interval wider than "
        "±16% (noisy). The changes in full: -o x.csv.", style="dim")]  # fmt: skip
    worst = result.worst_macs_error()
    if worst is not None:
        parts.append(Text(f"worst MACs error against the paper: step {worst['step']} ({worst['change']}), "
                          f"{_pct(worst['macs_error'])}", style="bold"))  # fmt: skip
    for gap in result.gaps():
        doubt = f" [{gap['doubt']}]" if gap["doubt"] else ""
        parts.append(Text(f"step {gap['step']} on {gap['backend']}: MACs {_pct(gap['macs_change'])}, latency "
                          f"{_pct(gap['latency_change'])}: {gap['change']}{doubt}"))  # fmt: skip
    if backends and not result.gaps():
        parts.append(Text("no step made time grow more than 10 points beyond its MACs on these backends", style="dim"))
    line = threads_line(result.meta)
    parts += [*([line] if line and backends else []), *warning_lines(result.warnings)]
    if result.interrupted:
        parts.append(Text("interrupted: only the steps above finished", style="yellow"))
    return Group(*parts)


def _cell(row: ClaimRow) -> Text:
    """'5.21x [4.9-5.6] holds' for one claim on one backend."""
    style = VERDICT_STYLE[row.verdict]
    if row.error or row.evidence is None:
        return Text.assemble(("error ", "red"), (row.verdict, style))
    e = row.evidence
    interval = "" if e.low == e.high else f" [{e.low:.3g}-{e.high:.3g}]"
    doubt = f" ({e.doubt})" if e.doubt else ""
    return Text.assemble(f"{e.value:.3g}{interval} ", (row.verdict, style), (doubt, "yellow"))


def render_claims(result: ClaimsResult) -> Group:
    """One row per claim: as stated, what it was reduced to, each backend's measurement and verdict, why."""
    columns = list(dict.fromkeys(r.backend or "count" for r in result.rows))
    table = Table(title="effprof claims: the lecture's latency claims, measured on this machine", title_justify="left")
    table.add_column("claim (as stated)", overflow="fold", ratio=3)
    table.add_column("measured ratio", overflow="fold", ratio=2)
    table.add_column("holds if", overflow="fold", ratio=2)
    for col in columns:
        table.add_column(col, overflow="fold", ratio=2)
    table.add_column("why", overflow="fold", ratio=4)
    for claim_id in dict.fromkeys(r.claim.id for r in result.rows):
        rows = [r for r in result.rows if r.claim.id == claim_id]
        claim = rows[0].claim
        by_col = {r.backend or "count": r for r in rows}
        counted = next((r.counted_verdict for r in rows if r.counted_verdict), None)
        quantity = claim.quantity + (f"; counted part {counted}" if counted else "")
        reference = f" (see `{claim.reference}`)" if claim.reference else ""
        add_row(table, claim.stated, quantity, f"{claim.bounds.describe()}: {claim.tolerance}",
                *(_cell(by_col[c]) if c in by_col else Text("") for c in columns),
                Text(rows[-1].why + reference, style="dim"))  # fmt: skip
    counts = result.counts()
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    parts: list = [table, Text(f"{len(result.rows)} (claim, backend) rows: {summary}.", style="bold"),
                   Text("measured ratio: trimmed geometric mean of paired-slice ratios, [95% bootstrap interval]; "
                        "holds = the whole interval in range, does not hold = wholly outside, inconclusive = it "
                        "straddles an edge or the timing was contended or noisy.", style="dim")]  # fmt: skip
    line = threads_line(result.meta)
    if line and result.backends:
        parts.append(line)
    if result.interrupted:
        parts.append(Text("interrupted: only the claims above were judged", style="yellow"))
    return Group(*parts)
