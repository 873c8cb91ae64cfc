"""Roofline reports: device limits, per-layer and per-op-class roofline tables and the prediction table
(their plots are in effprof.reports.plots.roofline). Rounding happens here only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from effprof.reports.fmt import ms as _ms
from effprof.reports.fmt import pct as _pct
from effprof.reports.fmt import si
from effprof.reports.fmt import signed_pct as _signed_pct
from effprof.reports.table import Column, add_row, error_lines, fit_table, hidden_note
from effprof.results import PredictReport, renders

if TYPE_CHECKING:
    import pandas as pd

    from effprof.hardware.limits import DeviceLimits
    from effprof.hardware.predict import PredictionResult
    from effprof.hardware.roofline import Roofline


def predictors_of(result) -> tuple[str, ...]:
    """The predictors a prediction result holds, in its own order (read from the data, so the reports need
    not import effprof.hardware)."""
    return tuple(dict.fromkeys(p for m in result.models for p in m.predicted_ms))


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
    import pandas as pd  # lazily: cli.common.show imports this module to register its renderers

    extra = pd.DataFrame(rl.to_rows())
    if extra.empty:
        return layer_df
    return layer_df.merge(extra, on=["layer", "op_class"], how="left")


def _prediction_columns(predictors: tuple[str, ...], labels: dict[str, str]) -> list[Column]:
    def error_cell(p: str):
        def cell(m) -> Text:
            err = m.error_pct(p)
            style = "" if err is None or abs(err) <= 25 else "red" if abs(err) > 50 else "yellow"
            return Text("reference" if m.is_reference and p == "macs" else _signed_pct(err), style=style)

        return cell

    drops = {"macs": 2, "roofline": 3, "calibrated": 1}
    columns = [
        Column("model", lambda m: m.model + (" (ref)" if m.is_reference else ""), "left", text=True),
        Column("input", lambda m: "x".join(map(str, m.input_shape)), "left", drop=6),
        Column("GMACs", lambda m: f"{m.macs / 1e9:.3f}", drop=5),
        Column("measured ms", lambda m: _ms(m.measured_ms)),
    ]
    for p in predictors:
        columns += [Column(f"{labels[p]} ms", lambda m, p=p: _ms(m.predicted_ms.get(p)), drop=drops.get(p, 4) + 1),
                    Column(f"{labels[p]} error", error_cell(p), drop=drops.get(p, 4))]  # fmt: skip
    return columns


@renders(PredictReport)
def render_predict_report(report: PredictReport, *, width: int | None = None, wide: bool = False) -> Group:
    return render_predictions(report.source, width=width, wide=wide)


def render_predictions(result: PredictionResult, *, width: int | None = None, wide: bool = False) -> Group:
    """Measured latency beside each predictor's figure and error, per model; the MAPE of each predictor."""
    PREDICTORS = predictors_of(result)
    labels = {"macs": "MACs only", "roofline": "roofline", "calibrated": "calibrated"}
    fitted = fit_table(f"effprof predict: eager latency on {escape(result.limits.device)} ({result.limits.threads} threads)",
                       _prediction_columns(PREDICTORS, labels), result.models, width=width, wide=wide,
                       failed=lambda m: bool(m.error))  # fmt: skip
    table = fitted.table
    errors = error_lines([(m.model, m.error) for m in result.models if m.error])
    labels = {"macs": "MACs only", "roofline": "roofline", "calibrated": "calibrated roofline"}
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
    hidden = [n for n in [hidden_note(fitted.hidden, width)] if n]
    return Group(table, *errors, *hidden, mape_table, fits, *lines)
