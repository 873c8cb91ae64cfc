"""The terminal's table of a bench run's rows, fitted to the width like every effprof table
(effprof.reports.table): counts whole, latency and its ratio to the reference; errors listed below it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group

from effprof.bench.compare import case_of
from effprof.reports.fmt import count, ms
from effprof.reports.table import Column, error_lines, fit_table, hidden_note

if TYPE_CHECKING:
    from effprof.bench.run import BenchResult


def render_bench_rows(result: BenchResult, *, width: int | None = None, wide: bool = False) -> Group:
    """Every row of the run: case, input, backend, params, MACs, activations, latency ms, × the reference."""
    reference = result.suite.reference
    columns = [
        Column("case", lambda r: case_of(r).label, "left", text=True),
        Column("input", lambda r: r.get("input_shape") or "", "left", drop=4),
        Column("backend", lambda r: r.get("backend") or "", "left", drop=2),
        Column("params", lambda r: count(r.get("params"))),
        Column("MACs", lambda r: count(r.get("macs"))),
        Column("activations", lambda r: count(r.get("activations")), drop=3),
        Column("latency ms", lambda r: ms(r.get("latency_ms")), drop=1),
        Column(f"× {reference}", lambda r: "" if r.get("latency_norm") is None else f"{r['latency_norm']:.3f}"),
    ]
    fitted = fit_table("All rows", columns, result.rows, width=width, wide=wide, failed=lambda r: bool(r.get("error")))
    errors = error_lines([(f"{case_of(r).label} ({r.get('backend') or 'count'})", r["error"])
                          for r in result.rows if r.get("error")])  # fmt: skip
    return Group(fitted.table, *errors, *[n for n in [hidden_note(fitted.hidden, width)] if n])
