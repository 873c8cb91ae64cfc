"""Run a suite through effprof's own API (``profile_model``): one ModelProfile per case, rows as they finish.

Rule: counting and timing are the API's; this module only loops over the cases, labels the rows
with their case, and divides each latency by the reference model's (which runs first, so every
row is complete when it is handed to ``on_row``). A case that fails becomes a row with ``error``;
Ctrl-C stops the loop and keeps every finished row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from effprof.bench.compare import normalise_latency
from effprof.bench.suite import Case, Suite
from effprof.errors import EffprofError

#: bump when the meaning of a bench JSON (a baseline) changes, so old ones are refused, not misread
BASELINE_FORMAT = 1
BENCH_COLUMNS = ("suite", "spec", "resolution", "batch", "latency_norm", "reference_latency_ms")


@dataclass
class BenchResult:
    suite: Suite
    meta: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    exit_code: int = 0  # the worst exit code of a failed case (2: the suite asked for the impossible)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("error")]

    def to_pandas(self) -> pd.DataFrame:
        return to_frame(self.rows)


def to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Bench rows as a DataFrame: DESIGN.md's model columns, then the bench columns.

    Object dtype keeps whole numbers whole (a params column with one missing value would otherwise
    turn into floats, and a baseline should read ``"params": 3504872``).
    """
    from effprof.reports.frame import MODEL_COLUMNS

    columns = [*MODEL_COLUMNS, *BENCH_COLUMNS]
    extra = [k for r in rows for k in r if k not in columns]
    return pd.DataFrame(rows, columns=[*columns, *dict.fromkeys(extra)], dtype=object)


def suite_timing(suite: Suite, backends: tuple[str, ...] | None = None):
    """The API Timing the suite asks for (``backends`` overrides the suite's: () counts only), threads unchosen."""
    from effprof.api import Timing

    chosen = suite.backends if backends is None else backends
    return Timing.parse(
        list(chosen) or None, device=suite.device, threads=suite.threads, budget_s=suite.budget_s
    )


def bench_meta(suite: Suite, timing) -> dict[str, Any]:
    """The run's meta (versions, machine, device, threads) plus what a baseline must match."""
    from effprof.api import timing_meta

    meta = timing_meta(timing)
    meta["bench"] = {"format": BASELINE_FORMAT, "suite": suite.name, "suite_file": suite.path,
                     "reference": suite.reference, "settings": suite.settings()}  # fmt: skip
    return meta


#: the per-block times a bench row keeps (for the noise interval of its verdict); more are thinned evenly
MAX_SAMPLES = 200


def _samples_ms(times_s: list[float]) -> list[float]:
    step = max(1, math.ceil(len(times_s) / MAX_SAMPLES))
    return [t * 1e3 for t in times_s[::step]]


def _case_rows(suite: Suite, case: Case, profile) -> list[dict[str, Any]]:
    labels = {"suite": suite.name, "spec": case.spec, "resolution": case.resolution, "batch": case.batch}
    samples = {m.backend: _samples_ms(m.times_s) for m in profile.measurements}
    rows = []
    for row in profile.model_rows():
        timed = isinstance(row.get("latency_ms"), float) and not row.get("error")
        rows.append({**row, **labels, "latency_rounds_ms": [row["latency_ms"]] if timed else None,
                     "latency_samples_ms": samples.get(row.get("backend")) if timed else None})  # fmt: skip
    return rows


LATENCY_FIELDS = (
    "threads",
    "latency_ms",
    "latency_iqr_ms",
    "latency_p90_ms",
    "runs",
    "gmacs_per_s",
    "warnings",
    "others_cores",
    "contended",
    "latency_samples_ms",
)


def _round_rank(row: dict[str, Any]) -> tuple[bool, float]:
    """Uncontended rounds first, then the lowest median."""
    return (isinstance(row.get("contended"), float), row["latency_ms"])


def keep_fastest(rows: list[dict[str, Any]], again: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge another round's rows of one case into ``rows``: each backend keeps its best round.

    Best = the lowest median among the rounds no other process contended (among all rounds when
    every one was): load from the rest of a shared machine only ever adds time, so the fastest
    clean round of several interleaved ones is the best estimate of the model's own cost. Every
    round's median is kept in ``latency_rounds_ms`` (their spread enters the verdict's interval).
    """
    fresh = {
        r.get("backend"): r for r in again if isinstance(r.get("latency_ms"), float) and not r.get("error")
    }
    merged = []
    for row in rows:
        new = fresh.get(row.get("backend"))
        if new is None or row.get("latency_rounds_ms") is None:
            merged.append(row)
            continue
        best = min((row, new), key=_round_rank)
        merged.append({**row, **{k: best.get(k) for k in LATENCY_FIELDS},
                       "latency_rounds_ms": [*row["latency_rounds_ms"], new["latency_ms"]]})  # fmt: skip
    return merged


def run_suite(
    suite: Suite,
    *,
    backends: tuple[str, ...] | None = None,
    on_row: Callable[[Case, BenchResult], None] | None = None,
    on_start: Callable[[Case, int], None] | None = None,
) -> BenchResult:
    """Profile every case of ``suite``; ``on_row(case, result)`` runs after each case of each round.

    A timed suite runs ``suite.rounds`` rounds over all its cases (the reference first in each),
    counting and timing in the first and timing again in the others; each row keeps its fastest
    round (``keep_fastest``). ``backends`` overrides the suite's (``()``: counts only, one round).
    Specs are checked before any work.
    """
    from effprof.api import ModelProfile, check_specs, profile_model

    check_specs([m["spec"] for m in suite.models])
    timing = suite_timing(suite, backends).resolved()  # threads chosen once for every case and round
    result = BenchResult(suite, bench_meta(suite, timing))
    by_case: dict[Case, list[dict[str, Any]]] = {}
    cases = suite.cases()
    for round_index in range(suite.rounds if timing.backends else 1):
        for case in cases:
            if round_index and (case not in by_case or any(r.get("error") for r in by_case[case])):
                continue  # a case that failed once is reported once, not retried
            if on_start is not None:
                on_start(case, round_index)
            try:
                p = profile_model(case.spec, resolution=case.resolution, batch=case.batch, timing=timing,
                                  counters=suite.counters if round_index == 0 else ("analytic",))  # fmt: skip
            except EffprofError as exc:
                p = ModelProfile(case.spec, error=exc.message, exit_code=exc.exit_code)
            except KeyboardInterrupt:
                result.interrupted = True
                return result
            rows = _case_rows(suite, case, p)
            if round_index == 0:
                by_case[case] = rows
                if p.error or any(r.get("error") for r in rows):
                    # 2 when the suite asked for the impossible (a resolution the model rejects)
                    result.exit_code = max(result.exit_code, p.exit_code if p.error else 1)
            else:
                by_case[case] = keep_fastest(by_case[case], rows)
            # Normalise over all rows so far: the reference ran first, so each row finds it.
            result.rows = normalise_latency(
                [r for c in cases if c in by_case for r in by_case[c]], suite.reference
            )
            if on_row is not None:
                on_row(case, result)
    return result
