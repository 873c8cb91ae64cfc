"""Rich renderings of profile and compare results: what the CLI prints and what a notebook shows.

Rule: each table fits the width it is given (effprof.reports.table): the columns that matter most
stay, every number whole, the columns left out named under it; ``wide`` shows them all. Errors and
warnings are lines under the table, never text in a cell. Rounding happens here only.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from effprof.reports.fmt import fixed, ms, ratio, si
from effprof.reports.reconcile import render_reconciliation
from effprof.reports.table import Column, add_row, error_lines, fit_table, hidden_note
from effprof.reports.trust import row_doubt, trust_lines
from effprof.results import (
    CompareResult,
    ModelListResult,
    ModelProfile,
    ProfileResult,
    layer_latency_ms,
    op_class_rows,
    renders,
)

__all__ = ["add_row", "render_compare", "render_model_list", "render_profile", "si"]  # add_row, si: used by effprof.lecture.render


def _count_columns(extra: list[str], base: dict[str, Any] | None) -> list[Column]:
    base = base or {}
    columns = [
        Column("model", lambda r: r["model"], "left", text=True),
        Column("input", lambda r: r["input_shape"], "left", drop=5),
        Column("params", lambda r: f"{r['params']:,}"),
        Column("GMACs", lambda r: fixed(r["macs"], 1e9, 3)),
        *(Column(f"GMACs {n}", lambda r, n=n: fixed(r.get(f"macs_{n}"), 1e9, 3), drop=3) for n in extra),
        Column("GFLOPs", lambda r: fixed(r["flops"], 1e9, 3), drop=4),
        Column("other ops", lambda r: si(r["other_ops"]), drop=6),
        Column("activations", lambda r: si(r["activations"]), drop=6),
        Column("params ×", lambda r: ratio(r["params"], base.get("params")), drop=2),
        Column("MACs ×", lambda r: ratio(r["macs"], base.get("macs")), drop=1),
    ]
    return columns


@renders(CompareResult)
def render_compare(result: CompareResult, *, width: int | None = None, wide: bool = False) -> Group:
    """The counts table (one row per model), then the latency table (one row per model and backend)."""
    counted = [p for p in result.profiles if p.count is not None]
    rows = [p.model_rows()[0] for p in result.profiles]
    extra = [name for name in ("fvcore", "torch") if any(name in p.counts for p in counted)]
    base = next((r for r in rows if not r.get("error")), None)
    fitted = fit_table("effprof compare", _count_columns(extra, base), rows, width=width, wide=wide,
                       failed=lambda r: r.get("macs") is None)  # fmt: skip
    shown_extra = [n for n in extra if f"GMACs {n}" not in fitted.hidden]
    whose = "those tools' own answers" if len(shown_extra) > 1 else "that tool's own answer"
    how = {"fvcore": "fvcore's 'flop' = 1 MAC, on CPU", "torch": "FlopCounterMode / 2, on the meta device"}
    notes = Text(
        "MACs = multiply-accumulates of conv/linear/matmul/attention; FLOPs = 2 x MACs; "
        "other ops = norms, activations, pooling, elementwise. Ratios are to the first model."
        + (f" GMACs {'/'.join(shown_extra)}: {whose} ({'; '.join(how[n] for n in shown_extra)}); "
           "`effprof profile MODEL --reconcile` explains every difference." if shown_extra else ""),
        style="dim",
    )  # fmt: skip
    parts: list[Any] = [fitted.table, *error_lines([(p.model, p.error) for p in result.profiles if p.error]), notes]
    # a cross-check left out is said, never left to look like a zero or a failure
    parts += [Text(f"{p.model}: {why}", style="yellow") for p in counted for why in p.counter_skipped.values()]
    parts += [n for n in [hidden_note(fitted.hidden, width)] if n]
    parts += _gap_table(result, width=width, wide=wide)
    if result.interrupted:
        parts.append(Text("interrupted: only the models above finished", style="yellow"))
    return Group(*parts)


def _latency_columns(first: dict[str, dict]) -> list[Column]:
    def base(r):
        return first.get(r["backend"], {})

    return [
        Column("model", lambda r: r["model"], "left", text=True),
        Column("backend", lambda r: r["backend"], "left"),
        Column("device", lambda r: r.get("device") or "", "left", drop=5),
        Column("threads", lambda r: str(r["threads"]), drop=4),
        Column("latency ms", lambda r: ms(r["latency_ms"])),
        Column("IQR ms", lambda r: ms(r["latency_iqr_ms"]), drop=3),
        Column("p90 ms", lambda r: ms(r["latency_p90_ms"]), drop=4),
        Column("runs", lambda r: str(r["runs"]), drop=4),
        Column("GMAC/s", lambda r: f"{r['gmacs_per_s']:.1f}" if r.get("gmacs_per_s") else "", drop=2),
        Column("MACs ×", lambda r: ratio(r["macs"], base(r).get("macs")), drop=3),
        Column("latency ×", lambda r: ratio(r["latency_ms"], base(r).get("latency_ms")), drop=1),
        Column("doubt", row_doubt, "left", text=True, style="yellow"),
    ]


def _gap_table(result: CompareResult, *, width: int | None, wide: bool) -> list[Any]:
    """Latency beside MACs per backend: the FLOPs-vs-latency gap, as ratios to the first model."""
    rows = [r for r in result.rows() if r.get("backend")]
    if not rows:
        return []
    first: dict[str, dict] = {}
    for r in rows:
        if not r.get("error") and r.get("latency_ms"):
            first.setdefault(r["backend"], r)
    fitted = fit_table("latency: the gap between MACs and time", _latency_columns(first), rows, width=width,
                       wide=wide, failed=lambda r: bool(r.get("error")))  # fmt: skip
    lines: list[Any] = [fitted.table]
    lines += error_lines([(f"{r['model']} ({r['backend']})", r["error"]) for r in rows if r.get("error")])
    for r in rows:
        base = first.get(r["backend"])
        if r.get("error") or base is None or r is base or not base["macs"] or not r.get("macs"):
            continue
        lines.append(Text(f"{r['model']} vs {base['model']} on {r['backend']}: {r['macs'] / base['macs']:.1f}x the MACs, "
                          f"{r['latency_ms'] / base['latency_ms']:.1f}x the latency"))  # fmt: skip
    lines += [n for n in [hidden_note(fitted.hidden, width)] if n]
    return [*lines, *trust_lines(result.profiles, result.meta)]


#: below this share of the latency spent in GPU kernels, the GPU mostly waits for the host
GPU_BUSY_LAUNCH_BOUND = 0.5


def gpu_busy_line(lt, latency_ms: float | None) -> Text | None:
    """On CUDA: how much of the latency the GPU's kernels fill (the attributed time is kernel time there).

    A small share means the forward is launch-bound: the GPU waits on Python, dispatch and kernel
    launches, so fewer MACs do not make it faster (seen: resnet50 batch 1 on an H200, 0.80 ms of
    kernels in 4.45 ms).
    """
    if not lt.device.startswith("cuda") or not latency_ms or lt.attributed_ms <= 0:
        return None
    share = lt.attributed_ms / latency_ms
    text = f"GPU kernels: {lt.attributed_ms:.3g} ms of the {latency_ms:.3g} ms latency ({share:.0%})"
    if share < GPU_BUSY_LAUNCH_BOUND:
        return Text(text + ": launch-bound, the GPU waits on the host between kernels (a larger batch, "
                    "torch.compile or CUDA graphs help; fewer MACs do not)", style="yellow")  # fmt: skip
    return Text(text, style="dim")


def _summary(p: ModelProfile) -> Table:
    c = p.count
    assert c is not None
    summary = Table(title=f"effprof profile: {escape(p.model)}", title_justify="left", show_header=False)
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column(justify="right")  # may wrap between words: a number is one word and stays whole
    for key, value in (
        ("input", "x".join(map(str, p.input_shape))),
        ("source", p.source),
        ("params", f"{c.params:,}  ({si(c.params)})"),
        ("trainable params", f"{c.trainable_params:,}"),
        ("MACs", f"{c.macs:,}  ({si(c.macs)})"),
        *((f"MACs, {name} (stock)", f"{p.counts[name].macs:,}  ({p.counts[name].macs / c.macs - 1:+.2%})")
          for name in ("fvcore", "torch") if name in p.counts and c.macs),
        ("FLOPs (2 x MACs)", si(c.flops)),
        ("other ops", si(c.other_ops)),
        ("activations", si(c.activations)),
        ("weights", si(c.weight_bytes, "B")),
    ):
        add_row(summary, key, value)
    for row in p.model_rows():
        if row.get("backend") and not row.get("error"):
            add_row(summary, f"latency, {row['backend']} ({row['device']}, {row['threads']} threads)",
                    f"{ms(row['latency_ms'])} ms  (IQR {ms(row['latency_iqr_ms'])}, p90 {ms(row['latency_p90_ms'])}, "
                    f"{row['runs']} runs, {row['gmacs_per_s'] or 0:.1f} GMAC/s)")  # fmt: skip
    for backend in p.latency_errors:
        add_row(summary, f"latency, {backend}", Text("error (below)", style="red"))
    for name in p.counter_errors:
        add_row(summary, f"MACs, {name}", Text("error (below)", style="red"))
    return summary


def _op_class_columns(timed: bool) -> list[Column]:
    def pct(key):
        return lambda r: "" if r.get(key) is None else f"{100 * r[key]:.1f}"

    time_columns = [
        Column("ms", lambda r: ms(r.get("latency_ms"))),
        Column("% time", pct("share_latency")),
        Column("time/MACs", lambda r: f"{r['time_per_macs']:.1f}x" if r.get("time_per_macs") else "", drop=1),
    ] if timed else []  # fmt: skip
    return [
        Column("op class", lambda r: r["op_class"], "left"),
        Column("layers", lambda r: str(r["layers"]), drop=4),
        Column("params", lambda r: si(r["params"]), drop=2),
        Column("% params", pct("share_params"), drop=3),
        Column("MACs", lambda r: si(r["macs"])),
        Column("% MACs", pct("share_macs")),
        Column("other ops", lambda r: si(r["other_ops"]), drop=5),
        *time_columns,
    ]


def _layer_columns(timed: bool, total_macs: int, layer_ms: dict, total_ms: float) -> list[Column]:
    def own_ms(r):
        return layer_ms.get((r.layer, r.op_class), 0.0)

    time_columns = [
        Column("ms", lambda r: ms(own_ms(r))),
        Column("% time", lambda r: f"{100 * own_ms(r) / total_ms:.1f}" if total_ms else "", drop=1),
    ] if timed else []  # fmt: skip
    return [
        Column("layer", lambda r: r.layer or "(root)", "left", text=True),
        Column("type", lambda r: r.type, "left", drop=4),
        Column("op class", lambda r: r.op_class, "left", drop=3),
        Column("output", lambda r: "x".join(map(str, r.output_shape)), "left", drop=5),
        Column("params", lambda r: si(r.params), drop=3),
        Column("MACs", lambda r: si(r.macs)),
        Column("% MACs", lambda r: f"{100 * r.macs / total_macs:.1f}" if total_macs else "", drop=2),
        Column("MACs/byte", lambda r: f"{r.intensity:.1f}", drop=4),
        *time_columns,
    ]


@renders(ProfileResult)
def render_profile(result: ProfileResult, *, width: int | None = None, wide: bool = False) -> Group:
    """The summary, then MACs (and time) by op class, then the heaviest layers, then what went wrong."""
    p = result.profile
    c = p.count
    assert c is not None
    timed = p.layer_times is not None
    layer_ms = layer_latency_ms(p)
    total_ms = sum(layer_ms.values())
    by_class = fit_table("by op class", _op_class_columns(timed), op_class_rows(p), width=width, wide=wide)
    key = (lambda r: -layer_ms.get((r.layer, r.op_class), 0.0)) if timed else (lambda r: -r.macs)
    top = sorted(c.layers, key=key)[: result.top_layers]
    layers = fit_table(f"top {len(top)} layers by {'measured time' if timed else 'MACs'}",
                       _layer_columns(timed, c.macs, layer_ms, total_ms), top, width=width, wide=wide)  # fmt: skip
    failures = [(f"latency, {b}", m) for b, m in p.latency_errors.items()]
    failures += [(f"MACs, {n}", m) for n, m in p.counter_errors.items()]
    parts: list[Any] = [_summary(p), *error_lines(failures), *trust_lines([p], result.meta), by_class.table,
                        layers.table]  # fmt: skip
    if timed:
        lt = p.layer_times
        parts.append(Text(
            f"time per layer: torch.profiler/ORT profiling on {lt.backend}, {lt.iterations} profiled forwards; "
            "% time is each op class's share of the attributed time. time/MACs > 1x: slower than its MACs predict.",
            style="dim",
        ))  # fmt: skip
        launch = gpu_busy_line(lt, next((m.median_ms for m in p.measurements if m.backend == lt.backend), None))
        if launch is not None:
            parts.append(launch)
    parts += [n for n in [hidden_note(list(dict.fromkeys(by_class.hidden + layers.hidden)), width)] if n]
    if c.unsupported:
        missed = ", ".join(f"{op} x{n}" for op, n in c.unsupported.most_common())
        parts.append(Text(f"not counted (no formula): {missed}", style="yellow"))
    if result.show_reconcile:
        parts.extend(render_reconciliation(result))
    return Group(*parts)


@renders(ModelListResult)
def render_model_list(result: ModelListResult, *, width: int | None = None, wide: bool = False) -> Group:
    """``effprof list``: name, family, source, resolution, params and the paper's figures per model."""
    columns = [
        Column("model", lambda r: r["model"], "left"),
        Column("family", lambda r: r["family"], "left", drop=3),
        Column("source", lambda r: r["source"], "left", drop=4),
        Column("res", lambda r: str(r["resolution"])),
        Column("params", lambda r: si(r.get("params"))),
        Column("paper params", lambda r: si(r.get("paper_params")), drop=2),
        Column("paper MACs", lambda r: si(r.get("paper_macs")), drop=1),
        Column("reference", lambda r: r.get("reference") or "", "left", drop=5, text=True),
    ]
    fitted = fit_table(f"{len(result.rows)} registered models", columns, result.rows, width=width, wide=wide)
    return Group(fitted.table, *[n for n in [hidden_note(fitted.hidden, width)] if n])
