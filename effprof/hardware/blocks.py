"""The calibration set: single layers of every op class, at the shapes the registry's models use.

Rule: one op class per block (so a block's measured time belongs to one class), a spread of sizes
per class from overhead-dominated to roof-dominated (so a fit can separate the per-call cost from
the efficiency), and no block is a whole model or cut from one: the evaluated models stay out of
the calibration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Block:
    """A named layer factory and the input shape it is timed on."""

    name: str
    op_class: str
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]


class _Binary(nn.Module):
    """``x (op) other``, ``other`` a fixed tensor: a residual add (same shape) or an SE rescale (broadcast)."""

    def __init__(self, op: str, other_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.op = op
        self.register_buffer("other", torch.ones(other_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.other if self.op == "add" else x * self.other


class _Attention(nn.Module):
    """Activation x activation products on (batch, heads, tokens, dim): SDPA, or Q K^T alone."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "sdpa":
            return F.scaled_dot_product_attention(x, x, x)
        return x @ x.transpose(-2, -1)


def _conv(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> Callable[[], nn.Module]:
    return lambda: nn.Conv2d(cin, cout, k, stride, padding=k // 2 if stride < k else 0, groups=groups, bias=False)


def _img(c: int, size: int) -> tuple[int, ...]:
    return (1, c, size, size)


def _blocks() -> list[Block]:
    b: list[Block] = []

    def add(op_class: str, name: str, build: Callable[[], nn.Module], shape: tuple[int, ...]) -> None:
        b.append(Block(f"{op_class}:{name}", op_class, build, shape))

    # dense convs: stems (3 input channels), patchify convs, and 3x3 bodies from 112 px down to 7
    for cin, cout, k, s, size in ((3, 32, 3, 2, 224), (3, 64, 7, 2, 224), (3, 96, 4, 4, 224), (3, 192, 16, 16, 224),
                                  (16, 16, 3, 1, 112), (64, 64, 3, 1, 56), (128, 128, 3, 1, 28), (256, 256, 3, 1, 14),
                                  (512, 512, 3, 1, 7)):  # fmt: skip
        add("conv_dense", f"{cin}->{cout} k{k} s{s} @{size}", _conv(cin, cout, k, s), _img(cin, size))
    for c, k, s, size in ((32, 3, 1, 112), (96, 3, 2, 112), (144, 3, 1, 56), (192, 3, 1, 28), (384, 3, 1, 14),
                          (960, 3, 1, 7), (240, 5, 1, 28), (672, 5, 1, 14), (96, 7, 1, 56), (384, 7, 1, 14)):  # fmt: skip
        add("conv_depthwise", f"{c} k{k} s{s} @{size}", _conv(c, c, k, s, groups=c), _img(c, size))
    for cin, cout, size in ((32, 16, 112), (16, 96, 112), (24, 144, 56), (144, 24, 56), (192, 64, 28), (384, 96, 14),
                            (960, 320, 7), (320, 1280, 7), (64, 256, 56), (1024, 256, 14), (2048, 512, 7),
                            (96, 4, 1), (64, 1024, 1)):  # fmt: skip
        add("conv_pointwise", f"{cin}->{cout} @{size}", _conv(cin, cout, 1), _img(cin, size))
    for c, g, size in ((64, 8, 56), (128, 32, 28), (256, 4, 14)):
        add("conv_grouped", f"{c} g{g} @{size}", _conv(c, c, 3, groups=g), _img(c, size))
    for fin, fout, shape in ((1280, 1000, (1, 1280)), (2048, 1000, (1, 2048)), (64, 16, (1, 64)),
                             (192, 576, (1, 197, 192)), (768, 3072, (1, 197, 768)), (3072, 768, (1, 197, 3072)),
                             (96, 384, (1, 56, 56, 96)), (384, 96, (1, 56, 56, 384)), (768, 3072, (1, 7, 7, 768))):  # fmt: skip
        add("linear", f"{fin}->{fout} on {'x'.join(map(str, shape))}", lambda i=fin, o=fout: nn.Linear(i, o), shape)
    for kind, shape in (("sdpa", (1, 3, 197, 64)), ("sdpa", (1, 12, 197, 64)), ("qk", (64, 3, 49, 32)),
                        ("qk", (4, 24, 49, 32)), ("sdpa", (1, 6, 50, 64))):  # fmt: skip
        add("attention", f"{kind} {'x'.join(map(str, shape))}", lambda k=kind: _Attention(k), shape)
    for c, size in ((32, 112), (96, 112), (144, 56), (256, 56), (512, 7), (1280, 7)):
        add("norm", f"batchnorm {c} @{size}", lambda c=c: nn.BatchNorm2d(c).eval(), _img(c, size))
    for dim, shape in ((192, (1, 197, 192)), (768, (1, 197, 768)), (96, (1, 56, 56, 96))):
        add("norm", f"layernorm {dim} on {'x'.join(map(str, shape))}", lambda d=dim: nn.LayerNorm(d), shape)
    activations: tuple[tuple[str, Callable[[], nn.Module], tuple[int, ...]], ...] = (
        ("relu", nn.ReLU, _img(64, 112)), ("relu", nn.ReLU, _img(256, 56)), ("relu", nn.ReLU, _img(512, 7)),
        ("relu6", nn.ReLU6, _img(96, 112)), ("silu", nn.SiLU, _img(32, 112)), ("silu", nn.SiLU, _img(240, 28)),
        ("hardswish", nn.Hardswish, _img(16, 112)), ("gelu", nn.GELU, (1, 197, 3072)), ("gelu", nn.GELU, (1, 56, 56, 384)),
        ("sigmoid", nn.Sigmoid, _img(96, 1)), ("hardsigmoid", nn.Hardsigmoid, _img(576, 1)),
        ("softmax", lambda: nn.Softmax(-1), (1, 12, 197, 197)), ("softmax", lambda: nn.Softmax(-1), (64, 3, 49, 49)),
    )  # fmt: skip
    for name, build, shape in activations:
        add("activation", f"{name} {'x'.join(map(str, shape))}", build, shape)
    for name, build, shape in (
        ("maxpool 3 s2", lambda: nn.MaxPool2d(3, 2, 1), _img(64, 112)),
        ("avgpool global", lambda: nn.AdaptiveAvgPool2d(1), _img(1280, 7)),
        ("avgpool global", lambda: nn.AdaptiveAvgPool2d(1), _img(2048, 7)),
        ("avgpool global", lambda: nn.AdaptiveAvgPool2d(1), _img(96, 112)),
        ("avgpool global", lambda: nn.AdaptiveAvgPool2d(1), _img(672, 14)),
    ):
        add("pool", f"{name} {'x'.join(map(str, shape))}", build, shape)
    for op, shape, other in (
        ("add", _img(24, 56), _img(24, 56)), ("add", _img(256, 56), _img(256, 56)), ("add", _img(2048, 7), _img(2048, 7)),
        ("add", (1, 197, 768), (1, 197, 768)), ("mul", _img(96, 112), _img(96, 1)), ("mul", _img(672, 14), _img(672, 1)),
    ):  # fmt: skip
        add("elementwise", f"{op} {'x'.join(map(str, shape))}", lambda o=op, s=other: _Binary(o, s), shape)
    return b


CALIBRATION_BLOCKS: tuple[Block, ...] = tuple(_blocks())
