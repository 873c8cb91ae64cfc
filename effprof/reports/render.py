"""Rich renderings of results: what the CLI prints and what a notebook shows. Rounding happens here only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from effprof.reports.trust import row_doubt, trust_lines

if TYPE_CHECKING:
    from effprof.api import CompareResult, ProfileResult
    from effprof.models.registry import ModelCfg


def add_row(table: Table, *cells: str | Text) -> None:
    """``table.add_row``, with every str cell taken literally: model names, layer paths and errors are user
    text, and ``Table.add_row`` would parse ``[/x]`` in them as markup (and crash or drop it)."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


def si(value: float | int | None, unit: str = "", digits: int = 3) -> str:
    """12_345_678 -> '12.3 M' (3 significant digits); None -> ''."""
    if value is None:
        return ""
    value = float(value)
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{value:.{digits}g} {unit}".rstrip()


def fixed(value: float | int | None, scale: float, decimals: int) -> str:
    """A value in a fixed unit (e.g. GMACs) so a column lines up; None -> ''."""
    return "" if value is None else f"{value / scale:,.{decimals}f}"


def ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return ""
    return f"{value / base:.2f}x"


def render_models_list(cfgs: list[ModelCfg], params: dict[str, int]) -> Table:
    table = Table(title=f"{len(cfgs)} registered models", title_justify="left")
    for col, justify in (
        ("model", "left"), ("family", "left"), ("source", "left"), ("res", "right"), ("params", "right"),
        ("paper params", "right"), ("paper MACs", "right"), ("reference", "left"),
    ):  # fmt: skip
        table.add_column(col, justify=justify, no_wrap=col != "reference")
    for cfg in cfgs:
        paper = cfg.paper
        add_row(table,
            cfg.name,
            cfg.family,
            cfg.source,
            str(cfg.resolution),
            si(params.get(cfg.name)),
            si(paper.params) if paper else "",
            si(paper.macs) if paper else "",
            paper.citation if paper else "",
        )
    return table


def render_compare(result: CompareResult) -> Group:
    ok = [p for p in result.profiles if p.count is not None]
    base = ok[0].count if ok else None
    extra = [name for name in ("fvcore", "torch") if any(name in p.counts for p in ok)]
    table = Table(title="effprof compare", title_justify="left")
    cols = ("model", "input", "params", "GMACs", *(f"GMACs {n}" for n in extra), "GFLOPs", "other ops",
            "activations", "params ×", "MACs ×")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="left" if col in ("model", "input") else "right", no_wrap=True)
    for p in result.profiles:
        if p.count is None:
            add_row(table, p.model, "", Text(f"error: {p.error}", style="red"))
            continue
        c = p.count
        add_row(table,
            p.model,
            "x".join(map(str, p.input_shape)),
            f"{c.params:,}",
            fixed(c.macs, 1e9, 3),
            *(fixed(p.counts[n].macs, 1e9, 3) if n in p.counts else "" for n in extra),
            fixed(c.flops, 1e9, 3),
            si(c.other_ops),
            si(c.activations),
            ratio(c.params, base.params if base else None),
            ratio(c.macs, base.macs if base else None),
        )
    notes = Text(
        "MACs = multiply-accumulates of conv/linear/matmul/attention; FLOPs = 2 x MACs; "
        "other ops = norms, activations, pooling, elementwise. Ratios are to the first model."
        + (" GMACs fvcore/torch: those tools' own answers (fvcore's 'flop' = 1 MAC; FlopCounterMode / 2), "
           "on CPU; `effprof profile MODEL --reconcile` explains every difference." if extra else ""),
        style="dim",
    )  # fmt: skip
    parts = [table, notes]
    gap = _gap_table(result)
    if gap is not None:
        parts.extend(gap)
    if result.interrupted:
        parts.append(Text("interrupted: only the models above finished", style="yellow"))
    return Group(*parts)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _gap_table(result: CompareResult) -> list | None:
    """Latency beside MACs per backend: the FLOPs-vs-latency gap, as ratios to the first model."""
    rows = [r for p in result.profiles for r in p.model_rows() if r.get("backend")]
    if not rows:
        return None
    table = Table(title="latency: the gap between MACs and time", title_justify="left")
    for col in ("model", "backend", "device", "threads", "latency ms", "IQR ms", "p90 ms", "runs",
                "GMAC/s", "MACs ×", "latency ×", "doubt"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("model", "backend", "device", "doubt") else "right",
                         no_wrap=True, style="yellow" if col == "doubt" else None)  # fmt: skip
    first: dict[str, dict] = {}
    lines: list[Text] = []
    for r in rows:
        if r.get("error"):
            add_row(table, r["model"], r["backend"], r.get("device") or "", "", Text(f"error: {r['error']}", style="red"))
            continue
        base = first.setdefault(r["backend"], r)
        lat_ratio = r["latency_ms"] / base["latency_ms"] if base["latency_ms"] else None
        mac_ratio = r["macs"] / base["macs"] if base["macs"] else None
        add_row(table,
            r["model"], r["backend"], r["device"], str(r["threads"]), _ms(r["latency_ms"]),
            _ms(r["latency_iqr_ms"]), _ms(r["latency_p90_ms"]), str(r["runs"]),
            f"{r['gmacs_per_s']:.1f}" if r.get("gmacs_per_s") else "",
            ratio(r["macs"], base["macs"]), ratio(r["latency_ms"], base["latency_ms"]), row_doubt(r),
        )  # fmt: skip
        if r is not base and lat_ratio and mac_ratio:
            lines.append(
                Text(f"{r['model']} vs {base['model']} on {r['backend']}: {mac_ratio:.1f}x the MACs, "
                     f"{lat_ratio:.1f}x the latency")  # fmt: skip
            )
    return [table, *lines, *trust_lines(result.profiles, result.meta)]


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


def render_profile(result: ProfileResult) -> Group:
    p = result.profile
    c = p.count
    assert c is not None
    summary = Table(title=f"effprof profile: {escape(p.model)}", title_justify="left", show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    timed = p.layer_times is not None
    rows_by_class: dict[str, float] = {}
    layer_ms: dict[tuple[str, str], float] = {}
    if timed:
        from effprof.reports.frame import layer_latency_ms

        layer_ms = layer_latency_ms(p)
        for (_, op_class), ms in layer_ms.items():
            rows_by_class[op_class] = rows_by_class.get(op_class, 0.0) + ms
    total_ms = sum(rows_by_class.values())
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
    for m in p.measurements:
        gmacs = c.macs / (m.median_ms / 1e3) / 1e9 if m.median_ms else 0
        add_row(summary,
            f"latency, {m.backend} ({m.device}, {m.threads} threads)",
            f"{_ms(m.median_ms)} ms  (IQR {_ms(m.iqr_ms)}, p90 {_ms(m.p90_ms)}, {m.runs} runs, {gmacs:.1f} GMAC/s)",
        )
    for backend, message in p.latency_errors.items():
        add_row(summary, f"latency, {backend}", Text(f"error: {message}", style="red"))
    for name, message in p.counter_errors.items():
        add_row(summary, f"MACs, {name}", Text(f"error: {message}", style="red"))

    by_class = Table(title="by op class", title_justify="left")
    time_cols = ("ms", "% time", "time/MACs") if timed else ()
    for col in ("op class", "layers", "params", "% params", "MACs", "% MACs", "other ops", *time_cols):
        by_class.add_column(col, justify="left" if col == "op class" else "right")
    for op_class, v in sorted(c.by_op_class().items(), key=lambda kv: -kv[1]["macs"]):
        share_macs = v["macs"] / c.macs if c.macs else 0.0
        extra = ()
        if timed:
            share_time = rows_by_class.get(op_class, 0.0) / total_ms if total_ms else 0.0
            extra = (_ms(rows_by_class.get(op_class, 0.0)), f"{100 * share_time:.1f}",
                     f"{share_time / share_macs:.1f}x" if share_macs else "")  # fmt: skip
        add_row(by_class,
            op_class,
            str(v["layers"]),
            si(v["params"]),
            f"{100 * v['params'] / c.params:.1f}" if c.params else "",
            si(v["macs"]),
            f"{100 * share_macs:.1f}",
            si(v["other_ops"]),
            *extra,
        )

    key = (lambda r: -layer_ms.get((r.layer, r.op_class), 0.0)) if timed else (lambda r: -r.macs)
    top = sorted(c.layers, key=key)[: result.top_layers]
    layers = Table(title=f"top {len(top)} layers by {'measured time' if timed else 'MACs'}", title_justify="left")
    for col in ("layer", "type", "op class", "output", "params", "MACs", "% MACs", "MACs/byte", *time_cols[:2]):
        layers.add_column(col, justify="left" if col in ("layer", "type", "op class", "output") else "right")
    for r in top:
        ms = layer_ms.get((r.layer, r.op_class), 0.0)
        add_row(layers,
            r.layer or "(root)",
            r.type,
            r.op_class,
            "x".join(map(str, r.output_shape)),
            si(r.params),
            si(r.macs),
            f"{100 * r.macs / c.macs:.1f}" if c.macs else "",
            f"{r.intensity:.1f}",
            *((_ms(ms), f"{100 * ms / total_ms:.1f}" if total_ms else "") if timed else ()),
        )
    parts = [summary, *trust_lines([p], result.meta), by_class, layers]
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
    if c.unsupported:
        missed = ", ".join(f"{op} x{n}" for op, n in c.unsupported.most_common())
        parts.append(Text(f"not counted (no formula): {missed}", style="yellow"))
    if result.show_reconcile:
        parts.extend(render_reconciliation(result))
    return Group(*parts)


def render_reconciliation(result: ProfileResult) -> list:
    """Op-class totals of the three counters, then each reason for a difference with the layers it covers."""
    stock = result.reconciliation()
    completed = result.reconciliation(completed=True)
    others = [n for n in stock.counters if n != stock.reference]
    by_class = Table(title="reconcile: MACs by op class, three counters (stock)", title_justify="left")
    for col in ("op class", "analytic", *others):
        by_class.add_column(col, justify="left" if col == "op class" else "right")
    for row in stock.op_class_rows():
        if row["macs"] or any(row.get(f"macs_{n}") for n in others):
            add_row(by_class, row["op_class"], f"{row['macs']:,}", *(f"{row.get(f'macs_{n}', 0):,}" for n in others))
    reasons = Table(title="reconcile: every difference over 1%, by reason", title_justify="left")
    for col in ("counter", "reason", "layers", "MACs difference"):
        reasons.add_column(col, justify="right" if col in ("layers", "MACs difference") else "left")
    grouped: dict[tuple[str, str], list] = {}
    for d in stock.disagreements:
        if not d.layer.startswith("op_class:"):
            grouped.setdefault((d.counter, d.reason), []).append(d)
    for (counter, reason), ds in grouped.items():
        diff = sum(x.macs_counter - x.macs for x in ds)
        add_row(reasons, counter, reason, str(len(ds)), f"{diff:+,}")
    lines = [Text("coverage (share of the analytic MACs each counter saw):", style="bold")]
    lines += [Text(f"  {line}") for line in stock.coverage_lines() + completed.coverage_lines()]
    if stock.unexplained:
        lines.append(Text(f"{len(stock.unexplained)} differences have no named reason", style="red"))
    return [by_class, reasons, *lines]
