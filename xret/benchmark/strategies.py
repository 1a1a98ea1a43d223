"""How a task family is evaluated. The runner owns what every task shares (model, engine, result
key, record, store); a strategy owns what differs: which options identify its results (``plan``)
and how queries are ranked and measured (``evaluate``).

- ``exhaustive`` (xret.benchmark.exhaustive): pooled cells scored against every candidate, exact
  ranks at any depth (XQuAD-R, MLQA-R: pools of at most 20,534).
- ``top-k`` (xret.benchmark.topk): a corpus streamed through a vector index, the top k per query
  with real document ids (MIRACL: up to 32.9M passages per language).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from xret.benchmark.evaluate import CellResult
from xret.benchmark.measures import Measure
from xret.errors import XretError
from xret.tasks.spec import Ranking, Setting, TaskSpec

if TYPE_CHECKING:
    from xret.benchmark.engine import EmbeddingEngine
    from xret.benchmark.runner import BenchConfig
    from xret.models.spec import ModelSpec
    from xret.results.runs import RunWriter


@dataclass(frozen=True)
class Plan:
    name: str
    """The task name in the result key (a reduced pool gets its own)."""
    options: dict[str, Any]
    """Every option that changes a number: hashed into the result key and recorded."""
    data: dict[str, str] = field(default_factory=dict)
    """sha256 of data read beyond the task's own files (corpus shards): hashed into the key."""


@dataclass(frozen=True)
class Job:
    config: BenchConfig
    task: TaskSpec
    model: ModelSpec
    languages: tuple[str, ...]
    settings: tuple[Setting, ...]
    measures: tuple[Measure, ...]
    options: dict[str, Any]
    log: Callable[[str], None]
    runs: RunWriter | None = None
    """Where the strategy writes each cell's TREC run (``--save-run``); None: no runs."""


@dataclass(frozen=True)
class Evaluation:
    results: tuple[CellResult, ...]
    checksums: Mapping[str, str]
    """Task data file -> sha256."""
    counts: dict[str, int]
    """``queries`` loaded and ``candidates`` searched."""
    policy: dict[str, Any]
    """Evaluation rules recorded in ``options`` beside the key's options (ranking, ties, …)."""
    task: dict[str, Any] = field(default_factory=dict)
    """Additional fields of the record's ``task`` section (e.g. the corpus found)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """The record's ``extra`` section."""


class Stages:
    """Wall-clock seconds per named stage, summed over repeated entries."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class Strategy(Protocol):
    flags: Mapping[str, tuple[str, ...]]
    """Task family -> the command-line options that only its tasks read (as ``--help`` spells
    them): the one place that says which options apply to which tasks."""

    def plan(
        self, config: BenchConfig, task: TaskSpec, measures: tuple[Measure, ...], options: dict
    ) -> Plan: ...

    def evaluate(self, job: Job, engine: EmbeddingEngine, stage: Stages) -> Evaluation: ...


_STRATEGIES = {
    Ranking.EXHAUSTIVE: "xret.benchmark.exhaustive:Exhaustive",
    Ranking.TOP_K: "xret.benchmark.topk:CorpusTopK",
}


def strategy_for(ranking: Ranking) -> Strategy:
    module, _, attr = _STRATEGIES[ranking].partition(":")
    return getattr(importlib.import_module(module), attr)()


def check_flags(tasks: Sequence[TaskSpec], given: Collection[str], warn: Callable[[str], None]):
    """Options are never silently ignored: one of ``given`` (the options the user set) that only
    other families read is refused when no task reads it, and warned about when some do."""
    declared = [strategy_for(ranking).flags for ranking in Ranking]
    specific = {flag for flags in declared for family in flags.values() for flag in family}
    for flag in sorted(set(given) & specific):
        ignoring = [t for t in tasks if flag not in strategy_for(t.ranking).flags.get(t.family, ())]
        if not ignoring:
            continue
        kinds: dict[str, list[str]] = {}
        for task in ignoring:
            kinds.setdefault(f"{task.family} family, {task.ranking} ranking", []).append(task.name)
        where = "; ".join(f"{', '.join(names)} ({kind})" for kind, names in kinds.items())
        if len(ignoring) == len(tasks):
            raise XretError(f"{flag} does not apply to {where}")
        warn(f"xret: warning: {flag} does not apply to {where}; used for the other tasks")
