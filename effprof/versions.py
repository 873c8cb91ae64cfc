"""Installed versions of effprof's dependencies, read from package metadata (nothing is imported).

Torch-free on purpose: every report's meta records versions, and ``effprof list`` / ``--help`` must
not pay for importing torch to say which torch is installed.
"""

from __future__ import annotations

from importlib import metadata


def package_version(dist: str) -> str | None:
    """The installed version of a distribution, or None (onnxruntime-gpu counts as onnxruntime)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        # onnxruntime ships as onnxruntime-gpu on CUDA machines.
        if dist == "onnxruntime":
            try:
                return metadata.version("onnxruntime-gpu")
            except metadata.PackageNotFoundError:
                return None
        return None
