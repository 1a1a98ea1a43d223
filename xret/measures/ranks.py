"""Per-query values of the standard measures from the ranks of each query's relevant documents,
as exhaustive cells know them: trec_eval's own arithmetic (xret.measures.trec_formulas) where a
formula exists, else pytrec_eval through qrels padded with placeholder documents."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xret.measures.table import Measure
from xret.measures.trec import evaluate
from xret.measures.trec_formulas import FORMULAS, sorted_ranks

EVAL_CHUNK = 256  # queries per pytrec_eval call: bounds the memory of deep runs
_FILLER = "\x1f"  # prefix of placeholder ids; no real document id starts with it


def rank_run(patterns: Sequence[tuple[int, ...]], query_ids: Sequence[str]) -> tuple[dict, dict]:
    """(qrels, run) for pytrec_eval that place each query's relevant documents at the given ranks.

    Standard measures depend only on where the relevant documents sit, so positions between them
    are filled with placeholder ids; distinct descending scores make pytrec_eval keep the order.
    """
    depth = max((max(p) for p in patterns), default=0)
    fillers = [f"{_FILLER}{p}" for p in range(1, depth + 1)]
    scores = [float(-p) for p in range(1, depth + 1)]
    qrels, run = {}, {}
    for qid, ranks in zip(query_ids, patterns):
        entries = dict(zip(fillers[: max(ranks)], scores[: max(ranks)]))
        relevant = [f"{qid}{_FILLER}rel{j}" for j in range(len(ranks))]
        for doc, rank in zip(relevant, ranks):
            del entries[fillers[rank - 1]]
            entries[doc] = scores[rank - 1]
        qrels[qid] = dict.fromkeys(relevant, 1)
        run[qid] = entries
    return qrels, run


def padded_trec(ranks: np.ndarray, measures: Sequence[Measure]) -> dict[Measure, np.ndarray]:
    """pytrec_eval's per-query values of rank-based ``measures`` for rows of relevant ranks
    (0 = padding), through padded qrels (rank_run); each distinct pattern is evaluated once."""
    patterns = [tuple(sorted(int(r) for r in row if r > 0)) for row in ranks]
    distinct = list(dict.fromkeys(patterns))
    found: dict[tuple[int, ...], tuple[float, ...]] = {}
    for start in range(0, len(distinct), EVAL_CHUNK):
        chunk = distinct[start : start + EVAL_CHUNK]
        ids = [f"p{i}" for i in range(len(chunk))]
        values = evaluate(*rank_run(chunk, ids), measures)
        found.update((p, tuple(values[q][m] for m in measures)) for q, p in zip(ids, chunk))
    table = np.array([found[p] for p in patterns], dtype=np.float64)
    table = table.reshape(len(patterns), len(measures))
    return {m: table[:, i] for i, m in enumerate(measures)}


def measure_ranks(ranks: np.ndarray, measures: Sequence[Measure]) -> dict[Measure, np.ndarray]:
    """Per-query values of the standard measures for rows of relevant ranks (0 = padding).

    trec_eval's own arithmetic computes them from the ranks (xret.measures.trec_formulas, held
    to pytrec_eval by tests); a rank-based family without a formula goes through pytrec_eval.
    """
    trec = tuple(m for m in measures if m.is_trec)
    unfit = [str(m) for m in trec if not m.family.rank_based]
    if unfit:
        raise ValueError(
            f"{', '.join(unfit)} depend on more than the ranks of relevant documents: "
            "padded qrels would score them wrong"
        )
    ordered, found = sorted_ranks(ranks)
    values = {
        m: FORMULAS[m.family.trec](ordered, found, m.cutoff)
        for m in trec
        if m.family.trec in FORMULAS
    }
    rest = [m for m in trec if m not in values]
    if rest:
        values.update(padded_trec(ranks, rest))
    return {m: values[m] for m in trec}
