"""measure(): validate the request, let a backend prepare the model, time it, fill in a Measurement.

Rule: user mistakes (bad device, backend, threads, shape) raise EffprofError with exit code 2
before any work; anything that goes wrong while exporting, compiling or running the model
raises EffprofError with exit code 1 and a one-line message, so a caller can record it as a
row's ``error`` and carry on with the next model.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from effprof.errors import EffprofError
from effprof.latency.allocator import prime_allocator
from effprof.latency.base import Prepared, backend_failure
from effprof.latency.contention import ThreadChoice
from effprof.latency.devices import (
    check_device,
    check_input_shape,
    check_model,
    example_input,
    thread_choice,
)
from effprof.latency.measurement import Measurement
from effprof.latency.registry import get_backend
from effprof.latency.timer import DEFAULT_BUDGET_S, DEFAULT_MIN_RUNS, time_runs, torch_threads

#: a timing budget beyond this is a typo (an hour of timing per model and backend), not a request
MAX_BUDGET_S = 3600.0


def check_budget(budget_s: float) -> None:
    """Raise unless ``budget_s`` is a finite number of seconds in (0, MAX_BUDGET_S] (inf would time forever)."""
    if isinstance(budget_s, bool) or not isinstance(budget_s, int | float) or not 0 < budget_s <= MAX_BUDGET_S:
        raise EffprofError(f"--budget-s {budget_s!r}: must be a number of seconds > 0 and <= {MAX_BUDGET_S:g}")


def _check_budget(budget_s: float, min_runs: int) -> None:
    check_budget(budget_s)
    if isinstance(min_runs, bool) or not isinstance(min_runs, int) or min_runs < 1:
        raise EffprofError(f"min_runs {min_runs!r}: must be a whole number >= 1")


def _filled(m: Measurement, prepared: Prepared, threads: ThreadChoice, shape: tuple[int, ...]) -> Measurement:
    """``m`` with what the backend and the thread policy know about it (setup, cache, parity, warnings)."""
    m.input_shape = shape
    m.setup_s = prepared.setup_s
    m.cache_hit = prepared.cache_hit
    m.artifact = prepared.artifact
    m.parity_max_abs_diff = prepared.parity_max_abs_diff
    m.threads_reason = threads.reason
    m.warnings = [*([threads.warning] if threads.warning else []), *prepared.warnings, *m.warnings]
    return m


def _timed(
    prepared: Prepared,
    *,
    backend: str,
    device: str,
    threads: ThreadChoice,
    input_shape: tuple[int, ...],
    budget_s: float,
    min_runs: int,
    what: object,
) -> Measurement:
    try:
        m = time_runs(
            prepared.run,
            sync=prepared.sync,
            backend=backend,
            device=device,
            threads=threads.threads,
            budget_s=budget_s,
            min_runs=min_runs,
        )
    except (EffprofError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - a model's sys.exit() is that model's failure, not ours
        raise backend_failure(backend, what, exc) from exc
    finally:
        prepared.close()
    return _filled(m, prepared, threads, input_shape)


def measure(
    model: nn.Module,
    input_shape: tuple[int, ...],
    backend: str = "eager",
    *,
    device: str = "cpu",
    threads: int | ThreadChoice | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    min_runs: int = DEFAULT_MIN_RUNS,
    cache_key: str | None = None,
) -> Measurement:
    """Latency of ``model`` on a random float32 input of ``input_shape`` with one backend.

    ``threads`` defaults to the thread policy (the usable cores other processes are not busy on,
    effprof.latency.contention.choose_threads); a ThreadChoice made once per run is used as is.
    ``cache_key`` names the model for the ONNX export cache (e.g. its spec string; the weights are
    hashed in as well). The model is put in eval mode (restored afterwards) and moved to ``device``.
    """
    device = check_device(device)
    impl = get_backend(backend)
    threads = thread_choice(threads)
    shape = check_input_shape(input_shape)
    _check_budget(budget_s, min_runs)
    check_model(model)

    prime_allocator()  # so a model's time does not depend on which model ran before it
    # Set threads before prepare too: Inductor bakes the thread count into compiled kernels.
    with torch_threads(threads.threads):
        try:
            example = example_input(shape, device)
            prepared = impl.prepare(model, example, device=device, threads=threads.threads, cache_key=cache_key)
        except (EffprofError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - a model's sys.exit() is that model's failure, not ours
            raise backend_failure(impl.name, model, exc) from exc
        return _timed(
            prepared,
            backend=impl.name,
            device=device,
            threads=threads,
            input_shape=shape,
            budget_s=budget_s,
            min_runs=min_runs,
            what=model,
        )


def measure_onnx_file(
    path: str | Path,
    input_shape: tuple[int, ...],
    *,
    device: str = "cpu",
    threads: int | ThreadChoice | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    min_runs: int = DEFAULT_MIN_RUNS,
) -> Measurement:
    """ONNX Runtime latency of an existing ``.onnx`` file on a random input of ``input_shape``.

    The backend is always "onnxruntime"; there is no eager model, so no parity.
    """
    from effprof.latency.onnxrt import prepare_onnx_file

    device = check_device(device)
    threads = thread_choice(threads)
    shape = check_input_shape(input_shape)
    _check_budget(budget_s, min_runs)
    with torch_threads(threads.threads):
        prepared = prepare_onnx_file(path, shape, device=device, threads=threads.threads)
        return _timed(
            prepared,
            backend="onnxruntime",
            device=device,
            threads=threads,
            input_shape=shape,
            budget_s=budget_s,
            min_runs=min_runs,
            what=Path(path).name,
        )


#: a model to time: an nn.Module (or the path of an .onnx file), its input shape, and its ONNX cache key
Target = tuple["nn.Module | str | Path", tuple[int, ...], "str | None"]
#: each slice of an interleaved timing runs at least this many blocks
SLICE_MIN_RUNS = 3


def _prepare(target: Target, backend: str, *, device: str, threads: int) -> Prepared:
    from effprof.latency.onnxrt import prepare_onnx_file

    model, shape, cache_key = target
    if isinstance(model, str | Path):
        if backend != "onnxruntime":
            raise EffprofError(f"an .onnx file runs on the onnxruntime backend only, not {backend}")
        return prepare_onnx_file(model, shape, device=device, threads=threads)
    impl = get_backend(backend)
    check_model(model)
    try:
        return impl.prepare(model, example_input(shape, device), device=device, threads=threads, cache_key=cache_key)
    except (EffprofError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - a model's sys.exit() is that model's failure, not ours
        raise backend_failure(impl.name, model, exc) from exc


def measure_paired(
    first: Target,
    second: Target,
    backend: str = "eager",
    *,
    device: str = "cpu",
    threads: int | ThreadChoice | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    slices: int = 10,
) -> tuple[Measurement, Measurement]:
    """Time two models in alternating slices (first, second, first, second, ...); a Measurement each.

    Rule: each model gets ``budget_s`` of timed runs, cut into ``slices`` slices; slice i of the first
    and slice i of the second are timed back to back, so whatever the machine does (a slow spell, a
    frequency change, a neighbour) hits both alike, and their ratio slice by slice cancels it. Only the
    first slice warms up fully; later ones run once untimed, to refill the caches the other model used.
    A slice is not re-timed when contended: it is marked (``slice_contended``) and the comparison leaves
    it out. Both results come from ``Measurement.merge`` over their slices.
    """
    device = check_device(device)
    get_backend(backend)
    threads = thread_choice(threads)
    _check_budget(budget_s, SLICE_MIN_RUNS)
    if isinstance(slices, bool) or not isinstance(slices, int) or slices < 1:
        raise EffprofError(f"slices {slices!r}: must be a whole number >= 1")
    targets = [(t[0], check_input_shape(t[1]), t[2]) for t in (first, second)]
    prime_allocator()
    with torch_threads(threads.threads):
        prepared: list[Prepared] = []
        try:
            for target in targets:
                prepared.append(_prepare(target, backend, device=device, threads=threads.threads))
            parts: list[list[Measurement]] = [[], []]
            for i in range(slices):
                warm = {} if i == 0 else {"warmup_runs": 1, "warmup_s": 0.0}
                for k, prep in enumerate(prepared):
                    try:
                        parts[k].append(time_runs(prep.run, sync=prep.sync, backend=backend, device=device,
                                                  threads=threads.threads, budget_s=budget_s / slices,
                                                  min_runs=SLICE_MIN_RUNS, retimes=0, **warm))  # fmt: skip
                    except (EffprofError, KeyboardInterrupt):
                        raise
                    except BaseException as exc:  # noqa: BLE001 - the model's failure, not ours
                        raise backend_failure(backend, targets[k][0], exc) from exc
        finally:
            for prep in prepared:
                prep.close()
    first_m, second_m = (_filled(Measurement.merge(p), prep, threads, t[1])
                         for p, prep, t in zip(parts, prepared, targets, strict=True))  # fmt: skip
    return first_m, second_m
