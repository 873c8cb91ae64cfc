"""Published ImageNet-1K accuracies that torchvision's weights metadata does not carry, typed once, here.

Rule: a row is a figure as its source prints it (top-1 and top-5 in percent, MACs as the table's
"MACs"/"MAdds"/"FLOPs" column, which are all multiply-accumulates, Pixel 1 latency in ms), with the
source on the row. Nothing here is computed or estimated; a configuration whose figure is not in a
source below is absent, and effprof reports it as "no published accuracy". Accuracies torchvision
ships in its weights metadata (``Weights.meta["_metrics"]``) are read from there
(effprof.choose.accuracy) and never typed here.

Sources (read from tensorflow/models, facebookresearch/deit, hujie-frank/SENet and the GhostNet paper):

- TF-slim MobileNet V1 checkpoint table: tensorflow/models ``research/slim/nets/mobilenet_v1.md``
  (float checkpoints of 2018-02-22; the quantized rows are left out: effprof times float models);
- TF-slim MobileNet V2 and V3 checkpoint tables, with Pixel 1 latency (TF-Lite, large core, float):
  tensorflow/models ``research/slim/nets/mobilenet/README.md`` (V3: the float dm=1 rows only; the
  8-bit, dm=0.75 and "minimalistic" checkpoints are other precisions or architectures than effprof builds);
- GhostNet: Han et al., CVPR 2020, Table 7;
- DeiT-Ti and DeiT-S: facebookresearch/deit model zoo (``README_deit.md``), the architectures of
  timm's vit_tiny_patch16_224 and vit_small_patch16_224;
- SE-ResNet-50: hujie-frank/SENet ``README.md`` Table 1 (released Caffe model; top-1/top-5 *error*
  22.37/6.36 printed there, so accuracy 77.63/93.64).
"""

from __future__ import annotations

from dataclasses import dataclass

TF_SLIM_V1 = "TF-slim MobileNet V1 checkpoint table (tensorflow/models research/slim/nets/mobilenet_v1.md)"
TF_SLIM_V2 = "TF-slim MobileNet V2 checkpoint table (tensorflow/models research/slim/nets/mobilenet/README.md)"
TF_SLIM_V3 = "TF-slim MobileNet V3 checkpoint table (tensorflow/models research/slim/nets/mobilenet/README.md)"
GHOSTNET = "Han et al. 2020, GhostNet, Table 7"
DEIT = "Touvron et al. 2021, DeiT model zoo (facebookresearch/deit README_deit.md)"
SENET = "Hu et al., SENet released models, hujie-frank/SENet README Table 1 (100 - error)"


@dataclass(frozen=True)
class Published:
    """One published configuration: an effprof model with keywords, its resolution and its figures."""

    model: str  # effprof registry name
    kwargs: tuple[tuple[str, float], ...]  # the spec's keywords, e.g. (("width", 0.5),)
    resolution_px: int
    top1_pct: float
    top5_pct: float | None
    citation: str
    macs: float | None = None  # the table's MACs (multiply-accumulates)
    params: float | None = None
    pixel1_ms: float | None = None  # Pixel 1 latency in the same table (TF-Lite, float, large core)
    note: str = ""

    @property
    def spec(self) -> str:
        """The effprof spec string: ``mobilenet_v1(width=0.5)``, or the bare name without keywords."""
        if not self.kwargs:
            return self.model
        return f"{self.model}({', '.join(f'{k}={v!r}' for k, v in self.kwargs)})"


def _v1(width: float, res: int, macs_m: float, params_m: float, top1: float, top5: float) -> Published:
    kwargs = () if width == 1.0 else (("width", width),)
    return Published("mobilenet_v1", kwargs, res, top1, top5, TF_SLIM_V1, macs_m * 1e6, params_m * 1e6)


def _v2(width: float, res: int, macs_m: float, params_m: float, top1: float, top5: float, pixel1: float) -> Published:
    kwargs = () if width == 1.0 else (("width_mult", width),)
    return Published("mobilenet_v2", kwargs, res, top1, top5, TF_SLIM_V2, macs_m * 1e6, params_m * 1e6, pixel1)


#: MobileNet_v1_{width}_{resolution}: Million MACs, Million Parameters, Top-1, Top-5
MOBILENET_V1 = (
    _v1(1.0, 224, 569, 4.24, 70.9, 89.9), _v1(1.0, 192, 418, 4.24, 70.0, 89.2),
    _v1(1.0, 160, 291, 4.24, 68.0, 87.7), _v1(1.0, 128, 186, 4.24, 65.2, 85.8),
    _v1(0.75, 224, 317, 2.59, 68.4, 88.2), _v1(0.75, 192, 233, 2.59, 67.2, 87.3),
    _v1(0.75, 160, 162, 2.59, 65.3, 86.0), _v1(0.75, 128, 104, 2.59, 62.1, 83.9),
    _v1(0.5, 224, 150, 1.34, 63.3, 84.9), _v1(0.5, 192, 110, 1.34, 61.7, 83.6),
    _v1(0.5, 160, 77, 1.34, 59.1, 81.9), _v1(0.5, 128, 49, 1.34, 56.3, 79.4),
    _v1(0.25, 224, 41, 0.47, 49.8, 74.2), _v1(0.25, 192, 34, 0.47, 47.7, 72.3),
    _v1(0.25, 160, 21, 0.47, 45.5, 70.3), _v1(0.25, 128, 14, 0.47, 41.5, 66.3),
)  # fmt: skip

#: mobilenet_v2_{width}_{resolution}: MACs (M), Parameters (M), Top 1, Top 5, Mobile CPU (ms) Pixel 1
MOBILENET_V2 = (
    _v2(1.4, 224, 582, 6.06, 75.0, 92.5, 138.0), _v2(1.3, 224, 509, 5.34, 74.4, 92.1, 123.0),
    _v2(1.0, 224, 300, 3.47, 71.8, 91.0, 73.8), _v2(1.0, 192, 221, 3.47, 70.7, 90.1, 55.1),
    _v2(1.0, 160, 154, 3.47, 68.8, 89.0, 40.2), _v2(1.0, 128, 99, 3.47, 65.3, 86.9, 27.6),
    _v2(1.0, 96, 56, 3.47, 60.3, 83.2, 17.6),
    _v2(0.75, 224, 209, 2.61, 69.8, 89.6, 55.8), _v2(0.75, 192, 153, 2.61, 68.7, 88.9, 41.6),
    _v2(0.75, 160, 107, 2.61, 66.4, 87.3, 30.4), _v2(0.75, 128, 69, 2.61, 63.2, 85.3, 21.9),
    _v2(0.75, 96, 39, 2.61, 58.8, 81.6, 14.2),
    _v2(0.5, 224, 97, 1.95, 65.4, 86.4, 28.7), _v2(0.5, 192, 71, 1.95, 63.9, 85.4, 21.1),
    _v2(0.5, 160, 50, 1.95, 61.0, 83.2, 14.9), _v2(0.5, 128, 32, 1.95, 57.7, 80.8, 9.9),
    _v2(0.5, 96, 18, 1.95, 51.2, 75.8, 6.4),
    _v2(0.35, 224, 59, 1.66, 60.3, 82.9, 19.7), _v2(0.35, 192, 43, 1.66, 58.2, 81.2, 14.6),
    _v2(0.35, 160, 30, 1.66, 55.7, 79.1, 10.5), _v2(0.35, 128, 20, 1.66, 50.8, 75.0, 6.9),
    _v2(0.35, 96, 11, 1.66, 45.5, 70.4, 4.5),
)  # fmt: skip

#: Imagenet Checkpoint: MACs (M), Params (M), Top1, Pixel 1 (ms); trained and timed at 224 px; no top-5.
#: The dm=0.75 rows are left out: torchvision's width_mult=0.75 is another network (10-16% fewer MACs,
#: 16-31% fewer parameters than those rows), so their figures do not belong to what effprof builds.
MOBILENET_V3 = (
    Published("mobilenet_v3_large", (), 224, 75.2, None, TF_SLIM_V3, 217e6, 5.4e6, 51.2),
    Published("mobilenet_v3_small", (), 224, 67.5, None, TF_SLIM_V3, 66e6, 2.9e6, 15.8,
              note="the table's 66 M MACs / 2.9 M params are not torchvision's 56.5 M / 2.54 M (the paper's "
                   "Small 1.0); its Pixel 1 latency is kept as published"),
)  # fmt: skip

OTHERS = (
    Published("ghostnet_050", (), 224, 66.2, 86.6, GHOSTNET, 42e6, 2.6e6),
    Published("ghostnet_100", (), 224, 73.9, 91.4, GHOSTNET, 141e6, 5.2e6),
    Published("ghostnet_130", (), 224, 75.7, 92.7, GHOSTNET, 226e6, 7.3e6),
    Published("vit_ti_16", (), 224, 72.2, 91.1, DEIT, None, 5e6, note="DeiT-tiny (no distillation)"),
    Published("vit_s_16", (), 224, 79.9, 95.0, DEIT, None, 22e6, note="DeiT-small (no distillation)"),
    Published("se_resnet50", (), 224, 77.63, 93.64, SENET, None, None,
              note="released Caffe model; the README lists re-implementations that move the stride-2 from the first "
                   "1x1 conv to the 3x3, as timm's seresnet50 does (same parameters)"),
)  # fmt: skip

PUBLISHED: tuple[Published, ...] = (*MOBILENET_V1, *MOBILENET_V2, *MOBILENET_V3, *OTHERS)
