"""The scale figure: EfficientNet's MACs relative to B0 against φ, on a log axis, beside 2^φ and the
compound rule (1.2·1.1²·1.15²)^φ, for the released B0-B7 and the literal efficientnet(phi=φ) models.

On a log axis 2^φ and the rule are straight lines, so where the released models leave the rule shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from effprof.reports.plots.style import log_axes, nothing_to_plot, pyplot, save


def plot_scale(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """MACs ÷ B0 per φ (released and literal) with the 2^φ and rule lines; y on a log axis."""
    if not rows:
        raise nothing_to_plot("no EfficientNet variant was counted")
    plt = pyplot()
    phi = [r["phi"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    ax.plot(phi, [r["two_pow_phi"] for r in rows], color="black", lw=1.2, ls="--", label="2^φ")
    ax.plot(phi, [r["rule_macs_ratio"] for r in rows], color="grey", lw=1.2, ls=":",
            label="rule (1.2·1.1²·1.15²)^φ = 1.92^φ")  # fmt: skip
    ax.plot(phi, [r["macs_vs_b0"] for r in rows], marker="o", lw=2, label="released B0-B7 (MACs ÷ B0)")
    ax.plot(phi, [r["literal_macs_vs_phi0"] for r in rows], marker="s", lw=1.5,
            label="literal efficientnet(phi=φ) (MACs ÷ φ=0)")  # fmt: skip
    for r in rows:
        ax.annotate(f"B{r['phi']}", (r["phi"], r["macs_vs_b0"]), fontsize=7, xytext=(3, -10),
                    textcoords="offset points")  # fmt: skip
    log_axes(ax, "y")
    ax.set_xticks(phi)
    ax.set_xlabel("compound coefficient φ")
    ax.set_ylabel("MACs relative to φ = 0 (log)")
    ax.set_title("EfficientNet compound scaling: MACs vs 2^φ and the rule")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)
    return path
