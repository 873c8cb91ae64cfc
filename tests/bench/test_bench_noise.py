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


def samples(median_ms: float, spread: float, n: int = 60, seed: int = 0) -> list[float]:
    """Block times around ``median_ms``, uniformly within ±spread (a fraction), seeded."""
    rng = random.Random(seed)
    return [median_ms * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def run(model_ms: float, *, spread: float = 0.02, rounds: tuple[float, ...] = (1.0, 1.0, 1.0), seed: int = 0,
        contended: float | None = None, ref_contended: float | None = None) -> list[dict]:  # fmt: skip
    """One bench run's rows: the reference at 20 ms and one model, with samples and per-round medians."""
    ref = {"spec": REF, "resolution": 160, "batch": 1, "backend": "eager", **COUNTS, "latency_ms": 20.0,
           "latency_samples_ms": samples(20.0, spread, seed=seed), "latency_rounds_ms": [20.0] * len(rounds),
           "contended": ref_contended}  # fmt: skip
    model = {"spec": "m", "resolution": 160, "batch": 1, "backend": "eager", **COUNTS, "latency_ms": model_ms,
             "latency_samples_ms": samples(model_ms, spread, seed=seed + 1),
             "latency_rounds_ms": [model_ms * f for f in rounds], "contended": contended}  # fmt: skip
    return normalise_latency([ref, model], REF)


def verdict(baseline, current) -> tuple[str, object]:
    result = compare(baseline, current, TOL, REF)
    (change,) = [c for c in result.latency if c.case.spec == "m"]
    return result.verdict, change


def test_bootstrap_half_width_is_zero_without_samples_and_grows_with_spread():
    assert noise.bootstrap_half_width(None, None) == 0.0
    assert noise.bootstrap_half_width([5.0], [10.0]) == 0.0
    narrow = noise.bootstrap_half_width(samples(10, 0.01), samples(20, 0.01, seed=1))
    wide = noise.bootstrap_half_width(samples(10, 0.30), samples(20, 0.30, seed=1))
    assert 0 < narrow < 0.01 < wide < 0.3


def test_bootstrap_is_seeded_so_the_same_rows_give_the_same_interval():
    a, b = samples(10, 0.1), samples(20, 0.1, seed=3)
    assert noise.bootstrap_half_width(a, b) == noise.bootstrap_half_width(a, b)


def test_rounds_half_width_is_half_the_log_range_of_the_per_round_ratios():
    # ratios 0.5, 0.55, 0.45 -> half of log(0.55 / 0.45)
    hw = noise.rounds_half_width([10.0, 11.0, 9.0], [20.0, 20.0, 20.0])
    assert hw == pytest.approx(math.log(0.55 / 0.45) / 2)
    assert noise.rounds_half_width([10.0], [20.0]) == 0.0  # one round: no drift to see
    # a machine that slowed both alike between rounds moves no ratio
    assert noise.rounds_half_width([10.0, 20.0], [20.0, 40.0]) == pytest.approx(0.0)


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
    v, change = verdict(run(10.0, seed=0), run(10.2, seed=5))
    assert v == "pass" and change.status == "ok"
    assert change.change_low_pct < 2 < change.change_high_pct < 20


def test_a_clear_thirty_percent_slowdown_is_a_regression():
    v, change = verdict(run(10.0), run(13.0, seed=7))
    assert v == "regression" and change.status == "fail" and change.change_low_pct > 20
    assert change.change_pct == pytest.approx(30.0)


def test_a_slowdown_inside_wide_noise_is_inconclusive_not_a_regression():
    noisy = dict(spread=0.6, rounds=(1.0, 1.3, 0.8))
    v, change = verdict(run(10.0, **noisy), run(12.5, seed=9, **noisy))
    assert v == "inconclusive" and change.status == "inconclusive"
    assert change.change_low_pct < 20 < change.change_high_pct
    assert "noise: the change is" in change.note


def test_noise_as_wide_as_the_tolerance_never_makes_a_point_estimate_fail():
    # +25% on the point estimate (beyond the 20% tolerance), but rounds disagree by 40%
    v, change = verdict(run(10.0, rounds=(1.0, 1.4, 1.0)), run(12.5, seed=2, rounds=(1.0, 0.7, 1.0)))
    assert change.change_pct == pytest.approx(25.0) and v == "inconclusive"


@pytest.mark.parametrize("where", ["model now", "reference now", "model in the baseline"])
def test_contended_rows_make_the_latency_verdict_inconclusive(where):
    base = run(10.0, contended=0.6 if where == "model in the baseline" else None)
    current = run(10.0, seed=4, contended=0.7 if where == "model now" else None,
                  ref_contended=0.7 if where == "reference now" else None)  # fmt: skip
    v, change = verdict(base, current)
    assert v == "inconclusive" and change.status == "inconclusive"
    assert "other processes used" in change.note


def test_count_regressions_stay_decisive_whatever_the_latency_noise():
    base = run(10.0)
    current = run(10.0, seed=4, contended=0.9)
    current[1]["macs"] += 1
    result = compare(base, current, TOL, REF)
    assert result.verdict == "regression" and [c.metric for c in result.failures] == ["macs"]


def test_the_reference_row_is_never_inconclusive():
    result = compare(run(10.0, ref_contended=0.8), run(10.0, seed=1, ref_contended=0.8), TOL, REF)
    (ref,) = [c for c in result.latency if c.case.spec == REF]
    assert ref.status == "ok" and "reference" in ref.note


def test_a_baseline_without_samples_is_judged_on_the_current_runs_noise_alone():
    old = run(10.0)
    for r in old:
        r.pop("latency_samples_ms"), r.pop("latency_rounds_ms")
    v, change = verdict(normalise_latency(old, REF), run(10.1, seed=3))
    assert v == "pass" and change.change_high_pct < 20


def test_normalised_rows_carry_their_interval():
    ref, model = run(10.0, spread=0.1)
    assert ref["latency_norm"] == 1.0 and ref["latency_norm_log_hw"] == 0.0
    assert model["latency_norm"] == pytest.approx(0.5)
    assert model["latency_norm_low"] < model["latency_norm"] < model["latency_norm_high"]
