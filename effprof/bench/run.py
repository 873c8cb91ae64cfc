"""Run a suite through effprof's own API (``profile_model``): one ModelProfile per case, rows as they finish.

Rule: counting and timing are the API's; this module only loops over the cases, labels the rows
with their case, and divides each latency by the reference model's (which runs first, so every
row is complete when it is handed to ``on_row``). A case that fails becomes a row with ``error``;
Ctrl-C stops the loop and keeps every finished row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from effprof import api
from effprof.bench.compare import Comparison, normalise_latency
from effprof.bench.suite import Case, Suite
from effprof.bench.summary import markdown_summary
from effprof.bench.verdict import Verdict, bench_verdict
from effprof.errors import EffprofError
from effprof.latency import measure_paired
from effprof.results import MODEL_COLUMNS, Result

#: bump when the meaning of a bench JSON (a baseline) changes, so old ones are refused, not misread
BASELINE_FORMAT = 1
BENCH_COLUMNS = ("suite", "spec", "resolution", "batch", "latency_norm", "reference_latency_ms")


@dataclass
class BenchResult(Result):
    """A suite's rows (one per case and backend), and, with a baseline, the comparison with it.

    ``to_pandas()`` is the table (tables and plots leave out the slice-pair ratios); ``json_frame()``
    keeps them, since a later run's verdict needs them: any bench JSON is a baseline.
    """

    kind: ClassVar[str] = "bench"
    figures: ClassVar[tuple[str, ...]] = ("compare", "bench_changes")

    suite: Suite
    meta: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    comparison: Comparison | None = None
    baseline_path: str | None = None

    @property
    def title(self) -> str:
        return f"effprof bench {self.suite.name}"

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("error")]

    def verdict(self) -> Verdict:
        return bench_verdict(self.rows, self.comparison, self.interrupted)

    def to_pandas(self) -> pd.DataFrame:
        return to_frame(self.rows).drop(columns=["latency_pair_norms"], errors="ignore")

    def json_frame(self) -> pd.DataFrame:
        return to_frame(self.rows)

    def json_extra(self) -> dict[str, Any]:
        if self.comparison is None:
            return {}
        return {"comparison": self.comparison.to_dict(), "baseline": self.baseline_path}

    def to_markdown(self, *, details: bool = True) -> str:
        """The Markdown summary (``-o x.md``, $GITHUB_STEP_SUMMARY); ``details`` folds the row table."""
        return markdown_summary(self.suite.name, self.rows, self.meta, self.comparison, details=details,
                                baseline_path=self.baseline_path, interrupted=self.interrupted)  # fmt: skip


def to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Bench rows as a DataFrame: DESIGN.md's model columns, then the bench columns.

    Object dtype keeps whole numbers whole (a params column with one missing value would otherwise
    turn into floats, and a baseline should read ``"params": 3504872``).
    """
    columns = [*MODEL_COLUMNS, *BENCH_COLUMNS]
    extra = [k for r in rows for k in r if k not in columns]
    return pd.DataFrame(rows, columns=[*columns, *dict.fromkeys(extra)], dtype=object)


def suite_timing(suite: Suite, backends: tuple[str, ...] | None = None):
    """The API Timing the suite asks for (``backends`` overrides the suite's: () counts only), threads unchosen."""
    chosen = suite.backends if backends is None else backends
    return api.Timing.parse(
        list(chosen) or None, device=suite.device, threads=suite.threads, budget_s=suite.budget_s
    )


def bench_meta(suite: Suite, timing) -> dict[str, Any]:
    """The run's meta (versions, machine, device, threads) plus what a baseline must match."""
    meta = api.timing_meta(timing)
    meta["bench"] = {"format": BASELINE_FORMAT, "suite": suite.name, "suite_file": suite.path,
                     "reference": suite.reference, "settings": suite.settings()}  # fmt: skip
    return meta


def _pair_columns(m, ref) -> dict[str, Any]:
    """The columns a row timed beside the reference gets: per-slice ratios (clean slices only) and the reference's time."""
    pairs = list(zip(m.slice_ms or [], ref.slice_ms or [], m.slice_contended or [], ref.slice_contended or [],
                     strict=False))  # fmt: skip
    clean = [a / b for a, b, ca, cb in pairs if not (ca or cb) and b > 0]
    norms = clean or [a / b for a, b, _, _ in pairs if b > 0]  # every slice contended: the row says so
    return {"latency_pair_norms": norms, "reference_latency_ms": ref.median_ms,
            "reference_contended": ref.contended_share}  # fmt: skip


def _case_rows(suite: Suite, case: Case, profile, references: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's rows, labelled; a backend timed beside the reference (``references[backend]``) gets its pairs."""
    labels = {"suite": suite.name, "spec": case.spec, "resolution": case.resolution, "batch": case.batch}
    by_backend = {m.backend: m for m in profile.measurements}
    rows = []
    for row in profile.model_rows():
        backend = row.get("backend")
        paired = backend in references and backend in by_backend and not row.get("error")
        rows.append({**row, **labels, **(_pair_columns(by_backend[backend], references[backend]) if paired else {})})
    return rows


def reference_case(suite: Suite, case: Case, cases: list[Case]) -> Case | None:
    """The reference case ``case`` is timed beside: same batch, same resolution if the reference ran at it."""
    refs = [c for c in cases if c.spec == suite.reference and c.batch == case.batch]
    same = [c for c in refs if c.resolution == case.resolution]
    return (same or refs or [None])[0]


def _target(p):
    """What latency.measure_paired times for a counted profile: a fresh seeded module (or the .onnx path)."""
    if p.source == "onnx":
        return (p.model, p.input_shape, None)
    return (p.built.rebuild("cpu"), p.input_shape, p.model)


def _time_case(p, ref, timing, slices: int) -> dict[str, Any]:
    """Time ``p`` on every backend, beside ``ref`` (a counted reference profile) when there is one.

    Fills ``p.measurements``/``p.latency_errors``; returns the reference's Measurement per backend
    for the pairs. Without a reference (the reference's own case, or one that failed to count) the
    model is timed alone, as ``effprof profile`` times it. A pair that fails on a backend (either
    model) is that backend's error on this row.
    """
    if ref is None:
        api.time_profile(p, timing)
        return {}
    options: dict[str, Any] = {"device": timing.device, "threads": timing.threads}
    if timing.budget_s is not None:
        options["budget_s"] = timing.budget_s
    mine, theirs = _target(p), _target(ref)
    references: dict[str, Any] = {}
    for backend in timing.backends:
        try:
            references[backend], m = measure_paired(theirs, mine, backend, slices=slices, **options)
            p.measurements.append(m)
        except EffprofError as exc:
            p.latency_errors[backend] = exc.message
    return references


def run_suite(
    suite: Suite,
    *,
    backends: tuple[str, ...] | None = None,
    on_row: Callable[[Case, BenchResult], None] | None = None,
    on_start: Callable[[Case, str], None] | None = None,
) -> BenchResult:
    """Count every case of ``suite``, then time it; ``on_row(case, result)`` runs as each case's rows change.

    Counting comes first for every case (the reference first), so a broken spec fails in seconds. Then
    each case is timed on each backend *beside the reference*: ``latency.measure_paired`` alternates
    ``suite.rounds`` slices of the reference and the model, and each row keeps the ratio of every clean
    slice pair (``latency_pair_norms``), which effprof/bench/noise.py turns into ``latency_norm`` and its
    interval. The reference's own row is timed alone. ``backends`` overrides the suite's (``()``:
    counts only). Specs are checked before any work; Ctrl-C keeps every finished row.
    """
    api.check_specs([m["spec"] for m in suite.models])
    timing = suite_timing(suite, backends).resolved()  # threads chosen once for every case
    result = BenchResult(suite, bench_meta(suite, timing))
    by_case: dict[Case, list[dict[str, Any]]] = {}
    cases = suite.cases()
    profiles: dict[Case, Any] = {}

    def publish(case: Case, rows: list[dict[str, Any]]) -> None:
        by_case[case] = rows
        result.rows = normalise_latency([r for c in cases if c in by_case for r in by_case[c]], suite.reference)
        if on_row is not None:
            on_row(case, result)

    try:
        for case in cases:
            if on_start is not None:
                on_start(case, "counting")
            try:
                p = api.profile_model(case.spec, resolution=case.resolution, batch=case.batch, timing=None,
                                  counters=suite.counters)  # fmt: skip
            except EffprofError as exc:
                p = api.ModelProfile(case.spec, error=exc.message, exit_code=exc.exit_code)
            profiles[case] = p
            publish(case, _case_rows(suite, case, p, {}))
        if not timing.backends:
            return result
        for case in cases:
            p = profiles[case]
            if p.error:
                continue  # reported once, from counting
            if on_start is not None:
                on_start(case, "timing")
            ref_case = reference_case(suite, case, cases)
            ref = profiles.get(ref_case) if ref_case is not None and ref_case != case else None
            references = _time_case(p, None if ref is None or ref.error else ref, timing, suite.rounds)
            publish(case, _case_rows(suite, case, p, references))
    except KeyboardInterrupt:
        result.interrupted = True
    return result
