"""Language bias measures written by hand (trec_eval has none): protocol.md §4."""

from __future__ import annotations

import numpy as np


def rank_distance(ranks: np.ndarray) -> np.ndarray:
    """Per query: last minus first rank of its relevant candidates in the multilingual pool.

    ranks: (queries, m) 1-based ranks, 0 for padding. Lower is less language bias; the minimum
    is (number of relevant - 1) when they are ranked consecutively.
    """
    present = ranks > 0
    if not present.any(axis=1).all():
        raise ValueError("every query needs at least one ranked relevant candidate")
    last = np.where(present, ranks, 0).max(axis=1)
    first = np.where(present, ranks, np.iinfo(np.int64).max).min(axis=1)
    return (last - first).astype(np.float64)


HAND_WRITTEN = {"RD": rank_distance}
"""Measures trec_eval lacks (xret.measures.table.FAMILIES with ``trec=None``): name ->
function of a cell's (queries, m) relevant ranks giving one value per query."""
