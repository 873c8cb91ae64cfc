"""environment(): what a latency number was measured on, for every report's ``meta``.

Rule: enough to reproduce or compare a number (CPU model, cores, library versions, threads,
GPU and driver on CUDA) and nothing that identifies the machine or user (no hostname, no paths).
Versions are read from package metadata, so nothing heavy is imported.
"""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any

import torch

from effprof.versions import package_version

_PACKAGES = ("torch", "torchvision", "timm", "onnx", "onnxruntime", "fvcore", "numpy")


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _nvidia_driver() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else None


def gpu_info(device: str = "cuda") -> dict[str, Any]:
    """Name, memory, capability, CUDA runtime and driver version of the GPU ``device`` names."""
    dev = torch.device(device)
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    props = torch.cuda.get_device_properties(index)
    return {
        "gpu": props.name,
        "gpu_memory_bytes": int(props.total_memory),
        "gpu_capability": f"{props.major}.{props.minor}",
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "driver": _nvidia_driver(),
    }


def environment(device: str = "cpu") -> dict[str, Any]:
    """A flat, JSON-ready description of the machine and software for ``device``."""
    env: dict[str, Any] = {
        "device": device,
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
    }
    env.update({name: package_version(name) for name in _PACKAGES})
    if device.startswith("cuda") and torch.cuda.is_available():
        env.update(gpu_info(device))
    return env
