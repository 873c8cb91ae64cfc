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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from effprof.errors import EffprofError
from effprof.lecture.check_rows import (  # noqa: F401  (the catalog's public names, in one place)
    FVCORE_MAX_INPUT_ELEMENTS,
    FVCORE_MAX_PARAMS,
    CheckRow,
    count_spec,
    exponent_row,
    fvcore_macs,
)
from effprof.lecture.checks_blocks import (  # noqa: F401
    DWCONV_CONFIGS,
    GHOST_CONFIGS,
    IR_CONFIGS,
    SE_CONFIGS,
    SE_MODELS,
    SHUFFLE_CONFIGS,
    dwconv,
    ghost,
    inverted_residual,
    is_se_module,
    mobilenet_v1,
    se,
    separable_conv,
    shuffle,
)
from effprof.lecture.checks_scaling import (  # noqa: F401
    COMPOUND_STEP_TOLERANCE,
    PHIS,
    SWIN_MODELS,
    SWIN_RESOLUTIONS,
    VIT_MIN_TOKENS,
    VIT_MODELS,
    VIT_RESOLUTIONS,
    compound_scaling,
    compound_step_note,
    compound_step_tolerance,
    swin,
    vit,
    vit_rows,
)

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
