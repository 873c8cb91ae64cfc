"""The calibration set: single layers of every op class, on a grid of the shapes vision models use.

Rule: one op class per block (so a block's measured time belongs to one class); per class a grid
from overhead-dominated to roof-dominated sizes (channels from 4 to 2048, feature maps from 112 px
down to 1, the stems, patchify convs, token linears and windowed attention of the families
effprof profiles), so the nearest blocks to any layer of a registered model are close to it;
and no block is a whole model or cut from one: the evaluated models stay out of the calibration.
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
    """``x (op) other``, ``other`` a fixed tensor: a residual add (same shape) or a rescale (broadcast)."""

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


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


# (input channels, output channels, kernel, stride, input px): stems, patchify convs, 3x3 bodies
_DENSE = (
    (3, 16, 3, 2, 224), (3, 24, 3, 2, 224), (3, 32, 3, 2, 224), (3, 40, 3, 2, 300), (3, 64, 7, 2, 224),
    (3, 96, 4, 4, 224), (3, 128, 4, 4, 224), (3, 192, 16, 16, 224), (3, 768, 16, 16, 224), (16, 16, 3, 1, 112),
    (32, 32, 3, 1, 112), (64, 64, 3, 1, 56), (64, 128, 3, 2, 56), (128, 128, 3, 1, 28), (256, 256, 3, 1, 14),
    (512, 512, 3, 1, 7), (96, 192, 2, 2, 56), (384, 768, 2, 2, 14),
)  # fmt: skip
# (channels, kernel, stride, input px)
_DEPTHWISE = (
    (16, 3, 1, 112), (32, 3, 1, 112), (96, 3, 2, 112), (48, 3, 1, 56), (144, 3, 1, 56), (144, 3, 2, 56),
    (96, 3, 1, 28), (240, 3, 1, 28), (192, 3, 1, 28), (192, 3, 1, 14), (480, 3, 1, 14), (576, 3, 1, 7),
    (960, 3, 1, 7), (8, 3, 1, 112), (120, 5, 1, 28), (240, 5, 1, 28), (144, 5, 2, 56), (240, 5, 2, 28),
    (480, 5, 1, 14), (672, 5, 1, 14), (672, 5, 2, 14), (1152, 5, 1, 7), (96, 7, 1, 56), (192, 7, 1, 28),
    (384, 7, 1, 14), (768, 7, 1, 7),
)  # fmt: skip
# (input channels, output channels, px): expand, project and same-width 1x1 convs, and SE's 1x1 ones
_POINTWISE = (
    (8, 16, 112), (16, 96, 112), (32, 16, 112), (16, 16, 112), (16, 48, 56), (24, 144, 56), (144, 24, 56),
    (64, 256, 56), (256, 64, 56), (58, 58, 56), (24, 24, 56), (40, 240, 28), (240, 40, 28), (128, 512, 28),
    (512, 128, 28), (116, 116, 28), (64, 64, 28), (80, 480, 14), (480, 80, 14), (256, 1024, 14), (1024, 256, 14),
    (232, 232, 14), (672, 112, 14), (128, 128, 14), (160, 960, 7), (960, 160, 7), (512, 2048, 7), (2048, 512, 7),
    (320, 1280, 7), (464, 464, 7), (256, 256, 7), (96, 4, 1), (4, 96, 1), (64, 1024, 1), (1152, 48, 1),
    (48, 1152, 1), (16, 64, 1),
)  # fmt: skip
# (in features, out features, input shape): classifiers, SE, token and channels-last linears
_LINEAR = (
    (1280, 1000, (1, 1280)), (2048, 1000, (1, 2048)), (768, 1000, (1, 768)), (576, 1024, (1, 576)),
    (64, 16, (1, 64)), (192, 576, (1, 197, 192)), (192, 192, (1, 197, 192)), (192, 768, (1, 197, 192)),
    (384, 1536, (1, 197, 384)), (1536, 384, (1, 197, 1536)), (768, 2304, (1, 197, 768)), (768, 3072, (1, 197, 768)),
    (3072, 768, (1, 197, 3072)), (96, 384, (1, 56, 56, 96)), (384, 96, (1, 56, 56, 384)), (96, 288, (1, 56, 56, 96)),
    (192, 768, (1, 28, 28, 192)), (768, 192, (1, 28, 28, 768)), (384, 1536, (1, 14, 14, 384)),
    (1536, 384, (1, 14, 14, 1536)), (768, 3072, (1, 7, 7, 768)), (3072, 768, (1, 7, 7, 3072)),
)  # fmt: skip
# (kind, shape): scaled-dot-product attention over ViT tokens, Q K^T over Swin windows
_ATTENTION = (
    ("sdpa", (1, 3, 197, 64)), ("sdpa", (1, 6, 197, 64)), ("sdpa", (1, 12, 197, 64)), ("sdpa", (1, 6, 50, 64)),
    ("qk", (64, 3, 49, 32)), ("qk", (16, 6, 49, 32)), ("qk", (4, 12, 49, 32)), ("qk", (1, 24, 49, 32)),
)  # fmt: skip
_BATCHNORM = ((16, 112), (32, 112), (96, 112), (24, 56), (144, 56), (256, 56), (240, 28), (512, 28), (480, 14),
              (1024, 14), (1152, 7), (2048, 7), (64, 1))  # fmt: skip
_LAYERNORM = ((192, (1, 197, 192)), (384, (1, 197, 384)), (768, (1, 197, 768)), (96, (1, 56, 56, 96)),
              (192, (1, 28, 28, 192)), (384, (1, 14, 14, 384)), (768, (1, 7, 7, 768)))  # fmt: skip
_ACTIVATIONS: tuple[tuple[str, Callable[[], nn.Module], tuple[int, ...]], ...] = (
    ("relu", nn.ReLU, _img(16, 112)), ("relu", nn.ReLU, _img(64, 112)), ("relu", nn.ReLU, _img(256, 56)),
    ("relu", nn.ReLU, _img(128, 28)), ("relu", nn.ReLU, _img(512, 7)), ("relu6", nn.ReLU6, _img(96, 112)),
    ("relu6", nn.ReLU6, _img(144, 56)), ("relu6", nn.ReLU6, _img(960, 7)), ("silu", nn.SiLU, _img(32, 112)),
    ("silu", nn.SiLU, _img(144, 56)), ("silu", nn.SiLU, _img(240, 28)), ("silu", nn.SiLU, _img(672, 14)),
    ("hardswish", nn.Hardswish, _img(16, 112)), ("hardswish", nn.Hardswish, _img(240, 14)),
    ("gelu", nn.GELU, (1, 197, 768)), ("gelu", nn.GELU, (1, 197, 3072)), ("gelu", nn.GELU, (1, 56, 56, 384)),
    ("gelu", nn.GELU, (1, 14, 14, 1536)), ("sigmoid", nn.Sigmoid, _img(96, 1)), ("sigmoid", nn.Sigmoid, _img(1152, 1)),
    ("hardsigmoid", nn.Hardsigmoid, _img(576, 1)), ("hardsigmoid", nn.Hardsigmoid, _img(72, 1)),
    ("softmax", lambda: nn.Softmax(-1), (1, 3, 197, 197)), ("softmax", lambda: nn.Softmax(-1), (1, 12, 197, 197)),
    ("softmax", lambda: nn.Softmax(-1), (64, 3, 49, 49)), ("softmax", lambda: nn.Softmax(-1), (4, 24, 49, 49)),
)  # fmt: skip
_POOLS: tuple[tuple[str, Callable[[], nn.Module], tuple[int, ...]], ...] = (
    ("maxpool 3 s2", lambda: nn.MaxPool2d(3, 2, 1), _img(64, 112)),
    ("maxpool 3 s2", lambda: nn.MaxPool2d(3, 2, 1), _img(24, 112)),
    ("maxpool 3 s2", lambda: nn.MaxPool2d(3, 2, 1), _img(128, 56)),
    *(("avgpool global", lambda: nn.AdaptiveAvgPool2d(1), _img(c, px))
      for c, px in ((1280, 7), (2048, 7), (96, 112), (32, 112), (240, 28), (672, 14), (768, 7))),
)  # fmt: skip
_BINARY = (
    ("add", _img(24, 56), _img(24, 56)), ("add", _img(256, 56), _img(256, 56)), ("add", _img(40, 28), _img(40, 28)),
    ("add", _img(512, 28), _img(512, 28)), ("add", _img(2048, 7), _img(2048, 7)), ("add", (1, 197, 768), (1, 197, 768)),
    ("add", (1, 197, 192), (1, 197, 192)), ("mul", _img(96, 112), _img(96, 1)), ("mul", _img(144, 56), _img(144, 1)),
    ("mul", _img(672, 14), _img(672, 1)), ("mul", _img(1152, 7), _img(1152, 1)), ("mul", (1, 56, 56, 96), (96,)),
)  # fmt: skip


def _blocks() -> list[Block]:
    b: list[Block] = []

    def add(op_class: str, name: str, build: Callable[[], nn.Module], shape: tuple[int, ...]) -> None:
        b.append(Block(f"{op_class}:{name}", op_class, build, shape))

    for cin, cout, k, s, px in _DENSE:
        add("conv_dense", f"{cin}->{cout} k{k} s{s} @{px}", _conv(cin, cout, k, s), _img(cin, px))
    for c, k, s, px in _DEPTHWISE:
        add("conv_depthwise", f"{c} k{k} s{s} @{px}", _conv(c, c, k, s, groups=c), _img(c, px))
    for cin, cout, px in _POINTWISE:
        add("conv_pointwise", f"{cin}->{cout} @{px}", _conv(cin, cout, 1), _img(cin, px))
    for c, g, px in ((64, 8, 56), (128, 32, 28), (256, 4, 14), (512, 32, 7)):
        add("conv_grouped", f"{c} g{g} @{px}", _conv(c, c, 3, groups=g), _img(c, px))
    for fin, fout, shape in _LINEAR:
        add("linear", f"{fin}->{fout} on {_shape(shape)}", lambda i=fin, o=fout: nn.Linear(i, o), shape)
    for kind, shape in _ATTENTION:
        add("attention", f"{kind} {_shape(shape)}", lambda k=kind: _Attention(k), shape)
    for c, px in _BATCHNORM:
        add("norm", f"batchnorm {c} @{px}", lambda c=c: nn.BatchNorm2d(c).eval(), _img(c, px))
    for dim, shape in _LAYERNORM:
        add("norm", f"layernorm {dim} on {_shape(shape)}", lambda d=dim: nn.LayerNorm(d), shape)
    for name, build, shape in _ACTIVATIONS:
        add("activation", f"{name} {_shape(shape)}", build, shape)
    for name, build, shape in _POOLS:
        add("pool", f"{name} {_shape(shape)}", build, shape)
    for op, shape, other in _BINARY:
        add("elementwise", f"{op} {_shape(shape)} by {_shape(other)}", lambda o=op, s=other: _Binary(o, s), shape)
    return b


CALIBRATION_BLOCKS: tuple[Block, ...] = tuple(_blocks())
