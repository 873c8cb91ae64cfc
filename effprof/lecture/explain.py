"""``effprof explain TOPIC``: a short derivation with the user's own numbers, next to a count on a real module.

Each topic takes a few options (channels, kernel, feature-map side, expansion, ...), fills the
lecture formula with them, and runs the matching check of ``effprof.lecture.checks`` on a module
built with the same configuration, so the derivation and the count sit side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.errors import EffprofError
from effprof.formulas import lecture as lf
from effprof.formulas import ops
from effprof.lecture import checks
from effprof.lecture.checks import CheckRow


@dataclass
class Explanation:
    """A topic's derivation (Markdown lines, numbers filled in) and its checks on real modules."""

    topic: str
    title: str
    config: dict[str, Any]
    derivation: list[str]
    rows: list[CheckRow] = field(default_factory=list)

    def __rich__(self):
        from rich.console import Group
        from rich.markdown import Markdown
        from rich.panel import Panel

        from effprof.lecture.render import render_checks

        text = Markdown("\n\n".join(self.derivation))
        settings = "  ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.config.items()
        )
        panel = Panel(text, title=f"[bold]{self.title}[/bold]", subtitle=settings, title_align="left")
        return Group(
            panel, render_checks(self.rows, {self.topic.replace("-", "_"): "counted on a real module"})
        )


def n(value: float) -> str:
    """A number for prose: integers with separators, others to 3 significant digits."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.3g}"


# --- topics --------------------------------------------------------------------------------------


def _dwconv(cin: int, cout: int, kernel: int, size: int) -> Explanation:
    k = kernel
    hw = ops.conv_output_size(size, k, 1, k // 2)  # padding k // 2: an odd kernel keeps the side
    std, sep = lf.standard_conv_macs(cin, cout, k, hw), lf.separable_conv_macs(cin, cout, k, hw)
    lines = [
        f"A **standard** {k}×{k} conv computes each of the Cout·H·W = {n(cout * hw * hw)} outputs as a dot product "
        f"over K²·Cin = {n(k * k * cin)} inputs: **MACs = K²·Cin·Cout·H·W = {n(std)}**, "
        f"params K²·Cin·Cout = {n(lf.standard_conv_params(cin, cout, k))}.",
        f"A **depthwise-separable** conv factors it: a depthwise {k}×{k} conv filters each channel on its own "
        f"(K²·Cin·H·W = {n(k * k * cin * hw * hw)}), then a pointwise 1×1 conv mixes channels "
        f"(Cin·Cout·H·W = {n(cin * cout * hw * hw)}): **MACs = (K²·Cin + Cin·Cout)·H·W = {n(sep)}**, "
        f"params K²·Cin + Cin·Cout = {n(lf.separable_conv_params(cin, cout, k))}.",
        f"**Reduction** = K²·Cin·Cout / (K²·Cin + Cin·Cout) = Cout·K² / (K² + Cout) = "
        f"**{lf.separable_reduction(cout, k):.2f}×**, for params and MACs alike: Cin cancels, and for wide layers "
        f"it tends to K² = {k * k}.",
    ]
    return Explanation(
        "dwconv", "Depthwise-separable convolution", {}, lines, checks.dwconv([(cin, cout, k, size)])
    )


def _inverted_residual(cin: int, cout: int, expansion: int, size: int) -> Explanation:
    e, c = expansion, cin
    hidden = round(c * e)
    lines = [
        f"MobileNetV2's block **expands** the narrow C = {c} channel input by e = {e} with a 1×1 conv "
        f"(H·W·C·eC = {n(size * size * c * hidden)} MACs), filters it with a 3×3 **depthwise** conv "
        f"(H·W·9·eC = {n(size * size * 9 * hidden)}), and **projects** it to C' = {cout} channels with a *linear* "
        f"1×1 conv, no activation (H·W·eC·C' = {n(size * size * hidden * cout)}).",
        f"**MACs = {n(lf.inverted_residual_macs(c, cout, e, size))}**, conv params C·eC + 9·eC + eC·C' = "
        f"{n(lf.inverted_residual_params(c, cout, e))}.",
        f"**Memory**: between two ops the block holds its input (for the residual add) and the expanded tensor: "
        f"**(1 + e)·C = {n(lf.inverted_residual_live_channels(c, e))} channels per pixel**; during the depthwise "
        f"conv its expanded input and output are both alive, (1 + 2e)·C = "
        f"{n(lf.inverted_residual_live_during_channels(c, e))}, unless the kernel streams. A classic bottleneck "
        f"reduces instead of expanding: right after its 1×1 reduce it holds C·(1 + 1/e) = "
        f"{n(lf.bottleneck_live_channels(c, e))}, and at its residual add input + output = 2C = {2 * c}. "
        f"The inverted block's tensors *between* blocks are the narrow ones; its wide middle is transient.",
    ]
    if cin != cout or cin % e:
        lines.append(
            "(The live-set rows need a residual block, --cin = --cout, with --cin divisible by --expansion.)"
        )
    rows = checks.inverted_residual([(cin, cout, e, size, 1)])
    return Explanation("inverted-residual", "Inverted residual with linear bottleneck", {}, lines, rows)


def _se(cin: int, reduction: int, size: int) -> Explanation:
    c, r = cin, reduction
    if c % r:
        raise EffprofError(f"explain se: --cin must be divisible by --reduction, got {c} and {r}")
    sq = c // r
    lines = [
        f"SE **squeezes** each of the C = {c} channels to one number (global average pool, C·H·W = "
        f"{n(c * size * size)} reads), **excites** it through two FC layers C → C/r = {sq} → C "
        f"(**2·C²/r = {n(lf.se_macs(c, sq))} MACs**, on a 1×1 vector: independent of H·W), and **rescales** every "
        f"element by its channel's weight (**C·H·W = {n(lf.se_rescale_ops(c, size, size))} multiplies**).",
        f"Params: the paper's 2·C²/r = {n(lf.se_params(c, sq))} (no bias); torchvision's SqueezeExcitation has "
        f"biases, + C/r + C = {n(lf.se_params(c, sq, bias=True))}.",
        f"MACs ≈ 2·C²/r + C·H·W = {n(lf.se_macs(c, sq) + lf.se_rescale_ops(c, size, size))}: on a large map the "
        "rescale dominates. effprof counts it as an elementwise *other_op*, not a MAC (nothing accumulates), so the "
        "rows below compare the FC MACs with MACs and the rescale with other_ops.",
    ]
    return Explanation("se", "Squeeze-and-excitation", {}, lines, checks.se([(c, r, size)], models=()))


def _compound(phi: float) -> Explanation:
    from effprof.models.compound import OFFICIAL, default_resolution

    d, w, r = lf.compound_coefficients(phi)
    res = default_resolution(phi)
    base = checks.count_spec("efficientnet(phi=0)", 224).macs
    literal = checks.count_spec(f"efficientnet(phi={phi:g})", res).macs
    lines = [
        "EfficientNet scales all three dimensions at once: depth d = α^φ, width w = β^φ, resolution r = γ^φ, "
        "with α = 1.2, β = 1.1, γ = 1.15 found by a grid search at φ = 1 under α·β²·γ² ≈ 2.",
        "A conv's MACs are linear in depth and quadratic in width (Cin·Cout) and resolution (H·W): "
        "**MACs × d·w²·r² = (α·β²·γ²)^φ = 1.92^φ ≈ 2^φ**.",
        f"At φ = {phi:g}: d = {d:.3f}, w = {w:.3f}, r = {r:.3f} → {res} px; the rule predicts "
        f"**×{lf.compound_flops_ratio(phi):.2f}** (2^φ = {2**phi:.3g}). The literal model, built from torchvision's B0 "
        f"blocks with ceil(depth) and channels rounded to 8, counts **×{literal / base:.2f}**.",
    ]
    rows = [
        CheckRow("compound_scaling", "literal model: MACs / MACs(φ=0)", "d·w²·r² = (1.2·1.1²·1.15²)^φ",
                 f"φ={phi:g}: d={d:.2f} w={w:.2f} {res} px", predicted=lf.compound_flops_ratio(phi),
                 counted=literal / base, tolerance=checks.compound_step_tolerance(phi),
                 note=checks.compound_step_note(phi)),
        CheckRow("compound_scaling", "literal model: MACs / MACs(φ=0)", "2^φ", f"φ={phi:g}", predicted=2.0**phi,
                 counted=literal / base, tolerance=None, note="the paper's ≈ 2^φ, shown"),
    ]  # fmt: skip
    if float(phi).is_integer() and 1 <= phi < len(OFFICIAL):
        v = OFFICIAL[int(phi)]
        released = checks.count_spec(v.name).macs / checks.count_spec(OFFICIAL[0].name).macs
        lines.append(f"The released B{int(phi)} (w = {v.width_mult}, d = {v.depth_mult}, {v.resolution} px) counts "
                     f"×{released:.2f}: its coefficients were tuned by hand, not set by the rule.")  # fmt: skip
        rows.append(CheckRow("compound_scaling", f"released B{int(phi)}: MACs / MACs(B0)", "2^φ",
                             f"w={v.width_mult} d={v.depth_mult} {v.resolution} px", predicted=2.0**phi,
                             counted=released, tolerance=None, note="released coefficients, shown"))  # fmt: skip
    return Explanation("compound-scaling", "EfficientNet compound scaling", {}, lines, rows)


def _vit(size: int, patch: int, dim: int) -> Explanation:
    from torchvision.models.vision_transformer import VisionTransformer

    if size % patch:
        raise EffprofError(f"explain vit: --size must be a multiple of --patch, got {size} and {patch}")
    heads = dim // 64 if dim % 64 == 0 else 1  # the head count does not change the MACs
    tokens = lf.vit_tokens(size, patch)
    nt = tokens + 1
    one = lf.vit_macs_by_class(size, patch, dim, 1)
    crossover_px = math.sqrt(6 * dim) * patch

    def count(res: int):
        with torch.device("meta"):
            model = VisionTransformer(res, patch, 1, heads, dim, 4 * dim)
        return count_analytic(model, (1, 3, res, res))

    lines = [
        f"A {size}×{size} image cut into {patch}×{patch} patches gives **N = HW/P² = {n(tokens)} tokens** "
        f"(+1 class token) of width d = {dim}.",
        f"Per encoder block: the q, k, v and output projections (4·N·d²) and the MLP (2·4·N·d²) make "
        f"**12·N·d² = {n(12 * nt * dim * dim)} MACs, linear in N**; the attention core, Q·Kᵀ then A·V, makes "
        f"**2·N²·d = {n(one['attention'])} MACs, quadratic in N** -- and N grows with the pixel count.",
        f"Attention / projections = 2N²d / 12Nd² = N / 6d = {nt / (6 * dim):.3f} here: attention dominates once "
        f"N > 6d = {n(6 * dim)} tokens, about {crossover_px:.0f} px at patch {patch}. Doubling the side: N ×4, "
        "projections ×4, attention ×16.",
        "Counted on one torchvision encoder block (ViT-B stacks 12) with its classification head, at "
        f"{size} and {2 * size} px.",
    ]
    rows = checks.vit_rows(f"ViT P={patch}", [count(size), count(2 * size)], [size, 2 * size], patch, dim, 1)
    return Explanation("vit", "ViT: attention is quadratic in pixels", {}, lines, rows)


class _GlobalAttention(nn.Module):
    """Global self-attention over all H·W tokens of a (B, H, W, C) map, for contrast with windows."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x):
        tokens = x.flatten(1, 2)
        return self.attn(tokens, tokens, tokens, need_weights=False)[0]


def _swin(size: int, window: int, dim: int) -> Explanation:
    from torchvision.models.swin_transformer import ShiftedWindowAttention

    m = window
    heads = dim // 32 if dim % 32 == 0 else 1
    padded = math.ceil(size / m) * m
    windows = (padded // m) ** 2
    local = lf.padded_window_attention_macs(size, m, dim)
    global_ = ops.vit_attention_macs(size * size, dim)  # every pixel a token: 2·(HW)²·d

    def attention_macs(module: nn.Module, side: int) -> int:
        return count_analytic(module, (1, side, side, dim)).by_op_class().get("attention", {}).get("macs", 0)

    with torch.device("meta"):
        swa = ShiftedWindowAttention(dim, [m, m], [0, 0], heads)
        full = _GlobalAttention(dim, heads)
    counted = [attention_macs(swa, s) for s in (size, 2 * size)]
    lines = [
        f"Swin computes attention inside non-overlapping {m}×{m} windows: a {size}×{size} map"
        + (f" (padded to {padded}×{padded})" if padded != size else "")
        + f" holds HW/M² = {n(windows)} windows of M² = {m * m} tokens.",
        f"Each window costs 2·(M²)²·d; times HW/M² windows: **2·HW·M²·d = {n(local)} MACs, linear in HW** for a "
        f"fixed M. Global attention over all HW = {n(size * size)} tokens would cost 2·(HW)²·d = {n(global_)}, "
        f"HW/M² = {size * size / (m * m):.3g}× more, and grows ×16 per doubling of the side where windows grow ×4.",
        "Counted on torchvision's ShiftedWindowAttention and on nn.MultiheadAttention over the whole map.",
    ]
    rows = [
        CheckRow("swin", "window attention MACs", "2·H'W'·M²·d", f"{size}x{size} M={m} d={dim}",
                 predicted=local, counted=counted[0]),
        CheckRow("swin", "window attention MACs", "2·H'W'·M²·d", f"{2 * size}x{2 * size} M={m} d={dim}",
                 predicted=lf.padded_window_attention_macs(2 * size, m, dim), counted=counted[1]),
        CheckRow("swin", "global attention MACs (nn.MultiheadAttention)", "2·(HW)²·d", f"{size}x{size} d={dim}",
                 predicted=global_, counted=attention_macs(full, size)),
    ]  # fmt: skip
    if padded == size and (2 * size) % m == 0:
        rows.append(checks.exponent_row(
            "swin", "window attention MACs ∝ pixels^k", "k = 1", f"{size}/{2 * size} px, M={m}",
            [size * size, 4 * size * size], counted, 1.0, 0.02,
        ))  # fmt: skip
    return Explanation("swin", "Swin: window attention is linear in pixels", {}, lines, rows)


def _ghost(cin: int, cout: int, kernel: int, ratio: int, dw_size: int, size: int) -> Explanation:
    c, k, s, d = cin, kernel, ratio, dw_size
    if s < 2 or cout % s:
        raise EffprofError(
            f"explain ghost: --ratio must be >= 2 and divide --cout, got ratio {s}, cout {cout}"
        )
    out = ops.conv_output_size(size, k, 1, k // 2)
    conv = lf.standard_conv_macs(c, cout, k, out)
    lines = [
        f"An ordinary {k}×{k} conv makes all n = {cout} maps from the c = {c} inputs: n·c·k²·H'W' = {n(conv)} MACs.",
        f"A **ghost module** makes n/s = {cout // s} *intrinsic* maps with that conv ({n(cout // s * c * k * k * out * out)}"
        f" MACs), then s−1 = {s - 1} cheap {d}×{d} depthwise *ghost* maps from each "
        f"({n((s - 1) * (cout // s) * d * d * out * out)} MACs): **{n(lf.ghost_module_macs(c, cout, out, k, s, d))} MACs**.",
        f"**Speed-up = s·c·k² / (c·k² + (s−1)·d²) = {lf.ghost_speedup(s, c, k, d):.3f}** ≈ s = {s} when d ≈ k and "
        "s ≪ c. GhostNet's own k = 1 primary conv with d = 3 gets less than s.",
    ]
    return Explanation("ghost", "GhostNet ghost module", {}, lines, checks.ghost([(c, cout, k, s, d, size)]))


def _shuffle(cin: int, cout: int, kernel: int, size: int, groups: int) -> Explanation:
    g, k = groups, kernel
    if cin % g or cout % g:
        raise EffprofError(f"explain shuffle: --groups must divide --cin and --cout, got {g}, {cin}, {cout}")
    out = ops.conv_output_size(size, k, 1, k // 2)
    dense = lf.standard_conv_macs(cin, cout, k, out)
    lines = [
        f"A {k}×{k} conv over all channels costs K²·Cin·Cout·H·W = {n(dense)} MACs. A **group conv** splits the "
        f"channels into g = {g} groups and each output sees only Cin/g = {cin // g} inputs: "
        f"**K²·Cin·Cout·H·W / g = {n(lf.group_conv_macs(cin, cout, k, out, g))} MACs**, and params / g alike.",
        "Groups never exchange information, so ShuffleNet follows each group conv with a **channel shuffle** -- "
        "a reshape and transpose, 0 MACs -- that lets the next group conv mix channels across groups.",
    ]
    return Explanation(
        "shuffle", "ShuffleNet group convolution", {}, lines, checks.shuffle([(cin, cout, k, size, g)])
    )


# --- the topic table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    name: str
    run: Callable[..., Explanation]
    #: option -> default, in the order the derivation uses them
    defaults: Mapping[str, float]


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic("dwconv", _dwconv, {"cin": 256, "cout": 256, "kernel": 3, "size": 56}),
        Topic("inverted-residual", _inverted_residual, {"cin": 24, "cout": 24, "expansion": 6, "size": 56}),
        Topic("se", _se, {"cin": 96, "reduction": 4, "size": 56}),
        Topic("compound-scaling", _compound, {"phi": 1}),
        Topic("vit", _vit, {"size": 224, "patch": 16, "dim": 768}),
        Topic("swin", _swin, {"size": 56, "window": 7, "dim": 96}),
        Topic("ghost", _ghost, {"cin": 64, "cout": 128, "kernel": 1, "ratio": 2, "dw_size": 3, "size": 28}),
        Topic("shuffle", _shuffle, {"cin": 240, "cout": 240, "kernel": 1, "size": 28, "groups": 3}),
    )
}

#: option -> its command-line flag, for messages
FLAGS = {"kernel": "-k/--kernel", "dw_size": "--dw-size"}
MAX_PHI = 12


def flag(option: str) -> str:
    return FLAGS.get(option, "--" + option.replace("_", "-"))


def explain(topic: str, **options: float | None) -> Explanation:
    """The derivation of ``topic`` with ``options`` (None = the topic's default), checked on real modules.

    Raises a one-line EffprofError for an unknown topic (listing the valid ones), an option the topic
    does not use, or a value out of range.
    """
    if topic not in TOPICS:
        raise EffprofError(f"unknown topic {topic!r}; valid topics: {', '.join(TOPICS)}")
    spec = TOPICS[topic]
    given = {k: v for k, v in options.items() if v is not None}
    unused = [k for k in given if k not in spec.defaults]
    if unused:
        takes = ", ".join(flag(k) for k in spec.defaults)
        raise EffprofError(f"explain {topic} does not use {flag(unused[0])}; it takes {takes}")
    config = {**spec.defaults, **given}
    for key, value in config.items():
        if key == "phi":
            if not 0 < value <= MAX_PHI:
                raise EffprofError(f"--phi must be in (0, {MAX_PHI}], got {value:g}")
        elif not (float(value).is_integer() and value >= 1):
            raise EffprofError(f"{flag(key)} must be a positive whole number, got {value:g}")
    values = {k: (v if k == "phi" else int(v)) for k, v in config.items()}
    result = spec.run(**values)
    result.config = values
    return result
