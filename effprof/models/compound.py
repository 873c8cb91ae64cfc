"""EfficientNet scaled literally by the compound rule (Tan & Le 2019, Eq. 3): depth d = 1.2^phi,
width w = 1.1^phi, resolution r = 1.15^phi, from torchvision's own B0 building blocks.

The released B1-B7 do not follow the rule (B1 is d = 1.1, w = 1.0, 240 px; the literal phi = 1 is
d = 1.2, w = 1.1, 258 px), so effprof keeps both: ``efficientnet_b{0..7}`` are torchvision's, and
``efficientnet(phi=...)`` is this one. ``OFFICIAL`` is torchvision's per-variant table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from effprof.formulas.lecture import compound_coefficients, compound_resolution
from effprof.models.registry import PaperRef, register_model

if TYPE_CHECKING:  # torch only for annotations: the registry imports without torch
    from torch import nn


@dataclass(frozen=True)
class Variant:
    """One released EfficientNet: torchvision's width_mult, depth_mult and dropout, the paper's resolution."""

    name: str
    width_mult: float
    depth_mult: float
    resolution: int
    dropout: float


#: torchvision.models.efficientnet_b0..b7 (their ``_efficientnet_conf`` arguments); resolutions are the
#: paper's (torchvision's B2 weights are evaluated at 288 px, the paper's B2 at 260 px).
OFFICIAL = (
    Variant("efficientnet_b0", 1.0, 1.0, 224, 0.2),
    Variant("efficientnet_b1", 1.0, 1.1, 240, 0.2),
    Variant("efficientnet_b2", 1.1, 1.2, 260, 0.3),
    Variant("efficientnet_b3", 1.2, 1.4, 300, 0.3),
    Variant("efficientnet_b4", 1.4, 1.8, 380, 0.4),
    Variant("efficientnet_b5", 1.6, 2.2, 456, 0.4),
    Variant("efficientnet_b6", 1.8, 2.6, 528, 0.5),
    Variant("efficientnet_b7", 2.0, 3.1, 600, 0.5),
)


def build_efficientnet(width_mult: float, depth_mult: float, dropout: float = 0.2, **kwargs) -> nn.Module:
    """torchvision's EfficientNet from B0's stage table with any width and depth multiplier.

    Channels are rounded to multiples of 8 and each stage's depth up (ceil), torchvision's rules.
    """
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    setting, last_channel = _efficientnet_conf(
        "efficientnet_b0", width_mult=width_mult, depth_mult=depth_mult
    )
    return EfficientNet(setting, dropout, last_channel=last_channel, **kwargs)


def default_resolution(phi: float) -> int:
    """The literal model's input side = round(224 * 1.15^phi): 224, 258, 296, 341, 392, 451, 518, 596."""
    return compound_resolution(phi)


@register_model(
    family="EfficientNet", source="effprof",
    paper=PaperRef(5.3e6, 0.39e9, 224, "Tan & Le 2019, EfficientNet, Eq. 3 and Table 2",
                   note="phi = 0 is B0; other phi follow d = 1.2^phi, w = 1.1^phi, r = 1.15^phi literally"),
    resolution_fn=lambda kwargs: default_resolution(kwargs.get("phi", 0)),
)  # fmt: skip
def efficientnet(phi: float = 0, **kwargs) -> nn.Module:
    """EfficientNet scaled by the literal compound rule, d=1.2^phi w=1.1^phi r=1.15^phi; -r defaults to round(224*1.15^phi)"""
    if not phi >= 0:
        raise ValueError(f"phi must be >= 0, got {phi}")
    depth, width, _ = compound_coefficients(phi)
    return build_efficientnet(width, depth, **kwargs)
