"""Rich renderings of the lecture results (checks, sweeps, the scaling table). Rounding happens here only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from effprof.reports.render import add_row, si
from effprof.reports.table import error_lines

if TYPE_CHECKING:
    from effprof.lecture.checks import CheckRow
    from effprof.lecture.sweep import SweepResult


def number(value: float | None) -> str:
    """Integers in full with thousands separators (so exactness shows); other values to 4 digits."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def percent(value: float | None) -> str:
    if value is None:
        return ""
    if value < 1e-9:  # float ratios against integer counts: below this it is rounding, not a difference
        return "0"
    return f"{100 * value:.2g}%" if value < 0.001 else f"{100 * value:.2f}%"


def tolerance(value: float | None) -> str:
    if value is None:
        return "—"
    return "exact" if value < 1e-6 else f"{100 * value:g}%"


def verdict(passed: bool | None) -> Text:
    if passed is None:
        return Text("shown", style="dim")
    return Text("pass", style="green") if passed else Text("FAIL", style="bold red")


def render_checks(rows: Sequence[CheckRow], titles: dict[str, str] | None = None) -> Group:
    """One table per check: formula value and counted value side by side, error, tolerance, verdict."""
    titles = titles or {}
    parts: list = []
    for check in dict.fromkeys(r.check for r in rows):
        table = Table(title=escape(f"{check}: {titles.get(check, '')}".rstrip(": ")), title_justify="left")
        for col, justify in (
            ("quantity", "left"), ("formula", "left"), ("configuration", "left"), ("formula value", "right"),
            ("counted", "right"), ("fvcore", "right"), ("error", "right"), ("tol.", "right"), ("", "left"),
            ("note", "left"),
        ):  # fmt: skip
            table.add_column(col, justify=justify, overflow="fold")
        previous_note = None
        for r in (r for r in rows if r.check == check):
            note, previous_note = (
                ("" if r.note == previous_note else r.note),
                r.note,
            )  # say a repeated note once
            add_row(table,
                r.quantity,
                r.formula,
                r.config,
                number(r.predicted),
                Text.assemble(number(r.counted), ("" if r.counted_by == "analytic" else (f" ({r.counted_by})", "dim"))),
                number(r.fvcore),
                percent(r.rel_error),
                tolerance(r.tolerance),
                verdict(r.passed),
                Text(note, style="dim"),
            )
        parts.append(table)
    judged = [r for r in rows if r.passed is not None]
    failed = [r for r in judged if not r.passed]
    summary = (
        f"{len(rows)} rows: {len(judged) - len(failed)} pass, {len(failed)} fail, "
        f"{len(rows) - len(judged)} shown for comparison (not judged)."
    )
    parts.append(Text(summary, style="bold red" if failed else "bold green"))
    parts.append(
        Text(
            "counted = effprof's analytic counter on the built module/model; fvcore = fvcore's conv/linear/matmul "
            "count on the same module on CPU (its 'flop' is one MAC); error = |formula - counted| / counted.",
            style="dim",
        )
    )
    return Group(*parts)


def render_sweep(result: SweepResult) -> Group:
    """The sweep's table (params, MACs, MACs by op class) and its growth exponents."""
    axis = result.axis
    table = Table(title=f"effprof sweep: {escape(result.model)} over {escape(axis)}", title_justify="left")
    table.add_column(axis, justify="right")
    table.add_column("input", justify="left")
    for col in ("params", "MACs", *(c.removeprefix("macs_") for c in result.class_columns)):
        table.add_column(col, justify="right")
    for extra in result.extra_columns:
        table.add_column(extra, justify="right")
    for row in result.rows:
        if row.get("error"):  # the message goes under the table, never inside a cell
            add_row(table, str(row[axis]), "", Text("error", style="red"))
            continue
        add_row(table,
            f"{row[axis]:g}",
            row["input_shape"],
            si(row["params"]),
            si(row["macs"]),
            *(si(row.get(c, 0)) for c in result.class_columns),
            *(number(row.get(c)) for c in result.extra_columns),
        )
    fits = Table(title=f"growth: MACs ∝ {escape(result.x_name)}^k (log-log least squares)", title_justify="left")
    for col in ("quantity", "exponent k", "R²", "points"):
        fits.add_column(col, justify="left" if col == "quantity" else "right")
    for name, fit in result.fits.items():
        label = (
            "MACs (total)"
            if name == "macs"
            else name.removeprefix("macs_") + (" MACs" if name != "params" else "")
        )
        add_row(fits,
            label, f"{round(fit.exponent, 3) + 0.0:.3f}", f"{fit.r2:.4f}", str(fit.points)
        )  # no "-0.000"
    parts: list = [table, *error_lines([(f"{axis} {row[axis]}", row["error"]) for row in result.rows
                                         if row.get("error")]), fits]  # fmt: skip
    if not result.fits:
        parts.append(Text("fewer than 2 points counted: no exponent fitted", style="yellow"))
    parts.append(Text(result.reading(), style="dim"))
    return Group(*parts)


def render_scale(rows: Sequence[dict]) -> Group:
    """EfficientNet B0-B7 (released coefficients) next to 2^phi and the literal compound-rule model."""
    table = Table(title="effprof scale: EfficientNet compound scaling, B0-B7", title_justify="left")
    for col in (
        "φ", "model", "depth", "width", "res", "params", "MACs", "MACs ÷ B0", "2^φ",
        "rule d·w²·r²", "literal d", "literal w", "literal res", "literal params", "literal MACs", "literal ÷ φ=0",
    ):  # fmt: skip
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    for r in rows:
        add_row(table,
            str(r["phi"]), r["model"], f"{r['depth_mult']:g}", f"{r['width_mult']:g}", str(r["resolution"]),
            si(r["params"]), si(r["macs"]), f"{r['macs_vs_b0']:.2f}", f"{r['two_pow_phi']:g}",
            f"{r['rule_macs_ratio']:.2f}", f"{r['literal_depth_mult']:.2f}", f"{r['literal_width_mult']:.2f}",
            str(r["literal_resolution"]), si(r["literal_params"]), si(r["literal_macs"]),
            f"{r['literal_macs_vs_phi0']:.2f}",
        )  # fmt: skip
    note = Text(
        "Released B1-B7 use torchvision's width_mult/depth_mult and the paper's resolutions; the literal model is "
        "efficientnet(phi=φ): d = 1.2^φ, w = 1.1^φ, r = 1.15^φ (round(224·1.15^φ) px), built from the same blocks. "
        "The rule predicts MACs × (1.2·1.1²·1.15²)^φ = 1.92^φ ≈ 2^φ; ceil(depth) and channels rounded to 8 "
        "push the literal model above it at small φ.",
        style="dim",
    )
    return Group(table, note)
