"""The ``meta`` block of every report: what ran, where, with which versions."""

from __future__ import annotations

import datetime as dt
import platform
import sys
from typing import Any

import torch

from effprof.latency.environment import package_version

_PACKAGES = ("effprof", "torch", "torchvision", "timm", "fvcore", "onnx", "onnxruntime")


def run_meta(**extra: Any) -> dict[str, Any]:
    """Versions, machine and time of this run, plus any ``extra`` keys (device, threads, ...)."""
    meta: dict[str, Any] = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "versions": {p: package_version(p) for p in _PACKAGES},
        "units": "macs = multiply-accumulates of conv/linear/matmul/attention; flops = 2 x macs; "
        "other_ops = norm/activation/pool/elementwise ops, one per output element",
    }
    meta.update(extra)
    return meta
