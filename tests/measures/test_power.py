"""The t-test's power, minimum detectable effect and sample size against statsmodels'
``TTestPower``; what an inconclusive study verdict needs on hand-built verdicts."""

from __future__ import annotations

import math
import statistics

import pytest

from xret.measures.power import detectable_effect, observations_needed, t_power
from xret.study.claims import CLAIMS, Verdict
from xret.study.needs import needs

power_module = pytest.importorskip("statsmodels.stats.power")
ORACLE = power_module.TTestPower()


@pytest.mark.parametrize("n", [2, 3, 5, 12, 1190])
@pytest.mark.parametrize("effect", [0.0, 0.05, 0.4, 1.5])
def test_power_is_statsmodels(n, effect):
    expected = ORACLE.power(effect_size=effect, nobs=n, alpha=0.05, alternative="two-sided")
    if math.isnan(expected):  # statsmodels' NaN from scipy's nct far in the lower tail (< 1e-100)
        expected = ORACLE.power(effect_size=effect, nobs=n, alpha=0.025, alternative="larger")
    assert t_power(effect, n) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("n", [2, 3, 5, 30, 1190])
def test_detectable_effect_is_statsmodels(n):
    expected = ORACLE.solve_power(effect_size=None, nobs=n, alpha=0.05, power=0.8)
    assert detectable_effect(n) == pytest.approx(expected, rel=1e-6)
    assert t_power(detectable_effect(n), n) == pytest.approx(0.8, abs=1e-9)


@pytest.mark.parametrize("effect", [0.1, 0.5, 1.0, 2.5])
def test_observations_needed_is_statsmodels_rounded_up(effect):
    expected = ORACLE.solve_power(effect_size=effect, nobs=None, alpha=0.05, power=0.8)
    assert observations_needed(effect) == max(2, math.ceil(expected))


def test_no_sample_detects_nothing():
    assert observations_needed(0.0) is None
    assert observations_needed(0.001, most=100) is None


def _verdict(per_seed, tolerance=None, topic_se=0.0005, topic_count=1000):
    claim = CLAIMS[2] if tolerance is not None else CLAIMS[1]
    return Verdict(
        "base",
        "task",
        claim,
        statistics.fmean(per_seed),
        (0.0, 0.0),
        None,
        "inconclusive",
        tuple(per_seed),
        topic_se,
        topic_count,
        tolerance,
    )


def test_needs_of_an_ordered_claim_by_hand():
    # differences 0.01 ± 0.01 over 3 seeds: d = 0.01, sd = 0.01, effect 1.0
    found = needs(_verdict([0.0, 0.01, 0.02]))
    assert found.distance == pytest.approx(0.01) and found.seeds == 3
    assert found.detectable_seeds == pytest.approx(
        ORACLE.solve_power(effect_size=None, nobs=3, power=0.8, alpha=0.05) * 0.01, rel=1e-6
    )
    # 1000 topics, se 0.0005: δ*(1000) × 0.0005 × √1000 ≈ 2.80 × 0.0005
    assert found.detectable_topics == pytest.approx(0.0014, abs=0.00002)
    assert found.detectable == found.detectable_seeds
    assert found.seeds_needed == math.ceil(
        ORACLE.solve_power(effect_size=1.0, nobs=None, power=0.8, alpha=0.05)
    )


def test_needs_of_a_sameness_claim_measures_from_the_nearer_edge():
    found = needs(_verdict([0.001, 0.002, 0.003], tolerance=0.005))
    assert found.distance == pytest.approx(0.003)  # 0.005 − 0.002
    assert needs(_verdict([-0.009, -0.008, -0.007], tolerance=0.005)).distance == pytest.approx(
        0.003
    )


def test_topics_that_cannot_detect_it_need_no_seed_count():
    assert needs(_verdict([0.0, 0.01, 0.02], topic_se=0.01)).seeds_needed is None
    single = needs(_verdict([0.01]))
    assert single.detectable_seeds is None and single.detectable is None
    assert single.seeds_needed is None
