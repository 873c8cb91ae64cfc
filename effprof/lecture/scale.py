"""``effprof scale``: EfficientNet B0-B7 as released, next to 2^phi and the literal compound rule.

Rule (Tan & Le 2019, Eq. 3): depth d = 1.2^phi, width w = 1.1^phi, resolution r = 1.15^phi, so
MACs grow by d * w^2 * r^2 = 1.92^phi ~ 2^phi. The released B1-B7 were tuned by hand around it;
``efficientnet(phi=...)`` (effprof.models.compound) follows it literally. Both are counted here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from effprof.formulas import lecture as lf
from effprof.lecture.checks import count_spec
from effprof.models.compound import OFFICIAL, default_resolution


def scale_table(on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """One row per released variant B0-B7 (phi = its index) with the literal phi model beside it."""
    rows: list[dict[str, Any]] = []
    base = literal_base = None
    for phi, variant in enumerate(OFFICIAL):
        official = count_spec(variant.name)
        literal = count_spec(f"efficientnet(phi={phi})", default_resolution(phi))
        base = base or official.macs
        literal_base = literal_base or literal.macs
        d, w, _ = lf.compound_coefficients(phi)
        row = {
            "phi": phi,
            "model": variant.name,
            "depth_mult": variant.depth_mult,
            "width_mult": variant.width_mult,
            "resolution": variant.resolution,
            "params": official.params,
            "macs": official.macs,
            "macs_vs_b0": official.macs / base,
            "two_pow_phi": 2.0**phi,
            "rule_macs_ratio": lf.compound_flops_ratio(phi),
            "literal_model": f"efficientnet(phi={phi})",
            "literal_depth_mult": d,
            "literal_width_mult": w,
            "literal_resolution": default_resolution(phi),
            "literal_params": literal.params,
            "literal_macs": literal.macs,
            "literal_macs_vs_phi0": literal.macs / literal_base,
        }
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows
