"""Rich rendering of ``profile --reconcile``: op-class totals of the three counters and every reason for a
difference. Rounding happens here only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from effprof.reports.table import add_row

if TYPE_CHECKING:
    from effprof.results import ProfileResult


def render_reconciliation(result: ProfileResult) -> list:
    """Op-class totals of the three counters, then each reason for a difference with the layers it covers."""
    stock = result.reconciliation()
    completed = result.reconciliation(completed=True)
    others = [n for n in stock.counters if n != stock.reference]
    by_class = Table(title="reconcile: MACs by op class, three counters (stock)", title_justify="left")
    for col in ("op class", "analytic", *others):
        by_class.add_column(col, justify="left" if col == "op class" else "right", no_wrap=True)
    for row in stock.op_class_rows():
        if row["macs"] or any(row.get(f"macs_{n}") for n in others):
            add_row(by_class, row["op_class"], f"{row['macs']:,}", *(f"{row.get(f'macs_{n}', 0):,}" for n in others))
    reasons = Table(title="reconcile: every difference over 1%, by reason", title_justify="left")
    for col in ("counter", "reason", "layers", "MACs difference"):
        reasons.add_column(col, justify="right" if col in ("layers", "MACs difference") else "left",
                           no_wrap=col != "reason")  # fmt: skip
    grouped: dict[tuple[str, str], list] = {}
    for d in stock.disagreements:
        if not d.layer.startswith("op_class:"):
            grouped.setdefault((d.counter, d.reason), []).append(d)
    for (counter, reason), ds in grouped.items():
        diff = sum(x.macs_counter - x.macs for x in ds)
        add_row(reasons, counter, reason, str(len(ds)), f"{diff:+,}")
    lines = [Text("coverage (share of the analytic MACs each counter saw):", style="bold")]
    lines += [Text(f"  {line}") for line in stock.coverage_lines() + completed.coverage_lines()]
    if stock.unexplained:
        lines.append(Text(f"{len(stock.unexplained)} differences have no named reason", style="red"))
    return [by_class, reasons, *lines]
