"""Checks of the block formulas: depthwise-separable conv, MobileNetV1's multipliers, the inverted
residual, squeeze-and-excitation, the ghost module and group convolution, each on real modules.

Each check is a function whose keyword arguments are its configurations, so tests can call it on
random valid ones; it returns ``CheckRow``s (``effprof.lecture.check_rows``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from effprof.counters.memory import peak_activation_bytes
from effprof.errors import EffprofError
from effprof.formulas import lecture as lf
from effprof.formulas import ops
from effprof.lecture.check_rows import (
    CheckRow,
    _conv_params,
    _counts,
    _fmt_size,
    _positive,
    count_spec,
)
from effprof.models import build_model

# --- 1. depthwise-separable vs standard conv --------------------------------------------------------


def separable_conv(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    """Depthwise K x K (one filter per channel) then pointwise 1x1, no bias: MobileNetV1's block without BN."""
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, kernel, padding=kernel // 2, groups=in_channels, bias=False),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
    )


DWCONV_CONFIGS = ((32, 64, 3, 112), (256, 256, 3, 56), (512, 512, 3, 14), (128, 256, 5, 28))


def dwconv(
    configs: Iterable[tuple[int, int, int, int]] = DWCONV_CONFIGS, fvcore: bool = True
) -> list[CheckRow]:
    """Standard K x K conv vs depthwise K x K + pointwise 1x1, on real nn.Conv2d modules.

    ``configs``: (Cin, Cout, K, input side); stride 1, padding K // 2, no bias.
    """
    rows = []
    for cin, cout, k, size in configs:
        _positive(Cin=cin, Cout=cout, K=k, size=size)
        out = ops.conv_output_size(size, k, 1, k // 2)
        shape = (1, cin, size, size)
        c_std, f_std = _counts(
            functools.partial(nn.Conv2d, cin, cout, k, padding=k // 2, bias=False), shape, fvcore
        )
        c_sep, f_sep = _counts(functools.partial(separable_conv, cin, cout, k), shape, fvcore)
        cfg = f"Cin={cin} Cout={cout} K={k} {_fmt_size(out)}"
        row = functools.partial(CheckRow, "dwconv", config=cfg)
        rows += [
            row("params, standard", "K²·Cin·Cout", predicted=lf.standard_conv_params(cin, cout, k), counted=c_std.params),
            row("params, separable", "K²·Cin + Cin·Cout", predicted=lf.separable_conv_params(cin, cout, k),
                counted=c_sep.params),
            row("MACs, standard", "K²·Cin·Cout·H·W", predicted=lf.standard_conv_macs(cin, cout, k, out),
                counted=c_std.macs, fvcore=f_std),
            row("MACs, separable", "(K²·Cin + Cin·Cout)·H·W", predicted=lf.separable_conv_macs(cin, cout, k, out),
                counted=c_sep.macs, fvcore=f_sep),
            row("MACs reduction, standard / separable", "Cout·K² / (K² + Cout)",
                predicted=lf.separable_reduction(cout, k), counted=c_std.macs / c_sep.macs,
                fvcore=f_std / f_sep if f_std and f_sep else None, tolerance=1e-9),
        ]  # fmt: skip
    return rows


# --- 2. MobileNetV1 width and resolution multipliers ------------------------------------------------

MNV1_WIDTHS = (1.0, 0.75, 0.5, 0.25)
MNV1_RESOLUTIONS = (224, 160, 128)
#: Howard et al. 2017: Table 6 (width, 224 px) and Table 7 (resolution, width 1.0), million mult-adds
MNV1_PAPER_WIDTH = {1.0: 569e6, 0.75: 325e6, 0.5: 149e6, 0.25: 41e6}
MNV1_PAPER_RESOLUTION = {192: 418e6, 160: 290e6, 128: 186e6}
MNV1_SCALING_TOLERANCE = 0.2


def mobilenet_v1(
    widths: Sequence[float] = MNV1_WIDTHS, resolutions: Sequence[int] = MNV1_RESOLUTIONS, paper: bool = True
) -> list[CheckRow]:
    """Registry ``mobilenet_v1(width=alpha)`` at resolution rho * 224 over a grid of (alpha, rho)."""
    for alpha in widths:
        _positive(alpha=alpha)
    for res in resolutions:
        _positive(resolution=res)
    base = count_spec("mobilenet_v1", 224).macs
    rows = []
    for alpha in widths:
        for res in resolutions:
            counted = count_spec(f"mobilenet_v1(width={alpha})", res).macs
            cfg = f"α={alpha:g} ρ={res}/224"
            rows.append(CheckRow(
                "mobilenet_v1", "MACs, whole model", "stem + Σ (D_K²·αM + αM·αN)·ρ²D_F² + FC", cfg,
                predicted=lf.mobilenet_v1_macs(alpha, res), counted=counted,
            ))  # fmt: skip
            if (alpha, res) != (1.0, 224):
                rows.append(CheckRow(
                    "mobilenet_v1", "MACs / MACs(α=1, ρ=1)", "α²·ρ²", cfg,
                    predicted=lf.width_resolution_scaling(alpha, res / 224), counted=counted / base,
                    tolerance=MNV1_SCALING_TOLERANCE,
                    note="the depthwise and stem convs scale as α·ρ², the classifier as α: "
                    "α²ρ² undershoots, most at small α",
                ))  # fmt: skip
    if paper:
        for alpha, macs in MNV1_PAPER_WIDTH.items():
            rows.append(CheckRow(
                "mobilenet_v1", "MACs vs the paper", "Howard et al. 2017, Table 6", f"α={alpha:g} ρ=224/224",
                predicted=macs, counted=count_spec(f"mobilenet_v1(width={alpha})", 224).macs, tolerance=0.01,
                note="the paper rounds to 1 M",
            ))  # fmt: skip
        for res, macs in MNV1_PAPER_RESOLUTION.items():
            rows.append(CheckRow(
                "mobilenet_v1", "MACs vs the paper", "Howard et al. 2017, Table 7", f"α=1 ρ={res}/224",
                predicted=macs, counted=count_spec("mobilenet_v1", res).macs, tolerance=0.01,
                note="the paper rounds to 1 M",
            ))  # fmt: skip
    return rows


# --- 3. inverted residual with linear bottleneck --------------------------------------------------------

#: (Cin, Cout, expansion, input side, stride): MobileNetV2's features.3 and features.7
IR_CONFIGS = ((24, 24, 6, 56, 1), (32, 64, 6, 28, 2))


def _classic_bottleneck(channels: int, reduction: int) -> nn.Module:
    # torchvision's ResNet Bottleneck reduces by its class attribute ``expansion`` (4); a subclass
    # reduces by e: 1x1 C -> C/e, 3x3 C/e, 1x1 C/e -> C, plus the residual add.
    from torchvision.models.resnet import Bottleneck

    cls = type(f"Bottleneck{reduction}", (Bottleneck,), {"expansion": reduction})
    return cls(channels, channels // reduction)


def inverted_residual(
    configs: Iterable[tuple[int, int, int, int, int]] = IR_CONFIGS, fvcore: bool = True
) -> list[CheckRow]:
    """torchvision's ``InvertedResidual``: conv params, MACs, and its live activations vs a classic bottleneck.

    Memory comes from ``effprof.counters.memory`` (tensors alive between and during ops, inference
    fusions assumed: BN folded, activations in place), in fp32 channels per pixel. Memory rows need a
    residual block (stride 1, Cin = Cout) and Cin divisible by e (for the classic bottleneck's C/e);
    other configurations get params and MACs only.
    """
    from torchvision.models.mobilenetv2 import InvertedResidual


    rows = []
    for cin, cout, e, size, stride in configs:
        _positive(Cin=cin, Cout=cout, expansion=e, size=size)
        if stride not in (1, 2):
            raise EffprofError(f"InvertedResidual takes stride 1 or 2, got {stride}")
        shape = (1, cin, size, size)
        counted, f_block = _counts(functools.partial(InvertedResidual, cin, cout, stride, e), shape, fvcore)
        cfg = f"C={cin}→{cout} e={e} s={stride} {_fmt_size(size)}"
        rows += [
            CheckRow("inverted_residual", "params (conv weights)", "C·eC + 9·eC + eC·C'", cfg,
                     predicted=lf.inverted_residual_params(cin, cout, e), counted=_conv_params(counted),
                     note="BatchNorm's 2 params/channel left out on both sides"),
            CheckRow("inverted_residual", "MACs", "H·W·C·eC + H'W'·9·eC + H'W'·eC·C'", cfg,
                     predicted=lf.inverted_residual_macs(cin, cout, e, size, stride), counted=counted.macs,
                     fvcore=f_block),
        ]  # fmt: skip
        if stride != 1 or cin != cout or cin % e:
            continue
        per_pixel = size * size * 4  # fp32 bytes -> channels per pixel
        with torch.device("meta"):
            block, bottleneck = InvertedResidual(cin, cout, stride, e), _classic_bottleneck(cin, e)
        ir = peak_activation_bytes(block, shape)
        classic = peak_activation_bytes(bottleneck, shape)
        after_reduce = next(s for s in classic.steps if s.module == "conv1" and s.op == "convolution")
        by = "memory estimator"
        rows += [
            CheckRow("inverted_residual", "peak live channels/pixel between ops", "(1 + e)·C (input + expanded)",
                     cfg, predicted=lf.inverted_residual_live_channels(cin, e),
                     counted=ir.peak_held_bytes / per_pixel, counted_by=by),
            CheckRow("inverted_residual", "peak live channels/pixel during an op",
                     "(1 + 2e)·C (input + depthwise in + out)", cfg,
                     predicted=lf.inverted_residual_live_during_channels(cin, e),
                     counted=ir.peak_bytes / per_pixel, counted_by=by,
                     note="unless the depthwise kernel streams over its input"),
            CheckRow("inverted_residual", "classic bottleneck: live channels/pixel after reduce",
                     "C·(1 + 1/e) (input + reduced)", f"C={cin} reduce to C/{e}",
                     predicted=lf.bottleneck_live_channels(cin, e), counted=after_reduce.held_bytes / per_pixel,
                     counted_by=by, tolerance=1e-9),
            CheckRow("inverted_residual", "classic bottleneck: peak live channels/pixel between ops",
                     "2·C (input + output before the add)", f"C={cin} reduce to C/{e}",
                     predicted=2 * cin, counted=classic.peak_held_bytes / per_pixel, counted_by=by,
                     note="the classic block's peak is at its residual add, not at the bottleneck"),
        ]  # fmt: skip
    return rows


# --- 4. squeeze-and-excitation -------------------------------------------------------------------

#: (C, r, side): an EfficientNet-B0 stage-2 SE and a ResNet-style r = 16 one
SE_CONFIGS = ((96, 4, 56), (256, 16, 14))
SE_MODELS = ("mobilenet_v3_large", "efficientnet_b0")


def is_se_module(type_name: str, path: str = "") -> bool:
    """SE blocks of torchvision (SqueezeExcitation) and timm (SqueezeExcite, SEModule, EffectiveSE...)."""
    return (
        "SqueezeExcit" in type_name or type_name in ("SEModule", "EffectiveSEModule") or path.endswith(".se")
    )


def _se_rows(c: int, r: int, size: int, fvcore: bool) -> list[CheckRow]:
    from torchvision.ops import SqueezeExcitation

    squeeze = c // r
    shape = (1, c, size, size)
    counted, f_se = _counts(functools.partial(SqueezeExcitation, c, squeeze), shape, fvcore)
    rescale = sum(x.other_ops for x in counted.layers if x.layer == "" and x.op_class == "elementwise")
    cfg = f"C={c} r={r} {_fmt_size(size)}"
    return [
        CheckRow("se", "params (torchvision: with biases)", "2·C²/r + C/r + C", cfg,
                 predicted=lf.se_params(c, squeeze, bias=True), counted=counted.params,
                 note=f"the paper's 2C²/r (no bias) = {lf.se_params(c, squeeze):,}"),
        CheckRow("se", "MACs of the two FC layers", "2·C²/r", cfg, predicted=lf.se_macs(c, squeeze),
                 counted=counted.macs, fvcore=f_se),
        CheckRow("se", "rescale multiplies (elementwise other_ops)", "C·H·W", cfg,
                 predicted=lf.se_rescale_ops(c, size, size), counted=rescale,
                 note="effprof counts the rescale as an elementwise other_op, not a MAC"),
        CheckRow("se", "MACs + rescale multiplies", "2·C²/r + C·H·W", cfg,
                 predicted=lf.se_macs(c, squeeze) + lf.se_rescale_ops(c, size, size), counted=counted.macs + rescale,
                 note="like with like: effprof's MACs plus its elementwise other_ops of the SE module"),
    ]  # fmt: skip


def _se_share_rows(spec: str) -> list[CheckRow]:

    built = build_model(spec)
    counted = count_spec(spec)
    se_paths = [p for p, m in built.module.named_modules() if is_se_module(type(m).__name__, p)]
    if not se_paths:
        raise EffprofError(f"{spec} has no squeeze-and-excitation modules")

    def under(layer: str) -> bool:
        return any(layer == p or layer.startswith(p + ".") for p in se_paths)

    se_layers = [x for x in counted.layers if under(x.layer)]
    modules = dict(built.module.named_modules())
    params = macs = rescale = 0
    for path in se_paths:
        fc1 = modules[path].fc1  # torchvision SqueezeExcitation: fc1 C -> C_sq, fc2 C_sq -> C (1x1 convs)
        c, c_sq = fc1.in_channels, fc1.out_channels
        _, _, h, w = next(
            x.output_shape for x in se_layers if x.layer == path and x.op_class == "elementwise"
        )
        params += lf.se_params(c, c_sq, bias=True)
        macs += lf.se_macs(c, c_sq)
        rescale += lf.se_rescale_ops(c, h, w)
    se_params = sum(x.params for x in se_layers)
    se_macs = sum(x.macs for x in se_layers)
    se_rescale = sum(x.other_ops for x in se_layers if x.layer in se_paths and x.op_class == "elementwise")
    cfg = f"{spec}, {len(se_paths)} SE blocks, {counted.input_shape[-1]} px"
    return [
        CheckRow("se", "SE params in the model", "Σ 2·C·C_sq + C_sq + C", cfg, predicted=params, counted=se_params,
                 note=f"SE holds {100 * se_params / counted.params:.1f}% of the model's params"),
        CheckRow("se", "SE MACs in the model", "Σ 2·C·C_sq", cfg, predicted=macs, counted=se_macs,
                 note=f"SE does {100 * se_macs / counted.macs:.2f}% of the model's MACs"),
        CheckRow("se", "SE rescale multiplies in the model", "Σ C·H·W", cfg, predicted=rescale, counted=se_rescale,
                 note=f"{100 * se_rescale / counted.other_ops:.1f}% of the model's other_ops"),
    ]  # fmt: skip


def se(configs: Iterable[tuple[int, int, int]] = SE_CONFIGS, models: Sequence[str] = SE_MODELS,
       fvcore: bool = True) -> list[CheckRow]:  # fmt: skip
    """torchvision's ``SqueezeExcitation`` on its own, then SE's share inside whole models.

    ``configs``: (C, r, side), C divisible by r. ``models``: registry names built with torchvision's SE.
    """
    rows = []
    for c, r, size in configs:
        _positive(C=c, r=r, size=size)
        if c % r:
            raise EffprofError(f"SE needs C divisible by r, got C={c} r={r}")
        rows += _se_rows(c, r, size, fvcore)
    for spec in models:
        rows += _se_share_rows(spec)
    return rows


# --- 8. GhostNet ghost module -----------------------------------------------------------------------

#: (c, n, k, s, d, side): GhostNet's own k = 1 module, and the paper's d = k assumption
GHOST_CONFIGS = ((64, 128, 1, 2, 3, 28), (64, 128, 3, 2, 3, 28), (96, 192, 3, 3, 3, 14))


def ghost(
    configs: Iterable[tuple[int, int, int, int, int, int]] = GHOST_CONFIGS, fvcore: bool = True
) -> list[CheckRow]:
    """timm's ``GhostModule`` vs an ordinary conv with the same output: MACs and speed-up.

    ``configs``: (c in, n out, primary kernel k, ratio s, cheap kernel d, side); n divisible by s.
    """
    from timm.models.ghostnet import GhostModule

    rows = []
    for c, n, k, s, d, size in configs:
        _positive(c=c, n=n, k=k, s=s, d=d, size=size)
        if s < 2 or n % s:
            raise EffprofError(f"the ghost check needs ratio s >= 2 dividing n, got n={n} s={s}")
        shape = (1, c, size, size)
        counted, f_ghost = _counts(
            functools.partial(GhostModule, c, n, kernel_size=k, ratio=s, dw_size=d), shape, fvcore
        )
        counted_conv, f_conv = _counts(
            functools.partial(nn.Conv2d, c, n, k, padding=k // 2, bias=False), shape, fvcore
        )
        out = ops.conv_output_size(size, k, 1, k // 2)
        cfg = f"c={c} n={n} k={k} s={s} d={d} {_fmt_size(out)}"
        speedup = lf.ghost_speedup(s, c, k, d)
        # With d = k the speed-up is s·c / (c + s - 1): within 5% of s once c >= 20·(s - 1).
        approx = d == k and c >= 20 * (s - 1)
        if approx:
            approx_note = "holds when d = k and s ≪ c"
        elif d != k:
            approx_note = f"d={d} ≠ k={k}: (s-1)·d² is not ≪ c·k², shown, not judged"
        else:
            approx_note = f"c={c} is not ≫ s: error (s-1)/c, shown, not judged"
        rows += [
            CheckRow("ghost", "MACs, ghost module", "(n/s)·c·k²·H'W' + (s-1)·(n/s)·d²·H'W'", cfg,
                     predicted=lf.ghost_module_macs(c, n, out, k, s, d), counted=counted.macs, fvcore=f_ghost),
            CheckRow("ghost", "speed-up, conv / ghost MACs", "s·c·k² / (c·k² + (s-1)·d²)", cfg, predicted=speedup,
                     counted=counted_conv.macs / counted.macs,
                     fvcore=f_conv / f_ghost if f_conv and f_ghost else None, tolerance=1e-9),
            CheckRow("ghost", "speed-up ≈ s", "s", cfg, predicted=s, counted=counted_conv.macs / counted.macs,
                     tolerance=0.05 if approx else None, note=approx_note),
        ]  # fmt: skip
    return rows


# --- 9. ShuffleNet group convolution -----------------------------------------------------------------

#: (Cin, Cout, K, side, groups): ShuffleNet's 1x1 group convs (g = 3 with 240 channels, Table 1)
SHUFFLE_CONFIGS = ((240, 240, 1, 28, 3), (240, 240, 1, 28, 8), (272, 272, 3, 14, 4))


def shuffle(
    configs: Iterable[tuple[int, int, int, int, int]] = SHUFFLE_CONFIGS, fvcore: bool = True
) -> list[CheckRow]:
    """Grouped nn.Conv2d vs the dense one: MACs and params divide by g."""
    rows = []
    for cin, cout, k, size, g in configs:
        _positive(Cin=cin, Cout=cout, K=k, size=size, groups=g)
        if cin % g or cout % g:
            raise EffprofError(f"groups must divide Cin and Cout, got Cin={cin} Cout={cout} g={g}")
        shape = (1, cin, size, size)
        c_g, f_g = _counts(
            functools.partial(nn.Conv2d, cin, cout, k, padding=k // 2, groups=g, bias=False), shape, fvcore
        )
        c_d, f_d = _counts(
            functools.partial(nn.Conv2d, cin, cout, k, padding=k // 2, bias=False), shape, fvcore
        )
        out = ops.conv_output_size(size, k, 1, k // 2)
        cfg = f"Cin={cin} Cout={cout} K={k} g={g} {_fmt_size(out)}"
        rows += [
            CheckRow("shuffle", "MACs, group conv", "K²·Cin·Cout·H·W / g", cfg,
                     predicted=lf.group_conv_macs(cin, cout, k, out, g), counted=c_g.macs, fvcore=f_g),
            CheckRow("shuffle", "params, group conv", "K²·Cin·Cout / g", cfg,
                     predicted=ops.conv_params(cin, cout, (k, k), g, bias=False), counted=c_g.params),
            CheckRow("shuffle", "dense / group conv MACs", "g", cfg, predicted=g, counted=c_d.macs / c_g.macs,
                     fvcore=f_d / f_g if f_d and f_g else None),
        ]  # fmt: skip
    return rows


