"""Training commands: ``finetune`` (the lecture's strategies A, B, C side by side) and what
``profile --train`` / ``compare --train`` run. Thin: parse, call effprof.training, render, write.

``register(app)`` adds ``finetune`` to effprof's Typer app; it is idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from effprof.cli import (
    EXIT_EPILOG,
    Batch,
    BudgetS,
    Device,
    Optimizer,
    Outputs,
    Resolution,
    Threads,
    _nothing,
    err,
    failed_exit,
    handle_errors,
    interrupt_exit,
    out,
    wrote,
)  # fmt: skip

PLOT_SUFFIXES = (".png", ".svg")

def _write(outputs: list[Path], df, meta: dict[str, Any], plot, extra: dict[str, Any] | None = None) -> None:
    from effprof.reports.writers import write_output, write_plot

    for path in outputs:
        if path.suffix.lower() in PLOT_SUFFIXES:
            write_plot(path, lambda tmp: plot(df, tmp))
        else:
            write_output(path, df, meta, kind="train", extra=extra)
        wrote(path)


def run_train(
    models: list[str], *, freeze: str, num_classes: int | None, optimizer: str, resolution: Any, batch: Any,
    backend: str, device: str, threads: int | None, budget_s: float | None, layers: int, outputs: list[Path],
) -> None:
    """``profile --train`` / ``compare --train``: count, time, render, write; exit 1 if a part failed."""
    # lazy, as in every command: the library (torch) loads when a command runs, not for --help
    from effprof.reports.training import plot_training
    from effprof.reports.writers import check_outputs
    from effprof.training import profile_training

    check_outputs(outputs)
    with err.status("profiling a training step", spinner="dots") if err.is_terminal else _nothing():
        result = profile_training(
            models, freeze=freeze, num_classes=num_classes, optimizers=optimizer, resolution=resolution, batch=batch,
            backends=backend, device=device, threads=threads, budget_s=budget_s, layers=layers,
        )  # fmt: skip
    out.print(result)
    tables = [p for p in outputs if p.suffix.lower() not in PLOT_SUFFIXES]
    _write(tables, result.to_pandas(), result.meta, plot_training, {"layers": result.layers_frame().to_dict("records")})
    _write([p for p in outputs if p not in tables], result.to_pandas(), result.meta, plot_training)
    if result.interrupted:
        raise interrupt_exit(f"kept {len(result.profiles)} models")
    failures = result.failures()
    if failures:
        raise failed_exit(f"{len(failures)} requested measurement{'s' if len(failures) != 1 else ''} failed: "
                          f"{'; '.join(failures)}")  # fmt: skip


@handle_errors
def finetune(
    model: Annotated[str, typer.Argument(help="Model spec: NAME, tv:NAME, timm:NAME, pkg.module:factory, NAME(k=v).")],
    num_classes: Annotated[int, typer.Option("--num-classes", help="Classes of the new head.")],
    dataset_size: Annotated[int, typer.Option("--dataset-size", min=1, help="Training images per epoch.")] = 1000,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs of training.")] = 10,
    resolution: Resolution = None,
    batch: Batch = "8",
    backend: Annotated[
        str, typer.Option("--backend", help="Time the step on eager or compile; 'none' to count only.")
    ] = "eager",
    optimizer: Optimizer = "sgd",
    device: Device = "cpu",
    threads: Threads = None,
    budget_s: BudgetS = None,
    output: Outputs = None,
) -> None:
    """Transfer learning's three strategies side by side: (A) frozen backbone + new head on pre-computed features,
    (B) later layers unfrozen, (C) everything fine-tuned -- trainable params, MACs, step time, memory, cost per epoch."""
    # lazy, as in every command: the library (torch) loads when a command runs, not for --help
    from effprof.reports.training import plot_finetune
    from effprof.reports.writers import check_outputs
    from effprof.training import finetune as run

    outputs = list(output or [])
    check_outputs(outputs)
    try:
        with err.status("fine-tuning strategies A, B, C", spinner="dots") if err.is_terminal else _nothing():
            result = run(
                model, num_classes=num_classes, dataset_size=dataset_size, epochs=epochs, resolution=resolution,
                batch=batch, backend=backend, optimizers=optimizer, device=device, threads=threads, budget_s=budget_s,
            )  # fmt: skip
    except KeyboardInterrupt:
        raise interrupt_exit() from None
    out.print(result)
    _write(outputs, result.to_pandas(), result.meta, plot_finetune)
    failures = result.failures()
    if failures:
        raise failed_exit(f"{len(failures)} of the strategies' measurements failed: {'; '.join(failures)}")


COMMANDS = (
    ("finetune", finetune, "Examples:  effprof finetune resnet50 --num-classes 3 --dataset-size 1000 --epochs 10  •  "
     "effprof finetune mobilenet_v2 --num-classes 10 --backend none  •  "
     "effprof finetune vit_b_16 --num-classes 3 --optimizer sgd,adamw -o reports/ft.csv -o reports/ft.png"),
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``finetune`` to ``app``; a command already registered under its name is left alone."""
    present = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    for name, command, epilog in COMMANDS:
        if name not in present:
            app.command(name, epilog=f"{epilog}\n\n{EXIT_EPILOG}")(command)
