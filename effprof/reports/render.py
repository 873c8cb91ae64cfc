"""Rich renderings of results: what the CLI prints and what a notebook shows. Rounding happens here only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from effprof.api import CompareResult, ProfileResult
    from effprof.models.registry import ModelCfg


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
        table.add_row(
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
    table = Table(title="effprof compare", title_justify="left")
    for col in ("model", "input", "params", "GMACs", "GFLOPs", "other ops", "activations", "params ×", "MACs ×"):
        table.add_column(col, justify="left" if col in ("model", "input") else "right", no_wrap=True)
    for p in result.profiles:
        if p.count is None:
            table.add_row(p.model, "", Text(f"error: {p.error}", style="red"))
            continue
        c = p.count
        table.add_row(
            p.model,
            "x".join(map(str, p.input_shape)),
            f"{c.params:,}",
            fixed(c.macs, 1e9, 3),
            fixed(c.flops, 1e9, 3),
            si(c.other_ops),
            si(c.activations),
            ratio(c.params, base.params if base else None),
            ratio(c.macs, base.macs if base else None),
        )
    notes = Text(
        "MACs = multiply-accumulates of conv/linear/matmul/attention; FLOPs = 2 x MACs; "
        "other ops = norms, activations, pooling, elementwise. Ratios are to the first model.",
        style="dim",
    )
    return Group(table, notes)


def render_profile(result: ProfileResult) -> Group:
    p = result.profile
    c = p.count
    assert c is not None
    summary = Table(title=f"effprof profile: {p.model}", title_justify="left", show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    for key, value in (
        ("input", "x".join(map(str, p.input_shape))),
        ("source", p.source),
        ("params", f"{c.params:,}  ({si(c.params)})"),
        ("trainable params", f"{c.trainable_params:,}"),
        ("MACs", f"{c.macs:,}  ({si(c.macs)})"),
        ("FLOPs (2 x MACs)", si(c.flops)),
        ("other ops", si(c.other_ops)),
        ("activations", si(c.activations)),
        ("weights", si(c.weight_bytes, "B")),
    ):
        summary.add_row(key, value)

    by_class = Table(title="by op class", title_justify="left")
    for col in ("op class", "layers", "params", "% params", "MACs", "% MACs", "other ops"):
        by_class.add_column(col, justify="left" if col == "op class" else "right")
    for op_class, v in sorted(c.by_op_class().items(), key=lambda kv: -kv[1]["macs"]):
        by_class.add_row(
            op_class,
            str(v["layers"]),
            si(v["params"]),
            f"{100 * v['params'] / c.params:.1f}" if c.params else "",
            si(v["macs"]),
            f"{100 * v['macs'] / c.macs:.1f}" if c.macs else "",
            si(v["other_ops"]),
        )

    top = sorted(c.layers, key=lambda r: -r.macs)[: result.top_layers]
    layers = Table(title=f"top {len(top)} layers by MACs", title_justify="left")
    for col in ("layer", "type", "op class", "output", "params", "MACs", "% MACs", "MACs/byte"):
        layers.add_column(col, justify="left" if col in ("layer", "type", "op class", "output") else "right")
    for r in top:
        layers.add_row(
            r.layer or "(root)",
            r.type,
            r.op_class,
            "x".join(map(str, r.output_shape)),
            si(r.params),
            si(r.macs),
            f"{100 * r.macs / c.macs:.1f}" if c.macs else "",
            f"{r.intensity:.1f}",
        )
    parts = [summary, by_class, layers]
    if c.unsupported:
        missed = ", ".join(f"{op} x{n}" for op, n in c.unsupported.most_common())
        parts.append(Text(f"not counted (no formula): {missed}", style="yellow"))
    return Group(*parts)
