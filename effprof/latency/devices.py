"""Checks on the device, thread count and input shape a user asked for, and the example input.

Rule: a bad value is a user mistake (EffprofError, exit code 2) caught before any work starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch
from torch import nn

from effprof.errors import EffprofError
from effprof.latency.contention import ThreadChoice, choose_threads

_DEVICE_RE = re.compile(r"^(cpu|cuda)(:\d+)?$")


def check_device(device: str) -> str:
    """Return ``device`` normalised ("cpu", "cuda", "cuda:1"); raise if unknown or unavailable."""
    name = str(device).strip().lower()
    if not _DEVICE_RE.match(name) or name.startswith("cpu:"):
        raise EffprofError(f"--device {device}: unknown device; use cpu or cuda (cuda:N for a given GPU)")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EffprofError(
                f"--device {device}: no CUDA device is available here "
                "(torch.cuda.is_available() is False); use --device cpu"
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise EffprofError(
                f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here; "
                f"use cuda:0..cuda:{torch.cuda.device_count() - 1}"
            )
    return name


def check_threads(threads: int | ThreadChoice | None) -> None:
    """Raise unless ``threads`` is None, a ThreadChoice, or a whole number >= 1."""
    if threads is None or isinstance(threads, ThreadChoice):
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise EffprofError(f"--threads {threads}: must be a whole number >= 1 (or left out for the idle cores)")


def thread_choice(threads: int | ThreadChoice | None) -> ThreadChoice:
    """Validate a ``--threads`` request and apply the thread policy (effprof.latency.contention.choose_threads).

    A ThreadChoice already made (once per run, by the caller) is passed through unchanged.
    """
    check_threads(threads)
    if isinstance(threads, ThreadChoice):
        return threads
    return choose_threads(threads)


def resolve_threads(threads: int | ThreadChoice | None) -> int:
    """The thread count to use: ``threads`` if given (clamped to the usable cores), else the idle usable cores."""
    return thread_choice(threads).threads


def check_input_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    """``input_shape`` as a tuple of positive ints, e.g. (1, 3, 224, 224)."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise EffprofError(
            f"input shape {input_shape!r}: must be a sequence of positive ints such as (1, 3, 224, 224)"
        ) from None
    if not shape or any(d < 1 for d in shape):
        raise EffprofError(f"input shape {shape}: every dimension must be >= 1, e.g. (1, 3, 224, 224)")
    return shape


def check_model(model: object) -> nn.Module:
    """``model`` if it is an nn.Module with real tensors (timing cannot run on the meta device)."""
    if not isinstance(model, nn.Module):
        raise EffprofError(
            f"model {type(model).__name__}: expected a torch.nn.Module (for .onnx files use measure_onnx_file)"
        )
    if any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
        raise EffprofError(
            f"model {type(model).__name__} has tensors on the meta device (built for counting); "
            "latency needs real tensors: build it on cpu or cuda"
        )
    return model


def example_input(input_shape: tuple[int, ...], device: str, seed: int = 0) -> torch.Tensor:
    """A reproducible standard-normal float32 input of ``input_shape`` on ``device``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(input_shape, generator=generator).to(device)


def sync_for(device: str) -> Callable[[], None]:
    """What waits for the device's queued work: ``torch.cuda.synchronize`` on CUDA, nothing on CPU."""
    if device.startswith("cuda"):
        dev = torch.device(device)
        return lambda: torch.cuda.synchronize(dev)
    return lambda: None
