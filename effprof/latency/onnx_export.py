"""Export a PyTorch model to ONNX once, and find it on disk the next time.

Rule: one directory per export under ``<cache root>/onnx/<key>/model.onnx`` (plus any external
``.onnx.data``), where the key hashes everything the file depends on: the model's identity
(``cache_key`` or its repr), its weights, the input shape, the opset and the torch version.
Weights are in the key because the parity check compares the file against *this* model; a
model rebuilt with another random init (weights=None, unseeded) is a different export.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

DEFAULT_OPSET = 17
MODEL_FILE = "model.onnx"
# Bumped when the way effprof exports changes, so old cache entries are not reused.
EXPORT_RECIPE = "legacy-v1"


@dataclass
class Export:
    """Where an export lives and how it was obtained."""

    path: Path
    cache_hit: bool
    export_s: float
    warnings: list[str] = field(default_factory=list)


def cache_root() -> Path:
    """effprof's cache directory: ``$EFFPROF_CACHE_DIR``, else ``$XDG_CACHE_HOME/effprof``, else ``~/.cache/effprof``."""
    if os.environ.get("EFFPROF_CACHE_DIR"):
        return Path(os.environ["EFFPROF_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "effprof"


def onnx_cache_dir() -> Path:
    return cache_root() / "onnx"


def _hash_tensors(h: hashlib._Hash, model: nn.Module) -> None:
    # Exact bytes, not a summary: hashing ~100 MB of resnet50 weights costs ~0.1 s, far less
    # than the export it saves, and a collision would silently compare against other weights.
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        if t.numel():
            h.update(memoryview(t.reshape(-1).view(torch.uint8).numpy()))


def export_key(model: nn.Module, input_shape: tuple[int, ...], *, cache_key: str | None, opset: int) -> str:
    """Hex digest identifying one export (see the module rule for what goes in)."""
    h = hashlib.blake2b(digest_size=16)
    identity = cache_key if cache_key is not None else f"{type(model).__qualname__}\n{model!r}"
    for part in (EXPORT_RECIPE, torch.__version__, str(opset), str(tuple(input_shape)), identity):
        h.update(part.encode())
        h.update(b"\0")
    _hash_tensors(h, model)
    return h.hexdigest()


def _export_once(model: nn.Module, example: torch.Tensor, path: Path, opset: int, dynamo: bool) -> None:
    kwargs = {"opset_version": opset, "input_names": ["input"], "do_constant_folding": True}
    try:
        torch.onnx.export(model, (example,), str(path), dynamo=dynamo, **kwargs)
    except TypeError as exc:
        # torch < 2.5 has no `dynamo` argument and only the legacy (TorchScript) exporter.
        if "dynamo" not in str(exc) or dynamo:
            raise
        torch.onnx.export(model, (example,), str(path), **kwargs)


def _export(model: nn.Module, example: torch.Tensor, path: Path, opset: int) -> list[str]:
    """Export with the legacy exporter (fast, scope-named nodes); the dynamo one if that fails.

    Returns the tracer warnings worth keeping (e.g. Python control flow frozen into the graph).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _export_once(model, example, path, opset, dynamo=False)
        except Exception as legacy_exc:
            # The dynamo exporter needs onnxscript; without it the legacy error is the useful one.
            if importlib.util.find_spec("onnxscript") is None:
                raise
            try:
                _export_once(model, example, path, opset, dynamo=True)
            except Exception:
                raise legacy_exc from None
    tracer = sorted(
        {str(w.message).splitlines()[0] for w in caught if "TracerWarning" in type(w.message).__name__}
    )
    if not tracer:
        return []
    more = f" (and {len(tracer) - 1} more)" if len(tracer) > 1 else ""
    return [f"onnx export traced with a warning{more}: {tracer[0][:200]}"]


def export_onnx(
    model: nn.Module,
    example: torch.Tensor,
    *,
    cache_key: str | None = None,
    opset: int = DEFAULT_OPSET,
) -> Export:
    """The ONNX file for ``model`` on inputs shaped like ``example``: from the cache, else exported now.

    The export is written to a private temporary directory and renamed into place, so concurrent
    processes never see a half-written file.
    """
    start = time.perf_counter()
    key = export_key(model, tuple(example.shape), cache_key=cache_key, opset=opset)
    final_dir = onnx_cache_dir() / key
    final_path = final_dir / MODEL_FILE
    if final_path.is_file():
        return Export(final_path, cache_hit=True, export_s=time.perf_counter() - start)

    final_dir.parent.mkdir(parents=True, exist_ok=True)
    if final_dir.exists():  # a directory without its model: an interrupted or foreign entry
        shutil.rmtree(final_dir, ignore_errors=True)
    tmp_dir = final_dir.parent / f".{key}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir()
    try:
        notes = _export(model, example, tmp_dir / MODEL_FILE, opset)
        meta = {
            "cache_key": cache_key,
            "model_class": type(model).__qualname__,
            "input_shape": list(example.shape),
            "opset": opset,
            "torch": torch.__version__,
            "recipe": EXPORT_RECIPE,
        }
        (tmp_dir / "meta.json").write_text(json.dumps(meta, indent=1))
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            # Another process won the race; its file is equivalent (same key).
            if not final_path.is_file():
                raise
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return Export(final_path, cache_hit=False, export_s=time.perf_counter() - start, warnings=notes)
