"""Noise-aware latency verdicts on synthetic rows: the interval arithmetic, and pass / regression / inconclusive."""

from __future__ import annotations

import math
import random

import pytest

from effprof.bench import noise
from effprof.bench.compare import compare, normalise_latency
from effprof.bench.suite import Tolerance

REF = "resnet18"
TOL = Tolerance(latency_pct=20.0)
COUNTS = {"params": 1, "macs": 2, "activations": 3}


def pairs(norm: float, spread: float, n: int = 15, seed: int = 0) -> list[float]:
    """Slice-pair ratios around ``norm``, uniformly within ±spread (a fraction), seeded."""
    rng = random.Random(seed)
    return [norm * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def run(norm: float, *, spread: float = 0.03, seed: int = 0, contended: float | None = None,
        ref_contended: float | None = None, n: int = 15) -> list[dict]:  # fmt: skip
    """One bench run's rows: the reference at 20 ms and a model timed beside it (``norm`` x the reference)."""
    ref = {"spec": REF, "resolution": 160, "batch": 1, "backend": "eager", **COUNTS, "latency_ms": 20.0}
    model = {"spec": "m", "resolution": 160, "batch": 1, "backend": "eager", **COUNTS, "latency_ms": 20.0 * norm,
             "latency_pair_norms": pairs(norm, spread, n, seed), "reference_latency_ms": 20.0,
             "contended": contended, "reference_contended": ref_contended}  # fmt: skip
    return normalise_latency([ref, model], REF)


def verdict(baseline, current) -> tuple[str, object]:
    result = compare(baseline, current, TOL, REF)
    (change,) = [c for c in result.latency if c.case.spec == "m"]
    return result.verdict, change


def test_pair_center_is_a_trimmed_geometric_mean():
    assert noise.pair_center([]) is None and noise.pair_center([0.5, math.nan, -1]) == pytest.approx(0.5)
    # ten ratios: the lowest and highest 2 are cut, the middle 6 averaged in log space
    values = [0.1, 0.2, 0.4, 0.5, 0.5, 0.5, 0.5, 0.6, 0.9, 3.0]
    expected = math.exp(sum(math.log(v) for v in [0.4, 0.5, 0.5, 0.5, 0.5, 0.6]) / 6)
    assert noise.pair_center(values) == pytest.approx(expected)


def test_pair_half_width():
    assert noise.pair_half_width([0.5]) == 0.0  # one pair: no spread to see
    assert noise.pair_half_width([0.5] * 10) == 0.0
    narrow = noise.pair_half_width(pairs(0.5, 0.01))
    wide = noise.pair_half_width(pairs(0.5, 0.30))
    assert 0 < narrow < 0.01 < wide < 0.3


def test_bootstrap_is_seeded_so_the_same_rows_give_the_same_interval():
    values = pairs(0.4, 0.2, seed=3)
    assert noise.pair_half_width(values) == noise.pair_half_width(list(values))


def test_a_slow_spell_in_a_few_slices_does_not_move_the_estimate():
    # 3 of 15 pairs where only the model's slice was hit (the rest cancel): trimmed away
    values = [0.5] * 12 + [0.9, 1.0, 1.2]
    assert noise.pair_center(values) == pytest.approx(0.5)


def test_change_interval_combines_both_runs_in_quadrature():
    change, low, high = noise.change_interval(0.5, 0.03, 0.6, 0.04)
    assert change == pytest.approx(0.2)
    assert low == pytest.approx(1.2 * math.exp(-0.05) - 1) and high == pytest.approx(1.2 * math.exp(0.05) - 1)


@pytest.mark.parametrize(
    ("low", "high", "status"),
    [(0.25, 0.35, "fail"), (-0.05, 0.10, "ok"), (0.10, 0.30, "inconclusive"), (-0.35, -0.25, "faster"),
     (-0.30, -0.10, "ok"), (0.2, 0.2, "ok")],
)  # fmt: skip
def test_latency_verdict(low, high, status):
    assert noise.latency_verdict(low, high, 0.2) == status


def test_unchanged_code_on_a_quiet_machine_passes():
    v, change = verdict(run(0.5, seed=0), run(0.51, seed=5))
    assert v == "pass" and change.status == "ok"
    assert change.change_low_pct < 2 < change.change_high_pct < 20


def test_a_clear_thirty_percent_slowdown_is_a_regression():
    v, change = verdict(run(0.5), run(0.65, seed=7))
    assert v == "regression" and change.status == "fail" and change.change_low_pct > 20
    assert change.change_pct == pytest.approx(30.0, abs=3.0)  # ±3% uniform pair noise in both runs


def test_a_slowdown_inside_wide_noise_is_inconclusive_not_a_regression():
    v, change = verdict(run(0.5, spread=0.6, n=6), run(0.625, seed=9, spread=0.6, n=6))
    assert v == "inconclusive" and change.status == "inconclusive"
    assert change.change_low_pct < 20 < change.change_high_pct
    assert "noise: the change is" in change.note


@pytest.mark.parametrize("where", ["model now", "reference now", "model in the baseline"])
def test_contended_rows_make_the_latency_verdict_inconclusive(where):
    base = run(0.5, contended=0.6 if where == "model in the baseline" else None)
    current = run(0.5, seed=4, contended=0.7 if where == "model now" else None,
                  ref_contended=0.7 if where == "reference now" else None)  # fmt: skip
    v, change = verdict(base, current)
    assert v == "inconclusive" and change.status == "inconclusive"
    assert "other processes used" in change.note


def test_count_regressions_stay_decisive_whatever_the_latency_noise():
    base = run(0.5)
    current = run(0.5, seed=4, contended=0.9)
    current[1]["macs"] += 1
    result = compare(base, current, TOL, REF)
    assert result.verdict == "regression" and [c.metric for c in result.failures] == ["macs"]


def test_the_reference_row_is_never_inconclusive():
    base, current = run(0.5), run(0.5, seed=1)
    base[0]["contended"] = current[0]["contended"] = 0.8
    result = compare(base, current, TOL, REF)
    (ref,) = [c for c in result.latency if c.case.spec == REF]
    assert ref.status == "ok" and "reference" in ref.note


def test_a_baseline_without_pairs_is_judged_on_the_current_runs_noise_alone():
    old = run(0.5)
    old[1].pop("latency_pair_norms")
    old = normalise_latency(old, REF)
    assert old[1]["latency_norm"] == pytest.approx(0.5) and old[1]["latency_norm_log_hw"] is None
    v, change = verdict(old, run(0.505, seed=3))
    assert v == "pass" and change.change_high_pct < 20


def test_normalised_rows_carry_their_interval():
    ref, model = run(0.5, spread=0.1)
    assert ref["latency_norm"] == 1.0 and ref["latency_norm_log_hw"] is None
    assert model["latency_norm"] == pytest.approx(0.5, rel=0.05)
    assert model["latency_norm_low"] < model["latency_norm"] < model["latency_norm_high"]
    assert model["reference_latency_ms"] == 20.0  # its own pair's reference, kept
