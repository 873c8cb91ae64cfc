"""Growth fits on synthetic data with a known exponent."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from effprof.errors import EffprofError
from effprof.lecture.fit import fit_power_law, growth_per_step


@settings(max_examples=25, deadline=None)
@given(k=st.floats(-3, 3), c=st.floats(1e-3, 1e9), n=st.integers(2, 8))
def test_power_law_recovers_a_known_exponent(k, c, n):
    x = np.geomspace(128**2, 1024**2, n)
    fit = fit_power_law(x, c * x**k)
    assert fit.exponent == pytest.approx(k, abs=1e-6)
    assert fit.prefactor == pytest.approx(c, rel=1e-4)
    assert fit.r2 == pytest.approx(1.0, abs=1e-9) and fit.points == n


def test_noisy_data_keeps_the_exponent_and_lowers_r2():
    rng = np.random.default_rng(0)
    x = np.geomspace(1e4, 1e6, 20)
    y = 5 * x**2 * np.exp(rng.normal(0, 0.05, x.size))
    fit = fit_power_law(x, y)
    assert fit.exponent == pytest.approx(2, abs=0.05)
    assert 0.99 < fit.r2 < 1.0


def test_growth_per_step_of_a_doubling():
    fit = growth_per_step(range(8), [3 * 2.0**p for p in range(8)])
    assert fit.exponent == pytest.approx(2.0) and fit.r2 == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([1], [1], "2 or more"),
        ([1, 2], [1, 0], "positive"),
        ([3, 3], [1, 2], "distinct"),
        ([-1, 2], [1, 2], "positive"),
    ],
)
def test_bad_inputs_raise(x, y, match):
    with pytest.raises(EffprofError, match=match):
        fit_power_law(x, y)
