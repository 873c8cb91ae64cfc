"""Choosing commands: ``pareto`` (measure, front, MnasNet reward) and ``search`` (predict, shortlist, measure).
Thin: parse, call effprof.choose, render, write.

``register(app)`` adds the commands to effprof's Typer app; it is idempotent. Table files are rewritten
after every measurement, so Ctrl-C (exit 130) or SIGTERM (143) keeps every row already measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from effprof.choose.grid_search import search as run_search
from effprof.choose.pareto import SOFT_W
from effprof.choose.plot import plot_choice
from effprof.choose.result import ParetoResult, SearchResult
from effprof.choose.run import pareto as run_pareto
from effprof.cli import (
    EXIT_EPILOG,
    BudgetS,
    Device,
    Outputs,
    Resolution,
    Threads,
    _progress,
    failed_exit,
    handle_errors,
    interrupt_exit,
    out,
    wrote,
)  # fmt: skip
from effprof.reports.writers import PLOT_SUFFIXES, TABLE_SUFFIXES, check_outputs, write_plot, write_table

TargetMs = Annotated[
    float | None, typer.Option("--target-ms", help="Target latency T in ms: ranks by MnasNet's reward ACC x (LAT/T)^w.")
]
W = Annotated[float, typer.Option("--w", help="The soft reward's exponent w (MnasNet: -0.07; 0 ignores latency).")]
RankBy = Annotated[
    str, typer.Option("--rank-by", help="Rank by the soft reward (w) or the hard one (w = 0 within T, -1 over).")
]
Backend = Annotated[str, typer.Option("--backend", help="The one backend to time on: eager, onnxruntime or compile.")]


def _write_tables(paths: list[Path], result: ParetoResult | SearchResult, extra: dict, quiet: bool = False) -> None:
    df = result.to_pandas()
    for path in paths:
        write_table(path, df, result.meta, extra)
        if not quiet:
            wrote(path)


def _plots(paths: list[Path], result: ParetoResult | SearchResult, title: str, chosen: str | None, predicted: bool) -> None:
    rows = result.rows()
    for path in paths:
        write_plot(path, lambda tmp: plot_choice(rows, tmp, target_ms=result.target_ms, title=title, chosen=chosen,
                                                 predicted=predicted))  # fmt: skip
        wrote(path)


def _split(outputs: list[Path]) -> tuple[list[Path], list[Path]]:
    return ([p for p in outputs if p.suffix.lower() in TABLE_SUFFIXES],
            [p for p in outputs if p.suffix.lower() in PLOT_SUFFIXES])  # fmt: skip


def _finish(result: ParetoResult | SearchResult, what: str) -> None:
    if result.interrupted:
        raise interrupt_exit(f"kept the {what} measured before it")
    failed = result.failed()
    if failed:
        raise failed_exit(f"{len(failed)} of {len(result.choices)} candidates failed: "
                          + ", ".join(r["model"] for r in failed))  # fmt: skip


@handle_errors
def pareto(
    models: Annotated[list[str] | None, typer.Argument(help="Model specs; each is timed where its accuracy is published.")] = None,
    all_models: Annotated[bool, typer.Option("--all", help="Every model with a published ImageNet accuracy (~130).")] = False,
    family: Annotated[str | None, typer.Option("--family", help="Every published model of one family, e.g. MobileNetV2, regnet.")] = None,
    resolution: Resolution = None,
    backend: Backend = "eager",
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    target_ms: TargetMs = None,
    w: W = SOFT_W,
    rank_by: RankBy = "soft",
    max_gmacs: Annotated[float | None, typer.Option("--max-gmacs", help="Count but do not time models over this many GMACs.")] = None,
    output: Outputs = None,
) -> None:
    """Measure every candidate, draw the Pareto front of published accuracy vs measured latency, rank by MnasNet's reward."""
    outputs = list(output or [])
    check_outputs(outputs)
    tables, plots = _split(outputs)
    state: dict = {"result": None}

    def on_result(result: ParetoResult) -> None:
        state["result"] = result
        _write_tables(tables, result, {}, quiet=True)  # an interrupt or crash keeps what finished
        bar.advance(timing_task)

    with _progress(2) as bar:
        count_task = bar.add_task("counting", total=None)
        timing_task = bar.add_task("timing", total=None, start=False)

        def on_counted(_) -> None:
            bar.advance(count_task)

        try:
            result = run_pareto(models, all_models=all_models, family=family, resolution=resolution, backend=backend,
                                device=device, threads=threads, budget_s=budget_s, target_ms=target_ms, w=w,
                                rank_by=rank_by, max_gmacs=max_gmacs, on_counted=on_counted, on_result=on_result)  # fmt: skip
        except KeyboardInterrupt:  # between two models, while a file was rewritten
            result = state["result"]
            if result is None:
                raise
            result.interrupted = True
    out.print(result)
    chosen = result.chosen()
    extra = {"chosen": chosen["model"] if chosen else None}
    phone = result.phone()
    if phone is not None:
        extra["device_vs_pixel1"] = {"spearman": phone.spearman, "rows": phone.rows,
                                     "device_choice": phone.device_choice, "phone_choice": phone.phone_choice}  # fmt: skip
    _write_tables(tables, result, extra)
    title = f"effprof pareto ({(result.meta.get('backends') or ['?'])[0]}, {result.meta.get('threads')} threads)"
    _plots(plots, result, title, chosen["model"] if chosen else None, predicted=False)
    _finish(result, "rows")


@handle_errors
def search(
    family: Annotated[str, typer.Argument(help="mobilenet_v1, mobilenet_v2, mobilenet_v3 or efficientnet.")],
    target_ms: Annotated[float | None, typer.Option("--target-ms", help="Target latency T in ms (required).")] = None,
    backend: Backend = "eager",
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    quick: Annotated[bool, typer.Option("--quick", help="Screen by MACs at one measured configuration's rate "
                                        "(seconds) instead of the calibrated predictor (cached; ~1 min the first time).")] = False,
    shortlist: Annotated[int, typer.Option("--shortlist", min=1, help="How many configurations to measure (then up to as many more).")] = 5,
    margin: Annotated[float, typer.Option("--margin", min=0.0, help="Shortlist what is predicted within T x (1 + margin).")] = 0.5,
    refresh: Annotated[bool, typer.Option("--refresh", help="Re-measure the device limits and the calibration.")] = False,
    w: W = SOFT_W,
    rank_by: RankBy = "soft",
    output: Outputs = None,
) -> None:
    """Screen a family's width x resolution grid with the latency predictor, measure the shortlist, answer from the measurements."""
    outputs = list(output or [])
    check_outputs(outputs)
    tables, plots = _split(outputs)
    state: dict = {"result": None, "task": None}

    def on_result(result: SearchResult) -> None:
        state["result"] = result
        _write_tables(tables, result, {}, quiet=True)

    with _progress(2) as bar:
        bar: Progress

        def on_stage(name: str, steps: int) -> None:
            if state["task"] is not None:
                bar.update(state["task"], visible=False)
            state["task"] = bar.add_task(name, total=steps)

        def on_step() -> None:
            if state["task"] is not None:
                bar.advance(state["task"])

        try:
            result = run_search(family, target_ms=target_ms, backend=backend, device=device, threads=threads,
                                budget_s=budget_s, shortlist=shortlist, margin=margin, quick=quick, refresh=refresh,
                                w=w, rank_by=rank_by, on_stage=on_stage, on_step=on_step, on_result=on_result)  # fmt: skip
        except KeyboardInterrupt:
            result = state["result"]
            if result is None:
                raise
            result.interrupted = True
    out.print(result)
    _write_tables(tables, result, {"summary": result.summary()})
    answer = result.answer()
    title = f"effprof search {result.family} ({(result.meta.get('backends') or ['?'])[0]}, {result.meta.get('threads')} threads)"
    _plots(plots, result, title, answer["model"] if answer else None, predicted=True)
    _finish(result, "shortlist")


COMMANDS = (
    ("pareto", pareto, "Examples:  effprof pareto mobilenet_v2 mobilenet_v3_large efficientnet_b0 --target-ms 10  •  "
     "effprof pareto --family MobileNetV2 --backend onnxruntime --target-ms 5 -o reports/mnv2.csv -o reports/mnv2.png  •  "
     "effprof pareto --all --backend onnxruntime --target-ms 10 --max-gmacs 20 -o reports/pareto.json"),
    ("search", search, "Examples:  effprof search mobilenet_v2 --target-ms 5  •  effprof search mobilenet_v1 --target-ms 3 --quick  "
     "•  effprof search efficientnet --target-ms 40 --backend onnxruntime -o reports/search.csv -o reports/search.png"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``pareto`` and ``search`` to ``app``; a command already registered under its name is left alone."""
    present = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    for name, command, epilog in COMMANDS:
        if name not in present:
            app.command(name, epilog=f"{epilog}\n\n{EXIT_EPILOG}")(command)
