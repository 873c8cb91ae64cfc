"""Helpers shared by the hardware tests: tiny measurement sizes and a tiny calibration set."""

from __future__ import annotations

from torch import nn

from effprof.hardware.blocks import Block

#: sizes that make every ceiling a few milliseconds of work: the figures only need to be real
TINY = {"gemm_n": 64, "working_set_bytes": 1 << 20, "budget_s": 0.02}

TINY_BLOCKS = (
    Block("conv_dense:tiny", "conv_dense", lambda: nn.Conv2d(4, 8, 3, padding=1), (1, 4, 8, 8)),
    Block("conv_dense:small", "conv_dense", lambda: nn.Conv2d(8, 8, 3, padding=1), (1, 8, 16, 16)),
    Block("activation:relu", "activation", nn.ReLU, (1, 8, 16, 16)),
)
TINY_NETWORKS = (
    Block("network:a", "network", lambda: nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU()), (1, 4, 8, 8)),
    Block("network:b", "network", lambda: nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(),
                                                        nn.Conv2d(8, 8, 3, padding=1), nn.Flatten()), (1, 4, 16, 16)),
)  # fmt: skip
