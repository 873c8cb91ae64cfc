"""One measured training step -- forward, cross-entropy loss, backward, optimizer step -- and its peak memory.

Timing rule: the step is a zero-argument "run once" handed to the shared timing loop
(effprof.latency.timer.time_runs), like every inference backend: warm-up (the first steps also
create the optimizer state), blocks, contention watch and re-timing, threads set and restored,
``sync`` inside the timed region on CUDA. The model is in train mode (batch norm uses batch
statistics and updates its running ones, dropout is on), the head replaced and the layers frozen
as effprof.models.freeze says; the optimizer holds only the trainable parameters:

- ``sgd``: SGD with momentum 0.9 (one momentum buffer per trainable parameter);
- ``adamw``: AdamW (two buffers: exp_avg, exp_avg_sq).

Backends: ``eager``; ``compile`` (``torch.compile`` of the model: forward and, through AOTAutograd,
backward are compiled; the optimizer step stays eager), compilation done in setup and reported as
``setup_s``. Devices: cpu, cuda.

Peak memory of one step (after warm-up, gradients set to None before it):

- CUDA: ``torch.cuda.max_memory_allocated()`` over the step, minus what was allocated before the
  model moved to the device: params + grads + optimizer state + activations + workspace;
- CPU: the allocator's events recorded by ``torch.profiler`` (``profile_memory=True``): every
  allocation and free in time order; the peak of their running sum, plus the bytes alive when the
  step starts (params, optimizer state, input batch). Allocations oneDNN makes outside PyTorch's
  allocator are not seen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from effprof.errors import EffprofError
from effprof.latency.allocator import prime_allocator
from effprof.latency.base import backend_failure
from effprof.latency.contention import ThreadChoice
from effprof.latency.devices import check_device, check_input_shape, example_input, sync_for, thread_choice
from effprof.latency.measurement import Measurement
from effprof.latency.per_layer import RANGE_PREFIX, record_range
from effprof.latency.timer import DEFAULT_BUDGET_S, time_runs, torch_threads
from effprof.models.freeze import TrainingSetup, setup_training

OPTIMIZERS = ("sgd", "adamw")
#: the profiler ranges a step's loss and optimizer step run in (effprof.latency.training_layers reads them)
LOSS_RANGE = RANGE_PREFIX + "(loss)"
OPTIMIZER_RANGE = RANGE_PREFIX + "(optimizer)"
TRAIN_BACKENDS = ("eager", "compile")


def parse_optimizers(spec: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"sgd,adamw"`` -> ("sgd", "adamw"); an unknown name is one line naming the valid ones."""
    names = [n.strip().lower() for n in (spec.split(",") if isinstance(spec, str) else spec or ()) if n.strip()]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown or not names:
        raise EffprofError(f"--optimizer {', '.join(unknown) or '(none)'}: use a comma-separated list of {', '.join(OPTIMIZERS)}")
    return tuple(dict.fromkeys(names))


def check_train_backend(backend: str) -> str:
    if backend not in TRAIN_BACKENDS:
        raise EffprofError(f"a training step runs on {' or '.join(TRAIN_BACKENDS)}, not {backend!r}")
    return backend


def logits_of(out: object) -> torch.Tensor:
    """The logits the loss is taken on: the output itself, or the main logits of a model that returns
    more in train mode (torchvision's Inception v3 / GoogLeNet ``.logits`` beside their auxiliary
    heads, a ``{"logits": ...}`` dict, else a tuple's first item). Auxiliary outputs get no loss."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(getattr(out, "logits", None), torch.Tensor):
        return out.logits
    if isinstance(out, dict) and isinstance(out.get("logits"), torch.Tensor):
        return out["logits"]
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise EffprofError(f"the model returned {type(out).__name__}, not logits: no loss to take a training step on")


def make_optimizer(name: str, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    """SGD(lr=0.01, momentum=0.9) or AdamW(lr=1e-3): the usual fine-tuning defaults."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=1e-3)
    raise EffprofError(f"--optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")


@dataclass
class TrainingStep:
    """A timed training step and its measured peak memory."""

    optimizer: str
    measurement: Measurement
    setup: TrainingSetup
    peak_bytes: int | None
    peak_method: str

    @property
    def step_ms(self) -> float:
        return self.measurement.median_ms


def _bytes(tensors) -> int:
    seen: dict[int, int] = {}
    for t in tensors:
        if isinstance(t, torch.Tensor):
            s = t.untyped_storage()
            seen[s.data_ptr()] = s.nbytes()
    return sum(seen.values())


def _optimizer_tensors(opt: torch.optim.Optimizer):
    for state in opt.state.values():
        yield from (v for v in state.values() if isinstance(v, torch.Tensor) and v.dim() > 0)


def _cpu_peak(step_body, alive: int) -> int:
    """Peak bytes of one step on CPU from the profiler's allocator events, plus ``alive`` at the start."""
    from torch.profiler import ProfilerActivity, profile  # lazy: loaded only when a CPU peak is measured

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step_body()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_ns())
    running, peak = 0, 0
    for e in events:
        if e.device_type() == torch.autograd.DeviceType.CPU:
            running += e.nbytes()
            peak = max(peak, running)
    return alive + peak


CUDA_PEAK = "torch.cuda.max_memory_allocated"
CPU_PEAK = "torch.profiler allocator events (profile_memory=True)"


def measured_peak(body, *, device: str, base_allocated: int, alive: list) -> tuple[int, str]:
    """Peak bytes while ``body`` runs once, and how they were measured: on CUDA
    ``max_memory_allocated`` minus ``base_allocated`` (what was there before the model moved); on CPU
    the profiler's allocator events plus the bytes of ``alive`` (tensors already held)."""
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
        body()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base_allocated, CUDA_PEAK
    return _cpu_peak(body, _bytes(alive)), CPU_PEAK


def _allocated(device: str) -> int:
    """Bytes the CUDA allocator holds now (0 on CPU), synchronised: the base a peak is measured from."""
    if not device.startswith("cuda"):
        return 0
    torch.cuda.synchronize(device)
    return torch.cuda.memory_allocated(device)


def step_body(forward, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor):
    """One training step's work after the gradients are cleared: forward, cross-entropy on the main
    logits, backward, optimizer step. The loss and the optimizer's step run in ``effprof::(loss)`` and
    ``effprof::(optimizer)`` profiler ranges, so a profiled step can tell them from the model's layers."""

    def body() -> None:
        out = forward(x)
        with record_range(LOSS_RANGE):
            loss = F.cross_entropy(logits_of(out), y)
        loss.backward()
        with record_range(OPTIMIZER_RANGE):
            opt.step()

    return body


def measure_inference_peak(model: nn.Module, input_shape: tuple[int, ...], *, device: str = "cpu") -> tuple[int, str]:
    """Peak bytes of one inference forward (no autograd) and how they were measured.

    Params, buffers and the input, plus the forward's own peak of live activations: on CUDA
    ``max_memory_allocated`` minus what was allocated before the model moved; on CPU the profiler's
    allocator events, as for a training step. A failure is EffprofError(exit_code=1).
    """
    device = check_device(device)
    shape = check_input_shape(input_shape)
    try:
        base = _allocated(device)
        model.to(device).eval()
        x = example_input(shape, device)
        with torch.inference_mode():
            return measured_peak(lambda: model(x), device=device, base_allocated=base,
                                 alive=[*model.parameters(), *model.buffers(), x])  # fmt: skip
    except (EffprofError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - the model's failure, recorded on its row
        raise backend_failure("eager inference (peak memory)", model, exc) from exc


def measure_training_step(
    model: nn.Module,
    input_shape: tuple[int, ...],
    *,
    freeze: str = "none",
    num_classes: int | None = None,
    optimizer: str = "sgd",
    backend: str = "eager",
    device: str = "cpu",
    threads: int | ThreadChoice | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    memory: bool = True,
) -> TrainingStep:
    """Time one training step of ``model`` (changed in place: head, freezing, device, train mode).

    A failure while compiling or running is EffprofError(exit_code=1) naming the backend, so a
    caller can record it and go on.
    """
    device = check_device(device)
    check_train_backend(backend)
    shape = check_input_shape(input_shape)
    choice = thread_choice(threads)
    setup = setup_training(model, freeze, num_classes)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise EffprofError(f"freeze {freeze!r} leaves nothing to train on {type(model).__name__}: no step to time")
    prime_allocator()
    base_allocated = _allocated(device)
    with torch_threads(choice.threads):
        start = time.perf_counter()
        try:
            model.to(device).train()
            opt = make_optimizer(optimizer, trainable)
            x = example_input(shape, device)
            y = torch.zeros(shape[0], dtype=torch.long, device=device)
            forward = model
            if backend == "compile":
                torch._dynamo.reset()
                forward = torch.compile(model)

            body = step_body(forward, opt, x, y)

            def step() -> None:
                opt.zero_grad(set_to_none=True)
                body()

            sync = sync_for(device)
            step()  # compilation (compile), optimizer state created
            sync()
            setup_s = time.perf_counter() - start
            m = time_runs(step, sync=sync, backend=backend, device=device, threads=choice.threads, budget_s=budget_s)
            peak, method = None, ""
            if memory:
                opt.zero_grad(set_to_none=True)
                sync()
                peak, method = measured_peak(body, device=device, base_allocated=base_allocated,
                                             alive=[*model.parameters(), *model.buffers(), *_optimizer_tensors(opt),
                                                    x, y])  # fmt: skip
        except (EffprofError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - the model's failure, recorded on its row
            raise backend_failure(f"{backend} training", model, exc) from exc
    m.input_shape = shape
    m.setup_s = setup_s
    m.threads_reason = choice.reason
    if choice.warning:
        m.warnings.insert(0, choice.warning)
    return TrainingStep(optimizer, m, setup, peak, method)
