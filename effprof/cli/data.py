"""The data commands: ``list``, ``profile`` and ``compare``. Thin: gather options, call the library, render.

Imports of the library happen inside the commands, for startup speed: ``effprof --help`` must not
import torch or pandas.
"""

from __future__ import annotations

from typing import Annotated

import typer

from effprof.cli.common import (
    Batch,
    BudgetS,
    Counters,
    Device,
    Resolution,
    Steps,
    Threads,
    Wide,
    check,
    failed_exit,
    interrupt_exit,
    outputs_option,
    show,
    status,
    write,
)
from effprof.results import CompareResult, ModelListResult, ProfileResult, RooflineReport

SPEC_HELP = ("pkg.module:factory imports that module and runs its code, like python -m: name only your own "
             "model code (the standard library is refused).")  # fmt: skip


def list_cmd(
    pattern: Annotated[str | None, typer.Argument(help="Shell-style wildcard on the name, e.g. 'mobilenet*'.")] = None,
    wide: Wide = False,
    output: outputs_option(ModelListResult) = None,
) -> None:
    """List every registered model: family, default resolution, params, and the paper's figures."""
    from effprof.catalog import model_list

    outputs = check(output, ModelListResult)
    with status("listing the registered models", plain=False):
        result = model_list(pattern)
    show(result, wide=wide)
    write(outputs, result)


def profile(
    model: Annotated[
        str,
        typer.Argument(help="Model spec: NAME, tv:NAME, timm:NAME, pkg.module:factory, path/to/model.onnx, "
                       f"NAME(k=v). {SPEC_HELP}"),
    ],  # fmt: skip
    resolution: Resolution = None,
    batch: Batch = 1,
    layers: Annotated[int, typer.Option("--layers", help="How many of the heaviest layers to show.", min=0)] = 10,
    backend: Annotated[
        str,
        typer.Option("--backend", help="Backends to time, comma-separated: eager, onnxruntime, compile; 'none' to "
                     "count only; auto: onnxruntime for an .onnx file, else eager."),
    ] = "auto",  # fmt: skip
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    counters: Counters = "auto",
    reconcile: Annotated[
        bool, typer.Option("--reconcile", help="Count three ways, stock and effprof-completed, and explain every difference.")
    ] = False,
    roofline: Annotated[
        bool, typer.Option("--roofline", help="Each layer against the device's roofs (effprof hw); -o x.png draws the roofline.")
    ] = False,
    wide: Wide = False,
    output: outputs_option(ProfileResult) = None,
) -> None:
    """Profile one model: totals, MACs and params by op class, the heaviest layers, and where the time goes."""
    from effprof import api

    outputs = check(output, RooflineReport if roofline else ProfileResult)
    with status(f"profiling {model}"):
        result = api.profile(
            model, resolution=resolution, batch=batch, layers=layers, backends=backend,
            device=device, threads=threads, budget_s=budget_s, counters=counters, reconcile=reconcile,
        )  # fmt: skip
    show(result, wide=wide)
    if roofline:
        from effprof.cli.hardware import roofline_report

        write(outputs, roofline_report(result, device=device, threads=threads))
    else:
        write(outputs, result)
    failures = result.profile.failures()
    if failures:
        raise failed_exit(f"{len(failures)} requested measurement{'s' if len(failures) != 1 else ''} of "
                          f"{result.profile.model} failed: {'; '.join(failures)}")  # fmt: skip


def compare(
    models: Annotated[
        list[str],
        typer.Argument(help=f"Model specs; ratios are to the first. Registry wildcards work: 'mobilenet*', '*'. {SPEC_HELP}"),
    ],
    resolution: Resolution = None,
    batch: Batch = 1,
    backend: Annotated[
        str,
        typer.Option("--backend", help="Also time on these backends, comma-separated: eager, onnxruntime, compile."),
    ] = "none",
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    counters: Counters = "auto",
    wide: Wide = False,
    output: outputs_option(CompareResult) = None,
) -> None:
    """Compare models side by side: params, MACs, FLOPs, activations, latency, and ratios to the first model."""
    from effprof import api
    from effprof.results import TABLE_SUFFIXES

    outputs = check(output, CompareResult)
    tables = [p for p in outputs if p.suffix.lower() in TABLE_SUFFIXES]
    steps: Steps | None = None

    def on_progress(partial: CompareResult) -> None:
        nonlocal steps
        if steps is None:
            steps = Steps("timing" if backend != "none" else "counting", partial.planned).__enter__()
            return
        # Rewrite the table files after every model: an interrupt or crash keeps what finished.
        write(tables, partial, quiet=True)
        steps.advance(partial.profiles[-1].model)

    try:
        result = api.compare(models, resolution=resolution, batch=batch, backends=backend, device=device,
                             threads=threads, budget_s=budget_s, counters=counters, on_progress=on_progress)  # fmt: skip
    finally:
        if steps is not None:
            steps.__exit__(None, None, None)
    show(result, wide=wide)
    write(outputs, result)
    if result.interrupted:
        raise interrupt_exit(f"kept {len(result.profiles)} of {result.planned} models")
    if result.failed:
        names = ", ".join(p.model for p in result.failed)
        raise failed_exit(f"{len(result.failed)} of {len(result.profiles)} models failed: {names}")
    partial = [f"{p.model} ({f})" for p in result.profiles for f in p.failures()]
    if partial:
        raise failed_exit(f"{len(partial)} requested measurement{'s' if len(partial) != 1 else ''} failed: "
                          f"{'; '.join(partial)}")  # fmt: skip


COMMANDS = (
    ("list", list_cmd, "Examples:  effprof list  •  effprof list 'mobilenet*'  •  effprof list -o models.csv"),
    ("profile", profile, "Examples:  effprof profile mobilenet_v2  •  "
     "effprof profile \"mobilenet_v1(width=0.5)\" -r 160 --layers 20 -o reports/mnv1.csv  •  "
     "effprof profile resnet50 --backend none  •  effprof profile mobilenet_v2 --backend onnxruntime -o time.png  •  "
     "effprof profile vit_b_16 --reconcile --backend none"),
    ("compare", compare, "Examples:  effprof compare mobilenet_v2 resnet50  •  "
     "effprof compare mobilenet_v2 resnet50 -o reports/cmp.json -o reports/cmp.md  •  "
     "effprof compare mobilenet_v2 resnet50 --backend eager,onnxruntime -o reports/gap.csv -o reports/gap.png  •  "
     "effprof compare '*' -o reports/registry.csv"),
)  # fmt: skip
