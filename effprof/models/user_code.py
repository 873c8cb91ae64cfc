"""A user's own model code (``pkg.module:factory``): import it, refuse what is not model code, and
let nothing it raises end the run.

A user's model is code effprof does not trust to behave: whatever it raises while being imported,
built or run (``sys.exit()``, a SyntaxError on import, a stray BaseException) becomes one
EffprofError for that model (``contained``), so the other models of a run still report. Only a real
Ctrl-C or SIGTERM, one that arrived as a signal, ends the run.

Import specs resolve from the working directory first, as ``python -m`` and uvicorn do:
``effprof profile mypkg.models:build`` works from the folder that holds ``mypkg``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
import inspect
import os
import signal
import sys
import threading
import typing
from collections.abc import Callable, Iterator
from typing import Any

from torch import nn

from effprof.errors import EffprofError
from effprof.models.spec import ModelSpec, shown

#: keywords that load weights or checkpoints (from the network or a pickle on disk): effprof builds
#: without weights, so library factories never get these
WEIGHT_KEYWORDS = frozenset(
    {"weights", "weights_backbone", "pretrained", "pretrained_backbone", "pretrained_cfg",
     "pretrained_cfg_overlay", "checkpoint_path", "pretrained_strict", "cache_dir"}
)  # fmt: skip
#: libraries whose internals are never "the user's model code", even where their metadata is missing
_CORE_LIBRARIES = frozenset({"torch", "torchvision", "timm", "effprof"})


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (just ``Type`` when there is none): an exception in one line."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."


class _Signals:
    """Whether SIGINT/SIGTERM arrived while ``_watch_signals`` was active (``watching``: it could tell)."""

    arrived = False
    watching = True


@contextlib.contextmanager
def _watch_signals() -> Iterator[_Signals]:
    """Note every SIGINT/SIGTERM (then run the handler that was there), so a KeyboardInterrupt can be
    told apart: one that came from a signal is the user's, one raised by model code is not.

    Only Python-level handlers are wrapped (SIGINT's default is one); a signal left to the OS keeps
    its default. Off the main thread Python allows no handlers: there every KeyboardInterrupt counts
    as real.
    """
    state = _Signals()
    if threading.current_thread() is not threading.main_thread():
        state.watching = False
        yield state
        return
    saved: dict[int, Any] = {}

    def note(signum, frame):
        state.arrived = True
        previous = saved[signum]
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if callable(previous):
            saved[sig] = previous
            signal.signal(sig, note)
    try:
        yield state
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


@contextlib.contextmanager
def contained(label: str, stage: str) -> Iterator[None]:
    """Anything a model's own code raises in this block becomes ``EffprofError(exit_code=1)`` naming
    ``label``, what it raised and the ``stage`` (building, counting): sys.exit(), a BaseException
    subclass, a KeyboardInterrupt raised by code. EffprofError passes as it is; so does a real
    Ctrl-C/SIGTERM, and any exception while one is pending (the user asked to stop).
    """
    with _watch_signals() as signals:
        try:
            yield
        except EffprofError:
            raise
        except BaseException as exc:
            if signals.arrived or (isinstance(exc, KeyboardInterrupt) and not signals.watching):
                raise
            raise EffprofError(f"{label}: the model raised {first_line(exc)} while {stage}", exit_code=1) from exc


@functools.cache
def _installed_packages() -> frozenset[str]:
    """Top-level import names of every installed distribution (site-packages): libraries, not a user's
    working code. Read from metadata, so nothing is imported to find out."""
    try:
        return _CORE_LIBRARIES | frozenset(importlib.metadata.packages_distributions())
    except Exception:  # noqa: BLE001 - broken metadata: fall back to the libraries effprof knows
        return _CORE_LIBRARIES


def _is_module_factory(obj: Any) -> bool:
    """True for an nn.Module subclass, or a function whose return annotation is one (torchvision's and
    timm's factories are annotated ``-> ResNet``)."""
    if inspect.isclass(obj):
        return issubclass(obj, nn.Module)
    try:
        returns = typing.get_type_hints(obj).get("return")
    except Exception:  # noqa: BLE001 - an annotation that does not resolve is no promise
        return False
    return inspect.isclass(returns) and issubclass(returns, nn.Module)


def _working_directory_on_path() -> None:
    """Put the working directory at the front of ``sys.path`` (once), before a user's module is imported.

    What ``python -m`` and uvicorn (``--app-dir``, default ".") do: ``mypkg.models:build`` is found in
    the folder the user runs effprof from. An installed ``effprof`` script starts with its own bin
    folder on the path instead, so without this the user's package would not be found. It stays
    there: the user's code may import its own modules later, while building or running.
    """
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _import_module(spec: ModelSpec, module_name: str):
    """Import the user's module; its own failure (SyntaxError, ImportError inside it, sys.exit()) is
    that model's error (exit 1), a module that does not exist is a user mistake (exit 2)."""
    try:
        _working_directory_on_path()
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        parts = module_name.split(".")
        if exc.name in {".".join(parts[: i + 1]) for i in range(len(parts))}:
            raise EffprofError(f"cannot import {module_name!r} for spec {shown(spec.text)}: {exc}") from None
        raise EffprofError(f"importing {module_name!r} for spec {shown(spec.text)} failed: {first_line(exc)}", exit_code=1) from exc
    except (EffprofError, KeyboardInterrupt):
        raise  # a KeyboardInterrupt is judged (real or raised by code) by ``contained``
    except BaseException as exc:  # SyntaxError, RuntimeError, SystemExit ... in the module's own code
        raise EffprofError(f"importing {module_name!r} for spec {shown(spec.text)} failed: {first_line(exc)}", exit_code=1) from exc


def import_factory(spec: ModelSpec) -> Callable[..., nn.Module]:
    """The class or function ``pkg.module:factory`` names, after refusing what is not model code.

    Refused: the standard library (parse_spec, before any import), anything that is not a class or
    a Python function (a builtin, an instance, a partial), callables defined in the standard library
    and re-exported, and, from installed packages (torch, torchvision, timm, numpy...), anything but an
    nn.Module subclass or a factory annotated to return one, which are never given weight keywords.
    """
    module_name, _, attr = spec.name.partition(":")
    module = _import_module(spec, module_name)
    factory = getattr(module, attr, None)
    if factory is None:
        raise EffprofError(f"module {module_name!r} has no attribute {attr!r}")
    if not (inspect.isclass(factory) or inspect.isfunction(factory)):
        raise EffprofError(
            f"{spec.name} is a {type(factory).__name__}, not a class or function: "
            "pkg.module:factory must name an nn.Module class or a function that returns one"
        )
    home = (getattr(factory, "__module__", None) or module_name).split(".")[0]
    if home in sys.stdlib_module_names:
        raise EffprofError(f"{spec.name} comes from Python's standard library ({home}), not model code: refused")
    library = {home, module_name.split(".")[0]} & _installed_packages()
    if library:
        if not _is_module_factory(factory):
            raise EffprofError(
                f"{spec.name} is part of the installed package {sorted(library)[0]!r} and is not an nn.Module "
                "class or a function annotated to return one (-> nn.Module): refused"
            )
        refuse_weight_keywords(spec)
    return factory


def refuse_weight_keywords(spec: ModelSpec) -> None:
    """Library factories never load weights: effprof counts and times without them, and fetches nothing."""
    loading = sorted(WEIGHT_KEYWORDS & set(spec.kwargs))
    if loading:
        raise EffprofError(
            f"{spec.label}: effprof builds models without weights and fetches nothing; drop {loading[0]!r}"
        )
