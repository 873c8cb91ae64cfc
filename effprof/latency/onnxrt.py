"""The onnxruntime backend: export to ONNX (cached), run in an ONNX Runtime session.

Rule: CPUExecutionProvider, or CUDAExecutionProvider for ``--device cuda``; intra-op threads =
the requested thread count; the eager output is compared with ONNX Runtime's on the same input
(``parity_max_abs_diff``) and a file that disagrees is never timed: different output shapes or a
difference over ``PARITY_TOLERANCE`` x max(1, max |eager output|) is an error (exit code 1, that
backend's error row). A cached export that onnxruntime cannot load or that fails parity is
exported once more (with a warning) before either counts as a failure. Existing ``.onnx`` files
are measured as they are.
"""

from __future__ import annotations

import os

# Before onnxruntime is imported: otherwise it writes telemetry files under the user's home.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from effprof.errors import EffprofError  # noqa: E402
from effprof.latency.base import Prepared, one_line  # noqa: E402
from effprof.latency.devices import sync_for  # noqa: E402
from effprof.latency.onnx_export import DEFAULT_OPSET, Export, export_onnx  # noqa: E402

# Parity beyond this (relative to the output's magnitude, at least 1) means the export is not
# faithful; float32 reordering differences stay orders of magnitude below it (~1e-6 on a tiny net).
PARITY_TOLERANCE = 1e-3

_NUMPY_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(bool)": np.bool_,
}


def providers_for(device: str) -> list[str]:
    """The execution providers for ``device``; raises if ONNX Runtime here cannot use it."""
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise EffprofError(
                f"--device {device}: this onnxruntime has no CUDAExecutionProvider "
                f"(available: {', '.join(ort.get_available_providers())}); "
                "install onnxruntime-gpu or use --device cpu"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _device_index(device: str) -> int:
    return int(device.split(":")[1]) if ":" in device else 0


def session_options(threads: int, *, profile_prefix: str | None = None) -> ort.SessionOptions:
    """Session options: ``threads`` intra-op threads, sequential execution, quiet logs."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if profile_prefix is not None:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return so


def create_session(
    path: str | Path, *, device: str, threads: int, profile_prefix: str | None = None
) -> ort.InferenceSession:
    """An InferenceSession on ``path`` for ``device``."""
    options = session_options(threads, profile_prefix=profile_prefix)
    providers: list[Any] = providers_for(device)
    if device.startswith("cuda"):
        providers = [("CUDAExecutionProvider", {"device_id": _device_index(device)}), "CPUExecutionProvider"]
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)


def _check_single_input(session: ort.InferenceSession, where: str) -> Any:
    inputs = session.get_inputs()
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs)
        raise EffprofError(
            f"{where}: has {len(inputs)} inputs ({names}); effprof measures models with exactly one input",
            exit_code=1,
        )
    return inputs[0]


def _check_shape(declared: Sequence[Any], shape: tuple[int, ...], name: str, where: str) -> None:
    """Raise if a fixed dimension of the declared input shape disagrees with ``shape``."""
    fixed_mismatch = len(declared) != len(shape) or any(
        isinstance(d, int) and d > 0 and d != s for d, s in zip(declared, shape, strict=False)
    )
    if fixed_mismatch:
        shown = "[" + ", ".join(str(d) if isinstance(d, int) else "?" for d in declared) + "]"
        raise EffprofError(
            f"{where}: input '{name}' has shape {shown}, asked for {list(shape)}; "
            "pick a batch and resolution that match it",
            exit_code=1,
        )


def _feed(dtype_name: str, shape: tuple[int, ...], example: torch.Tensor | None) -> np.ndarray:
    dtype = _NUMPY_DTYPES.get(dtype_name)
    if dtype is None:
        raise EffprofError(
            f"input type {dtype_name} is not supported; effprof feeds float or int tensors", exit_code=1
        )
    if example is not None:
        return example.detach().cpu().numpy().astype(dtype, copy=False)
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(shape).astype(dtype)
    return np.zeros(shape, dtype=dtype)


def runner_for(session: ort.InferenceSession, feed: np.ndarray, *, device: str) -> tuple[Any, Any]:
    """(run, sync) for one session and one input.

    On CUDA the input and outputs are bound on the GPU (IO binding), so the timing is the
    model's, not that of host-device copies; eager's input lives on the GPU too.
    """
    input_name = session.get_inputs()[0].name
    if not device.startswith("cuda"):
        feeds = {input_name: feed}
        return (lambda: session.run(None, feeds)), (lambda: None)
    index = _device_index(device)
    binding = session.io_binding()
    binding.bind_ortvalue_input(input_name, ort.OrtValue.ortvalue_from_numpy(feed, "cuda", index))
    for out in session.get_outputs():
        binding.bind_output(out.name, "cuda", index)
    return (lambda: session.run_with_iobinding(binding)), sync_for(device)


def _flatten_outputs(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for item in out for t in _flatten_outputs(item)]
    return []


class ParityError(EffprofError):
    """ONNX Runtime's outputs are not the model's: the export is not the requested model."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=1)


def parity(model: nn.Module, example: torch.Tensor, session: ort.InferenceSession) -> float:
    """Max |eager - onnxruntime| over all outputs on ``example``.

    Raises ParityError when the outputs differ in number or shape, or by more than
    ``PARITY_TOLERANCE`` x max(1, max |eager output|) (NaN or infinity included).
    """
    with torch.inference_mode():
        expected = [t.detach().float().cpu().numpy() for t in _flatten_outputs(model(example))]
    got = session.run(None, {session.get_inputs()[0].name: example.detach().cpu().numpy()})
    if len(expected) != len(got):
        raise ParityError(
            f"onnxruntime gives {len(got)} outputs, the model {len(expected)}: the ONNX file is not this model"
        )
    diff = 0.0
    scale = 1.0
    for e, g in zip(expected, got, strict=True):
        if e.shape != np.shape(g):
            raise ParityError(
                f"onnxruntime output shape {list(np.shape(g))} differs from the model's {list(e.shape)}: "
                "the ONNX file is not this model"
            )
        if e.size:
            diff = max(diff, float(np.max(np.abs(e - np.asarray(g, dtype=np.float32)))))
            scale = max(scale, float(np.max(np.abs(e))))
    tolerance = PARITY_TOLERANCE * scale
    if not np.isfinite(diff) or diff > tolerance:
        raise ParityError(
            f"onnxruntime output differs from eager by up to {diff:.3g} (max abs), over the tolerance "
            f"{tolerance:.3g} ({PARITY_TOLERANCE:g} x max(1, max |output|)): the export is not faithful"
        )
    return diff


def _load_checked(
    export: Export, model: nn.Module, x: torch.Tensor, *, device: str, threads: int
) -> tuple[ort.InferenceSession, float]:
    """A session on the export, after its outputs were checked against the model's."""
    session = create_session(export.path, device=device, threads=threads)
    return session, parity(model, x, session)


def _model_device(model: nn.Module) -> torch.device:
    for tensor in [*model.parameters(), *model.buffers()]:
        return tensor.device
    return torch.device("cpu")


class OnnxRuntimeBackend:
    """Rule: export (cached) with the legacy exporter at ``DEFAULT_OPSET``, then an ORT session."""

    name = "onnxruntime"

    def __init__(self, opset: int = DEFAULT_OPSET) -> None:
        self.opset = opset

    def check_device(self, device: str) -> None:
        """Raise unless this onnxruntime has an execution provider for ``device``."""
        providers_for(device)

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        *,
        device: str,
        threads: int,
        cache_key: str | None = None,
    ) -> Prepared:
        start = time.perf_counter()
        providers_for(device)  # fail on a missing CUDA provider before paying for an export
        was_training = model.training
        model.eval()
        try:
            x = example.to(_model_device(model))
            export = export_onnx(model, x, cache_key=cache_key, opset=self.opset)
            try:
                session, diff = _load_checked(export, model, x, device=device, threads=threads)
            except Exception as exc:
                export.cleanup()
                if not export.cache_hit:
                    raise
                # The entry passed its checksum yet fails: a forged sidecar or an exporter bug
                # fixed since. Export once more; a second failure is the model's, reported as is.
                what = "fails parity" if isinstance(exc, ParityError) else "cannot be loaded by onnxruntime"
                export = export_onnx(
                    model,
                    x,
                    cache_key=cache_key,
                    opset=self.opset,
                    rebuild_reason=f"rebuilt the ONNX export: cached file {what} ({one_line(exc, 160)})",
                )
                try:
                    session, diff = _load_checked(export, model, x, device=device, threads=threads)
                except Exception:
                    export.cleanup()
                    raise
        finally:
            model.train(was_training)
        feed = x.detach().cpu().numpy()
        run, sync = runner_for(session, feed, device=device)
        return Prepared(
            run=run,
            sync=sync,
            setup_s=time.perf_counter() - start,
            cache_hit=export.cache_hit,
            artifact=str(export.path),
            parity_max_abs_diff=diff,
            warnings=list(export.warnings),
            # An uncached export lives in a temporary directory until the timing is done.
            close=export.cleanup,
        )


def prepare_onnx_file(
    path: str | Path, input_shape: tuple[int, ...], *, device: str, threads: int
) -> Prepared:
    """A session on an existing ``.onnx`` file, fed a random input of ``input_shape``."""
    start = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise EffprofError(f"{path}: no such ONNX file; give the path to an existing .onnx file")
    try:
        session = create_session(path, device=device, threads=threads)
    except EffprofError:
        raise
    except Exception as exc:
        raise EffprofError(f"{path}: onnxruntime cannot load it: {one_line(exc)}", exit_code=1) from exc
    inp = _check_single_input(session, str(path))
    _check_shape(inp.shape, input_shape, inp.name, str(path))
    feed = _feed(inp.type, input_shape, None)
    run, sync = runner_for(session, feed, device=device)
    return Prepared(run=run, sync=sync, setup_s=time.perf_counter() - start, artifact=str(path))


def onnx_file_input_shape(path: str | Path) -> tuple[int | None, ...]:
    """The declared shape of an ONNX file's single input; ``None`` for dynamic dimensions."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise EffprofError(
            f"{path}: has {len(inputs)} inputs; effprof measures models with exactly one input", exit_code=1
        )
    dims = inputs[0].type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
