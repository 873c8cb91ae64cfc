"""effprof: how big a vision model is, how much arithmetic it does, and how fast it really runs."""

from __future__ import annotations

from effprof._compat import ensure_torchvision_importable

# Before anything can import torchvision or timm (see effprof/_compat.py for why).
ensure_torchvision_importable()

from effprof.errors import EffprofError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["EffprofError", "__version__", "compare", "pareto", "profile", "search"]


def __getattr__(name: str):
    # The API pulls in torchvision/timm; keep `import effprof` itself light.
    if name in ("profile", "compare"):
        from effprof import api

        return getattr(api, name)
    if name in ("pareto", "search"):  # effprof.choose: published accuracy vs measured latency
        from effprof import choose

        return getattr(choose, name)
    raise AttributeError(f"module 'effprof' has no attribute {name!r}")
