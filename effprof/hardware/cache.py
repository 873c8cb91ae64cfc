"""Per-machine JSON cache of measured device limits and calibrations.

Rule: a cached figure is reused only on the machine and software it was measured on: the key is
the CPU model (GPU name, CUDA and driver on CUDA), torch version, thread count and the method
version below; anything else measures afresh. Files live under ``$EFFPROF_CACHE_DIR/hw`` (else
``$XDG_CACHE_HOME/effprof/hw``, else ``~/.cache/effprof/hw``).

Each cache document's format is defined once below (``LimitsCache``, ``CalibrationCache``) and
checked on load: a file that is not JSON, not an object, or holds a wrong type, a negative, zero
or non-finite time or count, is discarded (deleted) and measured afresh, never trusted or refused
on every later run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, ValidationError

from effprof.errors import EffprofError
from effprof.latency.environment import cpu_model
from effprof.latency.onnx_export import cache_root
from effprof.schema import FileProblem, items, number, parse_json, read_text, text, whole

#: bump when what is measured or how changes, so old cache files are not reused
METHOD_VERSION = 1
#: a calibration with its raw times is tens of kB; a larger file is not one of effprof's
MAX_CACHE_BYTES = 16 << 20

# ---- the cache documents (what is read back; derived figures such as rates are recomputed) ----

Name = text(min_length=1)
Notes = items(text(), rule="a list of strings")
Milliseconds = number(ge=None, gt=0)  # a time that is divided by: never 0


class _Doc(BaseModel):
    # Keys effprof no longer reads are ignored; a wrong type in one it reads discards the file.
    model_config = ConfigDict(extra="ignore")


class CeilingDoc(_Doc):
    name: Name
    kind: Literal["compute", "memory"]
    dtype: Name
    work: number(ge=None, gt=0)
    size: text()
    times_s: items(number(ge=None, gt=0), min_length=1, rule="a non-empty list of times > 0")
    runs_per_block: whole(1)
    warmup_runs: whole(0)
    threads: whole(1)
    device: Name
    warnings: Notes


class LimitsDoc(_Doc):
    device: Name
    threads: whole(1)
    ceilings: items(CeilingDoc, min_length=1, rule="a non-empty list of ceilings")
    machine: dict[str, Any] = {}
    measured_at: text() = ""


class LimitsCache(_Doc):
    """A ``limits-*.json`` file: the key it was measured under and DeviceLimits.to_dict()."""

    key: dict[str, Any]
    limits: LimitsDoc


class TimingDoc(_Doc):
    name: Name
    op_class: Name
    macs: whole(0)
    bytes: whole(0)
    calls: whole(1)  # a layer's MACs and bytes are divided by its calls
    measured_ms: Milliseconds
    iqr_ms: number(ge=0) = 0.0
    warnings: Notes = []
    type: text() = ""
    contended: bool = False


Layer = tuple[whole(0), whole(0), whole(1), Name, text()]  # macs, bytes, calls, op class, module type


class NetworkDoc(_Doc):
    name: Name
    layers: items(Layer, rule="a list of [macs, bytes, calls, op_class, type]")
    op_calls: whole(0)
    measured_ms: Milliseconds
    warnings: Notes = []
    contended: bool = False


class CalibrationDoc(_Doc):
    timings: items(TimingDoc, min_length=1, rule="a non-empty list of layer timings")
    networks: items(NetworkDoc, rule="a list of network timings")
    measured_at: text() = ""


class CalibrationCache(_Doc):
    """A ``calibration-*.json`` file: the key it was timed under and Calibration.to_dict()."""

    key: dict[str, Any]
    calibration: CalibrationDoc


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


def load(path: Path, schema: type[BaseModel] | None = None) -> dict[str, Any] | None:
    """The cached JSON object at ``path`` (checked against ``schema`` when given), or None: measure afresh.

    None when the file is absent, unreadable, not a JSON object or fails ``schema``; a bad file is
    also deleted, so the next measurement replaces it rather than every run stumbling on it again.
    """
    try:
        doc = parse_json(read_text(path, max_bytes=MAX_CACHE_BYTES))
    except FileNotFoundError:
        return None
    except FileProblem:
        return _discard(path)
    if not isinstance(doc, dict):
        return _discard(path)
    if schema is None:
        return doc
    try:
        return schema.model_validate(doc).model_dump()
    except ValidationError:
        return _discard(path)


def _discard(path: Path) -> None:
    # Only a file (or a link, not its target) is removed; a directory in the way is left for save() to report.
    if path.is_symlink() or path.is_file():
        try:
            path.unlink()
        except OSError:
            pass  # read-only cache: measured afresh each run, which is still correct
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
