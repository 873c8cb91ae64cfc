"""What ``effprof bench`` does around a suite run: read the baseline, compare, decide the exit, keep the
baseline, report to CI. The command line only gathers options and prints (effprof/cli/bench.py).

Rules:
- a baseline being replaced (``--update-baseline``) that is missing or unreadable is a warning, not an
  error; one being compared with must be readable and from the same suite and device (exit 2);
- the exit code is the run's verdict's (effprof.bench.verdict), except that ``--update-baseline``
  refuses to save failed rows (exit 1) or latency rows contended or too noisy to be a reference
  (exit 3, unless ``force``);
- the Markdown summary is appended to ``$GITHUB_STEP_SUMMARY`` when it is set; a bad path is a warning.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from effprof.bench.baseline import Baseline, check_baseline, read_baseline
from effprof.bench.compare import case_of
from effprof.bench.compare import compare as compare_rows
from effprof.bench.run import BenchResult
from effprof.errors import EXIT_FAILED, EXIT_INCONCLUSIVE, EXIT_OK, EffprofError


@dataclass
class LoadedBaseline:
    """A baseline read for comparison (None when there is none to compare with), its notes and warnings."""

    baseline: Baseline | None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_baseline(path: Path | None, meta: dict[str, Any], *, timed: bool, replacing: bool) -> LoadedBaseline:
    """The baseline at ``path`` checked against this run's ``meta``; when it is being replaced, an
    unusable or missing one is a warning instead of an error."""
    if path is None or (replacing and not path.exists()):
        return LoadedBaseline(None)
    try:
        baseline = read_baseline(path)
        return LoadedBaseline(baseline, check_baseline(baseline, meta, timed=timed))
    except EffprofError as exc:
        if not replacing:
            raise
        return LoadedBaseline(None, warnings=[f"replacing it, not comparing: {exc.message}"])


def with_comparison(result: BenchResult, loaded: LoadedBaseline, baseline_path: Path | None) -> BenchResult:
    """``result`` with its comparison against the loaded baseline (unchanged when there is none)."""
    if loaded.baseline is None:
        return result
    comparison = compare_rows(loaded.baseline.rows, result.rows, result.suite.tolerance, result.suite.reference)
    comparison.notes[:0] = loaded.notes
    return dataclasses.replace(result, comparison=comparison, baseline_path=str(baseline_path))


def untrusted_rows(rows: list[dict[str, Any]]) -> list[str]:
    """Labels of the timed rows a baseline should not keep: contended, or with a spread too large to trust."""
    return [
        f"{case_of(r).label} ({r.get('backend')})"
        for r in rows
        if r.get("latency_ms") is not None and not r.get("error")
        and (isinstance(r.get("contended"), float) or "spread too large" in str(r.get("warnings") or ""))
    ]


@dataclass(frozen=True)
class Outcome:
    """How a bench run ends: its exit code, a one-line message (``label: message``) and whether to save."""

    exit_code: int
    label: str = ""
    message: str = ""
    save_baseline: bool = False


def _rows_failed(rows: list) -> str:
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''} failed"


def outcome(result: BenchResult, *, update_baseline: bool = False, force: bool = False) -> Outcome:
    """The exit of a finished (not interrupted) run; see the module rules."""
    if update_baseline:
        if result.errors:
            return Outcome(EXIT_FAILED, "error", f"not writing the baseline: {_rows_failed(result.errors)}")
        doubtful = untrusted_rows(result.rows)
        if doubtful and not force:
            return Outcome(EXIT_INCONCLUSIVE, "inconclusive",
                           f"not writing the baseline: {len(doubtful)} latency row{'s' if len(doubtful) != 1 else ''} "
                           f"contended or too noisy to be a reference ({', '.join(doubtful)}); re-run on a quiet "
                           "machine, or add --force to save them anyway")  # fmt: skip
        return Outcome(EXIT_OK, save_baseline=True)
    verdict = result.verdict()
    comparison = result.comparison
    if result.errors:
        names = ", ".join(dict.fromkeys(r["spec"] for r in result.errors))
        return Outcome(verdict.exit_code, "error", f"{_rows_failed(result.errors)}: {names}")
    if verdict.state == "fail" and comparison is not None:
        what = ", ".join(dict.fromkeys(f"{c.case.spec} {c.metric}" for c in comparison.failures))
        return Outcome(verdict.exit_code, "regression",
                       f"{len(comparison.failures)} against {result.baseline_path}: {what}")  # fmt: skip
    if verdict.state == "inconclusive" and comparison is not None:
        n = len(comparison.inconclusive)
        what = ", ".join(dict.fromkeys(f"{c.case.label} ({c.backend})" for c in comparison.inconclusive))
        return Outcome(verdict.exit_code, "inconclusive",
                       f"{n} latency row{'s' if n != 1 else ''} too contended or noisy to judge against "
                       f"{result.baseline_path}: {what} (counts are within tolerance; exit 3)")  # fmt: skip
    return Outcome(verdict.exit_code)


def as_baseline(result: BenchResult) -> BenchResult:
    """The result as it is saved as a baseline: its rows and meta, without a comparison."""
    return dataclasses.replace(result, comparison=None, baseline_path=None)


def append_step_summary(summary: str) -> str | None:
    """Append to $GITHUB_STEP_SUMMARY (GitHub shows it on the run's page); returns a warning when it cannot."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(summary)
    except OSError as exc:
        return f"could not append to $GITHUB_STEP_SUMMARY ({target}): {exc.strerror or exc}"
    return None
