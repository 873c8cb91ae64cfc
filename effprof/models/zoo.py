"""Every model effprof lists by name: torchvision and timm where they build the architecture,
effprof's own code only where they don't (MobileNetV1's plain width multiplier).

Paper figures are as published; "FLOPs" in these papers are multiply-adds, i.e. effprof's MACs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from effprof.models.registry import PaperRef, register_model

if TYPE_CHECKING:  # torch only for annotations: the registry imports without torch
    from torch import nn

# The arguments torchvision's builders force when they load the released weights, which a build
# without weights does not get: GoogLeNet then keeps its two auxiliary heads (training-only; the
# released model drops them: 6.6 M params, not 13.0 M) and Inception v3 keeps its one (the released
# model does too: torchvision's num_params counts it). transform_input is on in both releases.
# init_weights=True is what None means, said explicitly to skip torchvision's FutureWarning.
_AS_RELEASED = {
    "googlenet": {"aux_logits": False, "transform_input": True, "init_weights": True},
    "inception_v3": {"aux_logits": True, "transform_input": True, "init_weights": True},
}


def torchvision_model(name: str, **kwargs) -> nn.Module:
    """Any torchvision model by name, without weights, built as released (see ``_AS_RELEASED``)."""
    import torchvision

    kwargs = {**_AS_RELEASED.get(name.lower(), {}), **kwargs}
    return torchvision.models.get_model(name, weights=None, **kwargs)


def timm_model(name: str, **kwargs) -> nn.Module:
    """Any timm model by name, without weights."""
    import timm

    return timm.create_model(name, pretrained=False, **kwargs)


# --- ResNet (He et al., CVPR 2016, Table 1: FLOPs as multiply-adds; no params column) -----------------
_RESNET = "He et al. 2016, Deep Residual Learning, Table 1"
for _depth, _gmacs in ((18, 1.8), (34, 3.6), (50, 3.8), (101, 7.6)):

    def _resnet(_n=f"resnet{_depth}", **kwargs) -> nn.Module:
        return torchvision_model(_n, **kwargs)

    _resnet.__doc__ = f"ResNet-{_depth} (torchvision)"
    register_model(
        name=f"resnet{_depth}", family="ResNet", source="torchvision", torchvision_name=f"resnet{_depth}",
        paper=PaperRef(None, _gmacs * 1e9, 224, _RESNET),
    )(_resnet)

# --- MobileNetV1 (Howard et al. 2017, Table 6: width multiplier) -------------------------------------
_MNV1 = "Howard et al. 2017, MobileNets, Table 6"


@register_model(family="MobileNetV1", source="effprof", paper=PaperRef(4.2e6, 569e6, 224, _MNV1))
def mobilenet_v1(width: float = 1.0, **kwargs) -> nn.Module:
    """MobileNetV1, any width multiplier by keyword: mobilenet_v1(width=0.6)"""
    from effprof.models.mobilenet_v1 import MobileNetV1  # torch: imported when a model is built, not listed

    return MobileNetV1(width=width, **kwargs)


for _tag, _width, _params, _macs in (("075", 0.75, 2.6e6, 325e6), ("050", 0.5, 1.3e6, 149e6), ("025", 0.25, 0.5e6, 41e6)):

    def _mnv1(_w=_width, **kwargs) -> nn.Module:
        return mobilenet_v1(width=_w, **kwargs)

    _mnv1.__doc__ = f"MobileNetV1 {_width}x width"
    register_model(
        name=f"mobilenet_v1_{_tag}", family="MobileNetV1", source="effprof",
        paper=PaperRef(_params, _macs, 224, _MNV1),
    )(_mnv1)


# --- MobileNetV2 / V3 -----------------------------------------------------------------------------------
@register_model(
    family="MobileNetV2", source="torchvision", torchvision_name="mobilenet_v2",
    paper=PaperRef(3.4e6, 300e6, 224, "Sandler et al. 2018, MobileNetV2, Table 4"),
)
def mobilenet_v2(width_mult: float = 1.0, **kwargs) -> nn.Module:
    """MobileNetV2 (torchvision), any width by keyword: mobilenet_v2(width_mult=0.5)"""
    return torchvision_model("mobilenet_v2", width_mult=width_mult, **kwargs)


_MNV3 = "Howard et al. 2019, Searching for MobileNetV3, Tables 3-4"
for _size, _params, _macs in (("large", 5.4e6, 219e6), ("small", 2.5e6, 56e6)):

    def _mnv3(_n=f"mobilenet_v3_{_size}", **kwargs) -> nn.Module:
        return torchvision_model(_n, **kwargs)

    _mnv3.__doc__ = f"MobileNetV3-{_size.title()} (torchvision)"
    register_model(
        name=f"mobilenet_v3_{_size}", family="MobileNetV3", source="torchvision",
        torchvision_name=f"mobilenet_v3_{_size}", paper=PaperRef(_params, _macs, 224, _MNV3),
    )(_mnv3)

# --- EfficientNet B0-B7 (Tan & Le 2019, Table 2), each at its own resolution ------------------------
_EFF = "Tan & Le 2019, EfficientNet, Table 2"
_EFFICIENTNETS = (
    (0, 224, 5.3e6, 0.39e9), (1, 240, 7.8e6, 0.70e9), (2, 260, 9.2e6, 1.0e9), (3, 300, 12e6, 1.8e9),
    (4, 380, 19e6, 4.2e9), (5, 456, 30e6, 9.9e9), (6, 528, 43e6, 19e9), (7, 600, 66e6, 37e9),
)  # fmt: skip
for _b, _res, _params, _macs in _EFFICIENTNETS:

    def _effnet(_n=f"efficientnet_b{_b}", **kwargs) -> nn.Module:
        return torchvision_model(_n, **kwargs)

    _effnet.__doc__ = f"EfficientNet-B{_b} (torchvision), {_res}px"
    register_model(
        name=f"efficientnet_b{_b}", family="EfficientNet", source="torchvision", resolution=_res,
        torchvision_name=f"efficientnet_b{_b}", paper=PaperRef(_params, _macs, _res, _EFF),
    )(_effnet)

# --- ShuffleNetV2 (Ma et al. 2018, Table 8 FLOPs; params from the released models) ------------------
_SHUFFLE = "Ma et al. 2018, ShuffleNet V2, Table 8"
for _tag, _params, _macs in (("x0_5", 1.4e6, 41e6), ("x1_0", 2.3e6, 146e6), ("x1_5", 3.5e6, 299e6), ("x2_0", 7.4e6, 591e6)):

    def _shuffle(_n=f"shufflenet_v2_{_tag}", **kwargs) -> nn.Module:
        return torchvision_model(_n, **kwargs)

    _shuffle.__doc__ = f"ShuffleNetV2 {_tag.replace('_', '.')} (torchvision)"
    register_model(
        name=f"shufflenet_v2_{_tag}", family="ShuffleNetV2", source="torchvision",
        torchvision_name=f"shufflenet_v2_{_tag}", paper=PaperRef(_params, _macs, 224, _SHUFFLE),
    )(_shuffle)

# --- GhostNet (Han et al. 2020, Table 7) via timm ------------------------------------------------------
_GHOST = "Han et al. 2020, GhostNet, Table 7"
for _tag, _params, _macs in (("050", 2.6e6, 42e6), ("100", 5.2e6, 141e6), ("130", 7.3e6, 226e6)):

    def _ghost(_n=f"ghostnet_{_tag}", **kwargs) -> nn.Module:
        return timm_model(_n, **kwargs)

    _ghost.__doc__ = f"GhostNet {int(_tag) / 100:.1f}x (timm)"
    register_model(
        name=f"ghostnet_{_tag}", family="GhostNet", source="timm", paper=PaperRef(_params, _macs, 224, _GHOST),
    )(_ghost)


# --- SE-ResNet-50 (Hu et al. 2018) via timm ------------------------------------------------------------
@register_model(
    family="SENet", source="timm",
    paper=PaperRef(28.1e6, 3.87e9, 224, "Hu et al. 2018, Squeeze-and-Excitation Networks, Table 2",
                   note="params: ResNet-50's ~25M plus ~2.5M for SE (Sec. 4)"),
)  # fmt: skip
def se_resnet50(**kwargs) -> nn.Module:
    """SE-ResNet-50: ResNet-50 with squeeze-and-excitation, r=16 (timm seresnet50)"""
    return timm_model("seresnet50", **kwargs)


# --- MnasNet (Tan et al. 2019) -----------------------------------------------------------------------
@register_model(
    family="MnasNet", source="torchvision", torchvision_name="mnasnet1_0",
    paper=PaperRef(3.9e6, 312e6, 224, "Tan et al. 2019, MnasNet, Table 1",
                   note="paper row is MnasNet-A1 (with SE); torchvision builds the B1 variant without SE"),
)  # fmt: skip
def mnasnet1_0(**kwargs) -> nn.Module:
    """MnasNet 1.0 (torchvision)"""
    return torchvision_model("mnasnet1_0", **kwargs)


# --- Vision transformers (Dosovitskiy et al. 2021; figures from DeiT, Touvron et al. 2021, Table 1) ---
_DEIT = "Touvron et al. 2021, DeiT, Table 1 (ViT architecture: Dosovitskiy et al. 2021)"


@register_model(
    family="ViT", source="timm", resolution_multiple=16, resolution_kwarg="img_size",
    paper=PaperRef(5e6, 1.3e9, 224, _DEIT),
)
def vit_ti_16(**kwargs) -> nn.Module:
    """ViT-Ti/16 (timm vit_tiny_patch16_224)"""
    return timm_model("vit_tiny_patch16_224", **kwargs)


@register_model(
    family="ViT", source="timm", resolution_multiple=16, resolution_kwarg="img_size",
    paper=PaperRef(22e6, 4.6e9, 224, _DEIT),
)
def vit_s_16(**kwargs) -> nn.Module:
    """ViT-S/16 (timm vit_small_patch16_224)"""
    return timm_model("vit_small_patch16_224", **kwargs)


@register_model(
    family="ViT", source="torchvision", resolution_multiple=16, resolution_kwarg="image_size",
    torchvision_name="vit_b_16", paper=PaperRef(86e6, 17.6e9, 224, _DEIT),
)
def vit_b_16(**kwargs) -> nn.Module:
    """ViT-B/16 (torchvision)"""
    return torchvision_model("vit_b_16", **kwargs)


# --- Swin (Liu et al. 2021, Table 1) and ConvNeXt (Liu et al. 2022, Table 1) -------------------------
for _family, _names, _citation in (
    ("Swin", (("swin_t", 28e6, 4.5e9), ("swin_s", 50e6, 8.7e9), ("swin_b", 88e6, 15.4e9)),
     "Liu et al. 2021, Swin Transformer, Table 1"),
    ("ConvNeXt", (("convnext_tiny", 28e6, 4.5e9), ("convnext_small", 50e6, 8.7e9), ("convnext_base", 89e6, 15.4e9)),
     "Liu et al. 2022, A ConvNet for the 2020s, Table 1"),
):  # fmt: skip
    for _name, _params, _macs in _names:

        def _build(_n=_name, **kwargs) -> nn.Module:
            return torchvision_model(_n, **kwargs)

        _build.__doc__ = f"{_name} (torchvision)"
        register_model(
            name=_name, family=_family, source="torchvision", torchvision_name=_name,
            paper=PaperRef(_params, _macs, 224, _citation),
        )(_build)

# The compound-scaling family, then the ConvNeXt roadmap's steps, register after the zoo's models (the
# registry keeps that order).
from effprof.models import compound  # noqa: E402,F401,I001
from effprof.models import roadmap  # noqa: E402,F401,I001
