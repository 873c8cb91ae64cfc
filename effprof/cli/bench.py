"""``effprof bench SUITE``: run a benchmark suite, compare with a baseline, fail CI on a regression (thin).

Exit codes: 0 everything within tolerance; 1 a regression against the baseline or a case that
failed to run; 2 a usage or input error (bad suite key, missing/corrupt/mismatched baseline);
130 interrupted (finished rows are kept in every output).

``register(app)`` adds the command to effprof's Typer app; it is idempotent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from effprof.cli import (
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    Outputs,
    _progress,
    _write,
    failed_exit,
    handle_errors,
    interrupt_exit,
    out,
    say,
    wrote,
)
from effprof.errors import EffprofError

EPILOG = (
    "Examples:  effprof bench benchmarks/ci.toml -o reports/ci.json  •  "
    "effprof bench benchmarks/ci.toml --baseline reports/ci.json -o reports/ci.html  •  "
    "effprof bench benchmarks/ci.toml --baseline benchmarks/ci-baseline.json --backend none  •  "
    "effprof bench benchmarks/ci.toml --baseline reports/ci.json --update-baseline"
)


def _load_baseline(path: Path, suite, meta, *, timed: bool, replacing: bool):
    """The baseline and its notes; when it is being replaced, an unusable old one is only a warning."""
    from effprof.bench.baseline import check_baseline, read_baseline

    if replacing and not path.exists():
        return None, []
    try:
        baseline = read_baseline(path)
        return baseline, check_baseline(baseline, meta, timed=timed)
    except EffprofError as exc:
        if not replacing:
            raise
        say("warning", "yellow", f"replacing it, not comparing: {exc.message}")
        return None, []


@handle_errors
def bench(
    suite_file: Annotated[Path, typer.Argument(metavar="SUITE", help="Suite file, e.g. benchmarks/ci.toml.")],
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="A bench JSON (from -o x.json) to compare with; exit 1 on a regression."
        ),
    ] = None,
    update_baseline: Annotated[
        bool,
        typer.Option(
            "--update-baseline",
            help="Write this run as the new --baseline FILE (after showing what changed).",
        ),
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="Override the suite's backends: eager,onnxruntime,compile, or 'none' to count only.",
        ),
    ] = None,
    budget_s: Annotated[
        float | None,
        typer.Option(
            "--budget-s",
            min=0.01,
            help="Override the suite's budget_s: seconds of timed runs per case and round.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --update-baseline: save latency rows even if they were contended or too noisy."),
    ] = False,
    output: Outputs = None,
) -> None:
    """Run a benchmark suite; with --baseline, fail (exit 1) when counts change or normalised latency regresses.

    Exit codes: 0 pass; 1 regression (counts always decide; latency only when its whole 95% interval is past the tolerance) or a failed row; 2 usage or input error; 3 inconclusive: a latency row needed for the verdict was contended or too noisy to judge.

    -o x.md writes the Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set); -o x.json is a baseline for a later run. Exit 2: a bad suite, or a baseline that is corrupt or from another suite or device.
    """
    from dataclasses import replace

    from rich.markdown import Markdown

    from effprof.bench.compare import compare as compare_rows
    from effprof.bench.run import bench_meta, run_suite, suite_timing, to_frame
    from effprof.bench.suite import load_suite
    from effprof.bench.summary import markdown_summary
    from effprof.latency import parse_backends
    from effprof.reports.writers import _write_text, check_outputs, to_json_text

    outputs = list(output or [])
    check_outputs(outputs)
    if update_baseline and baseline is None:
        raise EffprofError("--update-baseline needs --baseline FILE: the file to write")
    if update_baseline:
        check_outputs([baseline])  # an unwritable baseline path fails now, not after the whole suite
    suite = load_suite(suite_file)
    if budget_s is not None:
        suite = replace(suite, budget_s=budget_s)
    backends = (
        None if backend is None else () if backend.strip() == "none" else tuple(parse_backends(backend))
    )
    meta = bench_meta(suite, suite_timing(suite, backends))  # a bad backend or device fails before any work
    timed = bool(meta.get("backends"))
    old, notes = (None, [])
    if baseline is not None:
        old, notes = _load_baseline(baseline, suite, meta, timed=timed, replacing=update_baseline)

    steps = len(suite.cases()) * (2 if timed else 1)  # counting, then timing beside the reference
    # Rewritten after every case, atomically: an interrupt or crash keeps each finished row.
    streamed = [p for p in outputs if p.suffix.lower() in (".csv", ".json")]

    def on_start(case, phase) -> None:
        bar.update(task, description=f"{case.spec} ({phase})")

    def on_row(case, result) -> None:
        for path in streamed:
            _write([path], _for_suffix(to_frame(result.rows), path), result.meta, kind="bench", quiet=True)
        bar.advance(task)

    with _progress(steps) as bar:
        task = bar.add_task("bench", total=steps)
        result = run_suite(suite, backends=backends, on_row=on_row, on_start=on_start)

    comparison = None
    if old is not None:
        comparison = compare_rows(old.rows, result.rows, suite.tolerance, suite.reference)
        comparison.notes[:0] = notes

    def summary_md(details: bool) -> str:
        return markdown_summary(suite.name, result.rows, result.meta, comparison, details=details,
                                baseline_path=str(baseline) if old is not None else None,
                                interrupted=result.interrupted)  # fmt: skip

    summary = summary_md(details=True)  # GitHub folds the full table; the terminal shows it
    out.print(Markdown(summary_md(details=False)))
    extra = {"comparison": comparison.to_dict(), "baseline": str(baseline)} if comparison else {}
    sections = _demo_sections(suite, backends, outputs) if not result.interrupted else []
    df = to_frame(result.rows)
    for path in outputs:
        if path.suffix.lower() == ".md":
            _write_text(path, summary)
            wrote(path)
        elif path.suffix.lower() == ".html" and sections:
            _write([path], _for_suffix(df, path), result.meta, {**extra, "html_sections": sections}, kind="bench")
        else:
            _write([path], _for_suffix(df, path), result.meta, extra, kind="bench")
    _append_step_summary(summary)

    if result.interrupted:
        raise interrupt_exit(f"kept {len({r['spec'] for r in result.rows})} finished models")
    if update_baseline:
        if result.errors:
            raise failed_exit(f"not writing the baseline: {_rows_failed(result.errors)}")
        doubtful = untrusted_rows(result.rows)
        if doubtful and not force:
            say("inconclusive", "yellow",
                f"not writing the baseline: {len(doubtful)} latency row{'s' if len(doubtful) != 1 else ''} "
                f"contended or too noisy to be a reference ({', '.join(doubtful)}); re-run on a quiet machine, "
                "or add --force to save them anyway")  # fmt: skip
            raise typer.Exit(EXIT_INCONCLUSIVE)
        _write_text(baseline, to_json_text(df, result.meta))
        wrote(baseline)
        return
    if result.errors:
        names = ", ".join(dict.fromkeys(r["spec"] for r in result.errors))
        raise failed_exit(f"{_rows_failed(result.errors)}: {names}")
    if comparison is not None and comparison.failed:
        what = ", ".join(dict.fromkeys(f"{c.case.spec} {c.metric}" for c in comparison.failures))
        say("regression", "red", f"{len(comparison.failures)} against {baseline}: {what}")
        raise typer.Exit(EXIT_FAILED)
    if comparison is not None and comparison.inconclusive:
        n = len(comparison.inconclusive)
        what = ", ".join(dict.fromkeys(f"{c.case.label} ({c.backend})" for c in comparison.inconclusive))
        say("inconclusive", "yellow", f"{n} latency row{'s' if n != 1 else ''} too contended or noisy to judge "
            f"against {baseline}: {what} (counts are within tolerance; exit 3)")  # fmt: skip
        raise typer.Exit(EXIT_INCONCLUSIVE)


def _demo_sections(suite, backends, outputs: list[Path]) -> list[str]:
    """The suite's lecture demonstrations (``demos``), run and printed, as HTML sections: only for an .html output."""
    if not suite.demos or not any(p.suffix.lower() == ".html" for p in outputs):
        return []
    from effprof.bench.run import suite_timing
    from effprof.lecture.demo_report import run_demos

    timing = suite_timing(suite, backends).resolved()
    say("lecture", "cyan", f"running {', '.join(suite.demos)} for the HTML report (backends: "
        f"{', '.join(timing.backends) or 'none, counts only'})")  # fmt: skip
    results, sections = run_demos(suite.demos, timing)
    for demo in results:
        out.print(demo)
    return sections


def _for_suffix(df, path: Path):
    """JSON keeps the slice-pair ratios (a later run's verdict needs them); tables and plots leave them out."""
    return df if path.suffix.lower() == ".json" else df.drop(columns=["latency_pair_norms"], errors="ignore")


def untrusted_rows(rows: list) -> list[str]:
    """Labels of the timed rows a baseline should not keep: contended, or with a spread too large to trust."""
    from effprof.bench.compare import case_of

    return [
        f"{case_of(r).label} ({r.get('backend')})"
        for r in rows
        if r.get("latency_ms") is not None and not r.get("error")
        and (isinstance(r.get("contended"), float) or "spread too large" in str(r.get("warnings") or ""))
    ]


def _append_step_summary(summary: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY (GitHub shows it on the run's page); a bad path is a warning, not a crash."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(summary)
    except OSError as exc:
        say("warning", "yellow", f"could not append to $GITHUB_STEP_SUMMARY ({target}): {exc.strerror or exc}")


def _rows_failed(rows: list) -> str:
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''} failed"


def register(app: typer.Typer) -> None:
    """Add ``bench`` to ``app``; already there (by name), it is left alone."""
    present = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    if "bench" not in present:
        app.command("bench", epilog=EPILOG)(bench)
