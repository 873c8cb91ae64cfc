"""effprof: how big a vision model is, how much arithmetic it does, and how fast it really runs."""

from __future__ import annotations

from effprof._compat import ensure_torchvision_importable

# Before anything can import torchvision or timm (see effprof/_compat.py for why).
ensure_torchvision_importable()

from effprof.errors import EffprofError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["EffprofError", "__version__", "compare", "profile", "run_claims", "run_roadmap"]


def __getattr__(name: str):
    # The API pulls in torchvision/timm; keep `import effprof` itself light.
    if name in ("profile", "compare"):
        from effprof import api

        return getattr(api, name)
    if name == "run_roadmap":  # the ConvNeXt roadmap, counted and timed (effprof roadmap)
        from effprof.lecture.roadmap import run_roadmap

        return run_roadmap
    if name == "run_claims":  # the lecture's latency claims, judged (effprof claims)
        from effprof.lecture.claims_run import run_claims

        return run_claims
    raise AttributeError(f"module 'effprof' has no attribute {name!r}")
