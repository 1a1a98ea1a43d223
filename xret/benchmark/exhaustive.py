"""The exhaustive strategy: every candidate of each cell's pool is scored (XQuAD-R, MLQA-R).

Ranks are exact at any depth, as full-ranking mAP and rank distance need (protocol.md §3.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from xret.benchmark.engine import Embedded
from xret.benchmark.evaluate import QUERY_CHUNK, measure_cell, task_ranks
from xret.benchmark.search import exact_scores
from xret.benchmark.strategies import Evaluation, Job, Plan, Stages
from xret.models.spec import Role
from xret.results.runs import cell_name
from xret.tasks import load_task
from xret.tasks.corpus import passage_label, passage_text
from xret.tasks.lareqa import candidate_text
from xret.tasks.records import Document, TaskData
from xret.tasks.settings import Cell, build_cells


def _candidates(config, task) -> tuple[dict[str, str], Callable[[Document], str]]:
    """The recorded option and each candidate's encoded text: BEIR passages follow
    ``--title/--no-title``, LAReQA sentences ``--candidate-text``."""
    if task.family == "beir":
        title = config.corpus.title
        return {"passage_text": passage_label(title)}, lambda d: passage_text(d, title)
    option = config.candidate_text
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


class Exhaustive:
    # --depth is not theirs: exhaustive measures are exact at any depth (with --save-run it sets
    # how deep the saved runs go, for every family: the CLI says so).
    flags = {"lareqa": ("--candidate-text",), "beir": ("--title/--no-title",)}

    def plan(self, config, task, measures, options: dict) -> Plan:
        return Plan(task.name, {**options, **_candidates(config, task)[0]})

    def evaluate(self, job: Job, engine, stage: Stages) -> Evaluation:
        config = job.config
        with stage("load_data"):
            data = load_task(job.task, job.languages, config.data_dir, config.cache_dir)
            cells = build_cells(data, job.languages, job.settings)
        with stage("embed"):
            text = _candidates(config, job.task)[1]
            texts = [text(d) for d in data.documents]
            documents = engine.embed(texts, Role.DOCUMENT)
            queries = engine.embed([q.text for q in data.queries], Role.QUERY)
        with stage("search"):
            ranks = task_ranks(data, cells, queries, documents)
        with stage("measures"):
            results = tuple(
                measure_cell(data, cell, r, job.measures) for cell, r in zip(cells, ranks)
            )
        if job.runs is not None:
            with stage("runs"):
                for cell, r in zip(cells, ranks):
                    name = cell_name(cell.setting, cell.query_language, cell.pool_language)
                    ranked = _ranked(data, cell, r, queries, documents, config.corpus.depth)
                    job.runs.write_cell(name, ranked, _pool_qrels(data, cell))
        return Evaluation(
            results=results,
            checksums=dict(data.checksums),
            counts={"queries": len(data.queries), "candidates": len(data.documents)},
            policy={"ties": "equal scores ranked by candidate order", "ranking": "exhaustive"},
        )
