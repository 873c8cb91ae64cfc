"""``effprof bench``: benchmark suites (TOML), runs through effprof's API, baselines and their comparison.

- ``suite``: load and validate a suite file (``load_suite``), its cases and tolerances;
- ``run``: run a suite with ``effprof.api.profile_model``, rows as they finish (``run_suite``);
- ``compare``: the pure comparison rules (counts exact within tolerance, latency normalised by a
  reference model measured in the same run);
- ``baseline``: read a baseline (a bench JSON) and refuse one from another suite or device;
- ``summary``: the Markdown summary (terminal, ``-o x.md``, ``$GITHUB_STEP_SUMMARY``).
"""

from __future__ import annotations

from effprof.bench.baseline import Baseline, check_baseline, read_baseline
from effprof.bench.compare import Comparison, compare, normalise_latency
from effprof.bench.run import BenchResult, run_suite
from effprof.bench.suite import Case, Suite, Tolerance, load_suite, parse_suite

__all__ = [
    "Baseline", "BenchResult", "Case", "Comparison", "Suite", "Tolerance", "check_baseline", "compare",
    "load_suite", "normalise_latency", "parse_suite", "read_baseline", "run_suite",
]  # fmt: skip
