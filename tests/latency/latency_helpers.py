"""Helpers shared by the latency tests: a tiny conv net and small timing budgets."""

from __future__ import annotations

import torch
from torch import nn

TINY_SHAPE = (1, 3, 32, 32)
# Budgets small enough that each timing takes ~0.1 s; statistics only need to be real, not tight.
FAST = {"budget_s": 0.05, "min_runs": 5}


def make_tiny(seed: int = 0) -> nn.Module:
    """Dense conv, BN, ReLU, depthwise conv, pool, linear: every op class the layer code sees."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.ReLU()),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )
