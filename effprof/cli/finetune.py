"""Training commands: ``finetune`` (the lecture's strategies A, B, C side by side) and what
``profile --train`` / ``compare --train`` run (``run_train``, and the options those commands attach).
Thin: parse, call effprof.training, show, write.

Imports of the library happen inside the commands, for startup speed: ``effprof --help`` must not
import torch or pandas (effprof.training imports torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from effprof.cli.common import (
    Batch,
    BudgetS,
    Device,
    Resolution,
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
from effprof.results import Result

# the options of profile/compare --train (effprof/cli/data.py attaches them)
Train = Annotated[
    bool, typer.Option("--train", help="Cost of one training step: backward MACs per layer, step time, memory.")
]
Freeze = Annotated[
    str,
    typer.Option("--freeze", help="With --train: none, backbone (train the head only), later (the last quarter of "
                 "the backbone and the head), or globs over module names to freeze, e.g. 'features.0*,features.1*'."),
]  # fmt: skip
NumClasses = Annotated[
    int | None,
    typer.Option("--num-classes", help="With --train: replace the classifier head (fc, classifier, head or heads) "
                 "with one of N classes."),
]  # fmt: skip
Optimizer = Annotated[
    str, typer.Option("--optimizer", help="Optimizers to time the training step with (profile and compare: "
                      "with --train), comma-separated: sgd (momentum 0.9), adamw.")
]  # fmt: skip


def wants_train(train: bool, freeze: str, num_classes: int | None) -> bool:
    """``--train``, or a training-only option given alone (``--freeze``, ``--num-classes``)."""
    return train or freeze != "none" or num_classes is not None


def run_train(models: list[str], *, freeze: str, num_classes: int | None, optimizer: str, outputs: list[Path] | None,
              wide: bool = False, layers: int = 0, **timing: Any) -> None:  # fmt: skip
    """``profile --train`` / ``compare --train``: count, time, show, write; exit 1 if a part failed.
    ``timing``: resolution, batch, backend, device, threads, budget_s, as the command got them."""
    from effprof.training import TrainingResult, profile_training

    paths = check(outputs, TrainingResult)
    with status("profiling a training step"):
        result = profile_training(models, freeze=freeze, num_classes=num_classes, optimizers=optimizer,
                                  backends=timing.pop("backend"), layers=layers, **timing)  # fmt: skip
    show(result, wide=wide)
    write(paths, result)
    if result.interrupted:
        raise interrupt_exit(f"kept {len(result.profiles)} models")
    failures = result.failures()
    if failures:
        raise failed_exit(f"{len(failures)} requested measurement{'s' if len(failures) != 1 else ''} failed: "
                          f"{'; '.join(failures)}")  # fmt: skip


class _FinetuneOutputs(Result):
    """What ``-o`` of ``finetune`` accepts: FinetuneResult's suffixes (tables and its one figure), declared
    here so ``effprof --help`` need not import effprof.training (torch). ``check`` uses the real type."""

    figures = ("finetune",)


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
    wide: Wide = False,
    output: outputs_option(_FinetuneOutputs) = None,
) -> None:
    """Transfer learning's three strategies side by side: (A) frozen backbone + new head on pre-computed features,
    (B) later layers unfrozen, (C) everything fine-tuned -- trainable params, MACs, step time, memory, cost per epoch."""
    from effprof.training import FinetuneResult
    from effprof.training import finetune as run

    outputs = check(output, FinetuneResult)
    with status("fine-tuning strategies A, B, C"):
        result = run(
            model, num_classes=num_classes, dataset_size=dataset_size, epochs=epochs, resolution=resolution,
            batch=batch, backend=backend, optimizers=optimizer, device=device, threads=threads, budget_s=budget_s,
        )  # fmt: skip
    show(result, wide=wide)
    write(outputs, result)
    failures = result.failures()
    if failures:
        raise failed_exit(f"{len(failures)} of the strategies' measurements failed: {'; '.join(failures)}")


COMMANDS = (
    ("finetune", finetune, "Examples:  effprof finetune resnet50 --num-classes 3 --dataset-size 1000 --epochs 10  •  "
     "effprof finetune mobilenet_v2 --num-classes 10 --backend none  •  "
     "effprof finetune vit_b_16 --num-classes 3 --optimizer sgd,adamw -o reports/ft.csv -o reports/ft.png"),
)  # fmt: skip
