"""effprof's MACs for the published grids against the MACs the tables print.

The TF-slim tables print MACs in whole millions. Every V1/V2 grid point agrees within 3%, but for two
rows where the table itself breaks the rule it follows everywhere else, that MACs scale with the
square of the resolution:

- MobileNet_v1_0.25_192: the table prints 34 M; its own 224 px row scaled, 41 x (192/224)^2 = 30.1 M,
  is what effprof counts (30.2 M): -11.1%;
- mobilenet_v2_0.35_96: the table prints 11 M; 59 x (96/224)^2 = 10.8 M, but torchvision's network (channels
  rounded to multiples of 8, the 1280-wide head kept) counts 11.9 M: +8.5%.

MobileNet_v1_0.75 is 2.6-2.7% over the TF-slim table at every size and matches the paper's 325 M at 224 px.
"""

from __future__ import annotations

import pytest

from effprof.choose.published import MOBILENET_V1, MOBILENET_V2, MOBILENET_V3, OTHERS
from effprof.hardware.predict import count_model

KNOWN_OUTLIERS = {("mobilenet_v1(width=0.25)", 192), ("mobilenet_v2(width_mult=0.35)", 96)}


def _errors(rows):
    out = {}
    for row in rows:
        _, count = count_model(row.spec, resolution=row.resolution_px)
        out[(row.spec, row.resolution_px)] = (count.macs - row.macs) / row.macs
    return out


@pytest.fixture(scope="module")
def grid_errors():
    return _errors([*MOBILENET_V1, *MOBILENET_V2])


def test_grid_macs_agree_with_the_tables(grid_errors):
    worst_key = max(grid_errors, key=lambda k: abs(grid_errors[k]))
    print(f"worst relative MACs error over {len(grid_errors)} grid points: {grid_errors[worst_key]:+.1%} at {worst_key}")
    assert len(grid_errors) == 38
    assert worst_key == ("mobilenet_v1(width=0.25)", 192) and grid_errors[worst_key] == pytest.approx(-0.111, abs=0.002)
    for key, err in grid_errors.items():
        assert abs(err) < (0.12 if key in KNOWN_OUTLIERS else 0.03), (key, err)
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
