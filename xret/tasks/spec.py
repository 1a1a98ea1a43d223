"""Task definitions: frozen metadata plus the name of a loader function (imported lazily)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from xret.errors import DataError, UnknownNameError
from xret.registry import import_target, resolve


class Setting(StrEnum):
    """Retrieval settings of protocol.md §3.1."""

    MONO = "mono"  # query and pool in the same language
    CROSS = "cross"  # query in X, pool in Y != X (ordered pairs)
    MULTI = "multi"  # query in X, pool = every language at once

    @classmethod
    def parse(cls, name: str) -> Setting:
        try:
            return cls(name)
        except ValueError:
            raise UnknownNameError("setting", name, [s.value for s in cls]) from None


ALL_LANGUAGES = "all"
"""The pool language of multilingual cells."""


class Ranking(StrEnum):
    """How a task family is evaluated (xret.benchmark.strategies picks the code for each)."""

    EXHAUSTIVE = "exhaustive"  # every candidate of a small pool scored: exact ranks at any depth
    TOP_K = "top-k"  # a corpus streamed through a vector index: the top k per query, real doc ids
    POOLED_TOP_K = "pooled top-k"  # several corpora searched top-k, merged into one pooled top k


class CandidateText(StrEnum):
    """What is encoded for a candidate: LAReQA's sentence alone, or sentence + paragraph."""

    SENTENCE = "sentence"
    SENTENCE_CONTEXT = "sentence+context"


@dataclass(frozen=True)
class Aggregate:
    """A summary over languages: ``statistic`` of the per-language values of ``languages``."""

    name: str
    languages: tuple[str, ...]
    statistic: str = "mean"  # "mean" or "median"
    complete: bool = False
    """Only reported when every one of ``languages`` was evaluated (e.g. the paper's 15-language
    median must not silently become a median over the three languages a user selected)."""


@dataclass(frozen=True)
class Prompts:
    """A task's prompts policy: None keeps the model's own prompt for that role."""

    query: str | None = None
    document: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    name: str
    family: str
    version: str
    """Bumped whenever candidates, gold or evaluation policy change: records never mix versions."""
    description: str
    languages: tuple[str, ...]
    settings: tuple[Setting, ...]
    measures: tuple[str, ...]
    """Measures computed by default (measure strings, see xret.measures.table)."""
    aggregates: tuple[Aggregate, ...]
    data_files: Mapping[str, tuple[str, ...]]
    """Language -> paths of the pinned artifacts (downloads.json) it reads."""
    loader: str
    """``module:function`` taking ``(spec, files, languages, options)`` and returning TaskData."""
    licence: str
    reference: str
    expected: Any = field(default=None, compare=False)
    """Family-specific pinned counts that the loader asserts."""
    root: Path | None = None
    """For a user's own task: the directory its files are read from, unpinned."""
    ranking: Ranking = Ranking.EXHAUSTIVE
    pins: Mapping[str, str] = field(default_factory=dict, compare=False)
    """For a task file's local files: path under ``root`` -> sha256, verified on every load."""
    prompts: Prompts = Prompts()
    corpora: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Language -> corpus folder under ``root`` (``docs-<i>.jsonl[.gz]`` shards) of a task that
    names its own corpus (task files of format ``trec``); empty: MIRACL's layout under
    ``--corpus-dir``. The shards are identified by content in the result key either way."""
    pool: tuple[str, ...] = ()
    """A pooled MIRACL-format task (``TASK+L1+L2``, xret.tasks.miracl.pooled_task): the corpus
    languages pooled beside the evaluated languages' own corpora."""

    def corpus_languages(self, languages: tuple[str, ...]) -> tuple[str, ...]:
        """The languages whose corpora are searched for ``languages``' queries: their own, and
        on a pooled task the pool's too, as one pool (sorted: the pool's order)."""
        return tuple(sorted({*languages, *self.pool})) if self.pool else languages

    def check_settings(self, settings: tuple[Setting, ...] | None) -> tuple[Setting, ...]:
        """The requested settings (all of the task's when None); ones it lacks raise."""
        if not settings:
            return self.settings
        for setting in settings:
            if setting not in self.settings:
                raise UnknownNameError(
                    f"setting of {self.name}", str(setting), [str(s) for s in self.settings]
                )
        return settings

    def load_function(self) -> Callable[..., Any]:
        """xret's own loader, or a plugin's (its failure to import is one line)."""
        if self.loader.startswith("xret."):
            return resolve(self.loader)
        return import_target(self.loader, f"loader of task {self.name}", DataError)[1]

    def check_languages(self, languages: tuple[str, ...] | None) -> tuple[str, ...]:
        """The requested languages in task order (all when None); unknown ones raise."""
        if not languages:
            return self.languages
        for language in languages:
            if language not in self.languages:
                raise UnknownNameError(f"language of {self.name}", language, self.languages)
        return tuple(lang for lang in self.languages if lang in set(languages))

    def files_for(self, languages: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(path for lang in languages for path in self.data_files.get(lang, ()))
