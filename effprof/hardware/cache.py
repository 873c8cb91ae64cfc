"""Per-machine JSON cache of measured device limits and calibrations.

Rule: a cached figure is reused only on the machine and software it was measured on: the key is
the CPU model (GPU name, CUDA and driver on CUDA), torch version, thread count and the method
version below; anything else measures afresh. Files live under ``$EFFPROF_CACHE_DIR/hw`` (else
``$XDG_CACHE_HOME/effprof/hw``, else ``~/.cache/effprof/hw``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch

from effprof.errors import EffprofError
from effprof.latency.environment import cpu_model
from effprof.latency.onnx_export import cache_root

#: bump when what is measured or how changes, so old cache files are not reused
METHOD_VERSION = 1


def hw_cache_dir() -> Path:
    return cache_root() / "hw"


def machine_description(device: str, threads: int) -> dict[str, Any]:
    """What a measured limit depends on: hardware, software versions, threads (no hostname)."""
    desc: dict[str, Any] = {
        "device_kind": "cuda" if device.startswith("cuda") else "cpu",
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "threads": threads,
        "torch": torch.__version__,
        "method": METHOD_VERSION,
    }
    if device.startswith("cuda"):
        from effprof.latency.environment import gpu_info

        info = gpu_info(device)
        desc.update(gpu=info["gpu"], cuda=info["cuda"], driver=info["driver"])
    return desc


def cache_path(kind: str, machine: dict[str, Any]) -> Path:
    """``hw/<kind>-<device>-<readable name>-<hash of the key>.json``."""
    digest = hashlib.sha256(json.dumps(machine, sort_keys=True).encode()).hexdigest()[:12]
    name = machine.get("gpu") or machine.get("cpu") or "unknown"
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:40]
    return hw_cache_dir() / f"{kind}-{machine['device_kind']}-{slug}-t{machine['threads']}-{digest}.json"


def load(path: Path) -> dict[str, Any] | None:
    """The cached document at ``path``, or None if absent or unreadable (then it is re-measured)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def save(path: Path, doc: dict[str, Any]) -> Path:
    """Write ``doc`` atomically (beside the target, then rename): a crash never leaves half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise EffprofError(f"cannot write the hardware cache {str(path)!r}: {exc.strerror or exc}") from None
    return path
