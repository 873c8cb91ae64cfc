"""The calibrated roofline's fit and the error scores, on synthetic data with a known answer."""

from __future__ import annotations

import math
import random

import pytest

from effprof.counters.result import CountResult, LayerCount
from effprof.hardware.fit import (
    POOLED,
    Composition,
    Reference,
    Sample,
    calibrated_layer_ms,
    candidates,
    fit_classes,
    fit_composition,
    fit_for,
    fit_scale_overhead,
    mape,
    nearest_efficiency,
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
    # 100 GMAC/s, 10 GB/s: conv roof 1 ms (compute), relu roof 0.1 ms (memory), 2 ops ignored on purpose.
    layers = [LayerCount("a", "Conv2d", "conv_dense", macs=100_000_000, bytes=1_000_000, calls=1),
              LayerCount("b", "ReLU", "activation", bytes=1_000_000, calls=2)]  # fmt: skip
    count = CountResult.from_layers("analytic", (1, 3, 8, 8), layers, ignored={"view": (2, "view")})
    assert roofline_sum_ms(count, 100.0, 10.0) == pytest.approx(1.1)
    refs = [Reference("conv_dense", "Conv2d", 1e8, 1e6, 0.5), Reference("activation", "ReLU", 0, 5e5, 0.25)]
    # conv at half its roof: 2 ms; relu (2 calls of 0.05 ms) at a quarter: 0.4 ms
    assert calibrated_ms(count, 100.0, 10.0, refs) == pytest.approx(2.4)
    # in a network: x 1.5, + 0.01 ms per op call (1 + 2 counted, 2 ignored)
    assert calibrated_ms(count, 100.0, 10.0, refs, Composition(1.5, 0.01)) == pytest.approx(1.5 * 2.4 + 0.05)
    assert macs_only_ms(100_000_000, 50_000_000, 4.0) == pytest.approx(8.0)


REFS = [
    Reference("conv_depthwise", "Conv2d", 1e6, 1e6, 0.2, "small"),
    Reference("conv_depthwise", "Conv2d", 1e8, 1e8, 0.8, "big"),
    Reference("pool", "MaxPool2d", 0, 1e6, 0.05, "maxpool"),
    Reference("pool", "AdaptiveAvgPool2d", 0, 1e6, 1.5, "avgpool"),
]


def test_a_layer_matching_a_block_gets_its_efficiency():
    assert nearest_efficiency(REFS, "conv_depthwise", "Conv2d", 1e6, 1e6) == pytest.approx(0.2, rel=0.02)
    assert nearest_efficiency(REFS, "conv_depthwise", "Conv2d", 1e8, 1e8) == pytest.approx(0.8, rel=0.02)


def test_halfway_between_two_blocks_is_their_geometric_mean():
    # 1e7 MACs and bytes: one decade from each block in both, so equal weights on a log scale
    assert nearest_efficiency(REFS, "conv_depthwise", "Conv2d", 1e7, 1e7) == pytest.approx(math.sqrt(0.2 * 0.8))


def test_a_class_of_constant_efficiency_is_recovered_at_any_size():
    refs = [Reference("linear", "Linear", 10.0**m, 10.0**b, 0.6) for m in (4, 6, 8) for b in (4, 6, 8)]
    for macs, b in ((1e3, 1e9), (3e5, 7e6), (1e10, 1e5)):
        assert nearest_efficiency(refs, "linear", "Linear", macs, b) == pytest.approx(0.6)


def test_the_layer_type_picks_blocks_when_the_calibration_has_it():
    assert nearest_efficiency(REFS, "pool", "MaxPool2d", 0, 1e6) == pytest.approx(0.05)
    assert nearest_efficiency(REFS, "pool", "AdaptiveAvgPool2d", 0, 1e6) == pytest.approx(1.5)
    # a functional pool inside a custom module: the whole class
    assert set(r.name for r in candidates(REFS, "pool", "MyBlock")) == {"maxpool", "avgpool"}
    # a class without blocks: every block
    assert len(candidates(REFS, "other", "Upsample")) == len(REFS)


def test_calibrated_layer_time_is_per_call():
    one = calibrated_layer_ms(1e8, 1e8, 1, "conv_depthwise", "Conv2d", 100.0, 10.0, REFS)
    two = calibrated_layer_ms(2e8, 2e8, 2, "conv_depthwise", "Conv2d", 100.0, 10.0, REFS)
    assert one == pytest.approx(10.0 / 0.8, rel=0.02)  # 1e8 bytes at 10 GB/s = 10 ms, at 80% of the roof
    assert two == pytest.approx(2 * one)


def test_composition_recovers_scale_and_per_call_overhead():
    layers_ms = [1.0, 2.0, 5.0, 10.0, 0.5, 20.0]
    calls = [40, 100, 60, 200, 80, 150]
    measured = [1.25 * t + 0.015 * n for t, n in zip(layers_ms, calls, strict=True)]
    comp = fit_composition(layers_ms, calls, measured)
    assert comp.scale == pytest.approx(1.25) and comp.overhead_ms == pytest.approx(0.015)
    assert comp.networks == 6 and comp.fit_mape == pytest.approx(0.0, abs=1e-9)
    assert Composition().network_ms(3.0, 100) == 3.0  # identity by default
