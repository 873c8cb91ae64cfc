import os

import pytest

# effprof first: it makes torchvision importable beside a CPU-only torch (effprof/_compat.py).
import effprof  # noqa: F401

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


@pytest.fixture(autouse=True, scope="session")
def quiet_machine():
    """Tests check arithmetic, rows and verdicts, not the runner's load: pretend a quiet machine.

    On a busy CI runner the real detector would (rightly) re-time contended timings after waiting
    for quiet, sample the load before choosing threads, and flag rows, making tests slow and their
    warnings depend on the runner. The probe below reads no load at all (others unknown, never
    contended) and does not sleep. Tests of the detector itself (tests/latency/test_contention.py)
    pass their own scripted probes, and mark ``real_probe`` to exercise the real one. Session-wide,
    so module-scoped fixtures that time things see the quiet probe too.
    """
    from effprof.latency import contention

    quiet = contention.CpuProbe(read_stat=lambda: None, sleep=lambda s: None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(contention, "PROBE", quiet)
        yield


@pytest.fixture(autouse=True)
def real_probe(request, monkeypatch):
    """Tests marked ``real_probe`` read the real machine's load."""
    if request.node.get_closest_marker("real_probe"):
        from effprof.latency import contention

        monkeypatch.setattr(contention, "PROBE", contention.CpuProbe())


@pytest.fixture
def busy_machine(monkeypatch):
    """Make the machine look busy: ``busy_machine(cores)`` installs a probe where others keep ``cores`` busy.

    Every clock reading moves fake time 1 s and the busy ticks with it; sleeping takes no real time.
    Returns the probe it installed.
    """
    from effprof.latency import contention

    def install(cores: float, usable: int = 2) -> contention.CpuProbe:
        state = {"t": 0.0}

        def clock() -> float:
            state["t"] += 1.0
            return state["t"]

        def sleep(seconds: float) -> None:
            state["t"] += seconds

        probe = contention.CpuProbe(read_stat=lambda: f"cpu  {round(state['t'] * cores * 100)} 0 0 0 0 0 0 0\n",
                                    self_cpu_s=lambda: 0.0, clock=clock, sleep=sleep,
                                    usable_cores=lambda: usable, ticks_per_s=100.0)  # fmt: skip
        monkeypatch.setattr(contention, "PROBE", probe)
        return probe

    return install
