"""Exhaustive ranking of pooled cells -> trec_eval's measures + the language-bias panel; and
CellResult, the per-query values every evaluation strategy returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xret.benchmark.engine import Embedded
from xret.benchmark.ranking import PAD, relevant_ranks, top_positions
from xret.benchmark.search import exact_scores
from xret.measures.bias import PER_LANGUAGE, PER_QUERY, Pooled, parallel_consistency
from xret.measures.ranks import measure_ranks
from xret.measures.table import Measure, Needs
from xret.results.record import CellScores
from xret.tasks.records import TaskData
from xret.tasks.settings import Cell
from xret.tasks.spec import ALL_LANGUAGES, Setting

QUERY_CHUNK = 128


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
        """Over the queries where the measure is defined (a bias measure can be undefined for
        some: NaN); the plain mean where all are, as before the panel."""
        values = self.values[measure]
        if not len(values):
            return float("nan")
        return float(np.nanmean(values) if np.isnan(values).any() else values.mean())


@dataclass(frozen=True, eq=False)
class CellRanking:
    """What the exhaustive ranking keeps of one cell: its relevant candidates' exact ranks, and
    for a multilingual cell whose measures read it, the top of the pooled ranking."""

    ranks: np.ndarray
    """(queries, m) 1-based ranks, 0 for padding."""
    relevant: np.ndarray
    """(queries, m) the ranked candidates' pool positions, aligned with ``ranks``, PAD-filled."""
    top: np.ndarray
    """(queries, depth) pool positions of the best-ranked candidates (ties: pool order)."""


def top_depth(measures: Sequence[Measure]) -> int:
    """How much of each pooled ranking the ``measures`` read (0: relevant ranks suffice)."""
    return max((m.depth for m in measures), default=0)


def cell_scores(results: Sequence[CellResult]) -> tuple[CellScores, ...]:
    """The record's cells: each cell's per-query values as their means."""
    return tuple(
        CellScores(
            setting=str(r.setting),
            query_language=r.query_language,
            pool_language=r.pool_language,
            n_queries=len(r.query_ids),
            excluded=r.excluded,
            values={str(m): r.mean(m) for m in r.values} if r.query_ids else {},
        )
        for r in results
    )


def _relevant_matrix(data: TaskData) -> np.ndarray:
    """(queries, most relevant) document indices of each query's relevant documents, PAD-filled."""
    doc_index = {d.id: i for i, d in enumerate(data.documents)}
    rows = [
        [doc_index[d] for d, grade in data.qrels.get(q.id, {}).items() if grade > 0]
        for q in data.queries
    ]
    out = np.full((len(rows), max(map(len, rows), default=0)), PAD, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def _pool_positions(relevant: np.ndarray, pool: np.ndarray, n_documents: int) -> np.ndarray:
    """Relevant document indices -> positions in the pool; those outside it dropped (PAD last)."""
    position = np.full(n_documents + 1, PAD, dtype=np.int64)  # the extra slot maps PAD to PAD
    position[pool] = np.arange(len(pool))
    mapped = position[relevant]
    mapped = -np.sort(-mapped, axis=1)  # valid positions first, PAD (-1) last
    width = int((mapped != PAD).sum(axis=1).max(initial=0))
    return mapped[:, :width]


def _run(index: np.ndarray) -> slice | np.ndarray:
    """Strictly ascending indices as a slice when they are consecutive (a view, not a copy)."""
    if len(index) and int(index[-1]) - int(index[0]) == len(index) - 1:
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


def _select(scores: np.ndarray, rows: slice | np.ndarray, columns: slice | np.ndarray):
    """``scores[rows][:, columns]``, a view where both are slices. Rows stay contiguous for the
    sorting and counting passes (``a[:, index]`` returns Fortran order: sorts ran 1.8x slower)."""
    if isinstance(columns, slice):
        return scores[rows, columns]
    if isinstance(rows, slice):
        return np.take(scores[rows], columns, axis=1)
    return scores[np.ix_(rows, columns)]


def task_ranks(
    data: TaskData,
    cells: Sequence[Cell],
    queries: Embedded,
    documents: Embedded,
    depth: int = 0,
) -> list[CellRanking]:
    """Exact ranks of every cell's relevant documents, and the top ``depth`` of each
    multilingual cell's ranking.

    Queries of one language are scored once against every distinct document vector, then put in
    document order (identical texts share a vector, so they tie); each cell reads its pool's
    columns from those scores, a view where its queries and pool are consecutive.
    """
    relevant = _relevant_matrix(data)
    in_order = np.array_equal(documents.index, np.arange(len(documents.index)))
    out: list[np.ndarray] = [np.empty(0)] * len(cells)
    where: list[np.ndarray] = [np.empty(0)] * len(cells)
    tops: list[np.ndarray] = [np.empty(0)] * len(cells)
    for language in dict.fromkeys(c.query_language for c in cells):
        mine = [i for i, c in enumerate(cells) if c.query_language == language]
        rows = np.unique(np.concatenate([cells[i].queries for i in mine]))
        plans = []
        for i in mine:
            cell = cells[i]
            positions = _pool_positions(relevant[cell.queries], cell.pool, len(data.documents))
            out[i], where[i] = np.zeros(positions.shape, dtype=np.int64), positions
            keep = min(depth, len(cell.pool)) if cell.pool_language == ALL_LANGUAGES else 0
            tops[i] = np.zeros((len(cell.queries), keep), dtype=np.int64)
            plans.append((i, positions, np.searchsorted(rows, cell.queries), _run(cell.pool)))
        for start in range(0, len(rows), QUERY_CHUNK):
            block = rows[start : start + QUERY_CHUNK]
            scores = exact_scores(queries.vectors[queries.index[block]], documents.vectors)
            if not in_order:
                scores = np.take(scores, documents.index, axis=1)
            for i, positions, member, pool in plans:
                lo, hi = np.searchsorted(member, [start, start + len(block)])
                if lo < hi:
                    pooled = _select(scores, _run(member[lo:hi] - start), pool)
                    out[i][lo:hi] = relevant_ranks(pooled, positions[lo:hi])
                    if tops[i].shape[1]:
                        tops[i][lo:hi] = top_positions(pooled, tops[i].shape[1])
    return [CellRanking(r, p, t) for r, p, t in zip(out, where, tops)]


def measure_task(
    data: TaskData,
    cells: Sequence[Cell],
    ranked: Sequence[CellRanking],
    measures: Sequence[Measure],
) -> tuple[CellResult, ...]:
    """Every cell's measures; then, for measures with one value per candidate language, one
    cell (multi, query language, candidate language) per pair, after the cells as built."""
    codes = _language_codes(data)
    pooled = {
        i: _pooled(data, cell, r, codes)
        for i, (cell, r) in enumerate(zip(cells, ranked))
        if cell.pool_language == ALL_LANGUAGES
    }
    results = [
        measure_cell(data, cell, r, measures, pooled.get(i))
        for i, (cell, r) in enumerate(zip(cells, ranked))
    ]
    split = [m for m in measures if m.family.per_candidate_language]
    if split and pooled:
        results.extend(_by_candidate_language(data, cells, pooled, split, codes))
    return tuple(results)


def measure_cell(
    data: TaskData,
    cell: Cell,
    ranked: CellRanking,
    measures: Sequence[Measure],
    pooled: Pooled | None = None,
) -> CellResult:
    """The cell's per-query values: trec_eval's measures, and on a multilingual cell
    (``pooled``) the bias panel's per-query measures."""
    values = measure_ranks(ranked.ranks, measures)
    if pooled is not None:
        for m in measures:
            if not m.is_trec and m.name in PER_QUERY and len(cell.queries):
                found = PER_QUERY[m.name](pooled, m.cutoff)
                if not np.isnan(found).all():  # undefined for every query: not recorded
                    values[m] = found
    return CellResult(
        setting=cell.setting,
        query_language=cell.query_language,
        pool_language=cell.pool_language,
        excluded=cell.excluded,
        query_ids=tuple(data.queries[q].id for q in cell.queries),
        values=values,
    )


def _language_codes(data: TaskData) -> tuple[str, ...]:
    return tuple(sorted({d.language for d in data.documents} | {q.language for q in data.queries}))


def _pooled(data: TaskData, cell: Cell, ranked: CellRanking, codes: tuple[str, ...]) -> Pooled:
    code = {language: i for i, language in enumerate(codes)}
    return Pooled(
        ranks=ranked.ranks,
        relevant=ranked.relevant,
        top=ranked.top,
        pool_language=np.array([code[data.documents[d].language] for d in cell.pool], np.int64),
        query_language=np.full(len(cell.queries), code[cell.query_language], dtype=np.int64),
        languages=len(codes),
    )


def _question_ids(data: TaskData, queries: np.ndarray) -> np.ndarray:
    """The question each query asks: its id without the language (``de/57`` -> ``57``). Every
    loader names a query ``<language>/<id>`` with the id shared by the same question in other
    languages (LAReQA's xling_id, a BEIR folder's query id), so equal ids are parallel queries."""
    return np.array([data.queries[q].id.split("/", 1)[-1] for q in queries], dtype=object)


def _by_candidate_language(
    data: TaskData,
    cells: Sequence[Cell],
    pooled: dict[int, Pooled],
    measures: Sequence[Measure],
    codes: tuple[str, ...],
) -> list[CellResult]:
    order = list(pooled)
    stacked = {m: _per_language(m, pooled, order, cells, data, len(codes)) for m in measures}
    out, start = [], 0
    for i in order:
        cell, size = cells[i], len(cells[i].queries)
        for code, language in enumerate(codes):
            columns = {m: v[start : start + size, code] for m, v in stacked.items()}
            columns = {m: v for m, v in columns.items() if not np.isnan(v).all()}
            if not columns:
                continue
            rows = np.any([~np.isnan(v) for v in columns.values()], axis=0)
            out.append(
                CellResult(
                    setting=cell.setting,
                    query_language=cell.query_language,
                    pool_language=language,
                    excluded=cell.excluded + int((~rows).sum()),
                    query_ids=tuple(data.queries[q].id for q in cell.queries[rows]),
                    values={m: v[rows] for m, v in columns.items()},
                )
            )
        start += size
    return out


def _per_language(
    m: Measure,
    pooled: dict[int, Pooled],
    order: Sequence[int],
    cells: Sequence[Cell],
    data: TaskData,
    languages: int,
) -> np.ndarray:
    """(queries of every multilingual cell in ``order``, languages) values of ``m``. The
    multilingual cells share one pool (all languages), so their rankings compare."""
    if m.family.needs is Needs.PARALLEL:
        queries = np.concatenate([cells[i].queries for i in order])
        return parallel_consistency(
            np.concatenate([pooled[i].top for i in order]),
            _question_ids(data, queries),
            np.concatenate([pooled[i].query_language for i in order]),
            languages,
            m.cutoff,
        )
    return np.concatenate([PER_LANGUAGE[m.name](pooled[i], m.cutoff) for i in order])
