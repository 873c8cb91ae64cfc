"""``effprof roadmap``: the ConvNeXt roadmap (ResNet-50 -> ConvNeXt-T, one change per step), counted and timed.

Rule: every step of ``effprof.models.roadmap.ROADMAP`` is built (meta device), counted by the analytic
counter and set beside the paper's Figure 2 (``macs_error`` = counted / paper - 1, the paper's GFLOPs
being multiply-adds), then timed on each backend through effprof's one timing loop (fresh seeded
weights on the CPU): step 0 alone, every other step *together with step 0* in alternating slices
(effprof.lecture.paired), so its ``latency_vs_step0`` (with a 95% interval) survives a drifting,
shared machine. Next to MACs relative to step 0, the lecture's point shows in two columns: MACs stay
near 4.1-4.5 G while time moves. A step that fails
to build, count or time becomes a row with ``error``; the others still report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from effprof import latency
from effprof.counters.analytic import count_analytic
from effprof.errors import EffprofError
from effprof.latency.contention import ThreadChoice
from effprof.lecture.paired import time_paired
from effprof.models.build import build_model
from effprof.models.roadmap import ROADMAP, Step
from effprof.reports.trust import row_doubt

ROADMAP_COLUMNS = (
    "step", "label", "change", "model", "input_shape", "params", "macs", "paper_macs", "macs_error", "paper_top1",
    "macs_vs_step0", "backend", "device", "threads", "latency_ms", "latency_iqr_ms", "runs", "latency_vs_step0",
    "latency_vs_step0_low", "latency_vs_step0_high", "time_per_mac_vs_step0", "contended", "doubt", "warnings", "source", "note", "error",
)  # fmt: skip
#: a step whose latency (relative to step 0) rose this much more than its MACs did is "slower than its MACs"
GAP_THRESHOLD = 0.10


def spec_of(step: Step) -> str:
    """The registry spec that builds ``step``: ``convnext_roadmap(step=K)``."""
    return f"convnext_roadmap(step={step.step})"


@dataclass
class RoadmapResult:
    """Counted (and timed) roadmap steps: ``to_pandas()`` has one row per step and backend."""

    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    backends: tuple[str, ...] = ()
    interrupted: bool = False
    #: (label, warning) of every latency warning, for the lines under the table
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("error")]

    def to_pandas(self) -> pd.DataFrame:
        extra = [k for r in self.rows for k in r if k not in ROADMAP_COLUMNS]
        return pd.DataFrame(self.rows, columns=[*ROADMAP_COLUMNS, *dict.fromkeys(extra)])

    def worst_macs_error(self) -> dict[str, Any] | None:
        """The counted row furthest (relative) from the paper's GFLOPs."""
        counted = [r for r in self.rows if r.get("macs_error") is not None]
        return max(counted, key=lambda r: abs(r["macs_error"]), default=None)

    def gaps(self) -> list[dict[str, Any]]:
        """Steps whose latency rose more than their MACs did since the previous step (``GAP_THRESHOLD``), per backend.

        Each: step, change, backend, the MACs change and the latency change (fractions), doubt tags.
        """
        return latency_gaps(self.rows)

    def __rich__(self):
        from effprof.lecture.demo_render import render_roadmap

        return render_roadmap(self)


def latency_gaps(rows: Sequence[dict[str, Any]], threshold: float = GAP_THRESHOLD) -> list[dict[str, Any]]:
    """Step-to-step changes where time grew by ``threshold`` more than MACs did (pure: rows in, gaps out)."""
    found = []
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("latency_ms") is not None and not r.get("error"):
            by_backend.setdefault(r["backend"], []).append(r)
    for backend, timed in by_backend.items():
        timed = sorted(timed, key=lambda r: r["step"])
        for prev, cur in zip(timed, timed[1:], strict=False):
            if cur["step"] != prev["step"] + 1:
                continue
            d_macs = cur["macs"] / prev["macs"] - 1
            key = "latency_vs_step0" if cur.get("latency_vs_step0") and prev.get("latency_vs_step0") else "latency_ms"
            d_time = cur[key] / prev[key] - 1
            if d_time - d_macs > threshold:
                doubt = ", ".join(dict.fromkeys(t for t in (_doubt(prev), _doubt(cur)) if t))
                found.append({"step": cur["step"], "change": cur["change"], "backend": backend,
                              "macs_change": d_macs, "latency_change": d_time, "doubt": doubt})  # fmt: skip
    return found


def _doubt(row: dict[str, Any]) -> str:
    """A timed row's doubt: its ``doubt`` column when it has one (paired rows), else read from its columns."""
    return (row.get("doubt") or "") if "doubt" in row else row_doubt(row)


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
