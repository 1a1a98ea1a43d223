"""How a task family is evaluated. The runner (xret.benchmark.runner) owns the sequence every task
shares: plan, load, encode, rank, measure, record, store. A strategy fills in the stages that
differ, each a method from the previous stage's value to the next; it is built from its family's
options only, so an option it does not read cannot reach it (``check_flags`` refuses or warns).

- ``exhaustive`` (xret.benchmark.exhaustive): pooled cells scored against every candidate, exact
  ranks at any depth (XQuAD-R, MLQA-R: pools of at most 20,534).
- ``top-k`` (xret.benchmark.topk): a corpus streamed through a vector index, the top k per query
  with real document ids (MIRACL: up to 32.9M passages per language).
- ``pooled top-k`` (xret.benchmark.pooled): several corpora searched top-k and merged into one
  pooled top k (a MIRACL-format task pooled with other languages' corpora).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from xret.errors import XretError
from xret.registry import Registry
from xret.tasks.spec import Ranking, Setting, TaskSpec

if TYPE_CHECKING:
    from xret.benchmark.engine import EmbeddingEngine
    from xret.benchmark.evaluate import CellResult
    from xret.measures.table import Measure
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
class Workspace:
    """What every family is given besides its options: where the data and the caches are, and
    where to tell the user what it finds."""

    data_dir: Path | None
    cache_dir: Path
    log: Callable[[str], None] = print


@dataclass(frozen=True)
class RecordFacts:
    """What a family adds to the record once its cells are measured."""

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
    """Wall-clock seconds per named stage, summed over repeated entries. A stage opened inside
    another is counted in the inner one only, so the stages add up to the time they cover."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = {}
        self._nested: list[float] = []
        """Per open stage, the seconds spent in the stages opened inside it."""

    @contextmanager
    def __call__(self, name: str):
        start = self.clock()
        self._nested.append(0.0)
        try:
            yield
        finally:
            elapsed = self.clock() - start
            own = elapsed - self._nested.pop()
            self.seconds[name] = self.seconds.get(name, 0.0) + own
            if self._nested:
                self._nested[-1] += elapsed


Loaded = TypeVar("Loaded")
Encoded = TypeVar("Encoded")
Ranked = TypeVar("Ranked")


class Strategy(Protocol[Loaded, Encoded, Ranked]):
    """One family's stages. ``Loaded``, ``Encoded`` and ``Ranked`` are the family's own values
    (LAReQA cells and their rank arrays; MIRACL languages and their hits)."""

    flags: ClassVar[Mapping[str, tuple[str, ...]]]
    """Task family -> the command-line options that only its tasks read (as ``--help`` spells
    them): the one place that says which options apply to which tasks."""

    def plan(
        self,
        task: TaskSpec,
        languages: tuple[str, ...],
        measures: tuple[Measure, ...],
        shared: dict[str, Any],
    ) -> Plan:
        """The result's name, options (``shared`` plus the family's own) and extra data."""
        ...

    def load(
        self,
        task: TaskSpec,
        languages: tuple[str, ...],
        settings: tuple[Setting, ...],
        measures: tuple[Measure, ...],
    ) -> Loaded:
        """The task's data and cells; ``measures`` say what of each ranking to keep."""
        ...

    def encode(self, loaded: Loaded, engine: EmbeddingEngine) -> Encoded: ...

    def rank(
        self, loaded: Loaded, encoded: Encoded, engine: EmbeddingEngine, stage: Stages
    ) -> Ranked:
        """``stage``: for parts of ranking timed on their own (building an index)."""
        ...

    def measure(
        self, loaded: Loaded, ranked: Ranked, measures: tuple[Measure, ...]
    ) -> tuple[CellResult, ...]: ...

    def save_runs(self, loaded: Loaded, encoded: Encoded, ranked: Ranked, runs: RunWriter):
        """Each cell's TREC run and qrels (``--save-run``)."""
        ...

    def facts(self, loaded: Loaded, ranked: Ranked) -> RecordFacts: ...


STRATEGIES: Registry[type[Strategy]] = Registry(
    "ranking",
    {
        Ranking.EXHAUSTIVE: "xret.benchmark.exhaustive:Exhaustive",
        Ranking.TOP_K: "xret.benchmark.topk:CorpusTopK",
        Ranking.POOLED_TOP_K: "xret.benchmark.pooled:PooledTopK",
    },
)
"""Imported on demand: ``--help`` needs only their flags."""


def strategy_for(ranking: Ranking) -> type[Strategy]:
    """The strategy class of a ranking."""
    return STRATEGIES.get(ranking)


class IgnoredOptionWarning(UserWarning):
    """An option set for a bench that some of its tasks do not read (the Python API's warning;
    the CLI prints it)."""


def check_flags(
    tasks: Sequence[TaskSpec],
    given: Collection[str],
    warn: Callable[[str], None],
    spelling: Mapping[str, str] | None = None,
):
    """Options are never silently ignored: one of ``given`` (the options the user set, as
    ``--help`` spells them) that only other families read is refused when no task reads it, and
    warned about when some do. ``spelling``: how the user wrote an option, where not as
    ``--help`` does (a keyword of the Python API)."""
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
        name = (spelling or {}).get(flag, flag)
        if len(ignoring) == len(tasks):
            raise XretError(f"{name} does not apply to {where}")
        warn(f"xret: warning: {name} does not apply to {where}; used for the other tasks")
