"""The claims figure (``effprof claims -o x.png``), a pure function: rows in, a matplotlib ``Figure`` out.

One line per (claim, backend): the measured ratio and its 95% interval on a log axis, the range it must lie
in shaded, coloured by verdict. Reads only the rows (``holds_if`` as ``Bounds.describe`` writes it), so a
CSV read back draws the same figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from effprof.reports.plots.style import given, nothing_to_plot

#: verdict (effprof.lecture.claims' words) -> colour
VERDICT_COLOURS = {"holds": "#2e7d32", "does not hold": "#c62828", "inconclusive": "#b7791f"}


def claims_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """One line per (claim, backend): the measured ratio with its interval (log scale), the range it must
    lie in shaded, coloured by verdict."""
    shown = [r for r in rows if given(r.get("measured"))]
    if not shown:
        raise nothing_to_plot("no claim was measured")
    fig = Figure(figsize=(9, 0.35 * len(shown) + 1.5), dpi=110)
    ax = fig.subplots()
    for i, r in enumerate(reversed(shown)):
        low, high = _bounds(r.get("holds_if") or "")
        ax.plot([low or 1e-6, high or 1e6], [i, i], color="#dddddd", linewidth=8, solid_capstyle="butt")
        ax.errorbar([r["measured"]], [i], xerr=[[r["measured"] - r["measured_low"]], [r["measured_high"] - r["measured"]]],
                    fmt="o", color=VERDICT_COLOURS.get(r["verdict"], "black"), capsize=3)  # fmt: skip
    values = [v for r in shown for v in (r["measured_low"], r["measured_high"]) if v and v > 0]
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 2)
    ax.set_yticks(range(len(shown)), [f"{r['claim_id']} ({_backend(r)})" for r in reversed(shown)], fontsize=7)
    ax.set_xlabel("measured ratio (grey: where the claim holds; green holds, red does not, amber inconclusive)")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def _backend(row: dict[str, Any]) -> str:
    """The row's backend, 'count' for a counted claim (None, or NaN once read back from a CSV)."""
    return row["backend"] if isinstance(row.get("backend"), str) else "count"


def _bounds(text: str) -> tuple[float | None, float | None]:
    """(low, high) back from ``Bounds.describe``'s '4.6x to 7.8x', '>= 1.5x', '<= 0.5x' (the text before ':')."""
    head = text.split(":")[0].strip()
    if " to " in head:
        low, high = head.split(" to ")
        return float(low.rstrip("x")), float(high.rstrip("x"))
    if head.startswith(">="):
        return float(head[2:].strip().rstrip("x")), None
    if head.startswith("<="):
        return None, float(head[2:].strip().rstrip("x"))
    return None, None
