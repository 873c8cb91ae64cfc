"""effprof's MACs for the published grids against the MACs the tables print.

The TF-slim tables print MACs in whole millions. Every V1/V2 grid point agrees within 3% or within that
rounding (0.5 M), but for three rows:

- MobileNet_v1_0.25_192: the table prints 34 M, which breaks the rule the table follows everywhere else,
  that MACs scale with the square of the resolution: its own 224 px row scaled, 41 x (192/224)^2 = 30.1 M,
  is what effprof counts (30.2 M): -11.1%, the worst relative error;
- mobilenet_v2_0.5_96 and mobilenet_v2_0.35_96: effprof counts 18.9 M and 11.9 M where the table prints
  18 M and 11 M (+4.9%, +8.5%), while the same widths at 224 px agree (+0.1%, +0.5%). The table does not
  say how it counted; the figures are reported, not adjusted.

MobileNet_v1_0.75 is 2.6-2.7% over the TF-slim table at every size and matches the paper's 325 M at 224 px.
"""

from __future__ import annotations

import pytest

from effprof.choose.published import MOBILENET_V1, MOBILENET_V2, MOBILENET_V3, OTHERS
from effprof.hardware.predict import count_model

KNOWN_OUTLIERS = {("mobilenet_v1(width=0.25)", 192), ("mobilenet_v2(width_mult=0.5)", 96),
                  ("mobilenet_v2(width_mult=0.35)", 96)}


def _counted(rows):
    return {(r.spec, r.resolution_px): (count_model(r.spec, resolution=r.resolution_px)[1].macs, r.macs) for r in rows}


def _errors(rows):
    return {key: (macs - table) / table for key, (macs, table) in _counted(rows).items()}


@pytest.fixture(scope="module")
def grid_counts():
    return _counted([*MOBILENET_V1, *MOBILENET_V2])


def test_grid_macs_agree_with_the_tables(grid_counts):
    errors = {key: (macs - table) / table for key, (macs, table) in grid_counts.items()}
    worst_key = max(errors, key=lambda k: abs(errors[k]))
    print(f"worst relative MACs error over {len(errors)} grid points: {errors[worst_key]:+.1%} at {worst_key}")
    assert len(errors) == 38
    assert worst_key == ("mobilenet_v1(width=0.25)", 192) and errors[worst_key] == pytest.approx(-0.111, abs=0.002)
    for key, (macs, table) in grid_counts.items():
        if key in KNOWN_OUTLIERS:
            assert abs(errors[key]) < 0.12, key
        else:  # within 3%, or within the table's rounding to whole millions
            assert abs(errors[key]) < 0.03 or abs(macs - table) <= 0.5e6, (key, errors[key])
    outside = [k for k, (macs, table) in grid_counts.items() if abs(macs - table) > max(0.03 * table, 0.5e6)]
    assert sorted(outside) == sorted(KNOWN_OUTLIERS)
    # the table's own inconsistency: its 224 px row scaled by resolution^2 is what effprof counts
    v1_224 = next(r for r in MOBILENET_V1 if (r.spec, r.resolution_px) == ("mobilenet_v1(width=0.25)", 224))
    _, count = count_model("mobilenet_v1(width=0.25)", resolution=192)
    assert count.macs == pytest.approx(v1_224.macs * (192 / 224) ** 2, rel=0.01)


def test_other_published_rows():
    errors = _errors([r for r in (*MOBILENET_V3, *OTHERS) if r.macs])
    assert abs(errors[("mobilenet_v3_large", 224)]) < 0.01
    for tag in ("050", "100", "130"):
        assert abs(errors[(f"ghostnet_{tag}", 224)]) < 0.01
    # TF-slim's V3-Small checkpoint is printed at 66 M; torchvision's (the paper's Small 1.0) counts 56.5 M:
    # the row carries a note, and its figures are kept as published
    assert errors[("mobilenet_v3_small", 224)] == pytest.approx(-0.144, abs=0.005)
