"""The exhaustive strategy: every candidate of each cell's pool is scored (XQuAD-R, MLQA-R).

Ranks are exact at any depth, as full-ranking mAP and rank distance need (protocol.md §3.1).
"""

from __future__ import annotations

from collections.abc import Callable

from xret.benchmark.evaluate import measure_cell, task_ranks
from xret.benchmark.strategies import Evaluation, Job, Plan, Stages
from xret.models.spec import Role
from xret.tasks import load_task
from xret.tasks.corpus import passage_text
from xret.tasks.lareqa import candidate_text
from xret.tasks.records import Document
from xret.tasks.settings import build_cells


def _candidates(config, task) -> tuple[dict[str, str], Callable[[Document], str]]:
    """The recorded option and each candidate's encoded text: BEIR passages follow
    ``--title/--no-title``, LAReQA sentences ``--candidate-text``."""
    if task.family == "beir":
        title = config.corpus.title
        return {"passage_text": "title+text" if title else "text"}, lambda d: passage_text(d, title)
    option = config.candidate_text
    return {"candidate_text": str(option)}, lambda d: candidate_text(d, option)


class Exhaustive:
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
            results = tuple(measure_cell(data, cell, r, job.measures) for cell, r in zip(cells, ranks))
        return Evaluation(
            results=results,
            checksums=dict(data.checksums),
            counts={"queries": len(data.queries), "candidates": len(data.documents)},
            policy={"ties": "equal scores ranked by candidate order", "ranking": "exhaustive"},
        )
