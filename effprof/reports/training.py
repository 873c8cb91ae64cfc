"""Rich tables of training cost (``profile --train``, ``compare --train``, ``finetune``), fitted to the
terminal like every effprof table (effprof.reports.table: the least important columns go first on a
narrow terminal; numbers are never cut).

Rounding happens here only. Every doubt is printed under the table: a contended or noisy step
time, a FlopCounterMode difference no reason explains, a step or check that failed. The result types
(effprof.training) register these functions as their renderers; this module imports no training code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.markup import escape
from rich.text import Text

from effprof.reports.fmt import fixed, ms, si
from effprof.reports.table import Column, error_lines, fit_table, hidden_note
from effprof.reports.trust import threads_line

if TYPE_CHECKING:
    from effprof.training.finetune import FinetuneResult
    from effprof.training.profile import TrainingResult


def _mib(value: Any) -> str:
    return fixed(value, 2**20, 1)


def _doubt(row: dict[str, Any]) -> str:
    return f"contended {row['others_cores']:.1f} cores" if row.get("contended") else ""


def _doubts(label: str, measurement) -> list[Text]:
    return [Text(f"{label}: {w}", style="yellow") for w in measurement.warnings]


def _torch_cell(p) -> str:
    return "" if p.check is None else f"{si(p.check.torch_macs)} ({p.check.relative_difference:+.1%})"


#: the columns of a measured step, left out when nothing was timed (--backend none)
UNTIMED_OUT = ("step ms", "doubt", "once s", "s/epoch", "total s", "peak MiB")


def _memory_note(timed: bool, method: str = "") -> Text:
    """Under every training table: what the memory columns are (short headers keep them at 80 columns)."""
    note = "mem MiB: analytic (params + grads + optimizer state + activations)"
    if timed:
        note += "; peak MiB: measured, the step's peak" + (f" ({method})" if method else "")
    return Text(note, style="dim")

#: (TrainingProfile, row) pairs: the profile carries the counts, the row the optimizer's step
TRAINING_COLUMNS = (
    Column("model", lambda pr: pr[0].model, "left", text=True),
    Column("freeze", lambda pr: pr[0].freeze, "left", drop=4, text=True),
    Column("trainable", lambda pr: si(pr[0].count.trainable_params)),
    Column("fwd MACs", lambda pr: si(pr[0].count.forward_macs)),
    Column("bwd grad-input", lambda pr: si(pr[0].count.grad_input_macs), drop=5),
    Column("bwd grad-weight", lambda pr: si(pr[0].count.grad_weight_macs), drop=5),
    Column("bwd/fwd", lambda pr: f"{pr[0].count.backward_macs / pr[0].count.forward_macs:.2f}x"
           if pr[0].count.forward_macs else ""),
    Column("train MACs/img", lambda pr: si(pr[0].count.training_macs_per_image), drop=3),
    Column("torch fwd+bwd", lambda pr: _torch_cell(pr[0]), drop=7),
    Column("optimizer", lambda pr: str(pr[1].get("optimizer") or ""), "left", drop=1),
    Column("step ms", lambda pr: ms(pr[1].get("step_ms"))),
    Column("doubt", lambda pr: _doubt(pr[1]), "left", drop=6),
    Column("mem MiB", lambda pr: _mib(pr[1].get("memory_analytic_bytes")), drop=2),
    Column("peak MiB", lambda pr: _mib(pr[1].get("peak_bytes_measured")), drop=4),
)  # fmt: skip


def render_training(result: TrainingResult, *, width: int | None = None, wide: bool = False) -> Group:
    """One row per (model, optimizer): trainable params, forward and backward MACs, step time, memory."""
    rows = [(p, row) for p in result.profiles for row in p.model_rows()]
    timed = any(p.steps or p.step_errors for p in result.profiles)
    columns = [c for c in TRAINING_COLUMNS if timed or c.header not in UNTIMED_OUT]
    fitted = fit_table("effprof training cost (MACs per step; memory in MiB)", columns, rows,
                       width=width, wide=wide, failed=lambda pr: pr[0].count is None)  # fmt: skip
    notes: list[Text] = [*error_lines([(p.model, p.error) for p in result.profiles if p.error])]
    for p in result.profiles:
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
        notes += error_lines([(f"{p.model} {what}", message) for what, message in
                              [*p.step_errors.items(), *((("check", p.check_error),) if p.check_error else ())]])  # fmt: skip
    parts: list[Any] = [fitted.table, *notes, _memory_note(timed)]
    parts += [n for n in (threads_line(result.meta), hidden_note(fitted.hidden, width)) if n is not None]
    if len(result.profiles) == 1 and result.profiles[0].count is not None and result.top_layers:
        parts += _top_layers(result.profiles[0], result.top_layers, width=width, wide=wide)
    if result.interrupted:
        parts.append(Text("interrupted: only the models above finished", style="yellow"))
    return Group(*parts)


#: (count row, (forward ms, backward ms) or None) pairs
LAYER_COLUMNS = (
    Column("layer", lambda rt: rt[0].layer or "(root)", "left", text=True),
    Column("type", lambda rt: rt[0].type, "left", drop=7, text=True),
    Column("op class", lambda rt: rt[0].op_class, "left", drop=6),
    Column("trainable", lambda rt: si(rt[0].trainable_params), drop=5),
    Column("fwd MACs", lambda rt: si(rt[0].forward_macs)),
    Column("grad-input", lambda rt: si(rt[0].grad_input_macs)),
    Column("grad-weight", lambda rt: si(rt[0].grad_weight_macs)),
    Column("saved MiB", lambda rt: _mib(rt[0].saved_bytes), drop=1),
    Column("fwd ms", lambda rt: ms(rt[1][0]), drop=3),
    Column("bwd ms", lambda rt: ms(rt[1][1]) if rt[1][1] is not None else "-", drop=2),
    Column("bwd/fwd time", lambda rt: _ratio(rt[1][1], rt[1][0]), drop=4),
)
TIME_OUT = ("fwd ms", "bwd ms", "bwd/fwd time")


def _ratio(num: float | None, den: float | None) -> str:
    return f"{num / den:.2f}x" if num is not None and den else ""


def _top_layers(p, top: int, *, width: int | None, wide: bool) -> list[Any]:
    times = p.row_times()
    if times:  # as the inference profile: where the time goes, once it is measured
        def spent(r) -> float:
            fwd, bwd = times.get((r.layer, r.op_class), (None, None))
            return (fwd or 0.0) + (bwd or 0.0)

        rows, by = sorted(p.count.layers, key=lambda r: -spent(r))[:top], "measured forward + backward time"
    else:
        rows, by = sorted(p.count.layers, key=lambda r: -(r.forward_macs + r.backward_macs))[:top], "forward + backward MACs"
    columns = [c for c in LAYER_COLUMNS if times or c.header not in TIME_OUT]
    fitted = fit_table(f"top {len(rows)} layers by {by}", columns,
                       [(r, times.get((r.layer, r.op_class), (None, None))) for r in rows], width=width,
                       wide=wide)  # fmt: skip
    return [fitted.table, *_layer_time_notes(p), *[n for n in [hidden_note(fitted.hidden, width)] if n]]


def _layer_time_notes(p) -> list[Text]:
    t = p.layer_times
    if t is None:
        return error_lines([(f"{p.model} per-layer time", p.layer_times_error)]) if p.layer_times_error else []
    where = "kernel (device) time" if t.device.startswith("cuda") else "CPU time"
    notes = [Text(
        f"per-layer time: torch.profiler over {t.iterations} eager steps ({t.step_ms:.1f} ms each with the profiler "
        f"on), {where}; a backward node is charged to the layer whose forward made it (autograd sequence number), "
        f"'-' where autograd never reached the layer. Backward {t.backward_total_ms:.1f} ms: "
        f"{t.backward_coverage:.0%} on layers, AccumulateGrad {t.accumulate_grad_ms:.1f} ms, "
        f"loss {t.loss_ms:.2f} ms; optimizer step {t.optimizer_ms:.1f} ms",
        style="dim",
    )]  # fmt: skip
    notes += [Text(f"{p.model} per-layer time: {w}", style="yellow") for w in t.warnings]
    return notes


FINETUNE_COLUMNS = (
    Column("strategy", lambda r: f"{r['strategy']}: {r['description']}", "left", text=True),
    Column("trainable", lambda r: si(r["trainable_params"])),
    Column("train MACs/img", lambda r: si(r["training_macs_per_image"]), drop=3),
    Column("once MACs", lambda r: si(r["once_macs"]) if r["once_macs"] else "", drop=5),
    Column("MACs/epoch", lambda r: si(r["epoch_macs"]), drop=4),
    Column("total MACs", lambda r: si(r["total_macs"])),
    Column("optimizer", lambda r: str(r["optimizer"]), "left", drop=1),
    Column("step ms", lambda r: ms(r.get("step_ms")), drop=2),
    Column("doubt", lambda r: _doubt(r), "left", drop=6),
    Column("once s", lambda r: ms(r.get("once_s")) if r.get("once_s") else "", drop=5),
    Column("s/epoch", lambda r: ms(r.get("epoch_s")), drop=4),
    Column("total s", lambda r: ms(r.get("total_s"))),
    Column("mem MiB", lambda r: _mib(r["memory_analytic_bytes"])),
    Column("peak MiB", lambda r: _mib(r.get("peak_bytes_measured")), drop=3),
)  # fmt: skip


def render_finetune(result: FinetuneResult, *, width: int | None = None, wide: bool = False) -> Group:
    """The three strategies side by side: trainable params, MACs per image and per epoch, time, memory."""
    title = (f"effprof finetune: {escape(result.model)} -> {result.num_classes} classes, "
             f"{result.dataset_size:,} images x {result.epochs} epochs, batch {result.batch}")  # fmt: skip
    rows = result.rows()
    timed = any(r.get("step_ms") is not None for r in rows)
    columns = [c for c in FINETUNE_COLUMNS if timed or c.header not in UNTIMED_OUT]
    fitted = fit_table(title, columns, rows, width=width, wide=wide)
    notes: list[Text] = []
    for s in result.strategies:
        notes.append(Text(f"{s.strategy}: {s.count.setup.describe()}", style="dim"))
        if s.strategy == "A":
            cache = s.feature_elements_per_image * result.dataset_size * 4
            notes.append(Text(f"A: backbone forward once per image ({si(s.backbone_forward_macs_per_image)} MACs), "
                              f"feature cache {_mib(cache)} MiB; then head-only epochs", style="dim"))  # fmt: skip
        for st in s.steps:
            notes += _doubts(f"{s.strategy} ({st.optimizer})", st.measurement)
        notes += error_lines([(f"{s.strategy} {what}", message) for what, message in s.errors.items()])
    peak = next((st.peak_method for s in result.strategies for st in s.steps if st.peak_method), "")
    notes.append(_memory_note(timed, peak))
    parts: list[Any] = [fitted.table, *notes]
    parts += [n for n in (threads_line(result.meta), hidden_note(fitted.hidden, width)) if n is not None]
    return Group(*parts)
