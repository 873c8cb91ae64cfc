"""The verdict of a bench run, decided once: the terminal, the Markdown summary, the HTML report and the
exit code all read it.

Rule, in order: a regression or a failed row fails (exit 1), whatever the noise; then an interrupted
run stops (130/143, decided by the CLI's signal); then a latency row too contended or noisy to judge
makes it inconclusive (exit 3); else it passes (exit 0). Without a baseline there is nothing to
compare: the run is done, or failed when a row failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from effprof.bench.compare import Comparison
from effprof.errors import EXIT_FAILED, EXIT_INCONCLUSIVE, EXIT_OK


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class Verdict:
    """``state`` is fail | inconclusive | pass | done; ``words`` the headline in plain words."""

    state: str
    words: str
    exit_code: int

    @property
    def icon(self) -> str:
        return {"fail": "❌", "inconclusive": "⚠️"}.get(self.state, "✅")


def bench_verdict(rows: list[dict[str, Any]], comparison: Comparison | None, interrupted: bool = False) -> Verdict:
    """The one verdict of a run's ``rows`` against the ``comparison`` with its baseline (None: no baseline)."""
    errors = sum(1 for r in rows if r.get("error"))
    regressions = len([c for c in comparison.failures if c.metric != "error"]) if comparison else 0
    parts = [_plural(regressions, "regression")] if regressions else []
    parts += [_plural(errors, "failed row")] if errors else []
    parts += ["interrupted"] if interrupted else []
    if regressions or errors:
        return Verdict("fail", ", ".join(parts), EXIT_FAILED)
    if interrupted:
        return Verdict("fail", "interrupted", EXIT_FAILED)
    if comparison is not None and comparison.inconclusive:
        n = len(comparison.inconclusive)
        return Verdict("inconclusive", f"inconclusive: {_plural(n, 'latency row')} too contended or noisy to judge "
                       "(counts within tolerance)", EXIT_INCONCLUSIVE)  # fmt: skip
    if comparison is not None:
        return Verdict("pass", "within tolerance", EXIT_OK)
    return Verdict("done", "done (no baseline)", EXIT_OK)
