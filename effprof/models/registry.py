"""The model registry: ``@register_model`` factories with what effprof knows about each model.

Modelled on timm's ``_registry.py``: tiny factories, one dict, ``list_models("mobilenet*")``.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from effprof.errors import EffprofError

if TYPE_CHECKING:  # torch only for annotations: the registry imports without torch
    from torch import nn


@dataclass(frozen=True)
class PaperRef:
    """A published reference figure: params and MACs as the paper states them (MACs = mult-adds)."""

    params: float | None  # parameters
    macs: float | None  # multiply-accumulates at the reference resolution
    resolution: int
    citation: str
    note: str = ""


@dataclass(frozen=True)
class ModelCfg:
    """What effprof knows about a registered model."""

    name: str
    family: str
    source: str  # torchvision | timm | effprof
    resolution: int  # default input resolution (square)
    factory: Callable[..., nn.Module] = field(repr=False)
    paper: PaperRef | None = None
    #: input resolution must be a multiple of this (patch size for ViTs); 1 = any
    resolution_multiple: int = 1
    #: keyword the factory uses to learn the input resolution (ViTs size their position embedding)
    resolution_kwarg: str | None = None
    #: torchvision weights enum name whose metadata (num_params, _ops) is the reference
    torchvision_name: str | None = None
    description: str = ""
    #: default resolution as a function of the spec's keywords (efficientnet(phi=3) -> 341)
    resolution_fn: Callable[[dict[str, Any]], int] | None = field(default=None, repr=False)

    def default_resolution(self, kwargs: dict[str, Any]) -> int:
        """The input side this model is built for, given the keywords of its spec."""
        return self.resolution_fn(kwargs) if self.resolution_fn else self.resolution


_REGISTRY: dict[str, ModelCfg] = {}


def register_model(
    *,
    family: str,
    source: str,
    resolution: int = 224,
    paper: PaperRef | None = None,
    resolution_multiple: int = 1,
    resolution_kwarg: str | None = None,
    torchvision_name: str | None = None,
    name: str | None = None,
    resolution_fn: Callable[[dict[str, Any]], int] | None = None,
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: register a factory returning an nn.Module (built without weights)."""

    def decorate(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        key = name or factory.__name__
        if key in _REGISTRY:
            raise ValueError(f"model {key!r} registered twice")
        doc = (factory.__doc__ or "").strip().splitlines()
        _REGISTRY[key] = ModelCfg(
            name=key,
            family=family,
            source=source,
            resolution=resolution,
            factory=factory,
            paper=paper,
            resolution_multiple=resolution_multiple,
            resolution_kwarg=resolution_kwarg,
            torchvision_name=torchvision_name,
            description=doc[0] if doc else "",
            resolution_fn=resolution_fn,
        )
        return factory

    return decorate


def list_models(pattern: str | None = None) -> list[ModelCfg]:
    """Registered models whose name matches a shell-style wildcard (all when None), sorted by family."""
    found = [cfg for name, cfg in _REGISTRY.items() if pattern is None or fnmatch.fnmatch(name, pattern)]
    return found


def get_model_cfg(name: str) -> ModelCfg:
    """The registry entry for ``name``; an unknown name raises with the closest registered names."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "run `effprof list` to see them"
    raise EffprofError(
        f"unknown model {name!r}: {hint} (any torchvision/timm model works as tv:NAME or timm:NAME)"
    )
