"""The comparison rules of ``effprof bench --baseline``: pure functions over report rows (plain dicts).

- Counts (params, MACs, activations) are deterministic: any change is reported, and it fails when
  the relative change exceeds the suite's tolerance in either direction (a drop fails too, so the
  baseline gets updated and a later regression back to the old figure cannot pass unseen).
- Latency is noisy across machines: each row's median is divided by the reference model's median
  from the same run (``latency_norm``), and only a rise of that ratio beyond ``latency_pct``
  *with confidence* fails (effprof/bench/noise.py: each model is timed in slices alternating with
  the reference, and the change's 95% interval must lie above the tolerance). A uniformly slower machine leaves every ratio alone, so it passes. When the interval
  straddles the tolerance, or the row or its reference was timed while other processes competed
  for the CPU, the verdict is **inconclusive**: neither a pass nor a regression. Absolute times
  are reported, never gated.
- A row that failed to run (``error``) fails; a case the baseline lacks, or that the run lacks, is
  reported (the suite changed) and does not fail.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from effprof.bench import noise
from effprof.bench.suite import Case, Tolerance

COUNT_METRICS = ("params", "macs", "activations")
Row = dict[str, Any]


def case_of(row: Row) -> Case:
    """The case a bench row measured (its key in a baseline, with the backend)."""
    res = row.get("resolution")
    return Case(row["spec"], int(res) if _number(res) else None, int(row.get("batch") or 1))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def relative_change(baseline: float, current: float) -> float:
    """current / baseline - 1 (0.2 = 20% more); from 0 to anything else is infinitely large."""
    if baseline == 0:
        return 0.0 if current == 0 else math.copysign(math.inf, current)
    return current / baseline - 1.0


def normalise_latency(rows: list[Row], reference: str) -> list[Row]:
    """Each row with ``latency_norm``: its latency relative to the reference model's, from the same run.

    A row timed beside the reference (``latency_pair_norms``: one ratio per clean slice pair) gets their
    trimmed geometric mean, and the 95% interval of that estimate (``latency_norm_low``/``_high``, its log
    half-width in ``latency_norm_log_hw``: effprof/bench/noise.py). Any other timed row (the reference's
    own, one from a baseline that kept no pairs) gets latency_ms / the reference row's latency_ms, with
    no interval. The reference row used has the same backend and batch size, and the same resolution
    when the reference ran at it (else its first resolution). Rows without a timed reference get None.
    Returns new dicts; the input is not changed.
    """
    refs: dict[tuple[Any, int], list[Row]] = {}
    for r in rows:
        if r.get("spec") == reference and _number(r.get("latency_ms")) and not r.get("error"):
            refs.setdefault((r.get("backend"), case_of(r).batch), []).append(r)
    out = []
    for r in rows:
        candidates = refs.get((r.get("backend"), case_of(r).batch), [])
        same_res = [c for c in candidates if c.get("resolution") == r.get("resolution")]
        ref = (same_res or candidates or [None])[0]
        stats: dict[str, Any] = dict.fromkeys(("latency_norm", "latency_norm_low", "latency_norm_high",
                                               "latency_norm_log_hw"))  # fmt: skip
        timed = _number(r.get("latency_ms")) and not r.get("error")
        paired = noise.pair_center(r.get("latency_pair_norms")) if timed else None
        if paired is not None:
            hw = noise.pair_half_width(r.get("latency_pair_norms"))
            low, high = noise.interval(paired, hw)
            stats = {"latency_norm": paired, "latency_norm_low": low, "latency_norm_high": high,
                     "latency_norm_log_hw": hw}  # fmt: skip
        elif timed and ref is not None and ref["latency_ms"] > 0:
            stats["latency_norm"] = r["latency_ms"] / ref["latency_ms"]
        extra = {} if paired is not None else {"reference_latency_ms": ref["latency_ms"] if ref else None,
                                               "reference_contended": ref.get("contended") if ref else None}  # fmt: skip
        out.append({**r, **stats, **extra})
    return out


@dataclass(frozen=True)
class Change:
    """One reported difference between a run and its baseline; ``status`` "fail" makes the run fail."""

    case: Case
    backend: str | None
    metric: str  # params | macs | activations | latency_norm | error | new | missing
    status: str  # fail | ok (within tolerance) | faster | inconclusive | info
    baseline: float | None = None
    current: float | None = None
    tolerance_pct: float | None = None
    baseline_ms: float | None = None
    current_ms: float | None = None
    note: str = ""
    #: latency only: the 95% interval of the change, in percent
    change_low_pct: float | None = None
    change_high_pct: float | None = None

    @property
    def change_pct(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return 100 * relative_change(self.baseline, self.current)

    def as_dict(self) -> dict[str, Any]:
        pct = self.change_pct
        return {
            "case": self.case.label, "spec": self.case.spec, "resolution": self.case.resolution,
            "batch": self.case.batch, "backend": self.backend, "metric": self.metric, "status": self.status,
            "baseline": self.baseline, "current": self.current,
            "change_pct": pct if pct is None or math.isfinite(pct) else str(pct),
            "tolerance_pct": self.tolerance_pct, "baseline_ms": self.baseline_ms,
            "current_ms": self.current_ms, "note": self.note,
            "change_low_pct": self.change_low_pct, "change_high_pct": self.change_high_pct,
        }  # fmt: skip


def _counted(rows: Iterable[Row]) -> dict[Case, Row]:
    """The first row of each case that has counts (the counts repeat on every backend's row)."""
    by_case: dict[Case, Row] = {}
    for r in rows:
        if _number(r.get("macs")) and not r.get("error"):
            by_case.setdefault(case_of(r), r)
    return by_case


def compare_counts(baseline: list[Row], current: list[Row], tolerance: Tolerance) -> list[Change]:
    """A Change for every count that differs; status fail when |change| > that metric's tolerance."""
    base, cur = _counted(baseline), _counted(current)
    changes = []
    for case, row in cur.items():
        old = base.get(case)
        if old is None:
            continue
        for metric in COUNT_METRICS:
            a, b = old.get(metric), row.get(metric)
            if not (_number(a) and _number(b)) or a == b:
                continue
            tol = tolerance.for_metric(metric)
            failed = abs(100 * relative_change(a, b)) > tol
            changes.append(Change(case, None, metric, "fail" if failed else "ok", a, b, tol))
    return changes


def _timed(rows: Iterable[Row]) -> dict[tuple[Case, Any], Row]:
    return {
        (case_of(r), r.get("backend")): r
        for r in rows
        if _number(r.get("latency_norm")) and not r.get("error")
    }


def _contention(row: Row, run: str) -> list[str]:
    """Why ``row`` (of the ``run`` named) cannot be judged: it or its reference was contended."""
    why = []
    if _number(row.get("contended")):
        why.append(f"{run} timed while other processes used {row['contended']:.0%} of the cores")
    if _number(row.get("reference_contended")):
        why.append(f"{run}'s reference timed while other processes used {row['reference_contended']:.0%} of the cores")
    return why


def compare_latency(
    baseline: list[Row], current: list[Row], tolerance: Tolerance, reference: str | None = None
) -> list[Change]:
    """A Change for every case timed in both runs (so absolute times are always shown).

    Status (effprof/bench/noise.py): fail when the change's 95% interval lies above ``latency_pct``;
    faster when it lies below minus it; ok when its high end is within it; inconclusive when it
    straddles the tolerance, or when either run's row or reference was contended (contention only
    adds time, to the model or to the reference, so it can fake or hide a regression). The
    ``reference`` model's own rows are 1.0 by definition: shown for their absolute times, status ok.
    """
    base = _timed(baseline)
    changes = []
    tol = tolerance.latency_pct
    for key, row in _timed(current).items():
        old = base.get(key)
        if old is None:
            continue
        change, low, high = noise.change_interval(old["latency_norm"], _hw(old), row["latency_norm"], _hw(row))
        status = noise.latency_verdict(low, high, tol / 100)
        doubts = _contention(old, "the baseline") + _contention(row, "this run")
        note = ""
        if key[0].spec == reference:
            status, note = "ok", "the reference (1.000 by definition)"
        elif doubts:
            status, note = "inconclusive", "; ".join(doubts)
        elif status == "inconclusive":
            note = f"noise: the change is {100 * low:+.1f}% to {100 * high:+.1f}% (95%), across the ±{tol:g}% tolerance"
        changes.append(Change(key[0], key[1], "latency_norm", status, old["latency_norm"], row["latency_norm"],
                              tol, old.get("latency_ms"), row.get("latency_ms"), note,
                              100 * low, 100 * high))  # fmt: skip
    return changes


def _hw(row: Row) -> float:
    hw = row.get("latency_norm_log_hw")
    return float(hw) if _number(hw) and hw >= 0 else 0.0


def compare_presence(baseline: list[Row], current: list[Row]) -> list[Change]:
    """Cases only one side has: reported as new / missing (the suite changed), never a failure."""
    base = {case_of(r) for r in baseline}
    cur = {case_of(r) for r in current}
    new = [
        Change(c, None, "new", "info", note="not in the baseline") for c in _ordered(current) if c not in base
    ]
    gone = [Change(c, None, "missing", "info", note="in the baseline, not in this run")
            for c in _ordered(baseline) if c not in cur]  # fmt: skip
    return new + gone


def _ordered(rows: Iterable[Row]) -> list[Case]:
    return list(dict.fromkeys(case_of(r) for r in rows))


def errors(current: list[Row]) -> list[Change]:
    """Every row of this run that failed (to build, count or time): each one fails the run."""
    return [
        Change(case_of(r), r.get("backend"), "error", "fail", note=str(r["error"]))
        for r in current
        if r.get("error")
    ]


def speed_factors(baseline: list[Row], current: list[Row], reference: str) -> dict[str, float]:
    """Per backend: this run's reference latency / the baseline's (1.5 = this machine 1.5x slower)."""

    def ref_ms(rows: list[Row]) -> dict[Any, float]:
        found: dict[Any, float] = {}
        for r in rows:
            if r.get("spec") == reference and _number(r.get("latency_ms")) and not r.get("error"):
                found.setdefault(r.get("backend"), r["latency_ms"])
        return found

    old, new = ref_ms(baseline), ref_ms(current)
    return {b: new[b] / old[b] for b in new if b in old and old[b] > 0}


@dataclass
class Comparison:
    """Everything ``--baseline`` found; ``failed`` decides exit code 1."""

    changes: list[Change] = field(default_factory=list)
    latency: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    speed: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> list[Change]:
        return [c for c in [*self.changes, *self.latency] if c.status == "fail"]

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def inconclusive(self) -> list[Change]:
        """Latency changes no verdict can be given on (contended, or noise as wide as the tolerance)."""
        return [c for c in self.latency if c.status == "inconclusive"]

    @property
    def verdict(self) -> str:
        """regression (exit 1) | inconclusive (exit 3) | pass (exit 0): counts and errors decide first."""
        return "regression" if self.failed else "inconclusive" if self.inconclusive else "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "failed": self.failed,
            "failures": len(self.failures),
            "inconclusive": len(self.inconclusive),
            "notes": list(self.notes),
            "speed_factor": dict(self.speed),
            "changes": [c.as_dict() for c in self.changes],
            "latency": [c.as_dict() for c in self.latency],
        }


def compare(baseline: list[Row], current: list[Row], tolerance: Tolerance, reference: str) -> Comparison:
    """Apply every rule above; rows carry ``latency_norm`` already (``normalise_latency``)."""
    result = Comparison(
        changes=[
            *errors(current),
            *compare_counts(baseline, current, tolerance),
            *compare_presence(baseline, current),
        ],
        latency=compare_latency(baseline, current, tolerance, reference),
        speed=speed_factors(baseline, current, reference),
    )
    if _timed(current) and not _timed(baseline):
        result.notes.append("the baseline has no latency (counts only): latency was not compared")
    elif _timed(baseline) and not _timed(current):
        result.notes.append("this run measured no latency (counts only): latency was not compared")
    return result
