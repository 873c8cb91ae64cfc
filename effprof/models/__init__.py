"""Model registry, spec parsing and building.

The registry (registry.py) imports no model file: the model files register themselves with
``@register_model`` when this package imports them, so every registration happens once, here.
"""

from effprof.models import zoo  # noqa: F401  (importing the zoo registers every model, compound's last)
from effprof.models import roadmap  # noqa: F401,E402  (the ConvNeXt roadmap, after the zoo)
from effprof.models.build import (
    BuiltModel,
    build_model,
    check_input_shape,
    contained,
    parse_batch,
    parse_resolution,
)
from effprof.models.registry import ModelCfg, PaperRef, get_model_cfg, list_models, register_model
from effprof.models.spec import ModelSpec, parse_spec

__all__ = [
    "BuiltModel",
    "ModelCfg",
    "ModelSpec",
    "PaperRef",
    "build_model",
    "check_input_shape",
    "contained",
    "get_model_cfg",
    "list_models",
    "parse_batch",
    "parse_resolution",
    "parse_spec",
    "register_model",
]
