"""Run ``effprof roadmap``: the ConvNeXt roadmap (ResNet-50 -> ConvNeXt-T, one change per step), counted and timed.

Rule: every step of ``effprof.models.roadmap.ROADMAP`` is built (meta device), counted by the analytic
counter and set beside the paper's Figure 2 (``macs_error`` = counted / paper - 1, the paper's GFLOPs
being multiply-adds), then timed on each backend through effprof's one timing loop (fresh seeded
weights on the CPU): step 0 alone, every other step *together with step 0* in alternating slices
(effprof.lecture.paired), so its ``latency_vs_step0`` (with a 95% interval) survives a drifting,
shared machine. Next to MACs relative to step 0, the lecture's point shows in two columns: MACs stay
near 4.1-4.5 G while time moves. A step that fails to build, count or time becomes a row with ``error``;
the others still report. The result and its rules are effprof.lecture.roadmap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from effprof import latency
from effprof.counters.analytic import count_analytic
from effprof.errors import EffprofError
from effprof.latency.contention import ThreadChoice
from effprof.lecture import demo_render  # noqa: F401  (registers the rich rendering of RoadmapResult)
from effprof.lecture.paired import time_paired
from effprof.lecture.roadmap import RoadmapResult
from effprof.models.build import build_model
from effprof.models.roadmap import ROADMAP, Step
from effprof.reports.trust import row_doubt


def spec_of(step: Step) -> str:
    """The registry spec that builds ``step``: ``convnext_roadmap(step=K)``."""
    return f"convnext_roadmap(step={step.step})"


def _count_row(step: Step, resolution: int, batch: int) -> tuple[dict[str, Any], Any]:
    """The step's count columns (and the built model), or its error row."""
    row: dict[str, Any] = {
        "step": step.step, "label": step.label, "change": step.change, "model": spec_of(step), "paper_macs": step.paper_gmacs * 1e9,
        "paper_top1": step.paper_top1, "source": step.source, "note": step.note,
    }  # fmt: skip
    try:
        built = build_model(spec_of(step), resolution=resolution, batch=batch, device="meta")
        counted = count_analytic(built.module, built.input_shape, name=built.label)
    except EffprofError as exc:
        return {**row, "error": exc.message}, None
    row.update(input_shape="x".join(map(str, built.input_shape)), params=counted.params, macs=counted.macs,
               macs_error=counted.macs / row["paper_macs"] - 1)  # fmt: skip
    return row, built


def _latency_columns(m, doubt: str) -> dict[str, Any]:
    return {**m.to_row(), "warnings": "; ".join(m.warnings) or None, "doubt": doubt or None}


def _time_alone(row: dict[str, Any], built, backend: str, options: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Step 0's row timed on its own (the reference of the others), and its warnings."""
    try:
        m = latency.measure(built.rebuild("cpu"), built.input_shape, backend, cache_key=row["model"], **options)
    except EffprofError as exc:
        return {**row, "backend": backend, "error": exc.message}, []
    return {**row, **_latency_columns(m, row_doubt({**m.to_row(), "warnings": "; ".join(m.warnings)}))}, list(m.warnings)


def _time_beside(row: dict[str, Any], built, base, backend: str, options: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A step timed together with step 0 (effprof.lecture.paired): its latency and its ratio to step 0's."""
    try:
        p = time_paired((base.rebuild("cpu"), base.input_shape, spec_of(ROADMAP[0])),
                        (built.rebuild("cpu"), built.input_shape, row["model"]), backend, options)  # fmt: skip
    except EffprofError as exc:
        return {**row, "backend": backend, "error": exc.message}, []
    ratios = {"latency_vs_step0": 1 / p.ratio, "latency_vs_step0_low": 1 / p.high, "latency_vs_step0_high": 1 / p.low}
    return {**row, **_latency_columns(p.second, p.doubt), **ratios}, list(p.second.warnings)


def _relative(rows: list[dict[str, Any]], base_macs: int | None) -> None:
    """Fill ``macs_vs_step0`` and ``time_per_mac_vs_step0`` (in place); step 0's own ratios are 1."""
    for r in rows:
        if r.get("macs") and base_macs:
            r["macs_vs_step0"] = r["macs"] / base_macs
        if r["step"] == 0 and r.get("latency_ms") is not None:
            r.update(latency_vs_step0=1.0, latency_vs_step0_low=1.0, latency_vs_step0_high=1.0)
        if r.get("latency_vs_step0") and r.get("macs_vs_step0"):
            r["time_per_mac_vs_step0"] = r["latency_vs_step0"] / r["macs_vs_step0"]


def run_roadmap(
    backends: Sequence[str] = (),
    *,
    steps: Sequence[int] | None = None,
    resolution: int = 224,
    batch: int = 1,
    device: str = "cpu",
    threads: int | ThreadChoice | None = None,
    budget_s: float | None = None,
    meta: dict[str, Any] | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> RoadmapResult:
    """Count every roadmap step (``steps``: a subset), then time each on ``backends`` (empty: count only).

    ``threads`` should be chosen once for the whole run (a ThreadChoice), so every step times alike.
    Ctrl-C keeps the finished steps (``interrupted``).
    """
    chosen = [s for s in ROADMAP if steps is None or s.step in steps]
    if steps is not None and len(chosen) != len(set(steps)):
        raise EffprofError(f"roadmap steps are 0 to {len(ROADMAP) - 1}, got {sorted(set(steps))}")
    options: dict[str, Any] = {"device": device, "threads": threads}
    if budget_s is not None:
        options["budget_s"] = budget_s
    result = RoadmapResult([], dict(meta or {}), tuple(backends))
    base_row, base = _count_row(ROADMAP[0], resolution, batch)  # the reference every step is timed beside
    try:
        for step in chosen:
            row, built = (base_row, base) if step.step == 0 else _count_row(step, resolution, batch)
            timed: list[tuple[dict[str, Any], list[str]]] = [(row, [])]
            if built is not None and backends:
                if step.step == 0:
                    timed = [_time_alone(row, built, b, options) for b in backends]
                elif base is None:
                    timed = [({**row, "backend": b, "error": f"step 0 failed: {base_row.get('error')}"}, [])
                             for b in backends]  # fmt: skip
                else:
                    timed = [_time_beside(row, built, base, b, options) for b in backends]
            for r, warnings in timed:
                result.rows.append(r)
                result.warnings += [(f"step {step.step} ({r.get('backend')})", w) for w in warnings]
                if on_step is not None:
                    on_step(r)
    except KeyboardInterrupt:
        result.interrupted = True
    _relative(result.rows, base_row.get("macs"))
    for r in result.rows:
        r.setdefault("doubt", None)
    return result
