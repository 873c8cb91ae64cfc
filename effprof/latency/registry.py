"""Backend names and their implementations.

Rule: names are resolved here and only here; implementations are imported on first use, so
``import effprof.latency`` does not pay for onnxruntime or Inductor.
"""

from __future__ import annotations

from collections.abc import Iterable

from effprof.errors import EffprofError
from effprof.latency.base import Backend

KNOWN_BACKENDS: tuple[str, ...] = ("eager", "compile", "onnxruntime")

_instances: dict[str, Backend] = {}


def _unknown(name: str) -> EffprofError:
    return EffprofError(f"--backend {name}: unknown backend; use one of {', '.join(KNOWN_BACKENDS)}")


def get_backend(name: str) -> Backend:
    """The Backend for ``name`` (one of KNOWN_BACKENDS)."""
    name = name.strip().lower()
    if name not in KNOWN_BACKENDS:
        raise _unknown(name)
    if name not in _instances:
        if name == "eager":
            from effprof.latency.eager import EagerBackend

            _instances[name] = EagerBackend()
        elif name == "compile":
            from effprof.latency.compiled import CompileBackend

            _instances[name] = CompileBackend()
        else:
            from effprof.latency.onnxrt import OnnxRuntimeBackend

            _instances[name] = OnnxRuntimeBackend()
    return _instances[name]


def check_backends_on(names: Iterable[str], device: str) -> None:
    """Raise (exit 2) if a backend cannot run on ``device`` here, before any model is built or timed.

    A backend says so through an optional ``check_device(device)``: ONNX Runtime needs a
    CUDAExecutionProvider for ``--device cuda``, which only onnxruntime-gpu has.
    """
    for name in names:
        check = getattr(get_backend(name), "check_device", None)
        if check is not None:
            check(device)


def parse_backends(spec: str | Iterable[str]) -> list[str]:
    """``"eager,onnxruntime"`` (or a list of names) -> ``["eager", "onnxruntime"]``, in order, no repeats."""
    parts = spec.split(",") if isinstance(spec, str) else [p for item in spec for p in str(item).split(",")]
    names: list[str] = []
    for part in parts:
        name = part.strip().lower()
        if not name:
            continue
        if name not in KNOWN_BACKENDS:
            raise _unknown(name)
        if name not in names:
            names.append(name)
    if not names:
        raise EffprofError(f"--backend: no backend given; use one or more of {', '.join(KNOWN_BACKENDS)}")
    return names
