"""Export a PyTorch model to ONNX once, and find it on disk the next time.

Rule: one directory per export under ``<cache root>/onnx/<key>/model.onnx`` (plus any external
``.onnx.data``), where the key hashes everything the file depends on: the model's identity
(``cache_key`` or its repr), its weights, the input shape, the opset and the torch version.
Weights are in the key because the parity check compares the file against *this* model; a
model rebuilt with another random init (weights=None, unseeded) is a different export.

Trust rule: the key names what *should* be in an entry, a content hash says what *is*. Every
entry carries ``checksum.json``, the sha256 of each file it holds, written when the entry is made;
a cache hit re-hashes the files and an entry whose files are missing, changed (another model
copied over ``model.onnx``, a truncated or random file) or lack a readable sidecar is exported
again, with a warning on the measurement. When the cache directory cannot be written, the export
goes to a temporary directory that is removed afterwards (``Export.cleanup``), also with a warning.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
import uuid
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

DEFAULT_OPSET = 17
MODEL_FILE = "model.onnx"
CHECKSUM_FILE = "checksum.json"
META_FILE = "meta.json"
# Bumped when the way effprof exports changes, so old cache entries are not reused.
# v2: entries carry checksum.json (v1 entries have none and would all be "rebuilt" with a warning).
EXPORT_RECIPE = "legacy-v2"
REBUILT_CHECKSUM = "rebuilt the ONNX export: cached file failed its checksum"


@dataclass
class Export:
    """Where an export lives and how it was obtained."""

    path: Path
    cache_hit: bool
    export_s: float
    warnings: list[str] = field(default_factory=list)
    #: the directory to delete once the file has been loaded, when it lives outside the cache
    temporary_dir: Path | None = None

    def cleanup(self) -> None:
        """Remove a temporary (uncached) export; a cached one stays. Safe to call twice."""
        if self.temporary_dir is not None:
            shutil.rmtree(self.temporary_dir, ignore_errors=True)
            self.temporary_dir = None


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
    return [f"onnx export traced with a warning{more}: {_first_sentence(tracer[0])}"]


def _first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of a tracer warning (the rest is advice), never cut mid-word."""
    sentence = text.split(". ")[0].rstrip(".") + "."
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0] + " ..."


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _payload(entry: Path) -> list[Path]:
    """The files an export consists of: the model and any external data, not effprof's sidecars."""
    return sorted(p for p in entry.iterdir() if p.is_file() and p.name not in (CHECKSUM_FILE, META_FILE))


def _write_json_atomic(path: Path, data: dict) -> None:
    # Write beside the target, then rename: a reader sees the old file or the whole new one.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_checksums(entry: Path) -> dict[str, str]:
    """Record the sha256 of every payload file of ``entry`` in its ``checksum.json``."""
    sums = {p.name: _sha256(p) for p in _payload(entry)}
    _write_json_atomic(entry / CHECKSUM_FILE, {"algorithm": "sha256", "files": sums})
    return sums


def checksum_ok(entry: Path) -> bool:
    """Whether ``entry`` holds exactly the files its ``checksum.json`` lists, with those sha256s.

    A missing or unreadable sidecar is a failure too: nothing vouches for the file then.
    """
    try:
        recorded = json.loads((entry / CHECKSUM_FILE).read_text())["files"]
        if not isinstance(recorded, dict) or MODEL_FILE not in recorded:
            return False
        files = _payload(entry)
        return {p.name for p in files} == set(recorded) and all(_sha256(p) == recorded[p.name] for p in files)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _meta(model: nn.Module, example: torch.Tensor, cache_key: str | None, opset: int) -> dict:
    return {
        "cache_key": cache_key,
        "model_class": type(model).__qualname__,
        "input_shape": list(example.shape),
        "opset": opset,
        "torch": torch.__version__,
        "recipe": EXPORT_RECIPE,
    }


def _export_uncached(
    model: nn.Module, example: torch.Tensor, opset: int, start: float, why: OSError, notes: list[str]
) -> Export:
    """Export into a fresh temporary directory: the run goes on without the cache."""
    tmp_dir = Path(tempfile.mkdtemp(prefix="effprof-onnx-"))
    try:
        notes = [*notes, *_export(model, example, tmp_dir / MODEL_FILE, opset)]
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    reason = f"{type(why).__name__}: {why.strerror or why}" if isinstance(why, OSError) else str(why)
    notes.append(
        f"ONNX cache directory {onnx_cache_dir()} is not writable ({reason}): "
        "exported to a temporary directory and ran without the cache"
    )
    export = Export(
        tmp_dir / MODEL_FILE, cache_hit=False, export_s=time.perf_counter() - start, warnings=notes
    )
    export.temporary_dir = tmp_dir
    # Callers that never call cleanup() (per-layer timing) still leave nothing behind.
    weakref.finalize(export, shutil.rmtree, tmp_dir, True)
    return export


def export_onnx(
    model: nn.Module,
    example: torch.Tensor,
    *,
    cache_key: str | None = None,
    opset: int = DEFAULT_OPSET,
    rebuild_reason: str | None = None,
) -> Export:
    """The ONNX file for ``model`` on inputs shaped like ``example``: from the cache, else exported now.

    A cached entry is used only when its files match their recorded sha256 (see the module's trust
    rule); otherwise it is exported again and the returned warnings say so. ``rebuild_reason``
    forces a fresh export of an entry that passed its checksum but failed later (onnxruntime could
    not load it, or its outputs disagree with the model), and is kept as a warning. The export is
    written to a private temporary directory and renamed into place, so concurrent processes never
    see a half-written file. An unwritable cache means an uncached export in a temporary directory.
    """
    start = time.perf_counter()
    key = export_key(model, tuple(example.shape), cache_key=cache_key, opset=opset)
    final_dir = onnx_cache_dir() / key
    final_path = final_dir / MODEL_FILE
    notes: list[str] = []
    if rebuild_reason is not None:
        notes.append(rebuild_reason)
    elif final_dir.is_dir():
        if checksum_ok(final_dir):
            return Export(final_path, cache_hit=True, export_s=time.perf_counter() - start)
        if final_path.exists():  # a directory without its model is an interrupted entry, not a bad one
            notes.append(REBUILT_CHECKSUM)

    try:
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        if final_dir.exists() or final_dir.is_symlink():  # a stale, foreign or failed entry
            if final_dir.is_dir() and not final_dir.is_symlink():
                shutil.rmtree(final_dir)
            else:
                final_dir.unlink()
        tmp_dir = final_dir.parent / f".{key}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp_dir.mkdir()
    except OSError as exc:  # read-only, a file where a directory should be, no space...
        return _export_uncached(model, example, opset, start, exc, notes)
    try:
        notes += _export(model, example, tmp_dir / MODEL_FILE, opset)
        (tmp_dir / META_FILE).write_text(json.dumps(_meta(model, example, cache_key, opset), indent=1))
        write_checksums(tmp_dir)
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            # Another process won the race; its entry is equivalent (same key) if it checks out.
            if not checksum_ok(final_dir):
                raise
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return Export(final_path, cache_hit=False, export_s=time.perf_counter() - start, warnings=notes)
