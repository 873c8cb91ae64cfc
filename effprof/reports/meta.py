"""The ``meta`` block of every report: what ran, where, with which versions.

Versions come from package metadata, never from importing the packages; torch's thread count is
recorded only when torch is already loaded (a run that measured anything has loaded it).
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
from typing import Any

from effprof.versions import package_version

_PACKAGES = ("effprof", "torch", "torchvision", "timm", "fvcore", "onnx", "onnxruntime")


def run_meta(**extra: Any) -> dict[str, Any]:
    """Versions, machine and time of this run, plus any ``extra`` keys (device, threads, ...)."""
    torch = sys.modules.get("torch")
    meta: dict[str, Any] = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "versions": {p: package_version(p) for p in _PACKAGES},
        "units": "macs = multiply-accumulates of conv/linear/matmul/attention; flops = 2 x macs; "
        "other_ops = norm/activation/pool/elementwise ops, one per output element",
    }
    meta.update(extra)
    return meta
