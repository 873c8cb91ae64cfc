"""The check catalog of ``effprof formulas``: each lecture formula against a count on a real module.

A check builds the real thing (an nn.Conv2d, torchvision's InvertedResidual and SqueezeExcitation,
timm's GhostModule, a registry model), counts it with effprof's analytic counter -- and, on single
modules, with fvcore, whose "flop" is one MAC -- and returns one ``CheckRow`` per quantity: the
formula's value next to the counted one, their relative error and the tolerance it must meet.
A tolerance of 0 means the formula is exact; a looser one says, in the row's note, what the formula
leaves out; ``None`` marks a row shown for comparison and not judged (the released EfficientNets do
not follow the compound rule).

Each check is a function whose keyword arguments are its configurations, so tests can call it on
random valid ones; ``CATALOG`` lists them and ``run_checks`` runs a selection.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from effprof.counters.analytic import count_analytic
from effprof.counters.result import CountResult
from effprof.errors import EffprofError
from effprof.formulas import lecture as lf
from effprof.formulas import ops

_EXACT = 0.0


@dataclass(frozen=True)
class CheckRow:
    """One quantity of one check: the formula's value and the counted one, side by side."""

    check: str  # catalog name, e.g. "dwconv"
    quantity: str  # what is compared, e.g. "MACs, separable"
    formula: str  # the rule in plain text
    config: str  # the configuration it is evaluated on
    predicted: float  # the formula's value (or the paper's figure, where the formula says so)
    counted: float  # effprof's analytic counter on the built module/model (or as ``counted_by`` says)
    counted_by: str = "analytic"
    fvcore: float | None = None  # fvcore on the same real module, where it counts the op
    tolerance: float | None = _EXACT  # relative; None: shown, not judged
    note: str = ""

    @property
    def unit(self) -> str:
        """What ``predicted`` and ``counted`` are measured in, read off the quantity's name."""
        q = self.quantity
        rules = (
            ("∝", "exponent"), ("growth", "factor per step"), (" / ", "ratio"), ("speed-up", "ratio"),
            ("channels/pixel", "channels per pixel"), ("MACs + rescale", "macs + other_ops"),
            ("rescale", "other_ops"), ("params", "params"), ("MACs", "macs"),
        )  # fmt: skip
        return next((unit for key, unit in rules if key in q), "")

    @property
    def rel_error(self) -> float:
        """|formula - counted| / |counted| (0 when both are 0)."""
        return _rel(self.predicted, self.counted)

    @property
    def fvcore_error(self) -> float | None:
        return None if self.fvcore is None else _rel(self.predicted, self.fvcore)

    @property
    def passed(self) -> bool | None:
        """Within tolerance for every counter that counted it; None for a row not judged."""
        if self.tolerance is None:
            return None
        slack = self.tolerance + 1e-9  # float formulas (ratios) against integer counts
        return self.rel_error <= slack and (self.fvcore_error is None or self.fvcore_error <= slack)

    def as_dict(self) -> dict:
        """The row with its derived columns, for DataFrames and files."""
        return {
            **asdict(self),
            "unit": self.unit,
            "rel_error": self.rel_error,
            "fvcore_rel_error": self.fvcore_error,
            "passed": self.passed,
        }


def _rel(predicted: float, counted: float) -> float:
    if predicted == counted:
        return 0.0
    return abs(predicted - counted) / abs(counted) if counted else math.inf


# --- counting helpers ------------------------------------------------------------------------------


#: fvcore needs real tensors: above these sizes its column is left empty (the analytic count runs on meta)
FVCORE_MAX_INPUT_ELEMENTS = 4_000_000
FVCORE_MAX_PARAMS = 20_000_000


def _counts(
    make: Callable[[], nn.Module], input_shape: tuple[int, ...], fvcore: bool
) -> tuple[CountResult, int | None]:
    """Analytic count of ``make()`` built on the meta device (any size is free), and fvcore's MACs
    when ``fvcore`` is on and the module is small enough to run on the CPU."""
    with torch.device("meta"):
        module = make()
    counted = count_analytic(module, input_shape)
    small = ops.numel(input_shape) <= FVCORE_MAX_INPUT_ELEMENTS and counted.params <= FVCORE_MAX_PARAMS
    return counted, fvcore_macs(module, input_shape) if fvcore and small else None


@functools.lru_cache(maxsize=64)
def count_spec(spec: str, resolution: int | None = None) -> CountResult:
    """Analytic count of a registry model spec at a resolution (cached: several checks share models)."""
    from effprof.models import build_model

    built = build_model(spec, resolution=resolution)
    return count_analytic(built.module, built.input_shape, name=spec)


def fvcore_macs(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """MACs stock fvcore counts on ``module`` (effprof's adapter runs it on CPU tensors): its
    conv/linear/matmul operators only.

    fvcore also puts batch norm and pooling in its "flops"; those are not MACs in effprof's units,
    so they are left out here to compare like with like.
    """
    from effprof.counters.fvcore import count_fvcore
    from effprof.counters.reconcile import is_mac_op

    by_op = count_fvcore(module, input_shape).macs_by_op
    return int(sum(v for op, v in by_op.items() if is_mac_op(op)))


def _conv_params(result: CountResult) -> int:
    # Conv weights only: BatchNorm's params are left out of both sides of a conv-weight formula.
    return sum(r.params for r in result.layers if r.type.startswith("Conv"))


def _opclass_macs(result: CountResult, op_class: str) -> int:
    return result.by_op_class().get(op_class, {}).get("macs", 0)


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise EffprofError(f"{name} must be positive, got {value}")


def _fmt_size(size: int) -> str:
    return f"{size}x{size}"


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

    from effprof.counters.memory import peak_activation_bytes

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
    from effprof.models import build_model

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


# --- 5. compound scaling ----------------------------------------------------------------------------

PHIS = tuple(range(8))
COMPOUND_STEP_TOLERANCE = 0.35


def compound_step_tolerance(phi: float) -> float | None:
    """How far the literal model may sit from d·w²·r² at one phi: 35% from phi = 1 on (ceil(depth) and
    channels rounded to 8 overshoot, most at small phi); below phi = 1 not judged, as any phi > 0
    already adds a block to every stage."""
    return COMPOUND_STEP_TOLERANCE if phi >= 1 else None


def compound_step_note(phi: float) -> str:
    if phi >= 1:
        return "ceil(depth) and channels rounded to 8 overshoot at small φ (φ=1 doubles the 1-block stages)"
    return "φ < 1: ceil(depth) adds a block to every stage as soon as φ > 0; shown, not judged"


def compound_scaling(phis: Sequence[int] = PHIS, official: bool = True) -> list[CheckRow]:
    """Literal ``efficientnet(phi)`` (d = 1.2^phi, w = 1.1^phi, r = 1.15^phi) vs d·w²·r², and the released
    B0-B7 vs 2^phi, shown for comparison. Needs phi = 0 in ``phis`` (the base of the ratios)."""
    from effprof.lecture.fit import growth_per_step
    from effprof.models.compound import OFFICIAL, default_resolution

    phis = sorted(set(phis))
    if not phis or phis[0] != 0:
        raise EffprofError("compound scaling ratios need phi = 0 (EfficientNet-B0) among the phis")
    literal = [count_spec(f"efficientnet(phi={phi})", default_resolution(phi)).macs for phi in phis]
    rows = []
    unit = lf.compound_flops_ratio(1)
    for phi, macs in zip(phis[1:], literal[1:], strict=True):
        d, w, _ = lf.compound_coefficients(phi)
        rows.append(CheckRow(
            "compound_scaling", "literal model: MACs / MACs(φ=0)", "d·w²·r² = (1.2·1.1²·1.15²)^φ",
            f"φ={phi}: d={d:.2f} w={w:.2f} {default_resolution(phi)} px", predicted=lf.compound_flops_ratio(phi),
            counted=macs / literal[0], tolerance=compound_step_tolerance(phi), note=compound_step_note(phi),
        ))  # fmt: skip
    if len(phis) >= 2:
        fit = growth_per_step(phis, literal)
        rows += [
            CheckRow("compound_scaling", "literal model: MACs growth per unit φ (fit)", "α·β²·γ² = 1.2·1.1²·1.15²",
                     f"φ={phis[0]}..{phis[-1]}, log-least-squares", predicted=unit, counted=fit.exponent,
                     tolerance=0.05, note=f"R²={fit.r2:.4f}"),
            CheckRow("compound_scaling", "literal model: MACs growth per unit φ (fit)", "≈ 2 (the paper's constraint)",
                     f"φ={phis[0]}..{phis[-1]}, log-least-squares", predicted=2.0, counted=fit.exponent,
                     tolerance=0.1, note="looser: α·β²·γ² = 1.92 is itself 4% under 2"),
        ]  # fmt: skip
    if official:
        base = count_spec(OFFICIAL[0].name).macs
        macs = [count_spec(v.name).macs for v in OFFICIAL]
        for b, (v, m) in enumerate(zip(OFFICIAL[1:], macs[1:], strict=True), start=1):
            rows.append(CheckRow(
                "compound_scaling", f"B{b}: MACs / MACs(B0)", "2^φ, φ = b", f"w={v.width_mult} d={v.depth_mult} {v.resolution} px",
                predicted=2.0**b, counted=m / base, tolerance=None,
                note="released coefficients differ from the literal rule: shown, not judged",
            ))  # fmt: skip
        fit = growth_per_step(range(len(OFFICIAL)), macs)
        rows.append(CheckRow(
            "compound_scaling", "B0-B7: MACs growth per variant (fit)", "≈ 2", "B0..B7, log-least-squares",
            predicted=2.0, counted=fit.exponent, tolerance=None, note=f"R²={fit.r2:.4f}; shown, not judged",
        ))  # fmt: skip
    return rows


# --- 6. ViT: attention quadratic in pixels, the rest linear -----------------------------------------

#: registry name -> (patch, width d, depth): torchvision's ViT-B/16 and timm's ViT-Ti/16
VIT_MODELS = {"vit_b_16": (16, 768, 12), "vit_ti_16": (16, 192, 12)}
VIT_RESOLUTIONS = (224, 448)
#: below this many patch tokens the growth exponents are not judged (the class token weighs)
VIT_MIN_TOKENS = 100


def exponent_row(check: str, what: str, formula: str, cfg: str, pixels: list[int], values: list[int],
                 expected: float, tolerance: float | None, note: str = "") -> CheckRow:  # fmt: skip
    """A row comparing the fitted growth exponent of ``values`` against pixels with ``expected``."""
    from effprof.lecture.fit import fit_power_law

    fit = fit_power_law(pixels, values)
    return CheckRow(check, what, formula, cfg, predicted=expected, counted=fit.exponent, counted_by="fit",
                    tolerance=tolerance, note=(note + "; " if note else "") + f"R²={fit.r2:.4f}")  # fmt: skip


def vit_rows(
    label: str, counts: Sequence[CountResult], resolutions: Sequence[int], patch: int, dim: int, depth: int
) -> list[CheckRow]:
    """Rows of the ViT check for one architecture counted at each of ``resolutions``.

    ``counts[i]`` is the analytic count at ``resolutions[i]``; the exponent rows need 2+ distinct ones.
    """
    rows, attention, linear = [], [], []
    for res, counted in zip(resolutions, counts, strict=True):
        predicted = lf.vit_macs_by_class(res, patch, dim, depth)
        cfg = f"{label} {res} px: N={lf.vit_tokens(res, patch)}+1 d={dim} depth={depth}"
        attention.append(_opclass_macs(counted, "attention"))
        linear.append(_opclass_macs(counted, "linear"))
        rows += [
            CheckRow("vit", "attention MACs (Q·Kᵀ, A·V)", "depth·2·N²·d", cfg,
                     predicted=predicted["attention"], counted=attention[-1]),
            CheckRow("vit", "linear MACs (qkv, proj, MLP, head)", "depth·12·N·d² + d·classes", cfg,
                     predicted=predicted["linear"], counted=linear[-1]),
        ]  # fmt: skip
    if len(set(resolutions)) >= 2:
        pixels = [r * r for r in resolutions]
        cfg = f"{label} {'/'.join(map(str, resolutions))} px"
        # The exponents are asymptotic: with few tokens the class token pulls them down (N = 16: 1.90).
        few = min(lf.vit_tokens(r, patch) for r in resolutions) < VIT_MIN_TOKENS
        tolerance = None if few else 0.02
        note = f"N < {VIT_MIN_TOKENS}: the class token weighs, shown, not judged" if few else ""
        rows += [
            exponent_row("vit", "attention MACs ∝ pixels^k", "k = 2 (N² ∝ (HW)²)", cfg, pixels, attention,
                         2.0, tolerance, note or "→ 2 for N ≫ 1; the class token keeps it just under"),
            exponent_row("vit", "linear MACs ∝ pixels^k", "k = 1 (N ∝ HW)", cfg, pixels, linear, 1.0, tolerance,
                         note),
        ]  # fmt: skip
    return rows


def vit(
    models: Sequence[str] = tuple(VIT_MODELS), resolutions: Sequence[int] = VIT_RESOLUTIONS
) -> list[CheckRow]:
    """Attention-core MACs = depth·2·N²·d, the rest depth·12·N·d² (+ head): exact, then their growth
    exponents against the pixel count between ``resolutions`` (multiples of the patch)."""
    rows = []
    for spec in models:
        if spec not in VIT_MODELS:
            raise EffprofError(f"no ViT configuration for {spec!r}; known: {', '.join(VIT_MODELS)}")
        patch, dim, depth = VIT_MODELS[spec]
        for res in resolutions:
            if res % patch:
                raise EffprofError(f"{spec} needs a resolution divisible by {patch}, got {res}")
        counts = [count_spec(spec, res) for res in resolutions]
        rows += vit_rows(spec, counts, resolutions, patch, dim, depth)
    return rows


# --- 7. Swin: window attention linear in pixels -------------------------------------------------------

SWIN_MODELS = {"swin_t": (4, 96, (2, 2, 6, 2), 7)}  # patch, embed dim, depths, window
SWIN_RESOLUTIONS = (224, 448)


def swin(
    models: Sequence[str] = tuple(SWIN_MODELS), resolutions: Sequence[int] = SWIN_RESOLUTIONS
) -> list[CheckRow]:
    """Swin attention-core MACs = Σ depth_i·2·H_iW_i·M²·C_i, exact; its growth exponent in pixels ≈ 1."""
    rows = []
    for spec in models:
        if spec not in SWIN_MODELS:
            raise EffprofError(f"no Swin configuration for {spec!r}; known: {', '.join(SWIN_MODELS)}")
        patch, embed, depths, window = SWIN_MODELS[spec]
        attention = []
        for res in resolutions:
            _positive(resolution=res)
            attention.append(_opclass_macs(count_spec(spec, res), "attention"))
            rows.append(CheckRow(
                "swin", "window attention MACs", "Σ depth_i·2·H_iW_i·M²·C_i", f"{spec} {res} px: M={window} C={embed}·2^i",
                predicted=lf.swin_attention_macs(res, patch, embed, depths, window), counted=attention[-1],
            ))  # fmt: skip
        if len(set(resolutions)) >= 2:
            # Padding each stage's map up to a multiple of M adds pixels that are not the input's:
            # the exponent is exactly 1 only without it.
            sides = [r // patch // 2**i for r in resolutions for i in range(len(depths))]
            padded = any(side % window for side in sides)
            rows.append(exponent_row(
                "swin", "attention MACs ∝ pixels^k", "k = 1 ((HW/M²)·M⁴·d = HW·M²·d)",
                f"{spec} {'/'.join(map(str, resolutions))} px", [r * r for r in resolutions], attention, 1.0,
                None if padded else 0.02,
                "maps padded to a multiple of M: shown, not judged" if padded
                else "exactly 1: every stage's side is a multiple of M",
            ))  # fmt: skip
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


# --- the catalog ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    run: Callable[..., list[CheckRow]]
    #: whether ``run`` takes ``fvcore=`` (single real modules; whole models are analytic only)
    fvcore: bool = False


CATALOG: dict[str, Check] = {
    c.name: c
    for c in (
        Check("dwconv", "Depthwise-separable vs standard convolution (MobileNetV1)", dwconv, fvcore=True),
        Check("mobilenet_v1", "MobileNetV1 width α and resolution ρ multipliers", mobilenet_v1),
        Check(
            "inverted_residual",
            "Inverted residual with linear bottleneck (MobileNetV2)",
            inverted_residual,
            fvcore=True,
        ),
        Check("se", "Squeeze-and-excitation", se, fvcore=True),
        Check("compound_scaling", "EfficientNet compound scaling", compound_scaling),
        Check("vit", "ViT: attention quadratic in pixels", vit),
        Check("swin", "Swin: window attention linear in pixels", swin),
        Check("ghost", "GhostNet ghost module", ghost, fvcore=True),
        Check("shuffle", "ShuffleNet group convolution", shuffle, fvcore=True),
    )
}


def resolve_checks(names: Sequence[str] | None) -> list[Check]:
    """Catalog entries by name (all when None or empty); an unknown name lists the valid ones."""
    if not names:
        return list(CATALOG.values())
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        raise EffprofError(f"unknown check {unknown[0]!r}; valid checks: {', '.join(CATALOG)}")
    return [CATALOG[n] for n in dict.fromkeys(names)]


def run_checks(
    names: Sequence[str] | None = None,
    *,
    fvcore: bool = True,
    on_check: Callable[[Check], None] | None = None,
) -> list[CheckRow]:
    """Run the named checks (all by default) on their default configurations."""
    rows: list[CheckRow] = []
    for check in resolve_checks(names):
        rows += check.run(fvcore=fvcore) if check.fvcore else check.run()
        if on_check is not None:
            on_check(check)
    return rows
