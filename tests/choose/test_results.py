"""Ranked rows, device vs phone and the search verdicts on results written out by hand (nothing timed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from effprof.choose.accuracy import Accuracy, Candidate, Lookup
from effprof.choose.result import COLUMNS, Choice, ParetoResult, SearchResult, phone_comparison, ranked_rows
from effprof.latency import Measurement


def _choice(name: str, ms: float | None, top1: float | None, *, macs: int = 10**8, pixel1: float | None = None,
            predicted: float | None = None, iqr: float = 0.0) -> Choice:  # fmt: skip
    acc = Accuracy(top1, None, 224, "hand") if top1 is not None else None
    cand = Candidate(name, 224, "Test", Lookup(acc, "" if acc else "none published here", pixel1))
    d = iqr / 2  # five blocks: the quartiles are the 2nd and 4th, so the IQR is 2d
    measurements = [Measurement("eager", "cpu", 1, [(ms + x) / 1e3 for x in (-d, -d, 0, d, d)])] if ms is not None else []
    profile = SimpleNamespace(count=SimpleNamespace(macs=macs, params=10**6), measurements=measurements, error=None,
                              latency_errors={})  # fmt: skip
    return Choice(cand, profile, predicted_ms=predicted, shortlisted=predicted is not None and ms is not None)


def _points():
    #            name, latency ms, top-1 %
    return [_choice("A", 2.0, 60.0), _choice("B", 5.0, 70.0), _choice("C", 8.0, 65.0),
            _choice("D", 12.0, 76.0), _choice("E", 40.0, 80.0), _choice("X", 3.0, None)]  # fmt: skip


def test_rows_carry_front_rewards_and_rank_by_hand():
    rows = {r["spec"]: r for r in ranked_rows(_points(), target_ms=10.0)}
    assert [rows[n]["on_front"] for n in "ABCDE"] == [True, True, False, True, True]
    assert rows["B"]["reward_hard"] == 70.0 and rows["D"]["reward_hard"] == pytest.approx(76.0 * 10 / 12)
    assert rows["E"]["reward_soft"] == pytest.approx(80.0 * 4 ** -0.07)
    # soft, ACC x (LAT/10)^-0.07: D 75.03, B 73.48, E 72.58, A 67.14, C 66.02
    soft = [r["spec"] for r in ranked_rows(_points(), 10.0) if r["rank"]]
    assert soft == ["D", "B", "E", "A", "C"]
    # hard: B 70, C 65 (within T), D 76 x 10/12 = 63.3, A 60, E 80 x 10/40 = 20
    hard = [r["spec"] for r in ranked_rows(_points(), 10.0, rank_by="hard") if r["rank"]]
    assert hard == ["B", "C", "D", "A", "E"]
    # no accuracy: shown last, never ranked, the reason kept
    x = rows["X"]
    assert x["rank"] is None and x["on_front"] is None and "none published" in x["accuracy_source"]


def test_pareto_result_choice_and_frame():
    result = ParetoResult(_points(), {"backends": ["eager"]}, target_ms=10.0)
    assert result.chosen()["spec"] == "D"  # soft reward
    assert result.best_under_target()["spec"] == "B"  # the most accurate within 10 ms
    df = result.to_pandas()
    assert list(df.columns) == list(COLUMNS) and len(df) == 6
    no_target = ParetoResult(_points(), {}, target_ms=None)
    assert no_target.chosen()["spec"] == "E" and no_target.best_under_target() is None
    assert [r["spec"] for r in no_target.rows() if r["rank"]] == ["A", "B", "D", "E", "C"]


def test_device_vs_phone_by_hand():
    rows = [{"model": m, "latency_ms": ms, "pixel1_ms": p, "top1_pct": a}
            for m, ms, p, a in (("a", 1.0, 10.0, 60.0), ("b", 2.0, 30.0, 70.0), ("c", 3.0, 20.0, 72.0),
                                ("d", 4.0, 40.0, 74.0), ("n", 5.0, None, 99.0))]  # fmt: skip
    phone = phone_comparison(rows, target_ms=2.5)
    assert [r["model"] for r in phone.rows] == ["a", "b", "c", "d"]  # rows without a Pixel 1 time left out
    assert [r["rank_pixel1"] for r in phone.rows] == [1, 3, 2, 4]
    assert phone.spearman == pytest.approx(0.8)  # one swap of neighbours in four
    assert [r["front_pixel1"] for r in phone.rows] == [True, False, True, True]  # b is slower and worse than c there
    # the choice here within 2.5 ms is b; at b's Pixel 1 time (30 ms) the phone picks c (72% in 20 ms)
    assert (phone.device_choice, phone.phone_budget_ms, phone.phone_choice) == ("b", 30.0, "c")
    assert phone_comparison(rows[:1], 1.0) is None


def test_search_verdicts_by_hand():
    choices = [_choice("p", 4.0, 60.0, predicted=3.0), _choice("q", 6.0, 65.0, predicted=4.5),
               _choice("r", 5.5, 63.0, predicted=5.5), _choice("s", None, 70.0, predicted=9.0)]  # fmt: skip
    result = SearchResult("test grid", choices, {}, target_ms=5.0, predictor="hand")
    assert [r["spec"] for r in result.measured()] == ["q", "r", "p"]  # by soft reward; s was never measured
    assert result.answer()["spec"] == "p"  # the only one measured within 5 ms
    assert result.predicted_answer()["spec"] == "q"  # predicted 4.5 ms, measured 6
    assert sorted(result.misranked()) == [("q @224", "r @224")]  # q predicted faster than r, measured slower
    assert dict(result.wrong_side()) == {"q @224": "predicted within the target, measured over"}
    assert result.summary()["answer"] == "p @224"
    assert result.swapped_within_noise() == []


def test_a_swap_within_the_timings_spread_is_not_a_misranking():
    # q predicted faster than r, measured 0.5 ms slower, but r's IQR is 1 ms: noise
    choices = [_choice("q", 6.0, 65.0, predicted=4.5), _choice("r", 5.5, 63.0, predicted=5.5, iqr=1.0)]
    result = SearchResult("test grid", choices, {}, target_ms=5.0, predictor="hand")
    assert result.rows()[1]["latency_iqr_ms"] == pytest.approx(1.0)
    assert result.misranked() == [] and result.swapped_within_noise() == [("q @224", "r @224")]
