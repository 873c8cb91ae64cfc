"""``effprof bench SUITE``: run a benchmark suite, compare with a baseline, fail CI on a regression (thin).

The baseline policy, the verdict and the exit policy are the library's (effprof.bench.policy,
effprof.bench.verdict); this command gathers options, shows progress, prints and writes.

``register(app)`` adds the command to effprof's Typer app; it is idempotent.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from effprof.cli.common import (
    Steps,
    Wide,
    check,
    failed_exit,
    interrupt_exit,
    out,
    outputs_option,
    register_commands,
    say,
    write,
)
from effprof.errors import EXIT_OK, EffprofError

EPILOG = (
    "Examples:  effprof bench benchmarks/ci.toml -o reports/ci.json  •  "
    "effprof bench benchmarks/ci.toml --baseline reports/ci.json -o reports/ci.html  •  "
    "effprof bench benchmarks/ci.toml --baseline benchmarks/ci-baseline.json --backend none  •  "
    "effprof bench benchmarks/ci.toml --baseline reports/ci.json --update-baseline"
)


def _bench_result_type():
    # effprof.bench.run imports the API (torch): the --help of every command must not
    from effprof.bench.run import BenchResult

    return BenchResult


class _BenchSuffixes:
    """Stands in for BenchResult in ``-o``'s help (all table formats and plots) without importing it."""

    figures = ("compare",)

    @classmethod
    def suffixes(cls) -> tuple[str, ...]:
        from effprof.results import PLOT_SUFFIXES, TABLE_SUFFIXES

        return TABLE_SUFFIXES + PLOT_SUFFIXES


def bench(
    suite_file: Annotated[Path, typer.Argument(metavar="SUITE", help="Suite file, e.g. benchmarks/ci.toml.")],
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="A bench JSON (from -o x.json) to compare with; exit 1 on a regression."),
    ] = None,
    update_baseline: Annotated[
        bool,
        typer.Option("--update-baseline", help="Write this run as the new --baseline FILE (after showing what changed)."),
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="Override the suite's backends: eager,onnxruntime,compile, or 'none' to count only."),
    ] = None,
    budget_s: Annotated[
        float | None,
        typer.Option("--budget-s", min=0.01, help="Override the suite's budget_s: seconds of timed runs per case and round."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --update-baseline: save latency rows even if they were contended or too noisy."),
    ] = False,
    wide: Wide = False,
    output: outputs_option(_BenchSuffixes) = None,
) -> None:
    """Run a benchmark suite; with --baseline, fail (exit 1) when counts change or normalised latency regresses.

    Exit codes: 0 pass; 1 regression (counts always decide; latency only when its whole 95% interval is past the tolerance) or a failed row; 2 usage or input error; 3 inconclusive: a latency row needed for the verdict was contended or too noisy to judge.

    -o x.md writes the Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set); -o x.json is a baseline for a later run. Exit 2: a bad suite, or a baseline that is corrupt or from another suite or device.
    """
    from rich.markdown import Markdown

    from effprof.bench.policy import append_step_summary, as_baseline, load_baseline, outcome, with_comparison
    from effprof.bench.render import render_bench_rows
    from effprof.bench.run import bench_meta, run_suite, suite_timing
    from effprof.bench.suite import load_suite
    from effprof.latency import parse_backends

    result_type = _bench_result_type()
    outputs = check(output, result_type)
    if update_baseline and baseline is None:
        raise EffprofError("--update-baseline needs --baseline FILE: the file to write")
    if update_baseline:
        check([baseline], result_type)  # an unwritable baseline path fails now, not after the whole suite
    suite = load_suite(suite_file)
    if budget_s is not None:
        suite = dataclasses.replace(suite, budget_s=budget_s)
    backends = None if backend is None else () if backend.strip() == "none" else tuple(parse_backends(backend))
    meta = bench_meta(suite, suite_timing(suite, backends))  # a bad backend or device fails before any work
    loaded = load_baseline(baseline, meta, timed=bool(meta.get("backends")), replacing=update_baseline)
    for warning in loaded.warnings:
        say("warning", "yellow", warning)

    steps_total = len(suite.cases()) * (2 if meta.get("backends") else 1)  # counting, then timing beside the reference
    # Rewritten after every case, atomically: an interrupt or crash keeps each finished row.
    streamed = [p for p in outputs if p.suffix.lower() in (".csv", ".json")]
    with Steps("bench", steps_total) as steps:

        def on_row(case, partial) -> None:
            write(streamed, partial, quiet=True)
            steps.advance(case.label)

        result = run_suite(suite, backends=backends, on_row=on_row,
                           on_start=lambda case, phase: steps.describe(f"{case.spec} ({phase})"))  # fmt: skip
    result = with_comparison(result, loaded, baseline)
    out.print(Markdown(result.to_markdown(details=False).split("\n### All rows\n")[0]))
    out.print(render_bench_rows(result, width=out.width, wide=wide))
    write(outputs, result)
    warning = append_step_summary(result.to_markdown(details=True))
    if warning:
        say("warning", "yellow", warning)

    if result.interrupted:
        raise interrupt_exit(f"kept {len({r['spec'] for r in result.rows})} finished models")
    end = outcome(result, update_baseline=update_baseline, force=force)
    if end.save_baseline:
        write([baseline], as_baseline(result))
        return
    if end.exit_code != EXIT_OK:
        raise failed_exit(end.message, end.label, end.exit_code)


COMMANDS = (("bench", bench, EPILOG),)


def register(app: typer.Typer) -> None:
    """Add ``bench`` to ``app``; already there (by name), it is left alone."""
    register_commands(app, COMMANDS)
