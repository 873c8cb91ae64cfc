"""Least-squares fits of how a cost grows: power laws on log-log axes, exponentials on log axes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from effprof.errors import EffprofError


@dataclass(frozen=True)
class PowerFit:
    """y ~ prefactor * x^exponent, fitted on log-log axes; r2 is the fit's R^2 in log space."""

    exponent: float
    prefactor: float
    r2: float
    points: int


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> PowerFit:
    """Exponent of y ~ c * x^k by least squares of log y on log x (numpy), with R^2.

    Needs 2+ points with distinct x, all x and y positive (a log of 0 is no data). With exactly
    2 points the line passes through both: R^2 = 1 says nothing then.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.size < 2:
        raise EffprofError(f"a growth fit needs 2 or more (x, y) points, got {xs.size}")
    if (xs <= 0).any() or (ys <= 0).any():
        raise EffprofError("a growth fit needs positive x and y (log-log axes)")
    lx, ly = np.log(xs), np.log(ys)
    if np.ptp(lx) == 0:
        raise EffprofError("a growth fit needs at least two distinct x values")
    slope, intercept = np.polyfit(lx, ly, 1)
    residual = ly - (slope * lx + intercept)
    spread = float(((ly - ly.mean()) ** 2).sum())
    # A flat line (k = 0) has no spread to explain: it fits exactly, whatever rounding leaves.
    r2 = 1.0 - float((residual**2).sum()) / spread if spread > 1e-18 else 1.0
    return PowerFit(float(slope), float(math.exp(intercept)), r2, int(xs.size))


def growth_per_step(steps: Sequence[float], y: Sequence[float]) -> PowerFit:
    """Factor g of y ~ c * g^step (least squares of log y on step): compound scaling's ~2 per phi.

    Returned as a PowerFit whose ``exponent`` field holds g.
    """
    fit = fit_power_law(np.exp(np.asarray(steps, dtype=float)), y)
    return PowerFit(math.exp(fit.exponent), fit.prefactor, fit.r2, fit.points)
