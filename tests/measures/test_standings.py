"""Ranks, rank intervals and tied groups on hand-built cases; Holm against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from xret.measures.paired import holm
from xret.measures.standings import (
    bootstrap_p_values,
    competition_ranks,
    rank_intervals,
    tied_groups,
)


def test_competition_ranks_share_ties_and_skip():
    assert competition_ranks(np.array([0.5, 0.7, 0.7, 0.1])).tolist() == [3, 1, 1, 4]
    assert competition_ranks(np.array([3.0, 1.0, 2.0]), higher_is_better=False).tolist() == [
        3,
        1,
        2,
    ]
    ranks = competition_ranks(np.array([0.2, np.nan, 0.3]))
    assert ranks[0] == 2 and np.isnan(ranks[1]) and ranks[2] == 1


def test_rank_intervals_hand_built():
    # 20 resamples of 3 systems: A first 18 times and second twice, B mostly second, C last.
    draws = np.array([[0.9, 0.8, 0.1]] * 18 + [[0.7, 0.8, 0.1]] * 2)
    low, high = rank_intervals(draws, confidence=0.8)  # 10 % tails: 2 of 20 resamples each
    assert low.tolist() == [1, 1, 3] and high.tolist() == [2, 2, 3]
    low, high = rank_intervals(draws, confidence=0.5)  # 25 % tails: the two swaps fall outside
    assert low.tolist() == [1, 2, 3] and high.tolist() == [1, 2, 3]
    low, high = rank_intervals(-draws, higher_is_better=False, confidence=0.5)
    assert low.tolist() == [1, 2, 3]


def _p(n, significant):
    p = np.ones((n, n))
    for i, j in significant:
        p[i, j] = p[j, i] = 0.01
    return p


def test_tied_groups_hand_built():
    values = np.array([0.9, 0.8, 0.7, 0.6])
    # A~B, B~C, C~D only: three overlapping groups.
    assert tied_groups(values, _p(4, [(0, 2), (0, 3), (1, 3)])) == ["a", "ab", "bc", "c"]
    assert tied_groups(values, _p(4, [])) == ["a"] * 4
    every = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    assert tied_groups(values, _p(4, every)) == ["a", "b", "c", "d"]
    # Order comes from the values, not the input order; lower is better reverses it.
    assert tied_groups(values[::-1], _p(4, [(3, 1), (3, 0), (2, 0)])) == ["c", "bc", "ab", "a"]
    assert tied_groups(values, _p(4, [(0, 3)]), higher_is_better=False) == ["b", "ab", "ab", "a"]
    # A system without a value gets no letter; p exactly alpha is not significant.
    assert tied_groups(np.array([0.5, np.nan, 0.4]), _p(3, [])) == ["a", "", "a"]
    p = np.full((2, 2), 0.05)
    assert tied_groups(np.array([0.5, 0.4]), p, alpha=0.05) == ["a", "a"]


@pytest.mark.parametrize("seed", range(5))
def test_holm_equals_statsmodels(seed):
    p = np.random.default_rng(seed).random(12) ** 3
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-15)


def test_bootstrap_p_values_invert_the_percentile_interval():
    # A beats B on 990 of 999 resamples, B beats C on all, A and C never tie.
    resamples = 999
    a = np.full(resamples, 0.6)
    b = np.where(np.arange(resamples) < 9, 0.7, 0.5)
    c = np.full(resamples, 0.4)
    adjusted = bootstrap_p_values(np.stack([a, b, c], axis=1))
    raw = [2 * (9 + 1) / 1000, 2 * 1 / 1000, 2 * 1 / 1000]  # pairs (A,B), (A,C), (B,C)
    expected = multipletests(raw, method="holm")[1]
    assert [adjusted[0, 1], adjusted[0, 2], adjusted[1, 2]] == pytest.approx(expected)
    assert tied_groups(np.array([0.6, 0.5, 0.4]), adjusted, alpha=0.01) == ["a", "a", "b"]
    assert tied_groups(np.array([0.6, 0.5, 0.4]), adjusted, alpha=0.05) == ["a", "b", "c"]
