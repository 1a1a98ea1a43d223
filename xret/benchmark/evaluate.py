"""Exhaustive ranking of pooled cells -> pytrec_eval + rank distance; and CellResult, the per-query
values every evaluation strategy returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xret.benchmark.bias import rank_distance
from xret.benchmark.engine import Embedded
from xret.benchmark.measures import Measure, evaluate
from xret.benchmark.ranking import PAD, relevant_ranks
from xret.benchmark.search import exact_scores
from xret.tasks.records import TaskData
from xret.tasks.settings import Cell
from xret.tasks.spec import Setting

QUERY_CHUNK = 128
_FILLER = "\x1f"  # prefix of placeholder ids; no real document id starts with it


@dataclass(frozen=True, eq=False)
class CellResult:
    """Per-query values of one evaluation cell, whatever strategy ranked it."""

    setting: Setting
    query_language: str
    pool_language: str
    excluded: int
    """Queries of the query language not scored (no relevant candidate), counted."""
    query_ids: tuple[str, ...]
    values: dict[Measure, np.ndarray]
    """Measure -> per-query values, aligned with ``query_ids``."""

    def mean(self, measure: Measure) -> float:
        return float(self.values[measure].mean()) if len(self.query_ids) else float("nan")


def rank_run(doc_ids: Sequence[Sequence[str]], ranks: np.ndarray, query_ids: Sequence[str]) -> dict:
    """A pytrec_eval run that places each query's relevant documents at their exact ranks.

    Standard measures depend only on where the relevant documents sit, so positions between them
    are filled with placeholder ids; distinct descending scores make pytrec_eval keep the order.
    """
    run = {}
    for qid, docs, row in zip(query_ids, doc_ids, ranks):
        depth = int(row.max())
        entries = {f"{_FILLER}{p}": float(-p) for p in range(1, depth + 1)}
        for doc, rank in zip(docs, row):
            del entries[f"{_FILLER}{rank}"]
            entries[doc] = float(-rank)
        run[qid] = entries
    return run


def _relevant_positions(data: TaskData, cell: Cell, doc_index: dict[str, int]):
    """Per query of the cell: its relevant documents in the pool (ids and pool positions)."""
    position = np.full(len(data.documents), PAD, dtype=np.int64)
    position[cell.pool] = np.arange(len(cell.pool))
    ids, positions = [], []
    for q in cell.queries:
        qrel = data.qrels[data.queries[q].id]
        docs = [d for d, grade in qrel.items() if grade > 0 and position[doc_index[d]] != PAD]
        ids.append(docs)
        positions.append([position[doc_index[d]] for d in docs])
    width = max((len(p) for p in positions), default=0)
    padded = np.full((len(positions), width), PAD, dtype=np.int64)
    for row, p in enumerate(positions):
        padded[row, : len(p)] = p
    return ids, padded


def cell_ranks(
    data: TaskData, cell: Cell, queries: Embedded, documents: Embedded, doc_index: dict[str, int]
) -> tuple[list[list[str]], np.ndarray]:
    """Relevant document ids per query and their exact ranks in the cell's pool."""
    ids, positions = _relevant_positions(data, cell, doc_index)
    # Score against the pool's distinct vectors once, then expand: duplicates tie exactly.
    rows, expand = np.unique(documents.index[cell.pool], return_inverse=True)
    pool_vectors = documents.vectors[rows]
    query_vectors = queries.vectors[queries.index[cell.queries]]
    ranks = np.zeros(positions.shape, dtype=np.int64)
    for start in range(0, len(cell.queries), QUERY_CHUNK):
        stop = start + QUERY_CHUNK
        scores = exact_scores(query_vectors[start:stop], pool_vectors)[:, expand]
        ranks[start:stop] = relevant_ranks(scores, positions[start:stop])
    return ids, ranks


def measure_cell(
    data: TaskData, cell: Cell, ids: list[list[str]], ranks: np.ndarray, measures: Sequence[Measure]
) -> CellResult:
    query_ids = tuple(data.queries[q].id for q in cell.queries)
    qrels = {qid: dict.fromkeys(docs, 1) for qid, docs in zip(query_ids, ids)}
    per_query = evaluate(qrels, rank_run(ids, ranks, query_ids), measures)
    values = {
        m: np.array([per_query[qid][m] for qid in query_ids], dtype=np.float64)
        for m in measures
        if m.is_trec
    }
    if any(m.name == "RD" for m in measures) and cell.pool_language == "all":
        values[Measure("RD")] = rank_distance(ranks)
    return CellResult(
        setting=cell.setting,
        query_language=cell.query_language,
        pool_language=cell.pool_language,
        excluded=cell.excluded,
        query_ids=query_ids,
        values=values,
    )
