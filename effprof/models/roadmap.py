"""The ConvNeXt roadmap (Liu et al. 2022, "A ConvNet for the 2020s", Sec. 2 and Figure 2): ResNet-50
modernised into ConvNeXt-T one change at a time, every step a buildable model, ``convnext_roadmap(step=K)``.

Rule: a step is the previous step with one change (``ROADMAP[k].knobs`` replaces some of
``ROADMAP[k-1].knobs``); ``effprof.models.roadmap_build.build_roadmap(knobs)`` turns knobs into a
module (torchvision's blocks where they are the paper's, effprof's own only for steps 5-11).

Paper figures (``paper_gmacs``, ``paper_top1``) are read off Figure 2 (ResNet-50/Swin-T regime bars,
GFLOPs as the paper uses the word: multiply-adds, effprof's MACs) and checked against Sec. 2's text
where it states them; ``source`` says which. The paper does not publish the intermediate models: where
it leaves a choice open (where a block downsamples, which norms a shortcut keeps) ``note`` says what
effprof chose.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from effprof.errors import EffprofError
from effprof.models.registry import PaperRef, register_model

if TYPE_CHECKING:  # torch only for annotations: the registry imports without torch (as zoo.py)
    from torch import nn

CITATION = "Liu et al. 2022, A ConvNet for the 2020s, Figure 2"


@dataclass(frozen=True)
class Knobs:
    """Everything that changes along the roadmap; the defaults are ResNet-50."""

    depths: tuple[int, int, int, int] = (3, 4, 6, 3)
    #: "resnet": 7x7 stride-2 conv + max-pool; "patchify": 4x4 stride-4 conv
    stem: str = "resnet"
    #: channels of the first stage's residual stream narrowest point (ResNet: bottleneck width 64)
    width: int = 64
    #: "bottleneck" (ResNet: 1x1 reduce, 3x3, 1x1 expand x4), "inverted" (1x1 expand x4, dw, 1x1 project),
    #: "convnext" (torchvision's ConvNeXt with separate downsampling layers)
    block: str = "bottleneck"
    #: the bottleneck's 3x3 conv is depthwise (groups = channels), ResNeXt's extreme case
    depthwise: bool = False
    #: inverted block: the depthwise conv comes first (on the narrow input), before the 1x1 expand
    dw_first: bool = False
    kernel: int = 3
    activation: str = "relu"  # relu | gelu
    #: "all": after every conv but the last and after the residual add (ResNet); "one": between the 1x1 convs
    activations: str = "all"
    #: "all": after every conv (ResNet); "one": after the depthwise conv only
    norms: str = "all"
    norm: str = "bn"  # bn | ln (torchvision's LayerNorm2d over channels)


@dataclass(frozen=True)
class Step:
    """One step of the roadmap: what changed, the paper's Figure 2 figures, and the knobs it builds with."""

    step: int
    change: str
    paper_gmacs: float
    paper_top1: float
    knobs: Knobs
    source: str = "Figure 2"
    note: str = ""
    #: a few words for tables and plots (Figure 2's bar label)
    label: str = ""


def _steps() -> tuple[Step, ...]:
    """The roadmap, each step's knobs being the previous step's with its change applied."""
    changes = (
        ("ResNet-50, modernized training recipe (architecture unchanged)", 4.1, 78.8, {},
         "Figure 2; Sec. 2.1 text: 76.1% -> 78.8%",
         "the architecture is torchvision's resnet50; 76.1% is the original 90-epoch recipe"),
        ("stage ratio 3:4:6:3 -> 3:3:9:3", 4.5, 79.4, {"depths": (3, 3, 9, 3)},
         "Figure 2; Sec. 2.2 text: 78.8% -> 79.4%", ""),
        ("patchify stem: 4x4 stride-4 conv replaces 7x7 stride-2 conv + max-pool", 4.4, 79.5, {"stem": "patchify"},
         "Figure 2; Sec. 2.2 text: 79.4% -> 79.5%", "the stem keeps its BN and ReLU until the micro-design steps"),
        ("ResNeXt-ify: depthwise 3x3 conv in the bottleneck", 2.4, 78.3, {"depthwise": True},
         "Figure 2; Sec. 2.3 text: FLOPs 2.4G", ""),
        ("ResNeXt-ify: width 64 -> 96 (Swin-T's channels)", 5.3, 80.5, {"width": 96},
         "Figure 2; Sec. 2.3 text: 80.5% with 5.3 GFLOPs", "every channel count x1.5: stem 96, bottleneck 96..768, "
         "block outputs 384..3072"),
        ("inverted bottleneck: 1x1 expand x4, depthwise, 1x1 project", 4.6, 80.6, {"block": "inverted"},
         "Figure 2; Sec. 2.4 text: 80.5% -> 80.6%, FLOPs 4.6G",
         "residual stream 96..768; downsampling blocks keep a strided depthwise conv and a 1x1 strided shortcut conv"),
        ("move the depthwise conv up, before the 1x1 expand", 4.1, 79.9, {"dw_first": True},
         "Figure 2; Sec. 2.5 text: 79.9%, FLOPs 4.1G", "the strided depthwise conv of a downsampling block works "
         "on the narrow input"),
        ("kernel 3x3 -> 7x7", 4.2, 80.6, {"kernel": 7},
         "Figure 2; Sec. 2.5 text: 79.9% -> 80.6%", "Figure 2 also shows 5x5 (80.4%), 9x9 and 11x11; "
         "their GFLOPs are not shown here"),
        ("ReLU -> GELU", 4.2, 80.6, {"activation": "gelu"}, "Figure 2; Sec. 2.6 text: accuracy unchanged", ""),
        ("fewer activations: one GELU per block, between the 1x1 convs", 4.2, 81.3, {"activations": "one"},
         "Figure 2; Sec. 2.6 text: +0.7% to 81.3%", "the stem drops its activation too"),
        ("fewer norms: one norm per block, after the depthwise conv", 4.2, 81.4, {"norms": "one"},
         "Figure 2; Sec. 2.6 text: 81.4%", "a downsampling block's shortcut conv keeps its norm"),
        ("BN -> LN", 4.2, 81.5, {"norm": "ln"}, "Figure 2; Sec. 2.6 text: 81.5%",
         "GFLOPs of the micro-design steps read off Figure 2's bars (4.2); not stated in the text"),
        ("separate downsampling layers: LN + 2x2 stride-2 conv between stages (= ConvNeXt-T)", 4.5, 82.0,
         {"block": "convnext"}, "Figure 2; Sec. 2.6 text: 82.0%; Table 1: ConvNeXt-T 4.5 GFLOPs",
         "torchvision's convnext_tiny: also a LayerNorm after the stem and before the classifier, and layer scale"),
    )  # fmt: skip
    labels = ("ResNet-50", "stage ratio", "patchify stem", "depthwise conv", "width 96", "inverted bottleneck",
              "depthwise up", "kernel 7x7", "ReLU -> GELU", "fewer activations", "fewer norms", "BN -> LN",
              "separate downsampling")  # fmt: skip
    steps, knobs = [], Knobs()
    for k, ((change, gmacs, top1, delta, source, note), label) in enumerate(zip(changes, labels, strict=True)):
        knobs = dataclasses.replace(knobs, **delta)
        steps.append(Step(k, change, gmacs, top1, knobs, source, note, label))
    return tuple(steps)


ROADMAP: tuple[Step, ...] = _steps()
LAST_STEP = len(ROADMAP) - 1


def get_step(step: int) -> Step:
    """The roadmap step ``step`` (0 = ResNet-50, LAST_STEP = ConvNeXt-T); anything else is an EffprofError."""
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= LAST_STEP:
        raise EffprofError(f"convnext_roadmap: step must be a whole number 0 to {LAST_STEP}, got {step!r}")
    return ROADMAP[step]


@register_model(
    family="ConvNeXt", source="effprof",
    paper=PaperRef(None, ROADMAP[0].paper_gmacs * 1e9, 224, CITATION,
                   note=f"the default, step=0 (ResNet-50); steps 0..{LAST_STEP} and their GFLOPs: `effprof roadmap`"),
)  # fmt: skip
def convnext_roadmap(step: int = 0, **kwargs) -> nn.Module:
    """ConvNeXt roadmap: ResNet-50 (step=0) modernised one change at a time into ConvNeXt-T (step=12)"""
    knobs = get_step(step).knobs
    # torchvision is imported when a step is built, not when the registry is (as zoo.py does)
    from effprof.models.roadmap_build import build_roadmap

    return build_roadmap(knobs, **kwargs)
