"""trec_eval's rank-based measures computed from the ranks of each query's relevant documents.

The exhaustive strategy knows every relevant rank exactly. Handing pytrec_eval a run of
placeholder documents instead (xret.measures.ranks.padded_trec) costs seconds per task: a
multilingual cell's run is as deep as its last relevant candidate, thousands of entries per
query. Each function below computes one of trec_eval's measures from its definition for binary
relevance, vectorised over queries, adding terms in rank order as trec_eval does, so the values
equal pytrec_eval's bit for bit: tests/test_trec_formulas.py holds them to pytrec_eval on
synthetic rankings and on every query of every XQuAD-R cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Formula = Callable[[np.ndarray, np.ndarray, int | None], np.ndarray]
"""(ranks, found, cutoff) -> one float64 per query. ``ranks``: (queries, m) int64, each row's
relevant ranks ascending, 0 after them (where ``found`` is False)."""


def _ordered_sum(terms: np.ndarray) -> np.ndarray:
    """Row sums added left to right, as trec_eval's loops add (numpy's pairwise sum may not)."""
    total = np.zeros(len(terms), dtype=np.float64)
    for column in terms.T:
        total = total + column
    return total


def _relevant(found: np.ndarray) -> np.ndarray:
    return found.sum(axis=1).astype(np.float64)


def _within(ranks: np.ndarray, found: np.ndarray, cutoff: int) -> np.ndarray:
    return (found & (ranks <= cutoff)).sum(axis=1).astype(np.float64)


def average_precision(ranks: np.ndarray, found: np.ndarray, cutoff: int | None) -> np.ndarray:
    """m_map.c: sum of (relevant so far / rank) over relevant ranks, / relevant."""
    so_far = np.arange(1, ranks.shape[1] + 1, dtype=np.float64)
    terms = np.divide(so_far, ranks, out=np.zeros(ranks.shape), where=found)
    return _ordered_sum(terms) / np.maximum(_relevant(found), 1.0)


def reciprocal_rank(ranks: np.ndarray, found: np.ndarray, cutoff: int | None) -> np.ndarray:
    """m_recip_rank.c: 1 / the first relevant rank."""
    return np.divide(1.0, ranks[:, 0], out=np.zeros(len(ranks)), where=found[:, 0])


def recall(ranks: np.ndarray, found: np.ndarray, cutoff: int | None) -> np.ndarray:
    """m_recall.c: relevant within the cutoff / relevant."""
    return _within(ranks, found, cutoff) / np.maximum(_relevant(found), 1.0)


def success(ranks: np.ndarray, found: np.ndarray, cutoff: int | None) -> np.ndarray:
    """m_success.c: 1 if a relevant document is within the cutoff."""
    return (_within(ranks, found, cutoff) > 0).astype(np.float64)


def precision(ranks: np.ndarray, found: np.ndarray, cutoff: int | None) -> np.ndarray:
    """m_P.c: relevant within the cutoff / cutoff (missing positions count as non-relevant)."""
    return _within(ranks, found, cutoff) / float(cutoff)


def _discounts(n: int) -> np.ndarray:
    """1 / log2(rank + 1) for ranks 0..n (index 0 unused), with libm's log2 as trec_eval calls
    it (numpy's vectorised log2 may round differently)."""
    return np.array([0.0] + [1.0 / math.log2(rank + 1) for rank in range(1, n + 1)])


def ndcg_cut(ranks: np.ndarray, found: np.ndarray, cutoff: int | None) -> np.ndarray:
    """m_ndcg_cut.c, gain 1: DCG of the relevant ranks within the cutoff / the ideal DCG of
    min(relevant, cutoff) documents at ranks 1, 2, …"""
    counted = found & (ranks <= cutoff)
    deepest = int(ranks[counted].max(initial=0))
    relevant = found.sum(axis=1)
    discount = _discounts(max(deepest, min(int(relevant.max(initial=0)), cutoff)))
    dcg = _ordered_sum(np.where(counted, discount[np.where(counted, ranks, 0)], 0.0))
    ideal_by_count = np.concatenate([[0.0], np.cumsum(discount[1:])])  # cumsum adds in order
    ideal = ideal_by_count[np.minimum(relevant, cutoff)]
    return np.divide(dcg, ideal, out=dcg.copy(), where=ideal > 0.0)


FORMULAS: dict[str, Formula] = {
    "map": average_precision,
    "recip_rank": reciprocal_rank,
    "recall": recall,
    "success": success,
    "P": precision,
    "ndcg_cut": ndcg_cut,
}
"""pytrec_eval family (xret.measures.table.Family.trec) -> its formula. A rank-based family
missing here is scored by pytrec_eval through padded qrels instead."""


def sorted_ranks(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, found) with each row's relevant ranks ascending and padding (0) last; at least
    one column."""
    none = np.iinfo(np.int64).max
    padded = np.full((len(ranks), max(ranks.shape[1], 1)), none, dtype=np.int64)
    padded[:, : ranks.shape[1]] = np.where(ranks > 0, ranks, none)
    ordered = np.sort(padded, axis=1)
    found = ordered != none
    return np.where(found, ordered, 0), found
