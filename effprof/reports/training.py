"""Rich tables and the bar plot of training cost (``profile --train``, ``compare --train``, ``finetune``).

Rounding happens here only. Every doubt is printed under the table: a contended or noisy step
time, a FlopCounterMode difference no reason explains, a step or check that failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from effprof.reports.plots import _nothing_to_plot, _pyplot
from effprof.reports.render import add_row, si
from effprof.reports.trust import threads_line

if TYPE_CHECKING:
    from effprof.training.finetune import FinetuneResult
    from effprof.training.profile import TrainingResult


def _ms(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value:,.1f}"


def _mib(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value / 2**20:,.1f}"


def _doubts(label: str, measurement) -> list[Text]:
    return [Text(f"{label}: {w}", style="yellow") for w in measurement.warnings]


def render_training(result: TrainingResult) -> Group:
    """One row per (model, optimizer): trainable params, forward and backward MACs, step time, memory."""
    table = Table(title="effprof training cost (MACs per step; memory in MiB)", title_justify="left")
    cols = ("model", "freeze", "trainable", "fwd MACs", "bwd grad-input", "bwd grad-weight", "bwd/fwd",
            "train MACs/img", "torch fwd+bwd", "optimizer", "step ms", "doubt", "mem analytic", "mem measured")  # fmt: skip
    for c in cols:
        table.add_column(c, justify="left" if c in ("model", "freeze", "optimizer", "doubt") else "right")
    notes: list[Text] = []
    for p in result.profiles:
        for row in p.model_rows():
            if p.count is None:
                add_row(table, p.model, p.freeze, *[""] * 11, Text(f"error: {p.error}", style="red"))
                continue
            c = p.count
            torch_cell = ""
            if p.check is not None:
                torch_cell = f"{si(p.check.torch_macs)} ({p.check.relative_difference:+.1%})"
            doubt = f"contended {row['others_cores']:.1f} cores" if row.get("contended") else ""
            add_row(table, p.model, p.freeze, si(c.trainable_params), si(c.forward_macs), si(c.grad_input_macs),
                    si(c.grad_weight_macs), f"{c.backward_macs / c.forward_macs:.2f}x" if c.forward_macs else "",
                    si(c.training_macs_per_image), torch_cell, str(row.get("optimizer") or ""),
                    _ms(row.get("step_ms")), doubt, _mib(row.get("memory_analytic_bytes")),
                    _mib(row.get("peak_bytes_measured")))  # fmt: skip
        c = p.count
        if c is not None:
            notes.append(Text(f"{p.model}: {c.setup.describe()}", style="dim"))
            if c.unsupported:
                missed = ", ".join(f"{op} x{n}" for op, n in c.unsupported.most_common())
                notes.append(Text(f"{p.model}: backward not counted (no formula): {missed}", style="yellow"))
        if p.check is not None:
            for d in p.check.differences:
                notes.append(Text(f"{p.model}: FlopCounterMode counts {si(d.torch_minus_analytic_macs)} MACs more on "
                                  f"{len(d.layers)} layers: {d.reason}", style="dim"))  # fmt: skip
            if abs(p.check.relative_unexplained) > 0.01:
                notes.append(Text(f"{p.model}: effprof and FlopCounterMode differ by {p.check.relative_unexplained:+.2%} "
                                  "that no named reason explains", style="yellow"))  # fmt: skip
        for s in p.steps:
            notes += _doubts(f"{p.model} ({s.optimizer})", s.measurement)
            if s.peak_method:
                notes.append(Text(f"{p.model} ({s.optimizer}): measured peak from {s.peak_method}", style="dim"))
        for what, message in [*p.step_errors.items(), *((("check", p.check_error),) if p.check_error else ())]:
            notes.append(Text(f"{p.model} {what}: {message}", style="red"))
    parts: list = [table, *notes]
    line = threads_line(result.meta)
    if line is not None:
        parts.append(line)
    if len(result.profiles) == 1 and result.profiles[0].count is not None and result.top_layers:
        parts.append(_top_layers(result.profiles[0], result.top_layers))
    return Group(*parts)


def _top_layers(p, top: int) -> Table:
    c = p.count
    rows = sorted(c.layers, key=lambda r: -(r.forward_macs + r.backward_macs))[:top]
    table = Table(title=f"top {len(rows)} layers by forward + backward MACs", title_justify="left")
    for col in ("layer", "type", "op class", "trainable", "fwd MACs", "grad-input", "grad-weight", "saved MiB"):
        table.add_column(col, justify="left" if col in ("layer", "type", "op class") else "right")
    for r in rows:
        add_row(table, r.layer or "(root)", r.type, r.op_class, si(r.trainable_params), si(r.forward_macs),
                si(r.grad_input_macs), si(r.grad_weight_macs), _mib(r.saved_bytes))  # fmt: skip
    return table


def render_finetune(result: FinetuneResult) -> Group:
    """The three strategies side by side: trainable params, MACs per image and per epoch, time, memory."""
    title = (f"effprof finetune: {escape(result.model)} -> {result.num_classes} classes, "
             f"{result.dataset_size:,} images x {result.epochs} epochs, batch {result.batch}")  # fmt: skip
    table = Table(title=title, title_justify="left")
    cols = ("strategy", "trainable", "train MACs/img", "once MACs", "MACs/epoch", "total MACs", "optimizer",
            "step ms", "doubt", "once s", "s/epoch", "total s", "mem analytic MiB", "mem measured MiB")  # fmt: skip
    for c in cols:
        table.add_column(c, justify="left" if c in ("strategy", "optimizer", "doubt") else "right")
    for row in result.rows():
        doubt = f"contended {row['others_cores']:.1f} cores" if row.get("contended") else ""
        add_row(table, f"{row['strategy']}: {row['description']}", si(row["trainable_params"]),
                si(row["training_macs_per_image"]), si(row["once_macs"]) if row["once_macs"] else "",
                si(row["epoch_macs"]), si(row["total_macs"]), row["optimizer"], _ms(row.get("step_ms")), doubt,
                _ms(row.get("once_s")) if row.get("once_s") else "", _ms(row.get("epoch_s")), _ms(row.get("total_s")),
                _mib(row["memory_analytic_bytes"]), _mib(row.get("peak_bytes_measured")))  # fmt: skip
    notes: list[Text] = []
    for s in result.strategies:
        notes.append(Text(f"{s.strategy}: {s.count.setup.describe()}", style="dim"))
        if s.strategy == "A":
            cache = s.feature_elements_per_image * result.dataset_size * 4
            notes.append(Text(f"A: backbone forward once per image ({si(s.backbone_forward_macs_per_image)} MACs), "
                              f"feature cache {_mib(cache)} MiB; then head-only epochs", style="dim"))  # fmt: skip
        for st in s.steps:
            notes += _doubts(f"{s.strategy} ({st.optimizer})", st.measurement)
        for what, message in s.errors.items():
            notes.append(Text(f"{s.strategy} {what}: {message}", style="red"))
    peak = next((st.peak_method for s in result.strategies for st in s.steps if st.peak_method), "")
    if peak:
        notes.append(Text(f"measured peak memory: {peak}", style="dim"))
    line = threads_line(result.meta)
    return Group(table, *notes, *([line] if line is not None else []))


def plot_finetune(df: pd.DataFrame, path: Path, title: str = "effprof finetune") -> Path:
    """Bars per strategy: total MACs, total time (when timed) and memory, for the run's epochs."""
    if df.empty:
        raise _nothing_to_plot("no strategy was counted")
    plt = _pyplot()
    rows = df.drop_duplicates("strategy") if "optimizer" in df.columns else df
    panels = [("total_macs", "GMACs, all epochs", 1e9), ("memory_analytic_bytes", "memory (MiB, analytic)", 2**20)]
    if "total_s" in df.columns and df["total_s"].notna().any():
        panels.insert(1, ("total_s", "time, all epochs (s)", 1.0))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), dpi=120)
    labels = [f"{s}" for s in rows["strategy"]]
    for ax, (column, name, scale) in zip(axes, panels, strict=True):
        values = pd.to_numeric(rows[column], errors="coerce").fillna(0) / scale
        ax.bar(labels, values, color=["#4c72b0", "#dd8452", "#55a868"][: len(labels)])
        ax.set_title(name, fontsize=9)
        for i, v in enumerate(values):
            ax.annotate(f"{v:,.3g}", (i, v), ha="center", va="bottom", fontsize=8)
    model = str(df["model"].iloc[0]) if "model" in df.columns else ""
    fig.suptitle(f"{title}: {model} (A frozen+cached features, B later layers, C everything)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_training(df: pd.DataFrame, path: Path, title: str = "effprof training") -> Path:
    """Stacked bars per model and strategy: forward, backward grad-input and grad-weight MACs per image."""
    ok = df[df["forward_macs"].notna()].drop_duplicates(["model", "freeze"]) if "forward_macs" in df.columns else df.iloc[0:0]
    if ok.empty:
        raise _nothing_to_plot("no model was counted (every row failed)")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(ok)), 4), dpi=120)
    labels = [f"{m}\n{f}" for m, f in zip(ok["model"], ok["freeze"], strict=True)]
    batch = ok["training_macs"] / ok["training_macs_per_image"]
    bottom = pd.Series([0.0] * len(ok), index=ok.index)
    for column, name in (("forward_macs", "forward"), ("grad_input_macs", "grad-input"), ("grad_weight_macs", "grad-weight")):
        values = ok[column].astype(float) / batch / 1e9
        ax.bar(labels, values, bottom=bottom, label=name)
        bottom = bottom + values
    ax.set_ylabel("GMACs per image")
    ax.set_title(f"{title}: one training step", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
