"""The lecture's latency claims, each stated as the lecture states it and reduced to one ratio with a range.

Rule: a claim's range is the stated figure widened by ``RATIO_TOLERANCE`` (x/÷ 1.3) or, for the mobile
table's words (low / medium / high / very high), a level relative to a standard 3x3 conv on the same
feature map: low <= 0.5x its time, high >= 1x, very high >= 1.5x. The ``why`` of each claim reads the
evidence in one line. ``effprof.lecture.claims_run`` measures the evidence; nothing here measures.
"""

from __future__ import annotations

from effprof.lecture.claims import RATIO_TOLERANCE, Bounds, Claim, Evidence, around, spanning

TOL = f"x/÷ {1 + RATIO_TOLERANCE:g} of the stated figure"
#: the mobile table's latency words, as multiples of the standard 3x3 conv's time on the same feature map
LOW, HIGH, VERY_HIGH = 0.5, 1.0, 1.5
#: the FLOPs words of the mobile table, as multiples of the standard 3x3 conv's MACs
LOW_MACS, HIGH_MACS = 0.2, 0.5
#: SE's latency read per MAC: "high" when each MAC costs this many times the standard conv's
PER_MAC_HIGH = 10.0
#: "negligible overhead": SE adds at most this share of the model's time (the stated ~2%, plus 3 points)
NEGLIGIBLE = 0.05
#: the mobile table's layer: channels and feature-map side (a MobileNet stage-3/4 size)
TABLE_CHANNELS, TABLE_SIDE = 128, 28
#: the depthwise-separable layers timed: (channels in = out, output side), MobileNetV1 layers
SEPARABLE_SHAPES = ((128, 56), (256, 28), (512, 14))
SE_MODELS = ("efficientnet_b0", "mobilenet_v3_large")

_LECTURE = "lecture slides (efficient CNNs)"


def _speedup_why(e: Evidence) -> str:
    k, s = e.context.get("macs_ratio"), e.value
    if k is None:
        return f"{s:.1f}x faster here"
    if s < 0.8 * k:
        return (f"{k:.1f}x fewer MACs but only {s:.1f}x faster: its depthwise convs, norms and activations "
                "move more bytes per MAC than ResNet's dense convs (memory-bound)")  # fmt: skip
    return f"{k:.1f}x fewer MACs and {s:.1f}x faster: time fell about as much as MACs"


def _speedups() -> list[Claim]:
    stated = "ResNet-50 1x; MobileNetV2 6x faster; MobileNetV3 7x faster; EfficientNet-B0 5x faster"
    return [
        Claim(f"speedup_{model}", "speed-ups over ResNet-50", f"{stated} ({label} {x:g}x)",
              f"latency(resnet50) / latency({model})", around(x), TOL, _speedup_why, source=_LECTURE)
        for model, label, x in (("mobilenet_v2", "MobileNetV2", 6), ("mobilenet_v3_large", "MobileNetV3-Large", 7),
                                ("efficientnet_b0", "EfficientNet-B0", 5))
    ]  # fmt: skip


def _efficientnet() -> list[Claim]:
    stated = "EfficientNet ... 8x smaller and 6x faster than ResNet"
    source = ("EfficientNet paper (Tan & Le 2019), Fig. 1 and Table 4: B1 vs ResNet-152, 7.6x smaller, 5.7x faster "
              "(batch 1, one CPU core); the lecture's wording names neither model, so that pair is timed")  # fmt: skip
    return [
        Claim("efficientnet_smaller", "EfficientNet vs ResNet", f"{stated} (8x smaller)",
              "params(resnet152) / params(efficientnet_b1)", around(8), TOL,
              lambda e: f"{e.value:.2f}x fewer parameters (a count: the same on every machine)",
              counted_only=True, source=source),
        Claim("efficientnet_faster", "EfficientNet vs ResNet", f"{stated} (6x faster)",
              "latency(resnet152) / latency(efficientnet_b1)", around(6), TOL, _speedup_why, source=source),
    ]  # fmt: skip


def _levels(e: Evidence) -> str:
    return (f"{100 * e.context['macs_share']:.3g}% of the standard conv's MACs, {100 * e.value:.3g}% of its time "
            f"(each MAC {e.context['per_mac']:.3g}x the conv's cost)")  # fmt: skip


def _table() -> list[Claim]:
    where = f"C={TABLE_CHANNELS}, {TABLE_SIDE}x{TABLE_SIDE} map, batch 1"
    level_tol = f"time vs a standard 3x3 conv ({where}): low <= {LOW:g}x, high >= {HIGH:g}x, very high >= {VERY_HIGH:g}x"
    return [
        Claim("table_conv", "mobile table", "standard 3x3 conv: high FLOPs, medium latency",
              "best GMAC/s of the three other ops / the standard conv's GMAC/s", Bounds(None, 1.0),
              f"holds if no other op runs its MACs faster ({where})",
              lambda e: (f"it runs its MACs {1 / e.value:.3g}x faster than the next-best op: dense convs reuse each "
                         "loaded weight and pixel many times (compute-bound)"),
              reference="effprof profile MODEL --roofline (per-layer bound)"),  # fmt: skip
        Claim("table_depthwise", "mobile table", "depthwise 3x3 conv: low FLOPs, low latency",
              "latency(depthwise) / latency(standard 3x3 conv)", Bounds(None, LOW), level_tol,
              lambda e: _levels(e) + ": few MACs, but memory-bound", counted_part=("macs_share", Bounds(None, LOW_MACS)),
              reference="effprof formulas dwconv"),
        Claim("table_attention", "mobile table", "self-attention: high FLOPs, very high latency",
              "latency(attention) / latency(standard 3x3 conv)", Bounds(VERY_HIGH, None), level_tol,
              lambda e: _levels(e) + f": {TABLE_SIDE * TABLE_SIDE} tokens, the N² score matrix and its softmax",
              counted_part=("macs_share", Bounds(HIGH_MACS, None)), reference="effprof formulas vit"),
        Claim("table_se", "mobile table", "squeeze-and-excitation: low FLOPs, high latency (memory)",
              "latency(SE) / latency(standard 3x3 conv)", Bounds(HIGH, None), level_tol + "; read literally",
              lambda e: _levels(e) + ": high per MAC, not in absolute time (next row)",
              counted_part=("macs_share", Bounds(None, LOW_MACS)), reference="effprof formulas se"),
        Claim("table_se_per_mac", "mobile table", "squeeze-and-excitation: high latency for its FLOPs (memory)",
              "(latency / MACs of SE) / (latency / MACs of the standard conv)", Bounds(PER_MAC_HIGH, None),
              f"holds if each SE MAC costs >= {PER_MAC_HIGH:g}x a standard-conv MAC ({where})",
              lambda e: (f"each SE MAC costs {e.value:.3g}x a conv MAC: a global pool and a rescale read the whole "
                         "map for a few thousand MACs (memory-bound)"),
              counted_part=("macs_share", Bounds(None, LOW_MACS)), reference="effprof formulas se"),
    ]  # fmt: skip


def _separable_why(e: Evidence) -> str:
    k, s = e.context["macs_ratio"], e.value
    head = f"MACs fall {k:.2f}x (the 8-9x holds for FLOPs), time {s:.2f}x"
    if s < 0.8 * k:
        return head + ": the depthwise half is memory-bound, so time falls less than MACs"
    return head + ": time fell about as much as MACs"


def _separable() -> list[Claim]:
    stated = "Depthwise separable convolution reduces FLOPs by 8-9x"
    return [
        Claim(f"separable_{c}_{side}", "depthwise separable", f"{stated} (and time, {c}->{c} ch, {side}x{side})",
              "latency(standard 3x3 conv) / latency(depthwise 3x3 + pointwise 1x1)", spanning(8, 9), TOL,
              _separable_why,
              counted_part=("macs_ratio", spanning(8, 9)), reference="effprof formulas dwconv")
        for c, side in SEPARABLE_SHAPES
    ]  # fmt: skip


def _se() -> list[Claim]:
    stated = "SE: negligible overhead (~2% FLOPs)"
    return [
        Claim(f"se_overhead_{model}", "squeeze-and-excitation", f"{stated} ({model})",
              f"latency({model}) / latency({model} with SE removed)", Bounds(None, 1 + NEGLIGIBLE),
              f"negligible: <= +{100 * NEGLIGIBLE:g}% time (the stated ~2% plus 3 points)",
              lambda e: (f"SE is {100 * e.context['macs_share']:.2g}% of the MACs and adds {100 * (e.value - 1):+.3g}% "
                         "time: pooling and rescaling whole maps, and a sync point per block"),
              reference="effprof formulas se")
        for model in SE_MODELS
    ]  # fmt: skip


def all_claims() -> list[Claim]:
    """Every claim, in the lecture's order."""
    return [*_speedups(), *_efficientnet(), *_table(), *_separable(), *_se()]


CLAIMS: dict[str, Claim] = {c.id: c for c in all_claims()}
GROUPS = tuple(dict.fromkeys(c.group for c in CLAIMS.values()))
