"""Make ``import torchvision`` (and so ``import timm``) work beside a CPU-only torch.

The torchvision wheel paired with torch 2.13.0 on the package index is a CUDA build. Next to a
CPU torch its compiled ``_C`` library fails to load, and ``torchvision/_meta_registrations.py``
then dies registering a fake kernel for an op that was never defined:
``RuntimeError: operator torchvision::nms does not exist`` (pytorch/vision#9085).

effprof only needs torchvision's classification models, which use none of the compiled ops.
So, only when the real library fails to load, we define the two op *schemas* that the meta
registrations look up at import time (``nms`` and ``qnms``). Calling them would still fail, as it
should: the detection ops are genuinely unavailable on such an install.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys

import torch

# Kept at module level: a torch.library.Library is unregistered when garbage collected.
_SCHEMA_LIB: torch.library.Library | None = None
_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)


def torchvision_ops_missing() -> bool:
    """True when torchvision is installed but its compiled ops cannot load beside this torch."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    libs = glob.glob(os.path.join(spec.submodule_search_locations[0], "_C*.so")) + glob.glob(
        os.path.join(spec.submodule_search_locations[0], "_C*.pyd")
    )
    if not libs:
        return True
    try:
        torch.ops.load_library(libs[0])
    except (OSError, RuntimeError):
        return True
    return False


def ensure_torchvision_importable() -> bool:
    """Register the missing op schemas if (and only if) torchvision's own ops failed to load.

    Returns True when the shim was installed. Must run before anything imports torchvision.
    """
    global _SCHEMA_LIB
    if _SCHEMA_LIB is not None:
        return True
    if "torchvision" in sys.modules or not torchvision_ops_missing():
        return False
    if hasattr(torch.ops.torchvision, "nms"):
        return False
    _SCHEMA_LIB = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS:
        _SCHEMA_LIB.define(schema)
    return True
