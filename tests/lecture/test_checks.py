"""Every check of the catalog passes on its default configurations, and (hypothesis) on random valid ones."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effprof.errors import EffprofError
from effprof.lecture import checks
from effprof.lecture.checks import CATALOG, CheckRow, run_checks

FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def default_rows():
    return run_checks(fvcore=True)


def _assert_all_pass(rows):
    assert rows
    failed = [
        (r.check, r.quantity, r.config, r.predicted, r.counted, r.fvcore) for r in rows if r.passed is False
    ]
    assert not failed


def test_every_check_passes_on_its_defaults(default_rows):
    _assert_all_pass(default_rows)
    assert {r.check for r in default_rows} == set(CATALOG)


def test_defaults_show_the_headline_numbers(default_rows):
    rows = {(r.check, r.quantity, r.config): r for r in default_rows}
    ratio = rows["dwconv", "MACs reduction, standard / separable", "Cin=256 Cout=256 K=3 56x56"]
    assert ratio.counted == pytest.approx(8.69, abs=0.005) and ratio.fvcore == pytest.approx(ratio.counted)
    attention = [r for r in default_rows if r.check == "vit" and r.quantity == "attention MACs ∝ pixels^k"]
    assert attention and all(r.counted == pytest.approx(2, abs=0.02) for r in attention)
    swin = [r for r in default_rows if r.check == "swin" and "∝" in r.quantity]
    assert swin and all(r.counted == pytest.approx(1, abs=0.01) for r in swin)
    paper = [r for r in default_rows if r.quantity == "MACs vs the paper"]
    assert len(paper) == 7


def test_fvcore_agrees_wherever_it_counts(default_rows):
    with_fvcore = [r for r in default_rows if r.fvcore is not None]
    assert {r.check for r in with_fvcore} >= {"dwconv", "inverted_residual", "se", "ghost", "shuffle"}
    assert all(r.fvcore_error < 1e-9 for r in with_fvcore)


def test_se_share_rows_compare_like_with_like(default_rows):
    se = [r for r in default_rows if r.check == "se" and "in the model" in r.quantity]
    assert {r.config.split(",")[0] for r in se} == {"mobilenet_v3_large", "efficientnet_b0"}
    rescale = next(r for r in se if "rescale" in r.quantity)
    assert rescale.unit == "other_ops"  # the rescale multiply is an other_op, never a MAC


def test_unjudged_rows_say_so(default_rows):
    shown = [r for r in default_rows if r.tolerance is None]
    assert shown and all(r.passed is None for r in shown)
    assert any(r.quantity.startswith("B7") for r in shown)


@FEW
@given(
    cin=st.integers(1, 96), cout=st.integers(1, 96), k=st.sampled_from([1, 3, 5, 7]), size=st.integers(1, 40)
)
def test_dwconv_on_random_configs(cin, cout, k, size):
    _assert_all_pass(checks.dwconv([(cin, cout, k, size)], fvcore=False))


@FEW
@given(m=st.integers(1, 8), e=st.integers(1, 6), size=st.integers(2, 32), stride=st.sampled_from([1, 2]),
       wider=st.booleans())  # fmt: skip
def test_inverted_residual_on_random_configs(m, e, size, stride, wider):
    cin = m * e  # divisible by e, so the classic bottleneck's C/e exists
    cout = cin + 8 if wider else cin
    _assert_all_pass(checks.inverted_residual([(cin, cout, e, size, stride)], fvcore=False))


@FEW
@given(sq=st.integers(1, 32), r=st.sampled_from([2, 4, 8, 16]), size=st.integers(1, 32))
def test_se_on_random_configs(sq, r, size):
    _assert_all_pass(checks.se([(sq * r, r, size)], models=(), fvcore=False))


@FEW
@given(c=st.integers(1, 64), m=st.integers(1, 16), k=st.sampled_from([1, 3, 5]), s=st.integers(2, 4),
       d=st.sampled_from([1, 3, 5]), size=st.integers(1, 24))  # fmt: skip
def test_ghost_on_random_configs(c, m, k, s, d, size):
    _assert_all_pass(
        checks.ghost([(c, m * s, k, s, d, size)], fvcore=False)
    )  # "≈ s" judged only where it holds


@FEW
@given(per_group=st.integers(1, 16), g=st.integers(1, 8), k=st.sampled_from([1, 3]), size=st.integers(1, 24))
def test_group_conv_on_random_configs(per_group, g, k, size):
    _assert_all_pass(checks.shuffle([(per_group * g, 2 * per_group * g, k, size, g)], fvcore=False))


@settings(max_examples=6, deadline=None)
@given(alpha=st.sampled_from([0.1, 0.3, 0.6, 0.9, 1.25]), res=st.integers(32, 256))
def test_mobilenet_v1_closed_form_on_random_width_and_resolution(alpha, res):
    rows = checks.mobilenet_v1(widths=[alpha], resolutions=[res], paper=False)
    _assert_all_pass([r for r in rows if r.quantity == "MACs, whole model"])


@settings(max_examples=4, deadline=None)
@given(patches=st.lists(st.integers(2, 30), min_size=2, max_size=2, unique=True))
def test_vit_on_random_resolutions(patches):
    # exact at any resolution; the growth exponents are judged once N >= 100 tokens (asymptotic claims)
    _assert_all_pass(checks.vit(models=["vit_ti_16"], resolutions=[16 * p for p in patches]))


@settings(max_examples=4, deadline=None)
@given(sides=st.lists(st.integers(2, 24), min_size=2, max_size=2, unique=True))
def test_swin_on_random_resolutions(sides):
    # multiples of 32 keep every stage's side whole; padding to the window is part of the formula,
    # and the exponent is judged only where no stage is padded
    _assert_all_pass(checks.swin(resolutions=[32 * s for s in sides]))


@pytest.mark.parametrize("resolutions", [(224, 672), (448, 672)])
def test_growth_exponents_where_their_conditions_hold(resolutions):
    # Swin: every stage's side a multiple of the 7-pixel window; ViT: N >= 196 tokens
    _assert_all_pass(checks.swin(resolutions=resolutions))
    _assert_all_pass(checks.vit(models=["vit_ti_16"], resolutions=resolutions))


def test_growth_exponents_are_asymptotic_claims():
    # at 64/80 px a ViT-Ti has 16/25 tokens: the class token pulls the exponent to 1.90, outside 2%,
    # so the row is shown and not judged
    exponent = next(
        r for r in checks.vit(models=["vit_ti_16"], resolutions=[64, 80]) if "attention MACs ∝" in r.quantity
    )
    assert exponent.counted == pytest.approx(1.904, abs=0.001)
    assert exponent.rel_error > 0.02 and exponent.passed is None


def test_fvcore_is_left_out_for_modules_too_big_to_run():
    rows = checks.dwconv([(2048, 2048, 3, 64)], fvcore=True)  # 8.4 M input elements: counted on meta only
    assert all(r.fvcore is None for r in rows)
    _assert_all_pass(rows)


def test_bad_configurations_raise_one_line_errors():
    with pytest.raises(EffprofError, match="Cin must be positive"):
        checks.dwconv([(-1, 8, 3, 8)])
    with pytest.raises(EffprofError, match="divisible by r"):
        checks.se([(10, 4, 8)], models=())
    with pytest.raises(EffprofError, match="valid checks: dwconv"):
        run_checks(["nope"])
    with pytest.raises(EffprofError, match="divisible by 16"):
        checks.vit(models=["vit_ti_16"], resolutions=[200, 224])


def test_check_row_errors_and_verdicts():
    row = CheckRow("x", "MACs", "f", "cfg", predicted=110, counted=100, tolerance=0.05)
    assert row.rel_error == pytest.approx(0.1) and row.passed is False
    assert CheckRow("x", "MACs", "f", "cfg", predicted=0, counted=0).passed is True
    assert CheckRow("x", "MACs", "f", "cfg", 1, 2, fvcore=1, tolerance=None).passed is None
    assert CheckRow("x", "MACs", "f", "cfg", 1, 1, fvcore=2).passed is False  # fvcore must agree too
    assert row.as_dict()["unit"] == "macs"
