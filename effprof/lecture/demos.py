"""The lecture demonstrations a bench suite may name (``demos = ["roadmap", "claims"]``), run by name.

Rule: each demonstration runs as the suite times (its backends, device, threads chosen once, budget),
through the same runners as ``effprof roadmap`` and ``effprof claims``; its result is a Result whose
section the suite's HTML report embeds (effprof.reports.html.section_html).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from effprof.lecture.claims_run import run_claims
from effprof.lecture.roadmap_run import run_roadmap
from effprof.results import Result

#: demonstration name -> its runner (backends, device=, threads=, budget_s=, meta=)
DEMOS: dict[str, Callable[..., Result]] = {"roadmap": run_roadmap, "claims": run_claims}


def run_demos(names: Sequence[str], timing: Any, on_done: Callable[[Result], Any] | None = None) -> list[Result]:
    """Run the named demonstrations as ``timing`` (an api.Timing, threads resolved) asks; ``on_done(result)``
    after each (the CLI prints it)."""
    results = []
    for name in names:
        result = DEMOS[name](timing.backends, device=timing.device, threads=timing.threads,
                             budget_s=timing.budget_s, meta={"command": name})  # fmt: skip
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results
