"""Choosing commands: ``pareto`` (measure, front, MnasNet reward) and ``search`` (predict, shortlist, measure).
Thin: parse, call effprof.choose, show, write.

Table files are rewritten after every measurement, so Ctrl-C (exit 130) or SIGTERM (143) keeps every row
already measured. The library is imported inside the commands, for startup speed: ``effprof --help``
must not import torch or pandas (effprof.choose.result, read here for the ``-o`` suffixes, is light).

``register(app)`` adds the commands to effprof's Typer app; it is idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from effprof.choose.ranking import SOFT_W
from effprof.choose.result import ParetoResult, SearchResult
from effprof.cli.common import (
    BudgetS,
    Device,
    Resolution,
    Steps,
    Threads,
    Wide,
    check,
    failed_exit,
    interrupt_exit,
    outputs_option,
    register_commands,
    show,
    write,
)  # fmt: skip
from effprof.errors import EffprofError
from effprof.results import PLOT_SUFFIXES, TABLE_SUFFIXES

TargetMs = Annotated[
    float | None, typer.Option("--target-ms", help="Target latency T in ms: ranks by MnasNet's reward ACC x (LAT/T)^w.")
]
W = Annotated[float, typer.Option("--w", help="The soft reward's exponent w (MnasNet: -0.07; 0 ignores latency).")]
RankBy = Annotated[
    str, typer.Option("--rank-by", help="Rank by the soft reward (w) or the hard one (w = 0 within T, -1 over).")
]


def _tables(outputs: list[Path]) -> list[Path]:
    """The -o files rewritten after each measurement (a figure is drawn once, at the end)."""
    return [p for p in outputs if p.suffix.lower() in TABLE_SUFFIXES]


def _finish(result: ParetoResult | SearchResult, what: str) -> None:
    if result.interrupted:
        raise interrupt_exit(f"kept the {what} measured before it")
    failed = result.failed()
    if failed:
        raise failed_exit(f"{len(failed)} of {len(result.choices)} candidates failed: "
                          + ", ".join(r["model"] for r in failed))  # fmt: skip


class _Stages:
    """One ``Steps`` per stage of a run (counting, timing ...): a bar on a terminal, a plain line per step off it."""

    def __init__(self) -> None:
        self.steps: Steps | None = None

    def start(self, name: str, total: int) -> None:
        self.close()
        self.steps = Steps(name, total).__enter__()

    def advance(self, what: str = "") -> None:
        if self.steps is not None:
            self.steps.advance(what)

    def close(self) -> None:
        if self.steps is not None:
            self.steps.__exit__(None, None, None)
            self.steps = None


def _run(run, outputs: list[Path], what: str, wide: bool, **options) -> None:  # noqa: ANN001
    """Run ``run`` (pareto or search) with progress, rewriting the table files after each measurement;
    Ctrl-C keeps (shows and writes) what finished, then exits 130."""
    tables = _tables(outputs)
    state: dict = {"result": None}
    stages = _Stages()

    def on_result(result: ParetoResult | SearchResult) -> None:
        state["result"] = result
        write(tables, result, quiet=True)  # an interrupt or crash keeps what finished

    try:
        result = run(on_stage=stages.start, on_step=stages.advance, on_result=on_result, **options)
    except KeyboardInterrupt:  # between two models, while a file was rewritten
        result = state["result"]
        if result is None:
            raise
        result.interrupted = True
    finally:
        stages.close()
    show(result, wide=wide)
    write(outputs, result)
    _finish(result, what)


def pareto(
    models: Annotated[list[str] | None, typer.Argument(help="Model specs; each is timed where its accuracy is published.")] = None,
    all_models: Annotated[bool, typer.Option("--all", help="Every model with a published ImageNet accuracy (~130).")] = False,
    family: Annotated[str | None, typer.Option("--family", help="Every published model of one family, e.g. MobileNetV2, regnet.")] = None,
    resolution: Resolution = None,
    backend: Annotated[str, typer.Option("--backend", help="The one backend to time on: eager, onnxruntime or compile; "
                                         "'none' counts only (published accuracy and MACs, nothing ranked).")] = "eager",
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    target_ms: TargetMs = None,
    w: W = SOFT_W,
    rank_by: RankBy = "soft",
    max_gmacs: Annotated[float | None, typer.Option("--max-gmacs", help="Count but do not time models over this many GMACs.")] = None,
    wide: Wide = False,
    output: outputs_option(ParetoResult) = None,
) -> None:
    """Measure every candidate, draw the Pareto front of published accuracy vs measured latency, rank by MnasNet's reward."""
    from effprof.choose.run import pareto as run_pareto

    outputs = check(output, ParetoResult)
    plots = [p for p in outputs if p.suffix.lower() in PLOT_SUFFIXES]
    if plots and backend.strip().lower() == "none":  # before any work: the figure's x axis is measured latency
        raise EffprofError(f"cannot write {str(plots[0])!r}: the pareto figure plots measured latency and "
                           "--backend none times nothing; write a table (.csv .json .md .html) or give a backend")  # fmt: skip
    _run(run_pareto, outputs, "rows", wide, models=models, all_models=all_models, family=family,
         resolution=resolution, backend=backend, device=device, threads=threads, budget_s=budget_s,
         target_ms=target_ms, w=w, rank_by=rank_by, max_gmacs=max_gmacs)  # fmt: skip


def search(
    family: Annotated[str, typer.Argument(help="mobilenet_v1, mobilenet_v2, mobilenet_v3 or efficientnet.")],
    target_ms: Annotated[float | None, typer.Option("--target-ms", help="Target latency T in ms (required).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="The one backend to time on: eager, onnxruntime or compile; "
                                         "'none' screens by prediction only (no --quick).")] = "eager",
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
    wide: Wide = False,
    output: outputs_option(SearchResult) = None,
) -> None:
    """Screen a family's width x resolution grid with the latency predictor, measure the shortlist, answer from the measurements."""
    from effprof.choose.grid_search import search as run_search

    outputs = check(output, SearchResult)
    _run(run_search, outputs, "shortlist", wide, family=family, target_ms=target_ms, backend=backend, device=device,
         threads=threads, budget_s=budget_s, shortlist=shortlist, margin=margin, quick=quick, refresh=refresh,
         w=w, rank_by=rank_by)  # fmt: skip


COMMANDS = (
    ("pareto", pareto, "Examples:  effprof pareto mobilenet_v2 mobilenet_v3_large efficientnet_b0 --target-ms 10  •  "
     "effprof pareto --family MobileNetV2 --backend onnxruntime --target-ms 5 -o reports/mnv2.csv -o reports/mnv2.png  •  "
     "effprof pareto --all --backend onnxruntime --target-ms 10 --max-gmacs 20 -o reports/pareto.json  •  "
     "effprof pareto mobilenet_v2 resnet18 --backend none"),
    ("search", search, "Examples:  effprof search mobilenet_v2 --target-ms 5  •  effprof search mobilenet_v1 --target-ms 3 --quick  "
     "•  effprof search efficientnet --target-ms 40 --backend onnxruntime -o reports/search.csv -o reports/search.png  •  "
     "effprof search mobilenet_v2 --target-ms 5 --backend none"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``pareto`` and ``search`` to ``app``; a command already registered under its name is left alone."""
    register_commands(app, COMMANDS)
