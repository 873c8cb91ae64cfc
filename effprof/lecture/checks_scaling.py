"""Checks of the scaling formulas: EfficientNet's compound rule, ViT's attention quadratic in pixels
and Swin's window attention linear in pixels, on registry models at several resolutions.
"""

from __future__ import annotations

from collections.abc import Sequence

from effprof.counters.result import CountResult
from effprof.errors import EffprofError
from effprof.formulas import lecture as lf
from effprof.lecture.check_rows import (
    CheckRow,
    _opclass_macs,
    _positive,
    count_spec,
    exponent_row,
)
from effprof.lecture.fit import growth_per_step
from effprof.models.compound import OFFICIAL, default_resolution

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


