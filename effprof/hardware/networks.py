"""Synthetic networks for calibrating how layers compose: small nets of common building blocks.

Rule: layers timed one by one (effprof.hardware.blocks) run faster than the same layers inside a
network, where each reads the previous one's output, the weights of all the others pass through
the caches, and the network's own Python runs between them. A handful of small networks, written
here from generic building blocks (conv-BN-activation, inverted residuals with and without SE,
depthwise-separable stacks, channel split/concat, transformer blocks, windowed attention,
channels-last MLP blocks) and none of them a registered model or cut from one, are timed whole;
the calibrated predictor fits how their time exceeds the sum of their layers' calibrated times.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from effprof.hardware.blocks import Block


def _cba(cin: int, cout: int, k: int = 3, s: int = 1, g: int = 1, act: Callable[[], nn.Module] = nn.ReLU) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(cout), act())


class _SqueezeExcite(nn.Module):
    def __init__(self, c: int, r: int = 4) -> None:
        super().__init__()
        self.reduce, self.expand = nn.Conv2d(c, max(c // r, 4), 1), nn.Conv2d(max(c // r, 4), c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.expand(F.relu(self.reduce(F.adaptive_avg_pool2d(x, 1)))))


class _InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, expand: int, k: int, stride: int, se: bool = False,
                 act: Callable[[], nn.Module] = nn.ReLU6) -> None:  # fmt: skip
        super().__init__()
        hidden = cin * expand
        layers = [_cba(cin, hidden, 1, act=act)] if expand > 1 else []
        layers += [_cba(hidden, hidden, k, stride, hidden, act=act), *([_SqueezeExcite(hidden)] if se else []),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]  # fmt: skip
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class _Basic(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.a = _cba(c, c)
        self.b = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.b(self.a(x)))


class _Bottleneck(nn.Module):
    def __init__(self, c: int, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_cba(c, width, 1), _cba(width, width, 3),
                                  nn.Conv2d(width, c, 1, bias=False), nn.BatchNorm2d(c))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class _SplitShuffle(nn.Module):
    """Split channels in two, transform one half, concatenate, interleave the halves."""

    def __init__(self, c: int) -> None:
        super().__init__()
        half = c // 2
        self.branch = nn.Sequential(_cba(half, half, 1), _cba(half, half, 3, g=half, act=nn.Identity), _cba(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        y = torch.cat((a, self.branch(b)), dim=1)
        n, c, h, w = y.shape
        return y.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class _Ghost(nn.Module):
    """Half the channels from a 1x1 conv, the other half from a cheap depthwise conv of those."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.primary = _cba(cin, cout // 2, 1)
        self.cheap = _cba(cout // 2, cout // 2, 3, g=cout // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.primary(x)
        return torch.cat((y, self.cheap(y)), dim=1)


class _Transformer(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.qkv, self.proj = nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.norm2, self.fc1, self.act, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        x = x + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


class _WindowAttention(nn.Module):
    """Attention within 7x7 windows of a channels-last map, after a cyclic shift."""

    def __init__(self, dim: int, heads: int, window: int = 7) -> None:
        super().__init__()
        self.heads, self.window = heads, window
        self.norm, self.qkv, self.proj = nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        s, m = self.window // 2, self.window
        y = torch.roll(self.norm(x), shifts=(-s, -s), dims=(1, 2))
        y = y.view(b, h // m, m, w // m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, m * m, c)
        q, k, v = self.qkv(y).reshape(y.shape[0], m * m, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
        y = (attn.softmax(-1) @ v).transpose(1, 2).reshape(-1, m * m, c)
        y = self.proj(y).view(b, h // m, w // m, m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
        return x + torch.roll(y, shifts=(s, s), dims=(1, 2))


class _ChannelsLastMLP(nn.Module):
    """A 7x7 depthwise conv, then LayerNorm and a 4x MLP over channels-last pixels, residual."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm, self.fc1, self.act, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.fc2(self.act(self.fc1(self.norm(y)))).permute(0, 3, 1, 2)
        return x + y


def _head(c: int) -> list[nn.Module]:
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 100)]


def _nets() -> list[tuple[str, Callable[[], nn.Module], tuple[int, ...]]]:
    ir = _InvertedResidual
    return [
        ("inverted residuals, narrow", lambda: nn.Sequential(
            _cba(3, 16, 3, 2), ir(16, 16, 1, 3, 1), ir(16, 24, 4, 3, 2), ir(24, 24, 4, 3, 1), ir(24, 40, 4, 5, 2),
            ir(40, 40, 4, 5, 1), *_head(40)), (1, 3, 160, 160)),
        ("inverted residuals with SE, SiLU", lambda: nn.Sequential(
            _cba(3, 24, 3, 2, act=nn.SiLU), ir(24, 32, 4, 3, 2, True, nn.SiLU), ir(32, 32, 4, 3, 1, True, nn.SiLU),
            ir(32, 64, 6, 5, 2, True, nn.SiLU), ir(64, 96, 6, 3, 2, True, nn.SiLU), *_head(96)), (1, 3, 192, 192)),
        ("inverted residuals, hardswish, wide", lambda: nn.Sequential(
            _cba(3, 32, 3, 2, act=nn.Hardswish), ir(32, 48, 6, 3, 2, False, nn.Hardswish),
            ir(48, 48, 6, 3, 1, True, nn.Hardswish), ir(48, 80, 6, 5, 2, True, nn.Hardswish),
            ir(80, 80, 6, 5, 1, False, nn.Hardswish), *_head(80)), (1, 3, 256, 256)),
        ("basic residual blocks", lambda: nn.Sequential(
            _cba(3, 48, 5, 2), nn.MaxPool2d(3, 2, 1), _Basic(48), _Basic(48), _cba(48, 96, 3, 2), _Basic(96),
            _cba(96, 192, 3, 2), _Basic(192), *_head(192)), (1, 3, 192, 192)),
        ("bottleneck blocks", lambda: nn.Sequential(
            _cba(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1), nn.Conv2d(64, 192, 1), _Bottleneck(192, 48), _Bottleneck(192, 48),
            _cba(192, 384, 3, 2), _Bottleneck(384, 96), *_head(384)), (1, 3, 160, 160)),
        ("depthwise-separable stack", lambda: nn.Sequential(
            _cba(3, 24, 3, 2), *[nn.Sequential(_cba(c, c, 3, s, c), _cba(c, 2 * c if s == 2 else c, 1))
                                 for c, s in ((24, 1), (24, 2), (48, 1), (48, 2), (96, 1), (96, 2))],
            *_head(192)), (1, 3, 192, 192)),  # fmt: skip
        ("channel split and shuffle", lambda: nn.Sequential(
            _cba(3, 32, 3, 2), nn.MaxPool2d(3, 2, 1), _cba(32, 64, 1), _SplitShuffle(64), _SplitShuffle(64),
            _cba(64, 128, 3, 2, g=64), _SplitShuffle(128), _SplitShuffle(128), *_head(128)), (1, 3, 224, 224)),
        ("ghost-style concat", lambda: nn.Sequential(
            _cba(3, 16, 3, 2), _Ghost(16, 32), _cba(32, 32, 3, 2, g=32), _Ghost(32, 64), _Ghost(64, 64),
            _cba(64, 64, 5, 2, g=64), _Ghost(64, 128), *_head(128)), (1, 3, 224, 224)),
        ("transformer blocks, 145 tokens", lambda: nn.Sequential(*[_Transformer(256, 4) for _ in range(3)]),
         (1, 145, 256)),
        ("transformer blocks, 65 tokens", lambda: nn.Sequential(*[_Transformer(512, 8) for _ in range(2)]),
         (1, 65, 512)),
        ("shifted-window attention", lambda: nn.Sequential(*[_WindowAttention(96, 3) for _ in range(2)]),
         (1, 28, 28, 96)),
        ("channels-last MLP blocks", lambda: nn.Sequential(_ChannelsLastMLP(128), _ChannelsLastMLP(128)),
         (1, 128, 28, 28)),
    ]


CALIBRATION_NETWORKS: tuple[Block, ...] = tuple(Block(f"network:{name}", "network", build, shape)
                                               for name, build, shape in _nets())  # fmt: skip
