"""Model registry, spec parsing and building (see DESIGN.md "Model spec")."""

from effprof.models.build import BuiltModel, build_model
from effprof.models.registry import ModelCfg, PaperRef, get_model_cfg, list_models, register_model
from effprof.models.spec import ModelSpec, parse_spec

__all__ = [
    "BuiltModel",
    "ModelCfg",
    "ModelSpec",
    "PaperRef",
    "build_model",
    "get_model_cfg",
    "list_models",
    "parse_spec",
    "register_model",
]
