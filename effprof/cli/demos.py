"""Lecture demonstrations: ``roadmap`` (ResNet-50 -> ConvNeXt-T, counted and timed step by step) and
``claims`` (the lecture's latency claims judged on this machine). Thin: parse, call, render, write.

``register(app)`` adds them to effprof's Typer app; it is idempotent.
"""

from __future__ import annotations

from typing import Annotated

import typer

from effprof.cli import (
    EXIT_EPILOG,
    BudgetS,
    Device,
    Outputs,
    Threads,
    _progress,
    failed_exit,
    handle_errors,
    interrupt_exit,
    out,
    wrote,
)  # fmt: skip
from effprof.errors import EffprofError

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


@handle_errors
def roadmap(
    backend: Backend = "eager",
    steps: Annotated[str | None, typer.Option("--steps", help="Only these steps, e.g. 0,3,7,12 (default: all 13).")] = None,
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    output: Outputs = None,
) -> None:
    """The ConvNeXt roadmap: ResNet-50 -> ConvNeXt-T one change at a time; MACs vs the paper, top-1, latency."""
    from effprof import api
    from effprof.lecture.demo_report import ROADMAP_COLUMNS, ROADMAP_NOTES, write_demo
    from effprof.lecture.figures import roadmap_figure
    from effprof.lecture.roadmap import ROADMAP, run_roadmap
    from effprof.reports.writers import check_outputs

    outputs = list(output or [])
    check_outputs(outputs)
    timing = api.Timing.parse(backend, device=device, threads=threads, budget_s=budget_s).resolved()
    chosen = _steps(steps)
    total = (len(chosen) if chosen else len(ROADMAP)) * max(1, len(timing.backends))
    with _progress(total) as bar:
        task = bar.add_task("timing" if timing.backends else "counting", total=total)
        result = run_roadmap(timing.backends, steps=chosen, device=timing.device, threads=timing.threads,
                             budget_s=timing.budget_s, meta={**api.timing_meta(timing), "command": "roadmap"},
                             on_step=lambda _: bar.advance(task))  # fmt: skip
    out.print(result)
    write_demo(outputs, result.to_pandas(), result.meta, roadmap_figure, title="effprof roadmap: ResNet-50 -> ConvNeXt-T",
               notes=ROADMAP_NOTES, columns=ROADMAP_COLUMNS, on_written=wrote)  # fmt: skip
    if result.interrupted:
        raise interrupt_exit(f"kept {len({r['step'] for r in result.rows})} steps")
    if result.errors:
        raise failed_exit(f"{len(result.errors)} of {len(result.rows)} rows failed: "
                          + "; ".join(f"step {r['step']}: {r['error']}" for r in result.errors))  # fmt: skip


@handle_errors
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
    output: Outputs = None,
) -> None:
    """The lecture's latency claims, each judged here per backend: holds, does not hold, or inconclusive."""
    from effprof import api
    from effprof.lecture.claims_run import check_groups, run_claims
    from effprof.lecture.demo_report import CLAIM_COLUMNS, CLAIMS_NOTES, write_demo
    from effprof.lecture.figures import claims_figure
    from effprof.reports.writers import check_outputs

    outputs = list(output or [])
    check_outputs(outputs)
    groups = check_groups(group)
    timing = api.Timing.parse(backend, device=device, threads=threads, budget_s=budget_s).resolved()
    total = len(groups) * max(1, len(timing.backends))
    with _progress(total) as bar:
        task = bar.add_task("timing", total=total)

        def started(name: str, on: str) -> None:
            bar.update(task, description=f"{name} ({on})")
            bar.advance(task)

        result = run_claims(timing.backends, groups=groups, device=timing.device, threads=timing.threads,
                            budget_s=timing.budget_s, meta={**api.timing_meta(timing), "command": "claims"},
                            on_group=started)  # fmt: skip
    out.print(result)
    write_demo(outputs, result.to_pandas(), result.meta, claims_figure, title="effprof claims: the lecture's latency claims",
               notes=CLAIMS_NOTES, columns=CLAIM_COLUMNS, on_written=wrote)  # fmt: skip
    if result.interrupted:
        raise interrupt_exit(f"kept {len(result.rows)} judged rows")
    errors = [r for r in result.rows if r.error]
    if errors:
        raise failed_exit(f"{len(errors)} of {len(result.rows)} claim rows could not be measured: "
                          + "; ".join(dict.fromkeys(f"{r.claim.group} ({r.backend}): {r.error}" for r in errors)))  # fmt: skip


COMMANDS = (
    ("roadmap", roadmap, "Examples:  effprof roadmap  •  effprof roadmap --backend none  •  "
     "effprof roadmap --backend eager,onnxruntime -o reports/roadmap.png -o reports/roadmap.csv"),
    ("claims", claims, "Examples:  effprof claims  •  effprof claims --backend eager --group 'mobile table'  •  "
     "effprof claims -o reports/claims.html"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``roadmap`` and ``claims`` to ``app``; a command already registered under its name is left alone."""
    present = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    for name, command, epilog in COMMANDS:
        if name not in present:
            app.command(name, epilog=f"{epilog}\n\n{EXIT_EPILOG}")(command)
