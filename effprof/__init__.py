"""effprof: how big a vision model is, how much arithmetic it does, and how fast it really runs.

``import effprof`` is light (no torch, no pandas): the API is imported on first use of
``effprof.profile`` / ``effprof.compare``, so ``effprof --help`` starts at once.
"""

from __future__ import annotations

import importlib.abc
import sys

from effprof.errors import EffprofError

__version__ = "0.1.0"
__all__ = ["EffprofError", "__version__", "compare", "finetune", "pareto", "profile", "profile_training", "run_claims", "run_roadmap", "search"]


class _TorchvisionShim(importlib.abc.MetaPathFinder):
    """Runs effprof/_compat.py's fix just before the first ``import torchvision`` or ``import timm``.

    The fix (register two op schemas a CPU torch lacks beside a CUDA torchvision wheel) needs torch,
    and must happen before torchvision is imported. Installing it eagerly would make every
    ``import effprof`` (and ``effprof --help``) pay for torch; this finder runs it at the last moment
    instead, once, then steps aside. It finds nothing itself: the normal finders import the package.
    """

    def find_spec(self, name, path=None, target=None):
        if name in ("torchvision", "timm"):
            sys.meta_path.remove(self)  # first: _compat itself looks torchvision up
            from effprof._compat import ensure_torchvision_importable

            ensure_torchvision_importable()
        return None


if "torchvision" not in sys.modules and not any(isinstance(f, _TorchvisionShim) for f in sys.meta_path):
    sys.meta_path.insert(0, _TorchvisionShim())


def __getattr__(name: str):
    # The API pulls in torch, torchvision and timm: imported on first use, for startup speed.
    if name == "compare":
        from effprof import api

        return api.compare
    if name == "profile":  # inference, or with train=True one training step (effprof.training.facade)
        from effprof.training.facade import profile

        return profile
    if name in ("profile_training", "finetune"):  # training cost (effprof.training builds on the API)
        from effprof import training

        return getattr(training, name)
    if name == "run_roadmap":  # the ConvNeXt roadmap, counted and timed (effprof roadmap)
        from effprof.lecture.roadmap_run import run_roadmap

        return run_roadmap
    if name == "run_claims":  # the lecture's latency claims, judged (effprof claims)
        from effprof.lecture.claims_run import run_claims

        return run_claims
    if name in ("pareto", "search"):  # effprof.choose: published accuracy vs measured latency
        from effprof import choose

        return getattr(choose, name)
    raise AttributeError(f"module 'effprof' has no attribute {name!r}")
