"""The accuracy lookup against torchvision's weights metadata, and the typed tables' place beside it."""

from __future__ import annotations

import math

import pytest
import torchvision

from effprof.choose.accuracy import (
    candidate,
    catalogue,
    family_of,
    lookup,
    normalise,
    torchvision_classifiers,
)
from effprof.choose.published import PUBLISHED, TF_SLIM_V1, TF_SLIM_V2
from effprof.errors import EffprofError


def _metadata(name: str) -> dict[int, tuple[float, float, str]]:
    """crop -> (acc@1, acc@5, weights name) of the best weights per crop, read straight from torchvision."""
    best: dict[int, tuple[float, float, str]] = {}
    for w in torchvision.models.get_model_weights(name):
        m = w.meta["_metrics"]["ImageNet-1K"]
        if not math.isfinite(m["acc@1"]):
            continue
        crop = w.transforms().crop_size[0]
        if crop not in best or m["acc@1"] > best[crop][0]:
            best[crop] = (m["acc@1"], m["acc@5"], w.name)
    return best


def test_every_torchvision_classifier_reads_its_metadata_at_every_published_crop():
    names = torchvision_classifiers()
    assert len(names) >= 80 and "mobilenet_v2" in names and "regnet_y_16gf" in names
    for name in names:
        for crop, (top1, top5, weights) in _metadata(name).items():
            acc = lookup(f"tv:{name}", crop).accuracy
            assert acc is not None, (name, crop)
            assert (acc.top1_pct, acc.top5_pct, acc.resolution_px) == (top1, top5, crop)
            assert weights in acc.source and "torchvision" in acc.source


def test_known_figures_and_which_weights_are_chosen():
    # two weights at 224: the better (IMAGENET1K_V2) is taken; the registry name and tv: agree
    for spec in ("mobilenet_v2", "tv:mobilenet_v2", "mobilenet_v2(width_mult=1.0)"):
        acc = lookup(spec, 224).accuracy
        assert acc.top1_pct == 72.154 and acc.top5_pct == 90.822 and "IMAGENET1K_V2" in acc.source
    assert lookup("resnet50", 224).accuracy.top1_pct == 80.858
    # SWAG end-to-end weights are evaluated at 384: a separate candidate at its own size
    assert lookup("tv:regnet_y_16gf", 384).accuracy.top1_pct == 86.012
    # VGG16's IMAGENET1K_FEATURES weights (NaN accuracy) never win
    assert lookup("tv:vgg16", 224).accuracy.top1_pct == 71.592


def test_no_published_accuracy_says_why():
    b2 = lookup("efficientnet_b2", 260)  # the paper's size; torchvision's weights are evaluated at 288
    assert b2.accuracy is None and "288 px" in b2.reason
    assert lookup("efficientnet_b2", 288).accuracy.top1_pct == 80.608
    phi = lookup("efficientnet(phi=2)", 296)
    assert phi.accuracy is None and "no published" in phi.reason
    assert lookup("timm:resnet18", 224).accuracy is None
    assert lookup("mobilenet_v2(width_mult=0.6)", 224).accuracy is None  # not a TF-slim row


def test_typed_tables_fill_in_only_where_torchvision_has_no_weights():
    # the same network at the same size: torchvision's figure, never the typed one (read, not typed twice)
    assert lookup("mobilenet_v2", 224).accuracy.source.startswith("torchvision")
    assert lookup("mobilenet_v2", 224).pixel1_ms == 73.8  # the phone latency still comes from the table
    small = lookup("mobilenet_v2(width_mult=0.35)", 96)
    assert (small.accuracy.top1_pct, small.accuracy.top5_pct, small.pixel1_ms) == (45.5, 70.4, 4.5)
    assert small.accuracy.source == TF_SLIM_V2
    # registry aliases and default keywords are the same configuration
    assert lookup("mobilenet_v1_050", 160).accuracy == lookup("mobilenet_v1(width=0.5)", 160).accuracy
    assert lookup("mobilenet_v1(width=1.0)", 224).accuracy.source == TF_SLIM_V1
    assert normalise("efficientnet(phi=0)")[1:] == ("efficientnet_b0", ())  # phi = 0 is B0, block for block
    assert lookup("efficientnet", 224).accuracy == lookup("efficientnet_b0", 224).accuracy


def test_the_catalogue_is_every_published_configuration_once():
    cands = catalogue()
    keys = [(normalise(c.spec)[1:], c.resolution_px) for c in cands]
    assert len(keys) == len(set(keys)), "a configuration listed twice"
    assert all(c.accuracy is not None for c in cands)
    tv = sum(len(_metadata(n)) for n in torchvision_classifiers())
    typed_only = sum(1 for r in PUBLISHED if lookup(r.spec, r.resolution_px).accuracy.source == r.citation)
    assert len(cands) == tv + typed_only
    # registered torchvision models keep their effprof name; the others are tv:NAME
    specs = {c.spec for c in cands}
    assert {"mobilenet_v2", "efficientnet_b7", "tv:regnet_y_400mf", "mobilenet_v2(width_mult=0.35)"} <= specs


def test_candidate_resolution_and_family():
    assert candidate("efficientnet_b2").resolution_px == 288  # where its accuracy is published
    assert candidate("mobilenet_v2(width_mult=0.5)").resolution_px == 224
    assert candidate("mobilenet_v2(width_mult=0.5)", 128).accuracy.top1_pct == 57.7
    assert candidate("efficientnet(phi=3)").resolution_px == 341 and candidate("efficientnet(phi=3)").accuracy is None
    assert family_of("tv:resnet152") == "ResNet" and family_of("tv:regnet_y_400mf") == "regnet"
    with pytest.raises(EffprofError):
        lookup("no_such_model", 224)
