"""Turn a spec (or a module the user already holds) into a built nn.Module and its input shape.

Models are built without weights. For counting they are built straight on the meta device, so
even efficientnet_b7 costs no memory; constructors that compute on tensors (torchvision's RegNet)
are built on the CPU and moved.

A user's model is code effprof does not trust to behave: whatever it raises while being imported,
built or run (``sys.exit()``, a SyntaxError on import, a stray BaseException) becomes one
EffprofError for that model (``contained``), so the other models of a run still report. Only a real
Ctrl-C or SIGTERM, one that arrived as a signal, ends the run.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib
import importlib.metadata
import inspect
import operator
import re
import signal
import sys
import threading
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from effprof.errors import EffprofError
from effprof.models.registry import ModelCfg, get_model_cfg
from effprof.models.spec import ModelSpec, parse_spec, shown
from effprof.models.zoo import timm_model, torchvision_model

DEFAULT_RESOLUTION = 224
#: Bounds on what a user may ask for. Far beyond any vision model's input (gigapixel slides are
#: tiled far smaller), yet small enough that shapes and counts never overflow or exhaust memory.
MAX_RESOLUTION = 8192
MAX_BATCH = 4096
#: largest input (elements) any spec or input_shape may describe: MAX_BATCH x 3 x MAX_RESOLUTION^2 fits
MAX_INPUT_ELEMENTS = 2**40
MAX_INPUT_DIMS = 6
#: keywords that load weights or checkpoints (from the network or a pickle on disk): effprof builds
#: without weights, so library factories never get these
WEIGHT_KEYWORDS = frozenset(
    {"weights", "weights_backbone", "pretrained", "pretrained_backbone", "pretrained_cfg",
     "pretrained_cfg_overlay", "checkpoint_path", "pretrained_strict", "cache_dir"}
)  # fmt: skip
#: libraries whose internals are never "the user's model code", even where their metadata is missing
_CORE_LIBRARIES = frozenset({"torch", "torchvision", "timm", "effprof"})


@dataclass
class BuiltModel:
    """A model ready to count or time, with what reports need to name it."""

    module: nn.Module
    label: str
    source: str
    input_shape: tuple[int, ...]
    cfg: ModelCfg | None = None
    spec: ModelSpec | None = None

    def rebuild(self, device: str) -> nn.Module:
        """A fresh instance on ``device``: timing needs real tensors, counting needs none.

        The random init is seeded, so the same spec gets the same weights on every run and the
        ONNX export cache (keyed by a hash of the weights) hits across runs.
        """
        if self.spec is None:
            if device == "meta":
                return self.module
            return self.module.to(device)
        # The full (H, W): a non-square input is timed as counted, not as its last side squared.
        resolution = tuple(self.input_shape[-2:]) if len(self.input_shape) >= 3 else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return build_model(self.spec, resolution=resolution, batch=self.input_shape[0], device=device).module


# --- numbers a user types: -r/--resolution, -b/--batch, input_shape ------------------------------------
_RESOLUTION_TEXT = re.compile(r"^\s*([+-]?\d+)\s*(?:[xX]\s*([+-]?\d+))?\s*$")
_INT_TEXT = re.compile(r"^\s*([+-]?\d+)\s*$")


def _bounded(what: str, value: int, limit: int, unit: str = "") -> int:
    """``value`` itself when 1 <= value <= limit; otherwise a one-line error saying which bound."""
    if value <= 0:
        raise EffprofError(f"{what} must be a positive integer, got {value}")
    if value > limit:
        raise EffprofError(f"{what} {shown(str(value))[1:-1]} is beyond effprof's limit of {limit}{unit}")
    return value


def _whole(what: str, value: object, example: str) -> int:
    """An int from an int-like value or its decimal text; floats, bools and other text are refused."""
    if isinstance(value, str):
        m = _INT_TEXT.match(value)
        if m is None:
            raise EffprofError(f"{what} must be a whole number like {example}, got {shown(value)}")
        digits = m.group(1)
        if len(digits) > 100:  # int() refuses text over 4300 digits; this is past every bound anyway
            raise EffprofError(f"{what} {shown(value.strip())} is far beyond effprof's limits")
        return int(digits)
    if isinstance(value, bool):  # True is an int to Python, never a size to a user
        raise EffprofError(f"{what} must be a whole number like {example}, got {value!r}")
    try:
        return operator.index(value)  # int, numpy integers; not 224.0
    except TypeError:
        raise EffprofError(f"{what} must be a whole number like {example}, got {shown(repr(value))[1:-1]}") from None


def parse_batch(value: object) -> int:
    """The batch size: a whole number from 1 to MAX_BATCH (``8`` or ``"8"``); anything else is one-line error."""
    return _bounded("--batch", _whole("--batch", value, "8"), MAX_BATCH)


def parse_resolution(value: object) -> tuple[int, int] | None:
    """(H, W) in pixels from ``224`` (square), ``"224"``, ``"224x320"`` (H x W) or ``(224, 320)``; None stays None.

    Each side is a whole number from 1 to MAX_RESOLUTION.
    """
    what, example = "--resolution", "224 or 224x320 (height x width)"
    if value is None:
        return None
    if isinstance(value, str):
        m = _RESOLUTION_TEXT.match(value)
        if m is None:
            raise EffprofError(f"{what} must be N or HxW in whole pixels, like {example}, got {shown(value)}")
        sides = [m.group(1), m.group(2) or m.group(1)]
    elif isinstance(value, Sequence):
        if len(value) != 2:
            raise EffprofError(f"{what} must be one side or (height, width), got {len(value)} values")
        sides = list(value)
    else:
        sides = [value, value]
    h, w = (_bounded(what, _whole(what, side, example), MAX_RESOLUTION, " pixels per side") for side in sides)
    return h, w


def check_input_shape(input_shape: object) -> tuple[int, ...]:
    """A tuple of whole positive dims (batch first), within the batch/side/element bounds above."""
    if isinstance(input_shape, str) or not isinstance(input_shape, Sequence):
        raise EffprofError(f"input_shape must be a tuple of sizes like (1, 3, 224, 224), got {shown(repr(input_shape))[1:-1]}")
    if not 1 <= len(input_shape) <= MAX_INPUT_DIMS:
        raise EffprofError(f"input_shape must have 1 to {MAX_INPUT_DIMS} dimensions, got {len(input_shape)}")
    shape = tuple(_whole("input_shape", d, "224") for d in input_shape)
    if any(d <= 0 for d in shape):
        raise EffprofError(f"input_shape must be all positive, got {shape}")
    parse_batch(shape[0])
    if len(shape) >= 3:
        parse_resolution(shape[-2:])
    if functools.reduce(operator.mul, shape, 1) > MAX_INPUT_ELEMENTS:
        raise EffprofError(f"input_shape {shape} has more than effprof's limit of 2**40 elements")
    return shape


# --- user code: run it, but let nothing it raises end the run ----------------------------------------
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


def _closest(name: str, candidates: list[str], kind: str) -> EffprofError:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else f"no {kind} model has a similar name"
    return EffprofError(f"unknown {kind} model {name!r}: {hint}")


def _construct(label: str, factory: Callable[..., nn.Module], kwargs: dict[str, Any], device: str) -> nn.Module:
    def call(dev: str) -> nn.Module:
        with torch.device(dev):
            model = factory(**kwargs)
        if not isinstance(model, nn.Module):
            raise EffprofError(f"{label} did not return an nn.Module (got {type(model).__name__})")
        return model

    try:
        if device == "meta":
            try:
                return call("meta")
            except (TypeError, ValueError, EffprofError):
                raise
            except Exception:  # noqa: BLE001 - computes on tensors at init: build on CPU instead
                return call("cpu").to("meta")
        return call(device)
    except EffprofError:
        raise
    except TypeError as exc:
        msg = str(exc)
        if "unexpected keyword argument" in msg:
            bad = msg.split("unexpected keyword argument")[-1].strip(" '\"")
            raise EffprofError(f"{label}: the model does not take keyword {bad!r}{_accepted(factory)}") from None
        raise EffprofError(f"cannot build {label}: {msg}") from None
    except Exception as exc:  # noqa: BLE001 - a factory's own complaint, kept in one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EffprofError(f"cannot build {label}: {first}") from None


def _accepted(factory: Callable[..., nn.Module]) -> str:
    """', it takes: a, b' for a factory with named keywords; '' when it only forwards **kwargs."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return ""
    names = [p.name for p in params if not p.name.startswith("_") and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return f"; it takes: {', '.join(names)}" if names else ""


def _torchvision_default_resolution(name: str) -> int:
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
        return int(weights.transforms().crop_size[0])
    except Exception:  # noqa: BLE001 - models without published weights
        return DEFAULT_RESOLUTION


def _timm_default(name: str) -> tuple[int, bool]:
    import timm

    cfg = timm.models.get_pretrained_cfg(name)
    if cfg is None:
        return DEFAULT_RESOLUTION, False
    return int(cfg.input_size[-1]), bool(getattr(cfg, "fixed_input_size", False))


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


def _import_module(spec: ModelSpec, module_name: str):
    """Import the user's module; its own failure (SyntaxError, ImportError inside it, sys.exit()) is
    that model's error (exit 1), a module that does not exist is a user mistake (exit 2)."""
    try:
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


def _import_factory(spec: ModelSpec) -> Callable[..., nn.Module]:
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
        _refuse_weight_keywords(spec)
    return factory


def _refuse_weight_keywords(spec: ModelSpec) -> None:
    """Library factories never load weights: effprof counts and times without them, and fetches nothing."""
    loading = sorted(WEIGHT_KEYWORDS & set(spec.kwargs))
    if loading:
        raise EffprofError(
            f"{spec.label}: effprof builds models without weights and fetches nothing; drop {loading[0]!r}"
        )


def _square_side(label: str, keyword: str, res: tuple[int, int]) -> int:
    """The one side a square-only keyword (torchvision's ``image_size``) takes; non-square is refused."""
    if res[0] != res[1]:
        raise EffprofError(
            f"{label} takes square inputs only (its {keyword} is one number), got {res[0]}x{res[1]}; "
            f"try -r {max(res)}"
        )
    return res[0]


def _size_keyword(res: tuple[int, int]) -> int | tuple[int, int]:
    """timm's ``img_size``: one number for a square input (as timm's own configs), (H, W) otherwise."""
    return res[0] if res[0] == res[1] else res


def _default_resolution(cfg: ModelCfg, kwargs: dict[str, Any]) -> tuple[int, int]:
    """A registry model's own input side for these keywords (efficientnet(phi=3) -> 341), bounded."""
    try:
        side = cfg.default_resolution(kwargs)
    except Exception:  # noqa: BLE001 - a bad keyword value (phi='x', phi=1e308): the factory says what is wrong
        side = cfg.resolution
    try:
        return parse_resolution(side)  # type: ignore[return-value]
    except EffprofError:  # efficientnet(phi=100): 224 * 1.15**100 pixels a side
        raise EffprofError(
            f"{cfg.name} with these keywords defaults to {side} pixels a side, beyond effprof's limit of "
            f"{MAX_RESOLUTION}; give -r/--resolution"
        ) from None


def build_model(
    spec: str | ModelSpec | nn.Module,
    *,
    resolution: int | str | tuple[int, int] | None = None,
    batch: int | str = 1,
    device: str = "meta",
) -> BuiltModel:
    """Build a model from a spec (or wrap a module) with its (batch, 3, H, W) input shape.

    ``resolution`` is one side (square), ``"HxW"`` or ``(H, W)``; it defaults to the model's own
    (EfficientNet-B7: 600). Raises EffprofError for an unknown or malformed spec, a keyword the
    factory rejects, a resolution/batch out of range, or anything the model's own code raises.
    """
    batch = parse_batch(batch)
    wanted = parse_resolution(resolution)
    if isinstance(spec, nn.Module):
        res = wanted or (DEFAULT_RESOLUTION, DEFAULT_RESOLUTION)
        return BuiltModel(spec, type(spec).__name__, "module", (batch, 3, *res))
    if isinstance(spec, str):
        spec = parse_spec(spec)
    if not isinstance(spec, ModelSpec):
        raise EffprofError(
            f"a model is a spec string like 'resnet50' or an nn.Module instance, got {type(spec).__name__}"
        )
    with contained(spec.label, "building"):
        return _build(spec, wanted, batch, device)


def _build(spec: ModelSpec, wanted: tuple[int, int] | None, batch: int, device: str) -> BuiltModel:
    kwargs = dict(spec.kwargs)
    cfg: ModelCfg | None = None
    if spec.kind != "import":
        _refuse_weight_keywords(spec)
    if spec.kind == "registry":
        cfg = get_model_cfg(spec.name)
        res = wanted or _default_resolution(cfg, kwargs)
        if any(side % cfg.resolution_multiple for side in res):
            lower = [side // cfg.resolution_multiple * cfg.resolution_multiple or cfg.resolution_multiple for side in res]
            got, hint = (f"{res[0]}", f"{lower[0]}") if res[0] == res[1] else (f"{res[0]}x{res[1]}", f"{lower[0]}x{lower[1]}")
            raise EffprofError(
                f"{spec.name} needs a resolution divisible by {cfg.resolution_multiple} "
                f"(its patch size), got {got}; try {hint}"
            )
        if cfg.resolution_kwarg == "image_size":  # torchvision's ViT: one int
            kwargs.setdefault("image_size", _square_side(spec.label, "image_size", res))
        elif cfg.resolution_kwarg:
            kwargs.setdefault(cfg.resolution_kwarg, _size_keyword(res))
        factory, source = cfg.factory, cfg.source
    elif spec.kind == "torchvision":
        import torchvision

        if spec.name not in torchvision.models.list_models():
            raise _closest(spec.name, torchvision.models.list_models(), "torchvision")
        res = wanted or parse_resolution(_torchvision_default_resolution(spec.name))
        if spec.name.startswith("vit_"):
            kwargs.setdefault("image_size", _square_side(spec.label, "image_size", res))
        source = "torchvision"
        factory = functools.partial(torchvision_model, spec.name)

    elif spec.kind == "timm":
        import timm

        if not timm.is_model(spec.name):
            raise _closest(spec.name, timm.list_models(), "timm")
        default_res, fixed = _timm_default(spec.name)
        res = wanted or parse_resolution(default_res)
        if fixed:
            kwargs.setdefault("img_size", _size_keyword(res))
        source = "timm"
        factory = functools.partial(timm_model, spec.name)

    elif spec.kind == "import":
        factory, source = _import_factory(spec), "import"
        res = wanted or (DEFAULT_RESOLUTION, DEFAULT_RESOLUTION)
    else:
        raise EffprofError(
            f"{spec.name}: an ONNX file has no nn.Module to build; count it with effprof.profile/compare "
            "(effprof.counters.onnx_graph.count_onnx)"
        )
    check_input_shape((batch, 3, *res))
    module = _construct(spec.label, factory, kwargs, device)
    return BuiltModel(module, spec.label, source, (batch, 3, *res), cfg, spec)
