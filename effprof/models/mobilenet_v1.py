"""MobileNetV1 (Howard et al. 2017), which neither torchvision nor timm builds with the paper's
plain width multiplier: every layer's channels are ``round(alpha * C)``, no rounding to 8."""

from __future__ import annotations

from torch import nn

# (output channels, stride) of each depthwise-separable block, Table 1 of the paper: the same table
# the closed-form formula (effprof.formulas.lecture.mobilenet_v1_macs) sums over.
from effprof.formulas.lecture import MOBILENET_V1_BLOCKS as _BLOCKS
from effprof.formulas.lecture import MOBILENET_V1_STEM_CHANNELS as _STEM_CHANNELS


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class DepthwiseSeparable(nn.Sequential):
    """3x3 depthwise conv (one filter per channel) then 1x1 pointwise conv, each with BN + ReLU."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__(
            _conv_bn_relu(cin, cin, 3, stride, groups=cin),
            _conv_bn_relu(cin, cout, 1, 1),
        )


class MobileNetV1(nn.Module):
    """MobileNetV1 with width multiplier ``width`` (alpha); resolution is the input's."""

    def __init__(self, width: float = 1.0, num_classes: int = 1000, dropout: float = 0.0) -> None:
        super().__init__()
        if not width > 0:
            raise ValueError(f"width must be > 0, got {width}")

        def ch(c: int) -> int:
            return max(1, round(c * width))

        layers: list[nn.Module] = [_conv_bn_relu(3, ch(_STEM_CHANNELS), 3, 2)]
        cin = ch(_STEM_CHANNELS)
        for cout, stride in _BLOCKS:
            layers.append(DepthwiseSeparable(cin, ch(cout), stride))
            cin = ch(cout)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x)).flatten(1)
        return self.classifier(self.dropout(x))
