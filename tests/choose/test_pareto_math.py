"""The Pareto front, MnasNet's reward and the rank statistics on points written out by hand."""

from __future__ import annotations

import math

import pytest

from effprof.choose.ranking import best_under, discordant_pairs, pareto_front, reward, spearman


def test_front_on_hand_made_points():
    #            A     B     C     D     E     F
    latency = [1.0, 2.0, 3.0, 2.5, 4.0, 5.0]
    accuracy = [60.0, 70.0, 65.0, 72.0, 72.0, 80.0]
    # A fastest; B beats A on accuracy; C slower and worse than B; D more accurate than B;
    # E as accurate as D but slower (dominated); F the most accurate
    assert pareto_front(latency, accuracy) == [True, True, False, True, False, True]


def test_equal_points_are_both_on_the_front_and_a_tie_in_latency_keeps_the_more_accurate():
    assert pareto_front([1.0, 1.0, 2.0], [70.0, 70.0, 75.0]) == [True, True, True]
    assert pareto_front([1.0, 1.0], [70.0, 69.0]) == [True, False]
    # same accuracy, slower: dominated
    assert pareto_front([1.0, 2.0], [70.0, 70.0]) == [True, False]


def test_missing_values_are_off_the_front_and_do_not_dominate():
    assert pareto_front([1.0, None, 3.0], [60.0, 90.0, 70.0]) == [True, False, True]
    assert pareto_front([math.nan, 2.0], [99.0, 50.0]) == [False, True]
    assert pareto_front([], []) == []
    with pytest.raises(ValueError):
        pareto_front([1.0], [])


def test_reward_soft_and_hard_by_hand():
    # soft: 75 x (20/10)^-0.07 = 75 x 0.95264 = 71.448
    assert reward(75.0, 20.0, 10.0, -0.07) == pytest.approx(75.0 * 2 ** -0.07)
    assert reward(75.0, 20.0, 10.0, -0.07) == pytest.approx(71.448, abs=1e-3)
    # under the target the soft reward rises above ACC: 70 x 0.5^-0.07
    assert reward(70.0, 5.0, 10.0, -0.07) == pytest.approx(70.0 * 0.5 ** -0.07)
    # hard: w = 0 at or under T (reward = ACC), w = -1 over (ACC x T / LAT)
    assert reward(70.0, 5.0, 10.0) == 70.0
    assert reward(70.0, 10.0, 10.0) == 70.0
    assert reward(80.0, 20.0, 10.0) == pytest.approx(40.0)
    # w = 0 ignores latency entirely
    assert reward(80.0, 1000.0, 10.0, 0.0) == 80.0


def test_reward_ranks_as_mnasnet_says():
    # a 2% more accurate model twice as slow: the soft reward (w=-0.07) prefers the faster one ...
    fast, slow = (74.0, 10.0), (75.5, 20.0)
    assert reward(*fast, 10.0, -0.07) > reward(*slow, 10.0, -0.07)
    # ... but a 10% more accurate one at twice the latency wins (2^-0.07 = 0.953)
    assert reward(82.0, 20.0, 10.0, -0.07) > reward(74.0, 10.0, 10.0, -0.07)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_reward_refuses_a_non_positive_target_or_latency(bad):
    with pytest.raises(ValueError):
        reward(70.0, 1.0, bad)
    with pytest.raises(ValueError):
        reward(70.0, bad, 10.0)


def test_best_under_is_the_most_accurate_within_the_target():
    latency = [3.0, 9.0, 10.0, 12.0, None]
    accuracy = [60.0, 70.0, 70.0, 90.0, 99.0]
    assert best_under(latency, accuracy, 10.0) == 1  # 70% at 9 ms beats 70% at 10 ms (faster), 90% is over
    assert best_under(latency, accuracy, 2.0) is None


def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [40, 30, 20, 10]) == pytest.approx(-1.0)
    # one swap of neighbours in 4: rho = 1 - 6*(1+1)/(4*15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2], [1, 2]) is None  # under three pairs says nothing
    assert spearman([1, 2, 3, None], [3, 2, 1, 7]) == pytest.approx(-1.0)  # incomplete pairs dropped


def test_discordant_pairs_name_the_misranked_models():
    predicted = [1.0, 2.0, 3.0]
    measured = [1.5, 4.0, 3.5]  # 1 and 2 swap
    assert discordant_pairs(predicted, measured) == [(1, 2)]
    assert discordant_pairs([1.0, 1.0], [2.0, 1.0]) == []  # a predicted tie is no misranking
