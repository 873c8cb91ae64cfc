"""ImageNet-1K accuracy of a model spec at a resolution, with its source, offline.

Rule: torchvision's weights metadata first, for a torchvision architecture built as released (no
keywords): among its weights evaluated at exactly this resolution (``transforms().crop_size``), the
one with the best top-1 (every other weights of the same network at the same size is dominated, at
the same latency). Otherwise the typed published tables (effprof.choose.published), matched on model,
keywords and resolution. Otherwise there is no published accuracy, and ``Lookup.reason`` says why.
A Pixel 1 latency comes from the published tables whichever source gave the accuracy.

Specs are compared after normalising: registry aliases become their model and keywords
(``mobilenet_v1_050`` is ``mobilenet_v1(width=0.5)``), and keywords equal to the factory's default
are dropped (``mobilenet_v1(width=1.0)`` is ``mobilenet_v1``).
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from dataclasses import dataclass, field

from effprof.choose.published import PUBLISHED, Published
from effprof.errors import EffprofError
from effprof.models import get_model_cfg, list_models, parse_spec


@dataclass(frozen=True)
class Accuracy:
    """A published ImageNet-1K accuracy: top-1/top-5 in percent at ``resolution_px``, and where it is from."""

    top1_pct: float
    top5_pct: float | None
    resolution_px: int
    source: str


@dataclass(frozen=True)
class Lookup:
    """What is published about one (spec, resolution): accuracy (or why none), Pixel 1 latency, table MACs."""

    accuracy: Accuracy | None
    reason: str = ""
    pixel1_ms: float | None = None
    published_macs: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Candidate:
    """One configuration to measure: a spec at a resolution, its family and what is published about it."""

    spec: str
    resolution_px: int
    family: str
    published: Lookup = field(default_factory=lambda: Lookup(None, "not looked up"))

    @property
    def label(self) -> str:
        return f"{self.spec} @{self.resolution_px}"

    @property
    def accuracy(self) -> Accuracy | None:
        return self.published.accuracy


# --- torchvision's metadata -------------------------------------------------------------------------------


@functools.cache
def torchvision_classifiers() -> tuple[str, ...]:
    """Every ImageNet classification model torchvision builds (``torchvision.models.list_models``)."""
    import torchvision

    return tuple(torchvision.models.list_models(module=torchvision.models))


@functools.cache
def torchvision_accuracies(name: str) -> dict[int, Accuracy]:
    """Crop size -> the best published accuracy of torchvision model ``name`` at that crop (none: {})."""
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name)
    except (ValueError, KeyError):
        return {}
    best: dict[int, Accuracy] = {}
    for w in weights:
        metrics = w.meta.get("_metrics", {}).get("ImageNet-1K", {})
        top1, top5 = metrics.get("acc@1"), metrics.get("acc@5")
        if top1 is None or not math.isfinite(top1):  # e.g. VGG16_Weights.IMAGENET1K_FEATURES: no classifier
            continue
        crop = int(w.transforms().crop_size[0])
        if crop not in best or top1 > best[crop].top1_pct:
            source = f"torchvision {type(w).__name__}.{w.name} (meta['_metrics'])"
            best[crop] = Accuracy(float(top1), float(top5) if top5 is not None else None, crop, source)
    return best


# --- spec normalisation -----------------------------------------------------------------------------------

#: registry names that are another model with keywords (the factory closes over them)
_ALIASES: dict[str, tuple[str, dict[str, float]]] = {
    "mobilenet_v1_075": ("mobilenet_v1", {"width": 0.75}),
    "mobilenet_v1_050": ("mobilenet_v1", {"width": 0.5}),
    "mobilenet_v1_025": ("mobilenet_v1", {"width": 0.25}),
    # the literal compound rule at phi = 0 is torchvision's B0, block for block (effprof.models.compound)
    "efficientnet": ("efficientnet_b0", {}),
}


def _defaults(model: str) -> dict[str, object]:
    """The keyword defaults of a registry factory (``width=1.0`` for mobilenet_v1)."""
    try:
        factory = get_model_cfg(model).factory
        params = inspect.signature(factory).parameters.values()
    except (EffprofError, TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty and not p.name.startswith("_")}


def normalise(spec: str) -> tuple[str, str, tuple[tuple[str, object], ...]]:
    """(kind, model, keywords) of a spec with aliases resolved and default keywords dropped.

    ``kind`` is parse_spec's (registry, torchvision, timm, import, onnx).
    """
    parsed = parse_spec(spec)
    model, kwargs = parsed.name, dict(parsed.kwargs)
    if parsed.kind == "registry":
        defaults = _defaults(model)
        kwargs = {k: v for k, v in kwargs.items() if not (k in defaults and defaults[k] == v)}
        if model in _ALIASES and (model != "efficientnet" or not kwargs):
            model, extra = _ALIASES[model]
            kwargs = {**extra, **kwargs}
            defaults = _defaults(model)
            kwargs = {k: v for k, v in kwargs.items() if not (k in defaults and defaults[k] == v)}
    return parsed.kind, model, tuple(sorted(kwargs.items()))


def torchvision_name(spec: str) -> str | None:
    """The torchvision model a spec builds as released (no keywords), else None."""
    kind, model, kwargs = normalise(spec)
    if kwargs:
        return None
    if kind == "torchvision":
        return model if model in torchvision_classifiers() else None
    if kind == "registry":
        cfg = get_model_cfg(model)
        return cfg.torchvision_name
    return None


@functools.cache
def _published_index() -> dict[tuple[str, tuple, int], Published]:
    index = {}
    for row in PUBLISHED:
        _, model, kwargs = normalise(row.spec)
        index[(model, kwargs, row.resolution_px)] = row
    return index


def published_row(spec: str, resolution_px: int) -> Published | None:
    """The typed table row for this spec at this resolution, if a source prints one."""
    kind, model, kwargs = normalise(spec)
    if kind != "registry":
        return None
    return _published_index().get((model, kwargs, resolution_px))


def published_resolutions(spec: str) -> list[int]:
    """Every resolution some source publishes an accuracy for this spec at (torchvision's crops first)."""
    name = torchvision_name(spec)
    found = sorted(torchvision_accuracies(name)) if name else []
    kind, model, kwargs = normalise(spec)
    found += sorted(res for (m, k, res) in _published_index() if (m, k) == (model, kwargs) and res not in found)
    return found


def lookup(spec: str, resolution_px: int) -> Lookup:
    """What is published about ``spec`` at ``resolution_px`` (see the module's rule)."""
    row = published_row(spec, resolution_px)
    phone = {"pixel1_ms": row.pixel1_ms if row else None, "published_macs": row.macs if row else None,
             "note": row.note if row else ""}  # fmt: skip
    name = torchvision_name(spec)
    if name is not None:
        tv = torchvision_accuracies(name).get(resolution_px)
        if tv is not None:
            return Lookup(tv, **phone)
    if row is not None:
        return Lookup(Accuracy(row.top1_pct, row.top5_pct, row.resolution_px, row.citation), **phone)
    elsewhere = published_resolutions(spec)
    if elsewhere:
        why = f"no published accuracy at {resolution_px} px (published at {', '.join(f'{r} px' for r in elsewhere)})"
    else:
        why = "no published ImageNet-1K accuracy for this configuration"
    return Lookup(None, why, **phone)


# --- candidates -------------------------------------------------------------------------------------------


def family_of(spec: str) -> str:
    """The registry family of a spec (``MobileNetV2``); a torchvision model effprof does not list takes the family
    of a listed model from the same torchvision module (``tv:resnet152`` is ResNet), else the module's name
    (``regnet``)."""
    kind, model, _ = normalise(spec)
    if kind == "registry":
        return get_model_cfg(model).family
    if kind == "torchvision":
        module = _torchvision_module(model)
        if module is None:
            return model
        return _module_families().get(module, module)
    return model


def _torchvision_module(name: str) -> str | None:
    import torchvision

    try:
        return torchvision.models.get_model_builder(name).__module__.rsplit(".", 1)[-1]
    except ValueError:
        return None


@functools.cache
def _module_families() -> dict[str, str]:
    """torchvision module -> the registry family of the models effprof lists from it."""
    return {module: cfg.family for cfg in list_models()
            if cfg.torchvision_name and (module := _torchvision_module(cfg.torchvision_name))}  # fmt: skip


def family_key(name: str) -> str:
    """Family names compared loosely: 'MobileNetV2', 'mobilenet_v2' and 'mobilenetv2' are one family."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def candidate(spec: str, resolution_px: int | None = None) -> Candidate:
    """A spec as a candidate at ``resolution_px``; None: its own size if an accuracy is published there, else the
    published size nearest to it, else its own size."""
    if resolution_px is None:
        name = torchvision_name(spec)
        # the model's own size (torchvision's DEFAULT weights' crop, else effprof's default) when an accuracy is
        # published there, else the published size nearest to it
        default = (_torchvision_default_crop(name) if name else None) or default_resolution(spec)
        published = published_resolutions(spec)
        resolution_px = min(published, key=lambda r: (abs(r - default), -r)) if published else default
    return Candidate(spec, resolution_px, family_of(spec), lookup(spec, resolution_px))


def _torchvision_default_crop(name: str) -> int | None:
    import torchvision

    try:
        return int(torchvision.models.get_model_weights(name).DEFAULT.transforms().crop_size[0])
    except (ValueError, KeyError, AttributeError):
        return None


def default_resolution(spec: str) -> int:
    """The square side effprof builds ``spec`` at when no resolution is given."""
    from effprof.models import build_model

    return int(build_model(spec, device="meta").input_shape[-1])


def _registry_spec(tv_name: str) -> str:
    """A torchvision model's effprof name: its plain registry entry when there is one, else ``tv:NAME``."""
    for cfg in list_models():
        if cfg.torchvision_name == tv_name and cfg.name == tv_name:
            return cfg.name
    return f"tv:{tv_name}"


def catalogue() -> list[Candidate]:
    """Every configuration with a published accuracy (``pareto --all``).

    Each torchvision classifier at each crop its weights are published at (best weights per crop),
    then every typed table row torchvision does not already cover.
    """
    found: list[Candidate] = []
    covered: set[tuple] = set()
    for name in torchvision_classifiers():
        spec = _registry_spec(name)
        for crop in sorted(torchvision_accuracies(name)):
            found.append(Candidate(spec, crop, family_of(spec), lookup(spec, crop)))
            covered.add((normalise(spec)[1:], crop))
    for row in PUBLISHED:
        if (normalise(row.spec)[1:], row.resolution_px) not in covered:
            found.append(Candidate(row.spec, row.resolution_px, family_of(row.spec), lookup(row.spec, row.resolution_px)))
    return found


def in_family(candidates: list[Candidate], family: str) -> list[Candidate]:
    """The candidates of one family (loose match on the family name); an unknown family raises with the known ones."""
    key = family_key(family)
    chosen = [c for c in candidates if family_key(c.family) == key]
    if not chosen:
        known = sorted({c.family for c in candidates}, key=str.lower)
        raise EffprofError(f"no published model in family {family!r}; families: {', '.join(known)}")
    return chosen
