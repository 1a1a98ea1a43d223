"""Significance on synthetic per-query scores where the answer is known, Holm against hand-computed
examples, and the matrix implementation against scipy's one-test-at-a-time functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from xret.errors import DataError
from xret.leaderboards.compare import align, compare_frames, compare_records
from xret.measures.paired import (
    bootstrap_intervals,
    holm,
    paired_tests,
    randomisation_p_values,
)

from .conftest import make_record, store


def test_holm_hand_computed():
    # sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 -> kept monotone at 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.2]) == pytest.approx([0.5, 0.4])
    assert holm([0.3, 0.6, 0.9]) == pytest.approx([0.9, 1.0, 1.0])  # 0.3×3, then capped at 1
    assert holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm([]).size == 0


@pytest.mark.parametrize("n", [5, 8, 11])
def test_exact_p_values_equal_scipy(n):
    rng = np.random.default_rng(n)
    a, b = rng.random(n), rng.random(n)
    ours = randomisation_p_values(((a - b) / n)[:, None], resamples=9999, rng=rng)[0]
    theirs = scipy.stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=9999,
    ).pvalue  # 2^n <= 9999: scipy enumerates every pairing, as we do
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_monte_carlo_and_bootstrap_agree_with_scipy():
    rng = np.random.default_rng(7)
    n = 60
    a = rng.random(n)
    b = a - 0.05 + rng.normal(0, 0.2, n)
    D, V = ((a - b) / n)[:, None], np.full((n, 1), 1 / n)
    ours = randomisation_p_values(D, 4000, np.random.default_rng(1))[0]
    theirs = scipy.stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=4000,
        rng=np.random.default_rng(1),
    ).pvalue
    assert abs(ours - theirs) < 0.02
    low, high = bootstrap_intervals(D, V, 4000, np.random.default_rng(2), 0.95)
    ci = scipy.stats.bootstrap(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=4000,
        rng=np.random.default_rng(2),
    ).confidence_interval
    assert low[0] == pytest.approx(ci.low, abs=0.01) and high[0] == pytest.approx(ci.high, abs=0.01)


def test_seed_fixes_every_number():
    D = np.random.default_rng(0).normal(0, 0.01, (50, 3))
    V = np.full((50, 3), 1 / 50)
    first = paired_tests(D, V, resamples=500, seed=3, confidence=0.95)
    assert paired_tests(D, V, resamples=500, seed=3, confidence=0.95) == first
    assert paired_tests(D, V, resamples=500, seed=4, confidence=0.95) != first


def _per_query(
    shift: float = 0.0, rd_shift: float = 0.0, n: int = 30, seed: int = 0
) -> pd.DataFrame:
    """Per-query scores of a 2-language task; ``shift`` is added to every MAP value."""
    rng = np.random.default_rng(seed)
    rows = []
    for setting, pairs in (
        ("mono", [("de", "de"), ("en", "en")]),
        ("cross", [("de", "en"), ("en", "de")]),
        ("multi", [("de", "all"), ("en", "all")]),
    ):
        for q, p in pairs:
            for i in range(n):
                value = rng.random() * 0.5 + shift
                rd = float(rng.integers(1, 50)) + rd_shift if setting == "multi" else np.nan
                rows.append((setting, q, p, f"{q}/q{i}", value, rd))
    return pd.DataFrame(
        rows, columns=["setting", "query_language", "pool_language", "query_id", "MAP", "RD"]
    )


def _compare(frame_a, frame_b, measure="MAP", settings=None, resamples=2000):
    aligned = align([frame_a, frame_b], measure, settings, ("A", "B"))
    return compare_frames(
        aligned,
        names=("A", "B"),
        task="toy",
        family="lareqa",
        measure=measure,
        alpha=0.05,
        resamples=resamples,
        seed=0,
    )


def test_identical_systems_differ_in_nothing():
    result = _compare(_per_query(), _per_query())
    rows = result.settings + result.pairs
    assert len(result.settings) == 3 and len(result.pairs) == 6
    assert all(r.delta == 0 and r.p_value == 1 and r.p_holm == 1 and r.winner == "" for r in rows)
    assert all(r.ci_low == 0 and r.ci_high == 0 for r in rows)


def test_a_shifted_system_wins_everywhere():
    result = _compare(_per_query(shift=0.1), _per_query())
    assert [r.setting for r in result.settings] == ["mono", "cross", "multi"]
    for r in result.settings + result.pairs:
        assert r.delta == pytest.approx(0.1) and r.ci_low == pytest.approx(0.1) and r.winner == "A"
        assert r.p_holm < 0.05 and r.mean_a - r.mean_b == pytest.approx(0.1)
    # 30 topics shared by de and en: that is the unit, not the 60 (query, pool) rows of a setting.
    assert result.topics == 30 and result.settings[0].n == 60
    # p cannot go below 1/(resamples + 1); Holm multiplies by the 6 pairs.
    assert result.pairs[0].p_value == pytest.approx(2 / 2001) and result.pairs[
        0
    ].p_holm == pytest.approx(12 / 2001)
    loser = _compare(_per_query(), _per_query(shift=0.1))
    assert {r.winner for r in loser.settings + loser.pairs} == {"B"}


def test_lower_is_better_for_rank_distance():
    result = _compare(_per_query(rd_shift=-3.0), _per_query(), measure="RD")
    assert [r.setting for r in result.settings] == ["multi"] and len(result.pairs) == 2
    assert all(
        r.delta == pytest.approx(-3.0) and r.winner == "A" for r in result.settings + result.pairs
    )


def test_a_small_noisy_difference_is_not_significant():
    a = _per_query(seed=1)
    b = a.assign(MAP=a["MAP"] + np.random.default_rng(9).normal(0, 0.2, len(a)))
    result = _compare(a, b)
    assert all(r.winner == "" for r in result.settings + result.pairs)
    assert min(r.p_value for r in result.settings) > 0.05


def test_macro_statistic_weighs_languages_not_queries():
    # en has 3x the queries of de; the setting's delta is still the plain mean of the two languages.
    a = pd.concat(
        [
            _per_query(n=10, shift=0.2)[lambda f: f.query_language == "de"],
            _per_query(n=30)[lambda f: f.query_language == "en"],
        ]
    )
    b = a.assign(MAP=a["MAP"] - np.where(a["query_language"] == "de", 0.2, 0.0))
    result = _compare(a, b, settings=["mono"])
    assert result.settings[0].delta == pytest.approx((0.2 + 0.0) / 2)


def test_different_query_sets_are_refused():
    a = _per_query()
    b = a[~((a.setting == "cross") & (a.query_language == "en") & (a.query_id == "en/q3"))]
    with pytest.raises(
        DataError,
        match=r"different query sets: 1 \(cell, query\) rows differ, first in "
        r"cross en→de: 1 MAP scores only in A \(e.g. en/q3\)",
    ):
        _compare(a, b)


def test_records_of_different_evaluations_are_refused(tmp_path):
    cells = {("mono", "de", "de"): {"MAP": 0.5}, ("mono", "en", "en"): {"MAP": 0.5}}
    a = make_record("a", cells)
    b = make_record("b", cells, candidate_text="sentence+context")
    frame = _per_query()[lambda f: f.setting == "mono"]
    paths = [store(tmp_path, r, frame) for r in (a, b)]
    with pytest.raises(DataError, match="candidate text: sentence vs sentence\\+context"):
        compare_records(
            [(paths[0], a), (paths[1], b)],
            measure="MAP",
            settings=None,
            alpha=0.05,
            resamples=10,
            seed=0,
        )
    c = make_record("c", cells)
    path_c = store(tmp_path, c, frame.assign(MAP=frame["MAP"] + 0.3))
    result = compare_records(
        [(paths[0], a), (path_c, c)],
        measure="MAP",
        settings=None,
        alpha=0.05,
        resamples=500,
        seed=0,
    )
    assert (result.systems, result.task) == (("a", "c"), "xquad-r")
    assert result.settings[0].winner == "B" and result.settings[0].delta == pytest.approx(-0.3)


def test_missing_measure_is_a_clear_error():
    with pytest.raises(DataError, match="B has no per-query nDCG@10 scores"):
        align([_per_query().assign(**{"nDCG@10": 0.1}), _per_query()], "nDCG@10", None, ("A", "B"))
