"""The exhaustive strategy: every candidate of each cell's pool is scored (XQuAD-R, MLQA-R).

Ranks are exact at any depth, as full-ranking mAP and rank distance need (protocol.md §3.1).
"""

from __future__ import annotations

from xret.benchmark.evaluate import measure_cell, task_ranks
from xret.benchmark.strategies import Evaluation, Job, Plan, Stages
from xret.models.spec import Role
from xret.tasks import load_task
from xret.tasks.lareqa import candidate_text
from xret.tasks.settings import build_cells


class Exhaustive:
    flags = {"lareqa": ("--candidate-text",)}

    def plan(self, config, task, measures, options: dict) -> Plan:
        return Plan(task.name, {**options, "candidate_text": str(config.candidate_text)})

    def evaluate(self, job: Job, engine, stage: Stages) -> Evaluation:
        config = job.config
        with stage("load_data"):
            data = load_task(job.task, job.languages, config.data_dir, config.cache_dir)
            cells = build_cells(data, job.languages, job.settings)
        with stage("embed"):
            texts = [candidate_text(d, config.candidate_text) for d in data.documents]
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
