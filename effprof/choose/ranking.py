"""Pure functions for choosing a model: the Pareto front, MnasNet's reward, rank correlation.

Nothing here measures, builds or prints; every function takes plain numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: MnasNet (Tan et al. 2019, Sec. 3): the soft constraint's exponent, alpha = beta = -0.07
SOFT_W = -0.07
#: the hard constraint: alpha = 0 at or under the target, beta = -1 over it
HARD_W_UNDER, HARD_W_OVER = 0.0, -1.0


def pareto_front(latency_ms: Sequence[float], accuracy: Sequence[float]) -> list[bool]:
    """Rule: a point is on the front when no other point is at least as fast and at least as accurate
    and strictly better in one of the two. Equal points are both on the front.

    Returns one flag per point, in the order given. Points with a missing (None/NaN) value are off.
    """
    if len(latency_ms) != len(accuracy):
        raise ValueError("latency_ms and accuracy must have the same length")
    ok = [i for i in range(len(latency_ms)) if _finite(latency_ms[i]) and _finite(accuracy[i])]
    # fastest first; among equal latencies the most accurate first
    order = sorted(ok, key=lambda i: (latency_ms[i], -accuracy[i]))
    on = [False] * len(latency_ms)
    best_acc = -math.inf  # best accuracy of every strictly faster point seen so far
    k = 0
    while k < len(order):
        lat = latency_ms[order[k]]
        group = [i for i in order[k:] if latency_ms[i] == lat]
        top = max(accuracy[i] for i in group)
        for i in group:  # at one latency only the most accurate survive, and only if faster points are worse
            on[i] = accuracy[i] == top and top > best_acc
        best_acc = max(best_acc, top)
        k += len(group)
    return on


def reward(accuracy: float, latency_ms: float, target_ms: float, w: float | None = None) -> float:
    """Rule (MnasNet, Eq. 2): ACC x (LAT / T)^w. ``w`` None is the hard constraint: w = 0 at or under
    T, w = -1 over it; a number is the soft constraint's single exponent (MnasNet: -0.07).

    Same unit as ``accuracy`` (a percent in, a percent-scaled reward out).
    """
    if not target_ms > 0:
        raise ValueError(f"target latency must be > 0 ms, got {target_ms!r}")
    if not latency_ms > 0:
        raise ValueError(f"latency must be > 0 ms, got {latency_ms!r}")
    if w is None:
        w = HARD_W_UNDER if latency_ms <= target_ms else HARD_W_OVER
    return accuracy * (latency_ms / target_ms) ** w


def best_under(latency_ms: Sequence[float | None], accuracy: Sequence[float | None], target_ms: float) -> int | None:
    """Rule: the index of the most accurate point at or under ``target_ms`` (ties: the faster); None when none is."""
    ok = [i for i in range(len(latency_ms)) if _finite(latency_ms[i]) and _finite(accuracy[i]) and latency_ms[i] <= target_ms]
    if not ok:
        return None
    return min(ok, key=lambda i: (-accuracy[i], latency_ms[i]))


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Rule: Spearman's rank correlation (Pearson's on average ranks, ties shared); None under 3 complete pairs."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if _finite(x) and _finite(y)]
    if len(pairs) < 3:
        return None
    import pandas as pd  # on use, for startup speed: effprof.choose.result (read by --help) imports this module

    xs, ys = pd.Series([p[0] for p in pairs]), pd.Series([p[1] for p in pairs])
    rho = xs.rank().corr(ys.rank())
    return None if rho is None or math.isnan(rho) else float(rho)


def discordant_pairs(predicted: Sequence[float], measured: Sequence[float]) -> list[tuple[int, int]]:
    """Rule: index pairs (i, j) the predictor orders one way and the measurement strictly the other (i faster
    predicted, j faster measured); pairs tied in either are not counted."""
    out = []
    for i in range(len(predicted)):
        for j in range(len(predicted)):
            if i != j and predicted[i] < predicted[j] and measured[i] > measured[j]:
                out.append((i, j))
    return out


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)
