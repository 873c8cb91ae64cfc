"""The Backend protocol, what a backend hands back (Prepared), and how its failures are reported.

Rule: a backend turns (model, example input) into a zero-argument "run once" callable plus a
``sync`` callable; timing is never a backend's job (effprof/latency/timer.py owns that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn

from effprof.errors import EffprofError


def _noop() -> None:
    return None


@dataclass
class Prepared:
    """A model made ready by a backend: ``run()`` does one forward, ``sync()`` waits for the device."""

    run: Callable[[], Any]
    sync: Callable[[], None] = _noop
    # Undo what prepare changed on the caller's model (e.g. restore train mode); called once.
    close: Callable[[], None] = _noop
    setup_s: float = 0.0
    cache_hit: bool | None = None
    artifact: str | None = None
    parity_max_abs_diff: float | None = None
    warnings: list[str] = field(default_factory=list)


class Backend(Protocol):
    """How a model is executed: eager PyTorch, torch.compile, ONNX Runtime..."""

    name: str

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        *,
        device: str,
        threads: int,
        cache_key: str | None,
    ) -> Prepared: ...


def one_line(exc: BaseException, limit: int = 240) -> str:
    """``Type: first line of the message``, cut to ``limit`` characters (tracebacks stay out of rows)."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def backend_failure(backend: str, model: object, exc: BaseException) -> EffprofError:
    """The EffprofError (exit code 1) a failed export/compile/run becomes, so it can land in a row."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        # Free what the failed model held so the next rows can still run.
        torch.cuda.empty_cache()
    what = type(model).__name__ if isinstance(model, nn.Module) else str(model)
    return EffprofError(f"{backend} backend failed on {what}: {one_line(exc)}", exit_code=1)
