"""Synthetic paired timings for the claims tests."""

from effprof.counters.analytic import count_analytic
from effprof.latency import Measurement


def slices(ms, contended=None, backend="eager"):
    """A merged paired-timing Measurement with these slice medians."""
    return Measurement(backend, "cpu", 2, [m / 1e3 for m in ms], slice_ms=list(ms),
                       slice_contended=list(contended or [False] * len(ms)), usable_cores=2,
                       contended=sum(contended or []) > len(ms) / 2, others_cores=1.0 if contended else 0.0)  # fmt: skip


def macs_timed(first, second, backend, **kwargs):
    """Synthetic timing where every op runs at the same GMAC/s: time = MACs / 1e6 ms."""
    ms = [count_analytic(t[0], t[1]).macs / 1e6 for t in (first, second)]
    return slices([ms[0]] * 10), slices([ms[1]] * 10)


