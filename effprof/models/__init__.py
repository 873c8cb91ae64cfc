"""Model registry, spec parsing and building.

The registry (registry.py) imports no model file: the model files register themselves with
``@register_model`` when this package imports them (the zoo, which imports compound and the roadmap), so
every registration happens once, here (timm's split). Registering imports no torch: the factories import
their model code when called, so ``list_models``, ``get_model_cfg`` and ``effprof.models.metadata``
work without torch; the building half (``build_model`` ...) imports torch on first use.
"""

from typing import Any

from effprof.models import zoo  # noqa: F401  (importing the zoo registers every model, compound's and the roadmap's last)
from effprof.models.registry import ModelCfg, PaperRef, get_model_cfg, list_models, register_model
from effprof.models.spec import ModelSpec, parse_spec

#: names of the building half (effprof.models.build, which imports torch), loaded on first use
_BUILD_NAMES = frozenset(
    {"BuiltModel", "build_model", "check_input_shape", "check_specs", "contained", "parse_batch", "parse_resolution"}
)

__all__ = [
    "BuiltModel",
    "ModelCfg",
    "ModelSpec",
    "PaperRef",
    "build_model",
    "check_input_shape",
    "check_specs",
    "contained",
    "get_model_cfg",
    "list_models",
    "parse_batch",
    "parse_resolution",
    "parse_spec",
    "register_model",
]


def __getattr__(name: str) -> Any:
    # PEP 562: the registry's metadata must not pay for torch; building does.
    if name in _BUILD_NAMES:
        from effprof.models import build

        return getattr(build, name)
    raise AttributeError(f"module 'effprof.models' has no attribute {name!r}")
