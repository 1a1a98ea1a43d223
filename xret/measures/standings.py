"""Ranks of systems on one statistic: the observed rank, a rank interval from joint bootstrap
draws, and tied groups — systems that paired tests with Holm's correction cannot separate.

The functions take plain arrays, so that a leaderboard column and an N-way comparison use the
same code: ``values`` (systems) and ``draws`` (resamples × systems, from one topic draw for all).
"""

from __future__ import annotations

import string
from itertools import combinations

import numpy as np

from xret import defaults
from xret.measures.paired import holm


def competition_ranks(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Along the last axis: 1 + how many values are strictly better ("1224" ranking); NaN
    values get rank NaN and do not push others down."""
    v = np.asarray(values, dtype=float)
    signed = v if higher_is_better else -v
    better = signed[..., None, :] > signed[..., :, None]  # [.., i, j]: j beats i
    ranks = 1.0 + better.sum(axis=-1)
    return np.where(np.isnan(v), np.nan, ranks)


def rank_intervals(
    draws: np.ndarray, higher_is_better: bool = True, confidence: float = defaults.CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Per system: the lowest and highest rank within the central ``confidence`` of its ranks
    over the joint resamples (integer ranks: the lower quantile rounded down, the upper up)."""
    ranks = competition_ranks(draws, higher_is_better)
    tail = (1.0 - confidence) / 2.0
    low = np.nanquantile(ranks, tail, axis=0, method="lower")
    high = np.nanquantile(ranks, 1.0 - tail, axis=0, method="higher")
    return low, high


def bootstrap_p_values(draws: np.ndarray) -> np.ndarray:
    """systems × systems two-sided p-values of every pair's difference from joint bootstrap
    draws (resamples × systems), Holm-adjusted over all pairs; the diagonal is 1.

    The p-value inverts the percentile interval of the difference: twice the share of resamples
    on the far side of zero, counting the observed difference once ((k + 1) / (B + 1)), so that a
    pair separates at level a exactly when its (1 − a) interval excludes zero. Whatever the
    draws resample (topics, and training seeds) is what the test accounts for.
    """
    resamples, systems = draws.shape
    pairs = list(combinations(range(systems), 2))
    adjusted = np.ones((systems, systems))
    if not pairs:
        return adjusted
    first, second = (np.array(side) for side in zip(*pairs))
    difference = draws[:, first] - draws[:, second]
    valid = ~np.isnan(difference)
    n = valid.sum(axis=0)
    below = ((difference <= 0) & valid).sum(axis=0)
    above = ((difference >= 0) & valid).sum(axis=0)
    raw = np.minimum(1.0, 2.0 * (np.minimum(below, above) + 1) / (n + 1))
    for (i, j), p in zip(pairs, holm(raw)):
        adjusted[i, j] = adjusted[j, i] = p
    return adjusted


def tied_groups(
    values: np.ndarray,
    p_adjusted: np.ndarray,
    alpha: float = defaults.ALPHA,
    higher_is_better: bool = True,
) -> list[str]:
    """Letters per system: systems sharing a letter are not separable at ``alpha``.

    In order of value (best first), each group is a longest run of consecutive systems no two of
    which differ significantly (adjusted p ≥ alpha); a run inside an earlier one adds nothing.
    Groups are lettered a, b, … from the best; a system with no value gets no letter.
    """
    v = np.asarray(values, dtype=float)
    shown = np.flatnonzero(~np.isnan(v))
    order = shown[np.argsort(-v[shown] if higher_is_better else v[shown], kind="stable")]
    letters = [""] * len(v)
    reach, groups = -1, 0  # the end of the last group, in ``order``; groups so far
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and all(
            p_adjusted[order[end + 1], order[k]] >= alpha for k in range(start, end + 1)
        ):
            end += 1
        if end > reach:
            for k in range(start, end + 1):
                letters[order[k]] += _letter(groups)
            reach, groups = end, groups + 1
    return letters


def _letter(index: int) -> str:
    """a … z, then aa … zz, …"""
    return string.ascii_lowercase[index % 26] * (index // 26 + 1)
