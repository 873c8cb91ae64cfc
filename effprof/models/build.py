"""Turn a spec (or a module the user already holds) into a built nn.Module and its input shape.

Models are built without weights. For counting they are built straight on the meta device, so
even efficientnet_b7 costs no memory; constructors that compute on tensors (torchvision's RegNet)
are built on the CPU and moved.

The sizes a user types are parsed in ``sizes``; a user's own model code is imported and contained
in ``user_code`` (both re-exported here, their import path before the split).
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from effprof.errors import EffprofError
from effprof.models.registry import ModelCfg, get_model_cfg
from effprof.models.sizes import (  # noqa: F401  (re-exported: their import path before the split)
    MAX_BATCH,
    MAX_INPUT_DIMS,
    MAX_INPUT_ELEMENTS,
    MAX_RESOLUTION,
    check_input_shape,
    parse_batch,
    parse_resolution,
)
from effprof.models.spec import ModelSpec, parse_spec, shown
from effprof.models.user_code import (  # noqa: F401
    WEIGHT_KEYWORDS,
    contained,
    first_line,
    import_factory,
    refuse_weight_keywords,
)
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
        # The full (H, W): a non-square input is timed as counted, not as its last side squared.
        resolution = tuple(self.input_shape[-2:]) if len(self.input_shape) >= 3 else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return build_model(self.spec, resolution=resolution, batch=self.input_shape[0], device=device).module


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
        refuse_weight_keywords(spec)
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
        factory, source = import_factory(spec), "import"
        res = wanted or (DEFAULT_RESOLUTION, DEFAULT_RESOLUTION)
    else:
        raise EffprofError(
            f"{spec.name}: an ONNX file is an inference graph with no PyTorch module to build or train; "
            "profile and compare count and time it as it is, and training, finetune and sweeps need a model spec "
            "(NAME, tv:NAME, timm:NAME or pkg.module:factory)"
        )
    check_input_shape((batch, 3, *res))
    module = _construct(spec.label, factory, kwargs, device)
    return BuiltModel(module, spec.label, source, (batch, 3, *res), cfg, spec)


def check_specs(models: Sequence[object]) -> None:
    """Parse every spec before any work starts, so a typo fails at once (exit 2), not after minutes.

    Registry names must be registered, ONNX paths must be files; anything that is not a spec string,
    an nn.Module or a BuiltModel is refused.
    """
    for m in models:
        if isinstance(m, str):
            spec = parse_spec(m)
            if spec.kind == "registry":
                get_model_cfg(spec.name)
            elif spec.kind == "onnx" and not _is_file(spec.name):
                raise EffprofError(f"no ONNX file at {shown(spec.name)}")
        elif not isinstance(m, (nn.Module, BuiltModel)):
            raise EffprofError(
                f"a model is a spec string like 'resnet50' or an nn.Module instance, got {type(m).__name__}"
            )


def _is_file(path: str) -> bool:
    """Path.is_file, with a name the OS refuses outright (too long) counted as no file."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False
