"""The modules of the ConvNeXt roadmap's steps (effprof.models.roadmap): knobs in, an nn.Module out.

torchvision's blocks are used where they are the paper's: ResNet's ``Bottleneck`` for steps 0-4 (step 0
is torchvision's resnet50 exactly) and its ``ConvNeXt``/``CNBlock`` for the last step (torchvision's
convnext_tiny exactly, including layer scale, which the paper's training recipe adds). effprof's own
code is only the inverted-bottleneck block of the steps in between (steps 5-11), which neither
library builds.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from torch import nn
from torchvision.models.convnext import CNBlockConfig, ConvNeXt, LayerNorm2d
from torchvision.models.resnet import Bottleneck

if TYPE_CHECKING:  # annotations only: effprof.models.roadmap imports this module when a step is built
    from effprof.models.roadmap import Knobs


def _norm(knobs: Knobs, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if knobs.norm == "bn" else LayerNorm2d(channels, eps=1e-6)


def _act(knobs: Knobs) -> nn.Module:
    return nn.ReLU(inplace=True) if knobs.activation == "relu" else nn.GELU()


def _stem(knobs: Knobs) -> nn.Sequential:
    """ResNet's 7x7/2 conv + norm + act + 3x3/2 max-pool, or a 4x4/4 "patchify" conv + norm (+ act)."""
    if knobs.stem == "resnet":
        conv = nn.Conv2d(3, knobs.width, 7, 2, 3, bias=False)
        return nn.Sequential(conv, _norm(knobs, knobs.width), _act(knobs), nn.MaxPool2d(3, 2, 1))
    layers = [nn.Conv2d(3, knobs.width, 4, 4, bias=False), _norm(knobs, knobs.width)]
    return nn.Sequential(*layers, *([_act(knobs)] if knobs.activations == "all" else []))


def _bottleneck(knobs: Knobs, cin: int, planes: int, stride: int) -> Bottleneck:
    """torchvision's Bottleneck (1x1 reduce, 3x3 at ``stride``, 1x1 expand x4); its 3x3 made depthwise if asked."""
    cout = planes * Bottleneck.expansion
    down = None
    if stride != 1 or cin != cout:
        down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    block = Bottleneck(cin, planes, stride, down)
    if knobs.depthwise:
        block.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, groups=planes, bias=False)
    return block


class InvertedBlock(nn.Module):
    """The roadmap's steps 5-11: 1x1 expand x4 -> depthwise KxK -> 1x1 project (or the depthwise conv first),
    with norms and activations where ``knobs`` put them, and a residual add.

    A downsampling block (``stride`` 2 or new width) strides its depthwise conv and adds a strided 1x1
    conv + norm on the shortcut, as ResNet's blocks do.
    """

    def __init__(self, knobs: Knobs, cin: int, dim: int, stride: int) -> None:
        super().__init__()
        hidden, k = 4 * dim, knobs.kernel
        every = knobs.norms == "all"

        def norm(c: int) -> list[nn.Module]:
            return [_norm(knobs, c)] if every else []

        def act() -> list[nn.Module]:
            return [_act(knobs)] if knobs.activations == "all" else []

        if knobs.dw_first:
            layers = [nn.Conv2d(cin, cin, k, stride, k // 2, groups=cin, bias=False), _norm(knobs, cin), *act(),
                      nn.Conv2d(cin, hidden, 1, bias=False), *norm(hidden), _act(knobs),
                      nn.Conv2d(hidden, dim, 1, bias=False), *norm(dim)]  # fmt: skip
        else:
            layers = [nn.Conv2d(cin, hidden, 1, bias=False), *norm(hidden), *act(),
                      nn.Conv2d(hidden, hidden, k, stride, k // 2, groups=hidden, bias=False), _norm(knobs, hidden),
                      _act(knobs), nn.Conv2d(hidden, dim, 1, bias=False), *norm(dim)]  # fmt: skip
        self.body = nn.Sequential(*layers)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(cin, dim, 1, stride, bias=False), _norm(knobs, dim))
            if stride != 1 or cin != dim
            else nn.Identity()
        )
        self.out_act = _act(knobs) if knobs.activations == "all" else nn.Identity()

    def forward(self, x):
        return self.out_act(self.body(x) + self.shortcut(x))


class RoadmapNet(nn.Module):
    """Stem, four stages (stride 2 from the second on), global average pool, linear classifier."""

    def __init__(self, knobs: Knobs, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = _stem(knobs)
        stages, cin = [], knobs.width
        for i, depth in enumerate(knobs.depths):
            width = knobs.width * 2**i
            blocks = []
            for j in range(depth):
                stride = 2 if i > 0 and j == 0 else 1
                if knobs.block == "bottleneck":
                    blocks.append(_bottleneck(knobs, cin, width, stride))
                    cin = width * Bottleneck.expansion
                else:
                    blocks.append(InvertedBlock(knobs, cin, width, stride))
                    cin = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.stages(self.stem(x))).flatten(1))


def build_roadmap(knobs: Knobs, num_classes: int = 1000) -> nn.Module:
    """The module for ``knobs``: torchvision's ConvNeXt for the last step's block, RoadmapNet otherwise."""
    if knobs.block == "convnext":
        widths = [knobs.width * 2**i for i in range(len(knobs.depths))]
        setting = [CNBlockConfig(w, widths[i + 1] if i + 1 < len(widths) else None, d)
                   for i, (w, d) in enumerate(zip(widths, knobs.depths, strict=True))]  # fmt: skip
        # convnext_tiny's arguments; stochastic depth is training-only and changes no count
        return ConvNeXt(setting, stochastic_depth_prob=0.1, num_classes=num_classes,
                        norm_layer=partial(LayerNorm2d, eps=1e-6))  # fmt: skip
    return RoadmapNet(knobs, num_classes)


