"""Lecture figures, as pure functions: data in, a matplotlib ``Figure`` out (nothing saved, no pyplot state).

- ``roadmap_figure``: per ConvNeXt-roadmap step, counted GMACs next to the paper's, and latency relative
  to step 0 per backend next to MACs relative to step 0;
- ``claims_figure``: each claim's measured ratio and interval against the range it must lie in;
- ``separable_figure``: the depthwise-separable reduction Cout·K²/(K² + Cout) against Cout (-> K²);
- ``growth_figure``: attention MACs against pixels, a ViT's (quadratic) and a Swin's (linear);
- ``explain_figure``: the figure of an ``effprof explain`` topic that has one (dwconv, vit, swin).

Saving is the caller's (``fig.savefig(path)``), through effprof's atomic writer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from effprof.errors import EffprofError
from effprof.formulas import lecture as lf

#: Swin-T's stage depths, for the growth curves
SWIN_T_DEPTHS = (2, 2, 6, 2)
VIT_B_DEPTH = 12


def _given(value: Any) -> bool:
    """A value is there: not None, not NaN (a missing cell of a DataFrame's records), not ''."""
    return value is not None and value == value and value != ""


def _nothing(why: str) -> EffprofError:
    return EffprofError(f"nothing to draw: {why}", exit_code=1)


def roadmap_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """Top: counted GMACs (bars) and the paper's (dots) per step. Bottom: each step's latency relative to
    step 0 per backend (paired timing, 95% interval) and its MACs relative to step 0 (dashed): where they
    part, time is not following MACs. '?' marks a contended or noisy ratio."""
    counted = {r["step"]: r for r in rows if _given(r.get("macs"))}
    if not counted:
        raise _nothing("no roadmap step was counted")
    steps = sorted(counted)
    timed = [r for r in rows if _given(r.get("latency_ms")) and not _given(r.get("error"))]
    fig = Figure(figsize=(10, 7.5 if timed else 4.5), dpi=110)
    axes = fig.subplots(2 if timed else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    ax.bar(steps, [counted[s]["macs"] / 1e9 for s in steps], color="#9bbbd9", label="counted (effprof)")
    ax.plot(steps, [counted[s]["paper_macs"] / 1e9 for s in steps], "o", color="#c0392b", label="paper, Fig. 2")
    ax.set_ylabel("GMACs")
    ax.set_title("ConvNeXt roadmap: ResNet-50 -> ConvNeXt-T, one change per step")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="y", alpha=0.3)
    if timed:
        ax = axes[1]
        ax.plot(steps, [counted[s]["macs"] / counted[steps[0]]["macs"] for s in steps], "k--", alpha=0.6,
                label="MACs × first step (if time followed MACs)")  # fmt: skip
        for backend in dict.fromkeys(r["backend"] for r in timed):
            mine = sorted((r for r in timed if r["backend"] == backend and _given(r.get("latency_vs_step0"))),
                          key=lambda r: r["step"])  # fmt: skip
            ys = [r["latency_vs_step0"] for r in mine]
            lows = [r["latency_vs_step0_low"] if _given(r.get("latency_vs_step0_low")) else y for r, y in zip(mine, ys, strict=True)]
            highs = [r["latency_vs_step0_high"] if _given(r.get("latency_vs_step0_high")) else y
                     for r, y in zip(mine, ys, strict=True)]  # fmt: skip
            ax.errorbar([r["step"] for r in mine], ys, yerr=[[y - lo for y, lo in zip(ys, lows, strict=True)],
                        [hi - y for y, hi in zip(ys, highs, strict=True)]], marker="o", capsize=3,
                        label=f"{backend}: latency × step 0 (95% interval)")  # fmt: skip
            for r in mine:
                if any(tag in str(r.get("doubt") or "") for tag in ("contended", "noisy")):
                    ax.annotate("?", (r["step"], r["latency_vs_step0"]), color="#b7791f", xytext=(3, 6),
                                textcoords="offset points")  # fmt: skip
        ax.set_ylabel("× step 0 (ResNet-50)")
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    labels = [f"{s}" for s in steps]
    axes[-1].set_xticks(steps, labels)
    axes[-1].set_xlabel("step (see the table: 0 = ResNet-50, 12 = ConvNeXt-T; ? = contended or noisy)")
    fig.tight_layout()
    return fig


def claims_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """One line per (claim, backend): the measured ratio with its interval (log scale), the range it must
    lie in shaded, coloured by verdict."""
    shown = [r for r in rows if _given(r.get("measured"))]
    if not shown:
        raise _nothing("no claim was measured")
    colors = {"holds": "#2e7d32", "does not hold": "#c62828", "inconclusive": "#b7791f"}
    fig = Figure(figsize=(9, 0.35 * len(shown) + 1.5), dpi=110)
    ax = fig.subplots()
    for i, r in enumerate(reversed(shown)):
        low, high = _bounds(r.get("holds_if") or "")
        ax.plot([low or 1e-6, high or 1e6], [i, i], color="#dddddd", linewidth=8, solid_capstyle="butt")
        ax.errorbar([r["measured"]], [i], xerr=[[r["measured"] - r["measured_low"]], [r["measured_high"] - r["measured"]]],
                    fmt="o", color=colors.get(r["verdict"], "black"), capsize=3)  # fmt: skip
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


def separable_figure(kernel: int = 3, cout: int | None = None, max_cout: int = 1024) -> Figure:
    """Reduction of depthwise-separable vs standard conv, Cout·K²/(K² + Cout), against Cout (log x), tending
    to K²; ``cout`` marks a configuration."""
    couts = sorted({2**i for i in range(0, int(math.log2(max_cout)) + 1)} | ({cout} if cout else set()))
    fig = Figure(figsize=(7, 4.2), dpi=110)
    ax = fig.subplots()
    ax.plot(couts, [lf.separable_reduction(c, kernel) for c in couts], marker=".", label=f"Cout·K²/(K² + Cout), K={kernel}")
    ax.axhline(kernel * kernel, linestyle="--", color="grey", label=f"K² = {kernel * kernel} (Cout → ∞)")
    if cout:
        r = lf.separable_reduction(cout, kernel)
        ax.plot([cout], [r], "o", color="#c0392b", label=f"Cout={cout}: {r:.2f}x")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("output channels Cout")
    ax.set_ylabel("standard / separable (params and MACs)")
    ax.set_title("Depthwise-separable convolution: the saving grows with Cout, up to K²")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def growth_figure(
    resolutions: Sequence[int] = (112, 224, 448, 896), patch: int = 16, vit_dim: int = 768, window: int = 7,
    swin_dim: int = 96,
) -> Figure:
    """Attention-core MACs against input pixels (log-log): ViT's global attention (slope 2) and Swin's
    window attention (slope 1), from the closed-form formulas ``effprof formulas vit/swin`` check."""
    usable = sorted({r for r in resolutions if r > 0 and r % patch == 0})
    if len(usable) < 2:
        raise _nothing(f"fewer than 2 resolutions divisible by the patch {patch}")
    pixels = [r * r for r in usable]
    vit = [lf.vit_macs_by_class(r, patch, vit_dim, VIT_B_DEPTH)["attention"] for r in usable]
    swin = [lf.swin_attention_macs(r, 4, swin_dim, SWIN_T_DEPTHS, window) for r in usable]
    fig = Figure(figsize=(7, 4.5), dpi=110)
    ax = fig.subplots()
    ax.plot(pixels, vit, marker="o", label=f"ViT (patch {patch}, d={vit_dim}, {VIT_B_DEPTH} blocks): 2·N²·d per block")
    ax.plot(pixels, swin, marker="s", label=f"Swin-T (window {window}, C={swin_dim}): 2·HW·M²·C per block")
    for r, p, v in zip(usable, pixels, vit, strict=True):
        ax.annotate(f"{r}px", (p, v), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("input pixels H·W")
    ax.set_ylabel("attention-core MACs")
    ax.set_title("Global attention grows with pixels², window attention with pixels")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


#: explain topics with a figure
FIGURE_TOPICS = ("dwconv", "vit", "swin")


def explain_figure(topic: str, config: dict[str, Any]) -> Figure:
    """The figure of an ``effprof explain`` topic with its configuration; EffprofError for a topic without one."""
    if topic == "dwconv":
        return separable_figure(int(config["kernel"]), int(config["cout"]))
    if topic == "vit":
        side = int(config["size"])
        return growth_figure(sorted({side // 2, side, 2 * side, 4 * side}), patch=int(config["patch"]),
                             vit_dim=int(config["dim"]))  # fmt: skip
    if topic == "swin":
        return growth_figure(window=int(config["window"]), swin_dim=int(config["dim"]))
    raise EffprofError(f"explain {topic} has no figure; topics with one: {', '.join(FIGURE_TOPICS)}")
