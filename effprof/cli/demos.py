"""Lecture demonstrations: ``roadmap`` (ResNet-50 -> ConvNeXt-T, counted and timed step by step) and
``claims`` (the lecture's latency claims judged on this machine). Thin: parse, call, show, write.

``register(app)`` adds them to effprof's Typer app; it is idempotent.
"""

from __future__ import annotations

from typing import Annotated

import typer

from effprof.cli.common import (
    BudgetS,
    Device,
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
)
from effprof.errors import EffprofError

# The result types are light (effprof.results, rich): -o's help names their suffixes. The runners import
# torch, so the commands import them when they run (``--help`` must not pay for torch).
from effprof.lecture.claims import ClaimsResult
from effprof.lecture.roadmap import RoadmapResult

Backend = Annotated[
    str, typer.Option("--backend", help="Backends to time, comma-separated: eager, onnxruntime, compile; 'none' to count only.")
]


def _steps(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise EffprofError(f"--steps takes whole numbers like 0,3,7, got {text!r}") from None


def roadmap(
    backend: Backend = "eager",
    steps: Annotated[str | None, typer.Option("--steps", help="Only these steps, e.g. 0,3,7,12 (default: all 13).")] = None,
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    wide: Wide = False,
    output: outputs_option(RoadmapResult) = None,
) -> None:
    """The ConvNeXt roadmap: ResNet-50 -> ConvNeXt-T one change at a time; MACs vs the paper, top-1, latency."""
    from effprof import api
    from effprof.lecture.roadmap_run import run_roadmap
    from effprof.models.roadmap import ROADMAP

    outputs = check(output, RoadmapResult)
    timing = api.Timing.parse(backend, device=device, threads=threads, budget_s=budget_s).resolved()
    chosen = _steps(steps)
    total = (len(set(chosen)) if chosen else len(ROADMAP)) * max(1, len(timing.backends))
    with Steps("timing" if timing.backends else "counting", total) as progress:
        result = run_roadmap(timing.backends, steps=chosen, device=timing.device, threads=timing.threads,
                             budget_s=timing.budget_s, meta={**api.timing_meta(timing), "command": "roadmap"},
                             on_step=lambda r: progress.advance(f"step {r['step']}" + (
                                 f" ({r['backend']})" if r.get("backend") else "")))  # fmt: skip
    show(result, wide=wide)
    write(outputs, result)
    if result.interrupted:
        raise interrupt_exit(f"kept {len({r['step'] for r in result.rows})} steps")
    if result.errors:
        raise failed_exit(f"{len(result.errors)} of {len(result.rows)} rows failed: "
                          + "; ".join(f"step {r['step']}: {r['error']}" for r in result.errors))  # fmt: skip


def claims(
    backend: Backend = "eager,onnxruntime",
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only these claim groups (repeatable): 'speed-ups over ResNet-50', "
                     "'EfficientNet vs ResNet', 'mobile table', 'depthwise separable', 'squeeze-and-excitation'."),
    ] = None,  # fmt: skip
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: Annotated[
        float, typer.Option("--budget-s", min=0.01, help="Seconds of timed runs per side of each paired timing.")
    ] = 0.5,
    wide: Wide = False,
    output: outputs_option(ClaimsResult) = None,
) -> None:
    """The lecture's latency claims, each judged here per backend: holds, does not hold, or inconclusive."""
    from effprof import api
    from effprof.lecture.claims_catalog import CLAIMS
    from effprof.lecture.claims_run import check_groups, run_claims

    outputs = check(output, ClaimsResult)
    groups = check_groups(group)
    timing = api.Timing.parse(backend, device=device, threads=threads, budget_s=budget_s).resolved()
    timed_groups = [g for g in groups if any(c.group == g and not c.counted_only for c in CLAIMS.values())]
    total = len(timed_groups) * len(timing.backends)
    with Steps("claims", total) as progress:
        result = run_claims(timing.backends, groups=groups, device=timing.device, threads=timing.threads,
                            budget_s=timing.budget_s, meta={**api.timing_meta(timing), "command": "claims"},
                            on_start=lambda name, on: progress.describe(f"{name} ({on})"),
                            on_done=lambda name, on: progress.advance(f"{name} ({on})"))  # fmt: skip
    show(result, wide=wide)
    write(outputs, result)
    if result.interrupted:
        raise interrupt_exit(f"kept {len(result.rows)} judged rows")
    if result.errors:
        raise failed_exit(f"{len(result.errors)} of {len(result.rows)} claim rows could not be measured: "
                          + "; ".join(dict.fromkeys(f"{r.claim.group} ({r.backend}): {r.error}"
                                                    for r in result.errors)))  # fmt: skip


COMMANDS = (
    ("roadmap", roadmap, "Examples:  effprof roadmap  •  effprof roadmap --backend none  •  "
     "effprof roadmap --backend eager,onnxruntime -o reports/roadmap.png -o reports/roadmap.csv"),
    ("claims", claims, "Examples:  effprof claims  •  effprof claims --backend eager --group 'mobile table'  •  "
     "effprof claims -o reports/claims.html"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``roadmap`` and ``claims`` to ``app``; a command already registered under its name is left alone."""
    register_commands(app, COMMANDS)
