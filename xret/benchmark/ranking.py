"""Exact ranks of the relevant candidates in an exhaustively scored pool.

Every candidate of the pool is scored (pools of XQuAD-R/MLQA-R are <= 20,534), so ranks are
exact at any depth, as mAP and rank distance need. Ties are explicit: among equal scores the
candidate that comes first in the pool ranks first. Counting (few relevant per query) or one
sort per row (many) beats sorting out a full ranking: a FAISS search with k = pool size was
measured ~10x slower.
"""

from __future__ import annotations

import numpy as np

PAD = -1
_SORT_FROM = 4  # relevant per query from which one row sort beats counting passes


def _counts_by_sorting(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(# scores > target, # scores == target) per entry, from one sort of each row."""
    ordered = np.sort(scores, axis=1)
    n = scores.shape[1]
    above = np.empty(target.shape, dtype=np.int64)
    equal = np.empty(target.shape, dtype=np.int64)
    for row in range(len(scores)):
        left = np.searchsorted(ordered[row], target[row], side="left")
        right = np.searchsorted(ordered[row], target[row], side="right")
        above[row], equal[row] = n - right, right - left
    return above, equal


def _counts_by_comparing(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    above = np.count_nonzero(scores[:, None, :] > target[:, :, None], axis=-1)
    equal = np.count_nonzero(scores[:, None, :] == target[:, :, None], axis=-1)
    return above, equal


def relevant_ranks(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """1-based ranks of ``relevant`` columns in each row of ``scores``.

    scores: (queries, pool) float32. relevant: (queries, m) column positions, ``PAD`` for none.
    Returns (queries, m) int64 ranks, 0 where padded.
    """
    rows = np.arange(len(scores))[:, None]
    safe = np.where(relevant == PAD, 0, relevant)
    target = scores[rows, safe]
    count = _counts_by_sorting if relevant.shape[1] >= _SORT_FROM else _counts_by_comparing
    above, equal = count(scores, target)
    for row, col in zip(*np.nonzero(equal > 1)):  # ties with other candidates: pool order decides
        peers = scores[row, : safe[row, col]] == target[row, col]
        above[row, col] += np.count_nonzero(peers)
    return np.where(relevant == PAD, 0, above + 1)


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """(queries, k) columns of the k best scores of each row, best first; among equal scores the
    earlier column first (the rule ``relevant_ranks`` counts by). A partition, not a full sort:
    only a row whose k-th score ties with a column left outside is sorted whole."""
    if k >= scores.shape[1]:
        return np.argsort(-scores, axis=1, kind="stable")
    n = scores.shape[1]
    part = np.argpartition(scores, n - k, axis=1)[:, n - k :]
    kept = np.take_along_axis(scores, part, axis=1)
    part = np.take_along_axis(part, np.lexsort((part, -kept), axis=1), axis=1)
    last = np.take_along_axis(scores, part[:, -1:], axis=1)
    # More than k scores at or above the k-th: a tie with a column left out, which the
    # partition chose arbitrarily.
    for row in np.flatnonzero(np.count_nonzero(scores >= last, axis=1) > k):
        part[row] = np.argsort(-scores[row], kind="stable")[:k]
    return part
