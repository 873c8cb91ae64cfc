"""The figures of ``effprof explain`` topics (``-o x.png``), pure functions of the lecture formulas:

- ``separable_figure``: the depthwise-separable reduction Cout·K²/(K² + Cout) against Cout (-> K²);
- ``growth_figure``: attention MACs against pixels, a ViT's (quadratic) and a Swin's (linear);
- ``explain_figure``: the figure of a topic that has one (``FIGURE_TOPICS``: dwconv, vit, swin).

Each returns a matplotlib ``Figure`` (nothing saved, no pyplot state); the numbers come from
effprof.formulas.lecture, the closed forms ``effprof formulas`` checks against counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from effprof.errors import EffprofError
from effprof.formulas import lecture as lf
from effprof.reports.plots.style import nothing_to_plot

#: Swin-T's stage depths and ViT-B's depth, for the growth curves
SWIN_T_DEPTHS = (2, 2, 6, 2)
VIT_B_DEPTH = 12


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
        raise nothing_to_plot(f"fewer than 2 resolutions divisible by the patch {patch}")
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
