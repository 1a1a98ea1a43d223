"""The exhaustive strategy: every candidate of each cell's pool is scored (XQuAD-R, MLQA-R).

Ranks are exact at any depth, as full-ranking mAP and rank distance need (protocol.md §3.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from xret import defaults
from xret.benchmark.engine import Embedded, EmbeddingEngine
from xret.benchmark.evaluate import (
    QUERY_CHUNK,
    CellRanking,
    CellResult,
    measure_task,
    task_ranks,
    top_depth,
)
from xret.benchmark.search import exact_scores
from xret.benchmark.strategies import Plan, RecordFacts, Stages, Workspace
from xret.defaults import DEPTH
from xret.measures.table import Measure
from xret.models.spec import Role
from xret.results.runs import RunWriter, cell_name
from xret.tasks import load_task
from xret.tasks.corpus import passage_label, passage_text
from xret.tasks.records import Document, TaskData, candidate_text
from xret.tasks.settings import Cell, build_cells
from xret.tasks.spec import CandidateText, Setting, TaskSpec


@dataclass(frozen=True)
class ExhaustiveOptions:
    """What the exhaustive families read of a bench's options, and nothing else."""

    candidate_text: CandidateText = CandidateText(defaults.CANDIDATE_TEXT)
    """LAReQA: a candidate is its sentence, or its sentence and paragraph (``--candidate-text``)."""
    title: bool = True
    """BEIR: a passage is encoded as ``title text`` or ``text`` alone (``--title/--no-title``)."""
    run_depth: int = DEPTH
    """How deep the saved runs go (``--depth`` with ``--save-run``); measures are exact anyway."""


def _candidates(options: ExhaustiveOptions, family: str) -> tuple[dict, Callable[[Document], str]]:
    """The recorded option and each candidate's encoded text: BEIR passages follow
    ``--title/--no-title``, LAReQA sentences ``--candidate-text``."""
    if family == "beir":
        title = options.title
        return {"passage_text": passage_label(title)}, lambda d: passage_text(d, title)
    option = options.candidate_text
    return {"candidate_text": str(option)}, lambda d: candidate_text(d, option)


def _ranked(
    data: TaskData,
    cell: Cell,
    ranks: np.ndarray,
    queries: Embedded,
    documents: Embedded,
    depth: int,
) -> Iterator[tuple[str, list[str], np.ndarray]]:
    """Each scored query's ranking of the pool, best first (ties: candidate order), down to
    ``depth`` or to its last relevant candidate if deeper: every measure, MAP included, is then
    exactly what the record holds."""
    columns = documents.index[cell.pool]
    for start in range(0, len(cell.queries), QUERY_CHUNK):
        block = cell.queries[start : start + QUERY_CHUNK]
        # Scored as task_ranks scores (all vectors, then the pool's columns): the same floats.
        scores = exact_scores(queries.vectors[queries.index[block]], documents.vectors)[:, columns]
        order = np.argsort(-scores, axis=1, kind="stable")
        for row, query in enumerate(block):
            relevant = ranks[start + row][ranks[start + row] > 0]
            top = order[row, : max(depth, int(relevant.max(initial=0)))]
            docids = [data.documents[i].id for i in cell.pool[top]]
            qid = data.queries[query].id
            if any(data.qrels[qid].get(docids[r - 1], 0) <= 0 for r in relevant):
                raise AssertionError(f"{cell.label}: the run of {qid} disagrees with its ranks")
            yield qid, docids, scores[row, top]


def _pool_qrels(data: TaskData, cell: Cell) -> dict[str, dict[str, int]]:
    """The judgements of the cell's scored queries restricted to its pool (what was measured)."""
    in_pool = {data.documents[i].id for i in cell.pool}
    ids = [data.queries[q].id for q in cell.queries]
    return {qid: {d: g for d, g in data.qrels[qid].items() if d in in_pool} for qid in ids}


@dataclass(frozen=True)
class Cells:
    """A task's data and the cells it is evaluated in (the exhaustive ``Loaded``)."""

    data: TaskData
    cells: list[Cell]
    text: Callable[[Document], str]
    """A candidate's encoded text."""
    depth: int = 0
    """How much of each multilingual ranking the measures read (xret.benchmark.evaluate)."""


@dataclass(frozen=True)
class Vectors:
    queries: Embedded
    documents: Embedded


class Exhaustive:
    # --depth is not theirs: exhaustive measures are exact at any depth (with --save-run it sets
    # how deep the saved runs go, for every family: the CLI says so).
    flags = {"lareqa": ("--candidate-text",), "beir": ("--title/--no-title",)}

    def __init__(self, options: ExhaustiveOptions, where: Workspace):
        self.options = options
        self.where = where

    def plan(self, task: TaskSpec, languages, measures, shared: dict) -> Plan:
        return Plan(task.name, {**shared, **_candidates(self.options, task.family)[0]})

    def load(
        self,
        task: TaskSpec,
        languages: tuple[str, ...],
        settings: tuple[Setting, ...],
        measures: tuple[Measure, ...],
    ) -> Cells:
        data = load_task(task, languages, self.where.data_dir, self.where.cache_dir)
        text = _candidates(self.options, task.family)[1]
        return Cells(data, build_cells(data, languages, settings), text, top_depth(measures))

    def encode(self, loaded: Cells, engine: EmbeddingEngine) -> Vectors:
        data = loaded.data
        documents = engine.embed([loaded.text(d) for d in data.documents], Role.DOCUMENT)
        queries = engine.embed([q.text for q in data.queries], Role.QUERY)
        return Vectors(queries, documents)

    def rank(self, loaded: Cells, encoded: Vectors, engine, stage: Stages) -> list[CellRanking]:
        """Per cell, the exact ranks of each scored query's relevant candidates (and the top of
        multilingual rankings, as deep as the bias measures read)."""
        return task_ranks(
            loaded.data, loaded.cells, encoded.queries, encoded.documents, loaded.depth
        )

    def measure(
        self, loaded: Cells, ranked: list[CellRanking], measures: tuple[Measure, ...]
    ) -> tuple[CellResult, ...]:
        return measure_task(loaded.data, loaded.cells, ranked, measures)

    def save_runs(
        self, loaded: Cells, encoded: Vectors, ranked: list[CellRanking], runs: RunWriter
    ) -> None:
        data, depth = loaded.data, self.options.run_depth
        for cell, r in zip(loaded.cells, ranked):
            name = cell_name(cell.setting, cell.query_language, cell.pool_language)
            ranked_cell = _ranked(data, cell, r.ranks, encoded.queries, encoded.documents, depth)
            runs.write_cell(name, ranked_cell, _pool_qrels(data, cell))

    def facts(self, loaded: Cells, ranked) -> RecordFacts:
        data = loaded.data
        return RecordFacts(
            checksums=dict(data.checksums),
            counts={"queries": len(data.queries), "candidates": len(data.documents)},
            policy={"ties": "equal scores ranked by candidate order", "ranking": "exhaustive"},
        )
