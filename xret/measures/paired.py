"""Paired significance: a randomisation (sign-flip permutation) test with percentile bootstrap
confidence intervals, or a paired Student t-test over topics with its t interval; Holm's step-down
correction.

Input is a matrix ``D`` (topics × tests): ``D[t, k]`` is topic t's weighted share of test k's
difference A − B, with weights summing to 1 per test, so that the statistic of test k is
``D[:, k].sum()`` — a plain mean over a cell's queries, or a macro average over languages. ``V``
holds the weights themselves (needed for the bootstrap's ratio). Topics are the exchangeable unit:
under H0 the labels A and B can be swapped within a topic, i.e. its column entries change sign.

This is what ``scipy.stats.permutation_test(..., permutation_type="samples")`` and
``scipy.stats.bootstrap(..., paired=True, method="percentile")`` compute, and the tests check the
two agree (exactly, where both enumerate every sign pattern). It is done here as one matrix
product for all tests because scipy takes seconds per test at 10^4 resamples and one XQuAD-R
comparison has 135 tests (3 settings, 132 language pairs); Holm needs those 10^4 resamples, since a
two-sided Monte Carlo p-value is never below 2 / (resamples + 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

_BATCH_ELEMENTS = 2_000_000  # sign or count entries drawn at once: bounds memory


class PairedTest(str, Enum):
    """Which paired test ``xret compare --test`` runs (ranx calls them "fisher" and "student")."""

    RANDOMISATION = "randomisation"
    STUDENT = "student"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PairedResult:
    delta: float
    ci_low: float
    ci_high: float
    p_value: float


def randomisation_p_values(D: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Two-sided p-values, as scipy's: 2 × the smaller one-sided p, at most 1. Exact (every sign
    pattern) when 2^topics <= resamples, else Monte Carlo counting the observed statistic once."""
    topics = D.shape[0]
    observed = D.sum(axis=0)
    tolerance = 1e-9 * np.abs(D).sum(axis=0)  # rounding noise of a sum, not a real difference
    exact = topics < 63 and 2**topics <= resamples
    greater = np.zeros(D.shape[1])
    less = np.zeros(D.shape[1])
    total = 2**topics if exact else resamples
    batch = max(1, _BATCH_ELEMENTS // max(1, topics))
    for start in range(0, total, batch):
        size = min(batch, total - start)
        if exact:
            patterns = np.arange(start, start + size)[:, None] >> np.arange(topics)
            signs = 1.0 - 2.0 * (patterns & 1)
        else:
            signs = rng.choice(np.array([-1.0, 1.0]), size=(size, topics))
        null = signs @ D
        greater += (null >= observed - tolerance).sum(axis=0)
        less += (null <= observed + tolerance).sum(axis=0)
    extra = 0 if exact else 1
    p_greater = (greater + extra) / (total + extra)
    p_less = (less + extra) / (total + extra)
    return np.minimum(1.0, 2.0 * np.minimum(p_greater, p_less))


def bootstrap_intervals(
    D: np.ndarray, V: np.ndarray, resamples: int, rng: np.random.Generator, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of each test's weighted mean difference, resampling topics."""
    topics = D.shape[0]
    batch = max(1, _BATCH_ELEMENTS // max(1, topics))
    draws = []
    for start in range(0, resamples, batch):
        size = min(batch, resamples - start)
        # How often each topic is drawn when resampling ``topics`` indices with replacement.
        drawn = rng.integers(0, topics, size=(size, topics)) + topics * np.arange(size)[:, None]
        counts = (
            np.bincount(drawn.ravel(), minlength=size * topics).reshape(size, topics).astype(float)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            draws.append((counts @ D) / (counts @ V))  # a test none of whose topics was drawn: nan
    tail = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(np.concatenate(draws), [tail, 1.0 - tail], axis=0)
    return low, high


@dataclass(frozen=True)
class StudentT:
    """Per test: the t statistic, its degrees of freedom and the standard error of the mean."""

    t: np.ndarray
    df: np.ndarray
    se: np.ndarray


def student_t(D: np.ndarray, V: np.ndarray) -> StudentT:
    """Paired t over topics: the weighted mean difference θ = ΣD / ΣV and its cluster-robust
    standard error, topics as clusters: se² = G / (G − 1) · Σ_t (D_t − θ V_t)² / (ΣV)², on
    G − 1 degrees of freedom (G: the topics a test holds). This is weighted least squares on an
    intercept with CR1 cluster standard errors; with one query per topic and equal weights it is
    ``scipy.stats.ttest_rel``, the test ranx's ``compare(stat_test="student")`` runs."""
    total = V.sum(axis=0)
    theta = D.sum(axis=0) / total
    groups = (V > 0).sum(axis=0)
    residual = ((D - theta * V) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(groups / (groups - 1) * residual) / total
        # Differences equal in every topic (se 0): certain if not 0, nothing to test if 0.
        real = np.abs(theta) > 1e-9 * np.abs(D).sum(axis=0) / total
        t = np.where(se > 0, theta / se, np.where(real, np.sign(theta) * np.inf, 0.0))
    return StudentT(t, groups - 1.0, se)


def paired_tests(
    D: np.ndarray,
    V: np.ndarray,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    test: PairedTest = PairedTest.RANDOMISATION,
) -> list[PairedResult]:
    """One result per column of D. Randomisation: sign-flip p-values and percentile bootstrap
    intervals, the seed fixing both; Student: t p-values and t intervals (no resampling)."""
    if test is PairedTest.STUDENT:
        from scipy.stats import t as t_dist

        stat = student_t(D, V)
        p_values = np.minimum(1.0, 2.0 * t_dist.sf(np.abs(stat.t), stat.df))
        half = t_dist.ppf(0.5 + confidence / 2.0, stat.df) * stat.se
        low, high = D.sum(axis=0) - half, D.sum(axis=0) + half
    else:
        p_values = randomisation_p_values(D, resamples, np.random.default_rng([seed, 0]))
        rng = np.random.default_rng([seed, 1])
        low, high = bootstrap_intervals(D, V, resamples, rng, confidence)
    return [
        PairedResult(float(d), float(lo), float(hi), float(p))
        for d, lo, hi, p in zip(D.sum(axis=0), low, high, p_values)
    ]


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values: the k-th smallest times (m − k + 1), kept monotone,
    ≤ 1."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted
