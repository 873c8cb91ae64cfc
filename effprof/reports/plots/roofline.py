"""The roofline figure (every layer against the device's roofs) and the prediction figure (predicted
against measured latency per model), both on log-log axes with readable ticks."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from effprof.reports.fmt import pct as _pct
from effprof.reports.plots.style import log_axes, pyplot, save
from effprof.reports.roofline import predictors_of

if TYPE_CHECKING:
    from effprof.hardware.predict import PredictionResult
    from effprof.hardware.roofline import Roofline

#: one colour per op class, fixed so plots of different models read alike
OP_CLASS_COLOURS = {
    "conv_dense": "#1f77b4", "conv_depthwise": "#d62728", "conv_pointwise": "#2ca02c", "conv_grouped": "#9467bd",
    "linear": "#ff7f0e", "attention": "#8c564b", "norm": "#e377c2", "activation": "#7f7f7f", "pool": "#bcbd22",
    "elementwise": "#17becf", "other": "#000000",
}  # fmt: skip


def plot_roofline(rl: Roofline, path: Path) -> Path:
    """Log-log roofline: attainable GMAC/s vs MACs/byte, each MAC layer at its measured rate.

    Points are coloured by op class and sized by measured time, so the layers that cost the most
    stand out; big outlined markers are the op classes as a whole. Without measured times the
    points sit on the roof (their roofline rate). MAC-free layers have no point (their work is not MACs).
    """
    import numpy as np

    plt = pyplot()
    peak, bw = rl.peak_gmacs_per_s, rl.bandwidth_gb_per_s
    rows = [r for r in rl.layers if r.macs > 0 and r.bytes > 0]
    timed = any(r.measured_ms for r in rows)
    intensities = [r.intensity for r in rows] or [rl.ridge_macs_per_byte]
    x_lo = min(min(intensities), rl.ridge_macs_per_byte) / 3
    x_hi = max(max(intensities), rl.ridge_macs_per_byte) * 3
    x = np.logspace(math.log10(x_lo), math.log10(x_hi), 200)
    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=130)
    ax.plot(x, np.minimum(peak, bw * x), color="black", lw=2, label=f"roofline: {peak:,.0f} GMAC/s, {bw:,.1f} GB/s")
    if rl.cache_gb_per_s and rl.cache_gb_per_s > bw:
        ax.plot(x, np.minimum(peak, rl.cache_gb_per_s * x), color="black", lw=1, ls="--",
                label=f"in-cache copy {rl.cache_gb_per_s:,.0f} GB/s (not a roof)")  # fmt: skip
    ax.axvline(rl.ridge_macs_per_byte, color="grey", lw=0.8, ls=":")
    ax.annotate(f"ridge {rl.ridge_macs_per_byte:.1f} MACs/B", (rl.ridge_macs_per_byte, peak), fontsize=7,
                xytext=(4, -12), textcoords="offset points", color="grey")  # fmt: skip
    total_ms = sum(r.measured_ms or 0.0 for r in rows) or 1.0

    def rate(r) -> float:
        if timed:
            return r.achieved_gmacs_per_s or math.nan
        return r.macs / (r.roofline_ms / 1e3) / 1e9

    for op_class in dict.fromkeys(r.op_class for r in rows):
        group = [r for r in rows if r.op_class == op_class]
        sizes = [15 + 600 * (r.measured_ms or 0.0) / total_ms for r in group] if timed else 20
        ax.scatter([r.intensity for r in group], [rate(r) for r in group], s=sizes, alpha=0.6,
                   color=OP_CLASS_COLOURS.get(op_class, "black"), edgecolors="none", label=op_class)  # fmt: skip
    if timed:
        for c in rl.op_classes():
            if c.macs and c.bytes and c.achieved_gmacs_per_s:
                colour = OP_CLASS_COLOURS.get(c.op_class, "black")
                ax.scatter([c.intensity], [c.achieved_gmacs_per_s], s=160, marker="D", facecolors="white",
                           edgecolors=colour, linewidths=2, zorder=5)  # fmt: skip
                ax.annotate(f"{c.op_class} {_pct(c.efficiency)}", (c.intensity, c.achieved_gmacs_per_s), fontsize=7,
                            xytext=(7, 4), textcoords="offset points", color=colour, zorder=6)  # fmt: skip
    log_axes(ax, "xy")
    ax.set_xlabel("arithmetic intensity (MACs per byte, fp32, each tensor moved once)")
    ax.set_ylabel("GMAC/s (attainable: line; achieved: points)" if timed else "GMAC/s at the roof")
    what = "measured rate per layer (size = share of time); ◇ = op class as a whole, with its efficiency" if timed else \
        "no time measured: layers drawn at their roofline rate"  # fmt: skip
    ax.set_title(f"roofline: {rl.model} on {rl.device} ({rl.threads} threads)\n{what}", fontsize=9)
    ax.grid(True, which="both", alpha=0.2)
    ax.legend(fontsize=7, loc="lower right", markerscale=0.7)
    free = sorted({r.op_class for r in rl.layers if not r.macs})
    if free:
        fig.text(0.01, 0.005, f"no point for layers without MACs ({', '.join(free)}): memory-bound by their bytes, "
                 "see the table", fontsize=6, color="grey")  # fmt: skip
    fig.subplots_adjust(bottom=0.12)
    save(fig, path)
    return path


def plot_predictions(result: PredictionResult, path: Path) -> Path:
    """Predicted vs measured latency per model (log-log), one marker per predictor, with the y = x line."""
    PREDICTORS = predictors_of(result)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=130)
    rows = [m for m in result.models if m.measured_ms and not m.error]
    markers = {"macs": "o", "roofline": "s", "calibrated": "D"}
    for p in PREDICTORS:
        ax.scatter([m.measured_ms for m in rows], [m.predicted_ms[p] for m in rows], marker=markers[p], alpha=0.7,
                   label=f"{p} (MAPE {result.mape(p):.0f}%)")  # fmt: skip
    values = [v for m in rows for v in (m.measured_ms, *m.predicted_ms.values()) if v and v > 0]
    if values:
        lo, hi = min(values) / 1.5, max(values) * 1.5
        ax.plot([lo, hi], [lo, hi], color="black", lw=1, label="predicted = measured")
    for m in rows:
        ax.annotate(m.model, (m.measured_ms, m.predicted_ms["calibrated"]), fontsize=6, xytext=(3, 2),
                    textcoords="offset points")  # fmt: skip
    log_axes(ax, "xy")
    ax.set_xlabel("measured eager latency (ms)")
    ax.set_ylabel("predicted latency (ms)")
    ax.set_title(f"effprof predict on {result.limits.device} ({result.limits.threads} threads)", fontsize=9)
    ax.grid(True, which="both", alpha=0.2)
    ax.legend(fontsize=7)
    save(fig, path)
    return path
