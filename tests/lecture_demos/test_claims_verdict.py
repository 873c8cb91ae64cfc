"""The claims' verdict logic on synthetic evidence and synthetic paired timings (no real timing)."""

import math

import pytest
from demo_helpers import macs_timed, slices

from effprof.lecture import claims_run, paired
from effprof.lecture.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    Bounds,
    Claim,
    ClaimRow,
    Evidence,
    around,
    combine,
    spanning,
    verdict,
)
from effprof.lecture.claims_catalog import CLAIMS


def ev(value, low=None, high=None, doubt=""):
    return Evidence(value, value if low is None else low, value if high is None else high, doubt)


SIX_X = around(6)  # 4.615x to 7.8x


def test_around_and_spanning_widen_by_the_stated_tolerance():
    assert SIX_X.low == pytest.approx(6 / 1.3) and SIX_X.high == pytest.approx(7.8)
    assert spanning(8, 9).low == pytest.approx(8 / 1.3) and spanning(8, 9).high == pytest.approx(11.7)
    assert SIX_X.describe() == "4.62x to 7.8x" and Bounds(1.5, None).describe() == ">= 1.5x"


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (ev(6.0, 5.5, 6.5), HOLDS),  # wholly inside
        (ev(3.0, 2.8, 3.2), FAILS),  # wholly below
        (ev(9.0, 8.5, 9.5), FAILS),  # wholly above
        (ev(4.7, 4.3, 5.1), INCONCLUSIVE),  # straddles the low edge
        (ev(7.7, 7.4, 8.1), INCONCLUSIVE),  # straddles the high edge
        (ev(6.0, 5.5, 6.5, "contended 40%"), INCONCLUSIVE),  # inside, but others took cores
        (ev(3.0, 2.8, 3.2, "noisy"), INCONCLUSIVE),  # outside, but too noisy to say
        (ev(6.0, 5.5, 6.5, "fewer threads"), HOLDS),  # a tag that does not doubt the ratio
        (ev(math.nan), INCONCLUSIVE),
    ],
)
def test_verdict_against_a_stated_6x(evidence, expected):
    assert verdict(evidence, SIX_X) == expected


def test_one_sided_levels():
    low = Bounds(None, 0.5)
    assert verdict(ev(0.1, 0.09, 0.12), low) == HOLDS
    assert verdict(ev(0.8, 0.7, 0.9), low) == FAILS
    assert verdict(ev(0.5, 0.45, 0.55), low) == INCONCLUSIVE
    assert verdict(Evidence.counted(0.5), low) == HOLDS  # the edge itself is inside


def test_a_failed_count_fails_the_claim_whatever_the_timing():
    assert combine(FAILS, HOLDS) == FAILS
    assert combine(HOLDS, INCONCLUSIVE) == INCONCLUSIVE
    assert combine(None, FAILS) == FAILS
    claim = Claim("x", "g", "stated", "q", Bounds(None, 0.5), "tol", lambda e: "why",
                  counted_part=("macs_share", Bounds(None, 0.2)))  # fmt: skip
    assert ClaimRow(claim, "eager", Evidence(0.1, 0.1, 0.1, context={"macs_share": 0.9})).verdict == FAILS
    assert ClaimRow(claim, "eager", Evidence(0.1, 0.1, 0.1, context={"macs_share": 0.01})).verdict == HOLDS
    assert ClaimRow(claim, "eager", error="export failed").verdict == INCONCLUSIVE


def fake_pair(first_ms, second_ms, first_contended=None, second_contended=None):
    def measure_paired(first, second, backend, **kwargs):
        return slices(first_ms, first_contended), slices(second_ms, second_contended)

    return measure_paired


def run_pair(monkeypatch, *args):
    monkeypatch.setattr(paired.latency, "measure_paired", fake_pair(*args))
    return claims_run.paired_ratio((None, (1,), "a"), (None, (1,), "b"), "eager", {})


def test_a_steady_paired_ratio_is_exact_and_judged(monkeypatch):
    e = run_pair(monkeypatch, [100.0] * 10, [20.0] * 10)
    assert (e.value, e.low, e.high, e.doubt) == (pytest.approx(5.0), pytest.approx(5.0), pytest.approx(5.0), "")
    assert verdict(e, around(5)) == HOLDS and verdict(e, around(7)) == FAILS
    assert e.detail == "100 ms / 20 ms"


def test_a_drifting_machine_cancels_in_the_ratio(monkeypatch):
    drift = [1.0, 1.3, 0.9, 1.5, 1.1, 1.0, 1.4, 0.95, 1.2, 1.05]  # a slow spell hits both sides alike
    e = run_pair(monkeypatch, [100 * d for d in drift], [20 * d for d in drift])
    assert e.value == pytest.approx(5.0) and e.doubt == ""


def test_contended_slices_are_left_out_and_a_contended_side_makes_it_inconclusive(monkeypatch):
    first = [100.0] * 10
    second = [20.0] * 9 + [80.0]  # the one spoiled slice is contended: left out
    e = run_pair(monkeypatch, first, second, None, [False] * 9 + [True])
    assert e.value == pytest.approx(5.0) and e.doubt == ""
    e = run_pair(monkeypatch, first, [20.0] * 8 + [40.0, 80.0], None, [True] * 8 + [False] * 2)
    assert "contended" in e.doubt and e.low < e.high  # 2 clean pairs are no interval: all pairs, marked
    busy = [True] * 6 + [False] * 4  # most slices contended: the side is contended
    e = run_pair(monkeypatch, first, [20.0] * 10, None, busy)
    assert "contended" in e.doubt and verdict(e, around(5)) == INCONCLUSIVE


def test_a_noisy_ratio_is_inconclusive(monkeypatch):
    e = run_pair(monkeypatch, [100.0] * 10, [10.0, 40.0] * 5)
    assert "noisy" in e.doubt and verdict(e, Bounds(1.0, None)) == INCONCLUSIVE


def test_pair_doubt():
    assert paired.pair_doubt([None, None], 0.01) == ""
    assert paired.pair_doubt([0.4, None], 0.01) == "contended 40%"
    assert paired.pair_doubt([None, None], paired.NOISY_HALF_WIDTH + 0.01) == "noisy"
    assert paired.pair_doubt([0.8, 0.75], paired.NOISY_HALF_WIDTH + 0.01) == "contended 80%/75%, noisy"


def test_if_time_followed_macs_the_flops_claims_would_hold_for_time_too(monkeypatch):
    monkeypatch.setattr(paired.latency, "measure_paired", macs_timed)
    result = claims_run.run_claims(["eager"], groups=["mobile table", "depthwise separable"])
    got = {r.claim.id: r.verdict for r in result.rows}
    assert got["table_depthwise"] == HOLDS and got["table_attention"] == HOLDS
    assert got["table_conv"] == HOLDS  # no op runs its MACs faster than the conv (all equal)
    assert got["table_se"] == FAILS  # SE's few MACs take almost no time: not "high" in absolute time
    assert got["table_se_per_mac"] == FAILS  # and each of its MACs costs what a conv MAC costs
    assert all(got[c] == HOLDS for c in got if c.startswith("separable_"))  # time falls 8.4-8.8x with MACs
    df = result.to_pandas()
    assert len(df) == len(got) and set(df.backend) == {"eager"} and df.why.str.len().min() > 10


def test_memory_bound_ops_turn_the_verdicts(monkeypatch):
    """Depthwise and SE 20x slower per MAC than a dense conv (as on a CPU): the time claims stop following FLOPs."""
    from effprof.counters.analytic import count_analytic

    def slow_depthwise(first, second, backend, **kwargs):
        def ms(target):
            module, shape = target[0], target[1]
            macs = count_analytic(module, shape).macs
            grouped = any(getattr(m, "groups", 1) > 1 for m in module.modules())
            is_se = type(module).__name__ == "SqueezeExcitation"
            return macs / 1e6 * (20 if grouped or is_se else 1) + (0.5 if is_se else 0)

        return slices([ms(first)] * 10), slices([ms(second)] * 10)

    monkeypatch.setattr(paired.latency, "measure_paired", slow_depthwise)
    result = claims_run.run_claims(["eager"], groups=["mobile table", "depthwise separable"])
    got = {r.claim.id: r.verdict for r in result.rows}
    assert got["table_se_per_mac"] == HOLDS
    assert got["separable_128_56"] == FAILS  # the depthwise half now dominates: time falls far less than 8x
    why = {r.claim.id: r.why for r in result.rows}
    assert why["separable_128_56"].endswith("the depthwise half is memory-bound, so time falls less than MACs")


def test_the_catalog_states_every_claim_and_its_range():
    assert len(CLAIMS) == 15
    for claim in CLAIMS.values():
        assert claim.stated and claim.quantity and claim.tolerance and claim.bounds.describe() != "any"


def test_counted_claim_efficientnet_smaller_holds_without_timing():
    result = claims_run.run_claims([], groups=["EfficientNet vs ResNet"])
    (row,) = result.rows
    assert row.backend is None and row.evidence.value == pytest.approx(60_192_808 / 7_794_184)
    assert row.verdict == HOLDS


def test_an_unknown_group_lists_the_valid_ones():
    from effprof.errors import EffprofError

    with pytest.raises(EffprofError, match="valid groups: speed-ups over ResNet-50"):
        claims_run.check_groups(["nope"])
