"""Roofline reports: device limits, per-layer and per-op-class roofline tables, the prediction table,
and the roofline plot. Rounding happens here only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from effprof.reports.render import add_row, si

if TYPE_CHECKING:
    from effprof.hardware.limits import DeviceLimits
    from effprof.hardware.predict import PredictionResult
    from effprof.hardware.roofline import Roofline

#: one colour per op class, fixed so plots of different models read alike
OP_CLASS_COLOURS = {
    "conv_dense": "#1f77b4", "conv_depthwise": "#d62728", "conv_pointwise": "#2ca02c", "conv_grouped": "#9467bd",
    "linear": "#ff7f0e", "attention": "#8c564b", "norm": "#e377c2", "activation": "#7f7f7f", "pool": "#bcbd22",
    "elementwise": "#17becf", "other": "#000000",
}  # fmt: skip


def _ms(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def _signed_pct(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:+.0f}%"


def render_limits(limits: DeviceLimits) -> Group:
    """The measured ceilings (median rate, spread, size) and the ridge point per dtype."""
    table = Table(title=f"effprof hw: {escape(str(limits.machine.get('gpu') or limits.machine.get('cpu', limits.device)))}",
                  title_justify="left")  # fmt: skip
    for col in ("ceiling", "dtype", "size", "median ms", "IQR", "runs", "rate"):
        table.add_column(col, justify="left" if col in ("ceiling", "dtype", "size") else "right", no_wrap=True)
    labels = {"gemm": "peak compute (GEMM)", "copy": "DRAM bandwidth (copy)", "triad": "DRAM bandwidth (triad)",
              "cache_copy": "in-cache copy"}  # fmt: skip
    for c in limits.ceilings:
        m = c.measurement
        unit = "GMAC/s" if c.kind == "compute" else "GB/s"
        add_row(table, labels.get(c.name, c.name), c.dtype, c.size, _ms(m.median_ms), _pct(c.iqr_ratio), str(m.runs),
                      f"{c.rate_g_per_s:,.1f} {unit}")  # fmt: skip
    lines = [
        Text(f"device {limits.device}, {limits.threads} threads; roofline: peak {limits.peak_gmacs_per_s():,.1f} GMAC/s "
             f"(fp32), bandwidth {limits.bandwidth_gb_per_s:,.1f} GB/s (best of copy, triad)", style="bold"),
    ]  # fmt: skip
    for dtype in limits.dtypes:
        lines.append(Text(f"ridge point {dtype}: {limits.ridge_macs_per_byte(dtype):.2f} MACs/byte "
                          "(layers above it can be compute-bound, below it are memory-bound)"))  # fmt: skip
    source = f"cached {limits.measured_at}" if limits.from_cache else f"measured {limits.measured_at}"
    lines.append(Text(f"{source}; cache: {limits.cache_path or 'not cached'} (--refresh re-measures). Rates = work / median time; "
                      "bytes counted as STREAM does (each array once per run).", style="dim"))  # fmt: skip
    lines += [Text(f"warning: {w}", style="yellow") for w in limits.warnings]
    return Group(table, *lines)


def render_roofline(rl: Roofline, top: int = 10) -> Group:
    """Device roofs, the model's roofline vs measured time, per op class and the heaviest layers."""
    head = Table(title=f"roofline: {escape(rl.model)} on {escape(rl.device)} ({rl.threads} threads)", title_justify="left",
                 show_header=False)  # fmt: skip
    head.add_column(style="bold")
    head.add_column(justify="right")
    add_row(head, "peak compute (fp32 GEMM)", f"{rl.peak_gmacs_per_s:,.1f} GMAC/s")
    add_row(head, "DRAM bandwidth", f"{rl.bandwidth_gb_per_s:,.1f} GB/s")
    if rl.cache_gb_per_s:
        add_row(head, "in-cache copy (not a roof)", f"{rl.cache_gb_per_s:,.1f} GB/s")
    add_row(head, "ridge point", f"{rl.ridge_macs_per_byte:.2f} MACs/byte")
    add_row(head, "roofline time (sum over layers)", f"{_ms(rl.roofline_ms)} ms")
    if rl.latency_ms:
        add_row(head, "measured latency", f"{_ms(rl.latency_ms)} ms")
        add_row(head, "efficiency (roofline / measured)", _pct(rl.efficiency))
    timed = rl.measured_layers_ms is not None

    classes = Table(title="roofline by op class", title_justify="left")
    cols = ("op class", "layers", "MACs", "bytes", "MACs/byte", "memory/compute-bound", "roofline ms",
            *(("measured ms", "efficiency", "GMAC/s") if timed else ()))  # fmt: skip
    for col in cols:
        classes.add_column(col, justify="left" if col == "op class" else "right", no_wrap=True)
    for c in sorted(rl.op_classes(), key=lambda c: -(c.measured_ms or c.roofline_ms)):
        extra = (_ms(c.measured_ms), _pct(c.efficiency),
                 f"{c.achieved_gmacs_per_s:.1f}" if c.achieved_gmacs_per_s else "") if timed else ()  # fmt: skip
        add_row(classes, c.op_class, str(c.layers), si(c.macs), si(c.bytes, "B"), f"{c.intensity:.1f}",
                        f"{c.memory_bound} / {c.compute_bound}", _ms(c.roofline_ms), *extra)  # fmt: skip

    key = (lambda r: -(r.measured_ms or 0.0)) if timed else (lambda r: -r.roofline_ms)
    heavy = sorted(rl.layers, key=key)[:top]
    layers = Table(title=f"top {len(heavy)} layers by {'measured' if timed else 'roofline'} time", title_justify="left")
    for col in ("layer", "op class", "MACs", "bytes", "MACs/byte", "bound", "roofline ms",
                *(("measured ms", "efficiency") if timed else ())):  # fmt: skip
        layers.add_column(col, justify="left" if col in ("layer", "op class", "bound") else "right", no_wrap=True)
    for r in heavy:
        extra = (_ms(r.measured_ms), _pct(r.efficiency)) if timed else ()
        add_row(layers, r.layer or "(root)", r.op_class, si(r.macs), si(r.bytes, "B"), f"{r.intensity:.1f}", r.bound,
                       _ms(r.roofline_ms), *extra)  # fmt: skip
    parts: list = [head, classes, layers, Text(rl.assumptions, style="dim")]
    if timed:
        parts.append(Text("measured ms per layer: torch.profiler exclusive time (profiler overhead included), split "
                          "over a module's op-class rows by bytes; the model's efficiency uses the timed latency.",
                          style="dim"))  # fmt: skip
    parts += [Text(n, style="yellow") for n in rl.notes]
    return Group(*parts)


def roofline_frame(rl: Roofline, layer_df: pd.DataFrame) -> pd.DataFrame:
    """``layer_df`` (profile's layer rows) with the roofline columns joined on (layer, op class)."""
    extra = pd.DataFrame(rl.to_rows())
    if extra.empty:
        return layer_df
    return layer_df.merge(extra, on=["layer", "op_class"], how="left")


def render_predictions(result: PredictionResult) -> Group:
    """Measured latency beside each predictor's figure and error, per model; the MAPE of each predictor."""
    from effprof.hardware.predict import PREDICTORS

    labels = {"macs": "MACs only", "roofline": "roofline", "calibrated": "calibrated roofline"}
    table = Table(title=f"effprof predict: eager latency on {escape(result.limits.device)} ({result.limits.threads} threads)",
                  title_justify="left")  # fmt: skip
    table.add_column("model", no_wrap=True)
    table.add_column("input", no_wrap=True)
    table.add_column("GMACs", justify="right")
    table.add_column("measured ms", justify="right")
    for p in PREDICTORS:
        table.add_column(f"{labels[p]} ms", justify="right")
        table.add_column("error", justify="right")
    for m in result.models:
        if m.error:
            add_row(table, m.model, "", "", Text(f"error: {m.error}", style="red"))
            continue
        cells = []
        for p in PREDICTORS:
            err = m.error_pct(p)
            style = "" if err is None or abs(err) <= 25 else "red" if abs(err) > 50 else "yellow"
            cells += [_ms(m.predicted_ms.get(p)), Text("reference" if m.is_reference and p == "macs" else _signed_pct(err),
                                                       style=style)]  # fmt: skip
        add_row(table, m.model + (" (ref)" if m.is_reference else ""), "x".join(map(str, m.input_shape)),
                      f"{m.macs / 1e9:.3f}", _ms(m.measured_ms), *cells)  # fmt: skip
    n = len(result.scored())
    mape_table = Table(title=f"mean absolute percentage error over {n} models (reference {escape(result.reference)} left out)",
                       title_justify="left")  # fmt: skip
    for col in ("predictor", "how", "MAPE"):
        mape_table.add_column(col, justify="right" if col == "MAPE" else "left")
    how = {
        "macs": f"MACs / {result.reference}'s achieved GMAC/s (timed in this run)",
        "roofline": "sum over layers of max(MACs / peak, bytes / bandwidth)",
        "calibrated": "sum of roofline / the nearest calibration layers' efficiency, composed as in a network",
    }
    for p in PREDICTORS:
        add_row(mape_table, labels[p], how[p], f"{result.mape(p):.1f}%")
    cal = result.calibration
    fits = Table(title=f"calibration on this device: {len(cal.timings)} single layers, {len(cal.networks)} synthetic "
                 "networks (none of them an evaluated model or cut from one)", title_justify="left")  # fmt: skip
    for col in ("op class", "layers", "efficiency once big", "overhead µs/call", "summary fit MAPE"):
        fits.add_column(col, justify="left" if col == "op class" else "right")
    for name, f in cal.fits.items():
        if name != "*":
            add_row(fits, name, str(f.samples), _pct(f.efficiency), f"{f.overhead_ms * 1e3:.1f}", f"{f.fit_mape:.0f}%")
    comp = cal.composition
    lines = [
        Text(f"calibrated = each layer's roofline / the efficiency of the 2 nearest calibration layers of its op class "
             f"(same layer type where timed), summed, then x {comp.scale:.2f} + {comp.overhead_ms * 1e3:.1f} µs per op "
             f"call (fitted on the {comp.networks} networks, {comp.fit_mape:.0f}% MAPE on them).", style="dim"),
        Text(f"roofs: {result.limits.peak_gmacs_per_s():,.1f} GMAC/s, {result.limits.bandwidth_gb_per_s:,.1f} GB/s; "
             f"calibration {'cached ' if cal.from_cache else 'measured '}{cal.measured_at} ({cal.cache_path or 'not cached'}); "
             "error = (predicted - measured) / measured; + = predicted slower.", style="dim"),
    ]  # fmt: skip
    lines += [Text(f"warning: {w}", style="yellow") for w in [*result.limits.warnings, *cal.warnings]
              if "spread" not in w and "outliers" not in w]  # fmt: skip
    warned = [m for m in result.models if m.warnings]
    lines += [Text(f"{m.model}: {'; '.join(m.warnings)}", style="yellow") for m in warned]
    if result.interrupted:
        lines.append(Text("interrupted: only the models above finished", style="yellow"))
    return Group(table, mape_table, fits, *lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    return plt


def plot_roofline(rl: Roofline, path: Path) -> Path:
    """Log-log roofline: attainable GMAC/s vs MACs/byte, each MAC layer at its measured rate.

    Points are coloured by op class and sized by measured time, so the layers that cost the most
    stand out; big outlined markers are the op classes as a whole. Without measured times the
    points sit on the roof (their roofline rate). MAC-free layers have no point (their work is not MACs).
    """
    import numpy as np

    plt = _pyplot()
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
    ax.set_xscale("log")
    ax.set_yscale("log")
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
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_predictions(result: PredictionResult, path: Path) -> Path:
    """Predicted vs measured latency per model (log-log), one marker per predictor, with the y = x line."""
    from effprof.hardware.predict import PREDICTORS

    plt = _pyplot()
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
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured eager latency (ms)")
    ax.set_ylabel("predicted latency (ms)")
    ax.set_title(f"effprof predict on {result.limits.device} ({result.limits.threads} threads)", fontsize=9)
    ax.grid(True, which="both", alpha=0.2)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
