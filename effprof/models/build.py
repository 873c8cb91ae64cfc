"""Turn a spec (or a module the user already holds) into a built nn.Module and its input shape.

Models are built without weights. For counting they are built straight on the meta device, so
even efficientnet_b7 costs no memory; constructors that compute on tensors (torchvision's RegNet)
are built on the CPU and moved.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from effprof.errors import EffprofError
from effprof.models.registry import ModelCfg, get_model_cfg
from effprof.models.spec import ModelSpec, parse_spec
from effprof.models.zoo import timm_model, torchvision_model

DEFAULT_RESOLUTION = 224


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
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return build_model(self.spec, resolution=self.input_shape[-1], batch=self.input_shape[0], device=device).module


def _check_positive(what: str, value: int | None) -> None:
    if value is not None and value <= 0:
        raise EffprofError(f"{what} must be a positive integer, got {value}")


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


def _import_factory(spec: ModelSpec) -> Callable[..., nn.Module]:
    module_name, _, attr = spec.name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EffprofError(f"cannot import {module_name!r} for spec {spec.text!r}: {exc}") from None
    factory = getattr(module, attr, None)
    if factory is None:
        raise EffprofError(f"module {module_name!r} has no attribute {attr!r}")
    if not callable(factory):
        raise EffprofError(f"{spec.name} is not callable: expected a function or nn.Module class")
    return factory


def build_model(
    spec: str | ModelSpec | nn.Module,
    *,
    resolution: int | None = None,
    batch: int = 1,
    device: str = "meta",
) -> BuiltModel:
    """Build a model from a spec (or wrap a module) with its (batch, 3, R, R) input shape.

    ``resolution`` defaults to the model's own (EfficientNet-B7: 600). Raises EffprofError for an
    unknown or malformed spec, a keyword the factory rejects, or a resolution/batch out of range.
    """
    _check_positive("--batch", batch)
    _check_positive("--resolution", resolution)
    if isinstance(spec, nn.Module):
        res = resolution or DEFAULT_RESOLUTION
        return BuiltModel(spec, type(spec).__name__, "module", (batch, 3, res, res))
    if isinstance(spec, str):
        spec = parse_spec(spec)
    kwargs = dict(spec.kwargs)
    cfg: ModelCfg | None = None
    if spec.kind == "registry":
        cfg = get_model_cfg(spec.name)
        try:
            res = resolution or cfg.default_resolution(kwargs)
        except (TypeError, ValueError):  # a bad keyword value: let the factory say what is wrong
            res = cfg.resolution
        if res % cfg.resolution_multiple:
            lower = res // cfg.resolution_multiple * cfg.resolution_multiple
            raise EffprofError(
                f"{spec.name} needs a resolution divisible by {cfg.resolution_multiple} "
                f"(its patch size), got {res}; try {lower or cfg.resolution_multiple}"
            )
        if cfg.resolution_kwarg:
            kwargs.setdefault(cfg.resolution_kwarg, res)
        factory, source = cfg.factory, cfg.source
    elif spec.kind == "torchvision":
        import torchvision

        if spec.name not in torchvision.models.list_models():
            raise _closest(spec.name, torchvision.models.list_models(), "torchvision")
        res = resolution or _torchvision_default_resolution(spec.name)
        if spec.name.startswith("vit_"):
            kwargs.setdefault("image_size", res)
        source = "torchvision"
        factory = functools.partial(torchvision_model, spec.name)

    elif spec.kind == "timm":
        import timm

        if not timm.is_model(spec.name):
            raise _closest(spec.name, timm.list_models(), "timm")
        default_res, fixed = _timm_default(spec.name)
        res = resolution or default_res
        if fixed:
            kwargs.setdefault("img_size", res)
        source = "timm"
        factory = functools.partial(timm_model, spec.name)

    elif spec.kind == "import":
        factory, source = _import_factory(spec), "import"
        res = resolution or DEFAULT_RESOLUTION
    else:
        raise EffprofError(
            f"{spec.name}: an ONNX file has no nn.Module to build; count it with effprof.profile/compare "
            "(effprof.counters.onnx_graph.count_onnx)"
        )
    module = _construct(spec.label, factory, kwargs, device)
    return BuiltModel(module, spec.label, source, (batch, 3, res, res), cfg, spec)
