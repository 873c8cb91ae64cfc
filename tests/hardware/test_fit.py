"""The calibrated roofline's fit and the error scores, on synthetic data with a known answer."""

from __future__ import annotations

import math
import random

import pytest

from effprof.counters.result import CountResult, LayerCount
from effprof.hardware.fit import (
    POOLED,
    ClassFit,
    Sample,
    fit_classes,
    fit_for,
    fit_scale_overhead,
    mape,
    percent_error,
)
from effprof.hardware.predict import calibrated_ms, macs_only_ms, roofline_sum_ms


def _synthetic(op_class: str, scale: float, overhead_ms: float, n: int = 12, noise: float = 0.0, seed: int = 0):
    """Layers from 1 us to 10 ms of roofline time, 1-3 op calls each, timed as scale x roof + overhead x calls."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        roof = 10 ** (-3 + 4 * i / (n - 1))
        calls = 1 + i % 3
        t = (scale * roof + overhead_ms * calls) * (1 + rng.uniform(-noise, noise))
        out.append(Sample(op_class, roof, calls, t, f"{op_class}{i}"))
    return out


def test_exact_data_recovers_scale_and_overhead():
    samples = _synthetic("conv_depthwise", scale=2.5, overhead_ms=0.02)
    scale, overhead = fit_scale_overhead([s.roofline_ms for s in samples], [s.calls for s in samples],
                                         [s.measured_ms for s in samples])  # fmt: skip
    assert scale == pytest.approx(2.5, rel=1e-9) and overhead == pytest.approx(0.02, rel=1e-9)


def test_noisy_data_recovers_them_closely():
    samples = _synthetic("linear", scale=1.4, overhead_ms=0.005, n=40, noise=0.05, seed=3)
    fit = fit_classes(samples)["linear"]
    assert fit.scale == pytest.approx(1.4, rel=0.1) and fit.overhead_ms == pytest.approx(0.005, rel=0.15)
    assert fit.efficiency == pytest.approx(1 / fit.scale)
    assert fit.fit_mape < 5


def test_each_class_gets_its_own_fit_and_a_pooled_one():
    samples = _synthetic("conv_depthwise", 3.0, 0.04) + _synthetic("conv_pointwise", 1.5, 0.01)
    fits = fit_classes(samples)
    assert fits["conv_depthwise"].scale == pytest.approx(3.0) and fits["conv_pointwise"].scale == pytest.approx(1.5)
    assert fits[POOLED].samples == len(samples)
    assert fit_for(fits, "attention") is fits[POOLED]  # a class with no calibration block
    assert fit_for(fits, "conv_depthwise") is fits["conv_depthwise"]


def test_fit_never_returns_a_negative_term():
    # Time falls as roofline time grows: the unconstrained solution has a negative scale.
    scale, overhead = fit_scale_overhead([1.0, 2.0, 3.0], [1, 1, 1], [3.0, 2.0, 1.0])
    assert scale >= 0 and overhead >= 0
    assert fit_scale_overhead([0.0, 0.0], [1, 1], [0.2, 0.2]) == (0.0, pytest.approx(0.2))  # pure overhead


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError):
        fit_scale_overhead([1.0], [1], [0.0])
    with pytest.raises(ValueError):
        fit_scale_overhead([1.0, 2.0], [1], [1.0, 2.0])


def test_mape_and_percent_error():
    assert percent_error(110, 100) == pytest.approx(10.0)
    assert percent_error(50, 100) == pytest.approx(-50.0)
    assert mape([110, 50, 100], [100, 100, 100]) == pytest.approx((10 + 50 + 0) / 3)
    assert math.isnan(mape([], []))
    with pytest.raises(ValueError):
        mape([1.0], [1.0, 2.0])


def test_predictors_on_a_synthetic_model():
    # 100 GMAC/s, 10 GB/s: conv roof 1 ms (compute), relu roof 0.1 ms (memory).
    layers = [LayerCount("a", "Conv2d", "conv_dense", macs=100_000_000, bytes=1_000_000, calls=1),
              LayerCount("b", "ReLU", "activation", bytes=1_000_000, calls=2)]  # fmt: skip
    count = CountResult("analytic", (1, 3, 8, 8), macs=100_000_000, layers=layers)
    assert roofline_sum_ms(count, 100.0, 10.0) == pytest.approx(1.1)
    fits = {"conv_dense": ClassFit("conv_dense", 2.0, 0.01), POOLED: ClassFit(POOLED, 3.0, 0.05)}
    # conv: 2 x 1 + 0.01 x 1; relu falls back to the pooled fit: 3 x 0.1 + 0.05 x 2
    assert calibrated_ms(count, 100.0, 10.0, fits) == pytest.approx(2.01 + 0.4)
    assert macs_only_ms(100_000_000, 50_000_000, 4.0) == pytest.approx(8.0)
