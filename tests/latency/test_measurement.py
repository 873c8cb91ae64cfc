"""Measurement statistics from hand-written raw times (no timing involved)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from effprof.latency.measurement import Measurement, quantile, spread_warnings


def _m(times_ms, runs_per_block=1):
    return Measurement("eager", "cpu", 2, [t / 1e3 for t in times_ms], runs_per_block=runs_per_block)


def test_statistics_of_odd_count():
    m = _m([5.0, 1.0, 3.0, 2.0, 4.0])  # order must not matter
    assert m.median_ms == pytest.approx(3.0)
    assert m.p25_ms == pytest.approx(2.0)
    assert m.p75_ms == pytest.approx(4.0)
    assert m.iqr_ms == pytest.approx(2.0)
    assert m.p90_ms == pytest.approx(4.6)  # 0.9 * 4 = 3.6 -> between 4 and 5
    assert m.mean_ms == pytest.approx(3.0)
    assert m.min_ms == pytest.approx(1.0)
    assert m.std_ms == pytest.approx(math.sqrt(2.5))  # sample std (n - 1)
    assert m.cv == pytest.approx(math.sqrt(2.5) / 3.0)
    assert m.runs == 5


def test_statistics_of_even_count_interpolate():
    m = _m([1.0, 2.0, 3.0, 4.0])
    assert m.median_ms == pytest.approx(2.5)
    assert m.p25_ms == pytest.approx(1.75)
    assert m.p75_ms == pytest.approx(3.25)
    assert m.iqr_ms == pytest.approx(1.5)
    assert m.p90_ms == pytest.approx(3.7)


@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_quantile_agrees_with_numpy(q):
    values = [0.7, 0.1, 0.35, 2.0, 1.1, 0.9, 0.4]
    assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)))


def test_runs_counts_every_run_in_every_block():
    assert _m([1.0, 1.0, 1.0], runs_per_block=10).runs == 30


def test_single_time_has_zero_spread():
    m = _m([2.0])
    assert m.median_ms == m.p90_ms == pytest.approx(2.0)
    assert m.iqr_ms == 0.0 and m.std_ms == 0.0 and m.cv == 0.0


def test_tight_times_give_no_warning():
    assert spread_warnings([0.010, 0.0101, 0.0099, 0.0100, 0.0102, 0.0098]) == []


def test_wide_times_warn_with_iqr_share():
    warnings = spread_warnings([0.010, 0.013, 0.008, 0.012, 0.009, 0.014])
    assert len(warnings) == 1
    assert warnings[0].startswith("spread too large to trust: IQR is ")
    assert warnings[0].endswith("% of the median")


def test_one_far_outlier_warns_about_cv_not_iqr():
    warnings = spread_warnings([0.010] * 9 + [0.100])
    assert len(warnings) == 1 and "coefficient of variation" in warnings[0]


def test_few_samples_are_flagged():
    assert any("only 3 timed blocks" in w for w in spread_warnings([0.01, 0.01, 0.01]))


def test_to_row_has_the_contract_columns():
    row = _m([1.0, 2.0, 3.0]).to_row()
    assert row == {
        "backend": "eager",
        "device": "cpu",
        "threads": 2,
        "latency_ms": pytest.approx(2.0),
        "latency_iqr_ms": pytest.approx(1.0),
        "latency_p90_ms": pytest.approx(2.8),
        "runs": 3,
        "others_cores": None,
        "contended": None,
    }
