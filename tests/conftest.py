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
