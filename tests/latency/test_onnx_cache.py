"""The ONNX export cache is verified, not trusted: sha256 sidecar, rebuilds, parity errors, no-cache fallback.

Every test gets its own EFFPROF_CACHE_DIR (conftest's autouse ``onnx_cache``); models are the tiny conv net.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from latency_helpers import FAST, TINY_SHAPE, make_tiny
from torch import nn

from effprof.errors import EffprofError
from effprof.latency import measure
from effprof.latency.onnx_export import CHECKSUM_FILE, REBUILT_CHECKSUM, checksum_ok, export_onnx
from effprof.latency.onnxrt import PARITY_TOLERANCE, ParityError, parity

ORT = {"threads": 1, "cache_key": "tiny", **FAST}


def _ort(model: nn.Module, **kwargs):
    return measure(model, TINY_SHAPE, "onnxruntime", **{**ORT, **kwargs})


def _entry_warnings(m) -> list[str]:
    # Timing-quality notes ("spread too large") depend on the machine's load; keep the export's.
    return [w for w in m.warnings if "ONNX" in w or "onnx" in w]


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_export_records_sha256_of_its_file_in_a_sidecar(tiny):
    m = _ort(tiny)
    entry = Path(m.artifact).parent
    sidecar = json.loads((entry / CHECKSUM_FILE).read_text())
    assert sidecar["files"] == {"model.onnx": _sha256(m.artifact)}
    # written atomically: no temporary file is left beside it
    assert sorted(p.name for p in entry.iterdir()) == ["checksum.json", "meta.json", "model.onnx"]
    again = _ort(tiny)
    assert again.cache_hit is True and again.artifact == m.artifact and _entry_warnings(again) == []


def _other_model_file() -> Path:
    # The same architecture with other weights: same output shape, other numbers.
    other = export_onnx(make_tiny(seed=1).eval(), torch.zeros(TINY_SHAPE), cache_key="other")
    return other.path


@pytest.mark.parametrize("damage", ["other_model", "truncated", "random_bytes", "no_sidecar", "extra_file"])
def test_damaged_entry_is_rebuilt_with_a_warning(tiny, damage):
    first = _ort(tiny)
    path = Path(first.artifact)
    if damage == "other_model":
        shutil.copyfile(_other_model_file(), path)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "random_bytes":
        path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))
    elif damage == "no_sidecar":
        (path.parent / CHECKSUM_FILE).unlink()
    else:
        (path.parent / "model.onnx.data").write_bytes(b"planted")
    assert not checksum_ok(path.parent)

    rebuilt = _ort(tiny)
    assert rebuilt.cache_hit is False and rebuilt.artifact == first.artifact
    assert _entry_warnings(rebuilt) == [REBUILT_CHECKSUM]
    assert rebuilt.parity_max_abs_diff is not None and rebuilt.parity_max_abs_diff <= 1e-4
    assert json.loads((path.parent / CHECKSUM_FILE).read_text())["files"] == {"model.onnx": _sha256(path)}
    # the rebuilt entry is trusted again: the next run is a plain hit
    third = _ort(tiny)
    assert third.cache_hit is True and _entry_warnings(third) == []


def test_whole_entry_of_another_model_fails_parity_and_is_rebuilt(tiny):
    """A forged entry (another model's file *and* its matching sidecar) passes the checksum: parity catches it."""
    entry = Path(_ort(tiny).artifact).parent
    shutil.rmtree(entry)
    shutil.copytree(_other_model_file().parent, entry)
    assert checksum_ok(entry)

    rebuilt = _ort(tiny)
    assert rebuilt.cache_hit is False
    [note] = _entry_warnings(rebuilt)
    assert note.startswith(
        "rebuilt the ONNX export: cached file fails parity (ParityError: onnxruntime output"
    )
    assert rebuilt.parity_max_abs_diff <= 1e-4


class _TracedDifferently(nn.Module):
    """Eager and the traced (exported) graph compute different things: the export is not this model."""

    def __init__(self, change_shape: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.change_shape = change_shape

    def forward(self, x):
        y = self.conv(x)
        if torch.jit.is_tracing():
            return y.flatten(1) if self.change_shape else y + 1.0
        return y


@pytest.mark.parametrize(
    ("change_shape", "message"),
    [(False, "over the tolerance"), (True, "output shape [1, 3600] differs from the model's [1, 4, 30, 30]")],
)
def test_parity_failure_is_an_error_not_a_note(change_shape, message):
    with pytest.raises(EffprofError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        _ort(_TracedDifferently(change_shape), cache_key=None)
    assert err.value.exit_code == 1
    assert "\n" not in str(err.value)


def test_parity_tolerance_is_relative_to_the_output_magnitude(tiny):
    """diff <= PARITY_TOLERANCE x max(1, max|out|) passes; over it raises: checked on a real session."""
    x = torch.randn(TINY_SHAPE)
    export = export_onnx(tiny.eval(), x, cache_key="tiny")
    session = ort.InferenceSession(str(export.path), providers=["CPUExecutionProvider"])
    assert parity(tiny, x, session) <= 1e-4

    class Shifted(nn.Module):
        def __init__(self, shift: float) -> None:
            super().__init__()
            self.inner, self.shift = tiny, shift

        def forward(self, x):
            return self.inner(x) + self.shift

    with torch.no_grad():
        scale = max(1.0, float(tiny(x).abs().max()))
    assert parity(Shifted(0.5 * PARITY_TOLERANCE * scale), x, session) == pytest.approx(
        0.5 * PARITY_TOLERANCE * scale, rel=1e-2
    )
    with pytest.raises(ParityError, match="over the tolerance"):
        parity(Shifted(2 * PARITY_TOLERANCE * scale), x, session)


@pytest.mark.parametrize("where", ["under_a_file", "is_a_file"])
def test_unwritable_cache_exports_to_a_temporary_directory(tiny, tmp_path, monkeypatch, where):
    # We run as root: a chmod'ed directory stays writable, a path through a regular file never is.
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a regular file")
    monkeypatch.setenv("EFFPROF_CACHE_DIR", str(blocker / "cache" if where == "under_a_file" else blocker))
    m = _ort(tiny)
    assert m.cache_hit is False and m.parity_max_abs_diff <= 1e-4 and m.runs >= FAST["min_runs"]
    [note] = _entry_warnings(m)
    assert "is not writable (NotADirectoryError" in note
    assert note.endswith("exported to a temporary directory and ran without the cache")
    assert not Path(m.artifact).exists()  # the temporary export is removed once timed
    assert blocker.read_text() == "a regular file"
