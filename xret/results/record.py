"""The result record: one JSON document per (model, task, options), plus per-query scores beside it.

Layout (schema version 1), documented for users in docs/results.md:
  key, schema_version, model{...}, task{...}, options{...}, coverage{...},
  cells[{setting, query_language, pool_language, n_queries, excluded, values{measure: mean}}],
  by_language{setting: {measure: {language: value}}},
  summary{aggregate: {setting: {measure: value}}},
  provenance{...}, per_query (file name beside the record)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

SCHEMA_VERSION = 1


class MalformedRecord(ValueError):
    """A stored record's JSON without the record's shape; the message names the place (e.g.
    ``cells[3].values.MAP``). The store reports it as a DataError naming the file."""


@dataclass(frozen=True)
class Section:
    """A section of a record: typed fields, read as attributes.

    A record written by an older xret may lack fields added since (``max_seq_length``,
    ``dtype``, …): they read as None (or empty) and are remembered in ``absent``, so that the
    section is written back exactly as it was read. Open sections (``task``, ``options``,
    ``provenance``) keep the fields a task family adds in ``extras``; the others refuse fields
    they do not know."""

    absent: frozenset[str] = field(default=frozenset(), kw_only=True, repr=False)
    OPEN: ClassVar[bool] = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name not in ("absent", "extras"))

    def __post_init__(self) -> None:
        for name in self.names():  # lists (of languages, measures) as tuples: frozen, and equal
            value = getattr(self, name)  # whether built here or read from JSON
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        clash = set(getattr(self, "extras", {})) & set(self.names())
        if clash:
            raise MalformedRecord(f"extras may not repeat the typed fields {sorted(clash)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str):
        """The section of a JSON object (``where`` names it in errors): its typed fields, the
        rest in ``extras`` (an open section) or a ValueError (a fixed one)."""
        names = cls.names()
        unknown = {k: v for k, v in data.items() if k not in names}
        if unknown and not cls.OPEN:
            raise MalformedRecord(f"{where}: unknown fields {sorted(unknown)}")
        known = {k: v for k, v in data.items() if k in names}
        absent = frozenset(n for n in names if n not in data)
        return cls(**known, absent=absent, **({"extras": unknown} if cls.OPEN else {}))

    def to_dict(self) -> dict[str, Any]:
        out = {n: getattr(self, n) for n in self.names() if n not in self.absent}
        return {**out, **getattr(self, "extras", {})}


@dataclass(frozen=True)
class ModelSection(Section):
    """The model evaluated (docs/results.md); no machine paths."""

    name: str
    display_name: str | None = None
    provider: str | None = None
    source: str | None = None
    """Local folders as ``local:<name>``."""
    revision: str | None = None
    dim: int | None = None
    max_seq_length: int | None = None
    similarity: str | None = None
    prompts: Mapping[str, str | None] | None = None
    """``query`` and ``document``."""
    languages: tuple[str, ...] | None = None
    """Languages the model declares it covers (None: not declared)."""
    licence: str | None = None
    base_model: str | None = None
    regime: str | None = None
    alpha: float | None = None
    """Trained baselines: the model trained from, the batch regime, its hybrid α."""


@dataclass(frozen=True)
class TaskSection(Section):
    """The task evaluated: its core fields, and what a family adds (``corpus``) in ``extras``."""

    OPEN: ClassVar[bool] = True
    name: str
    family: str | None = None
    version: str | None = None
    languages: tuple[str, ...] = ()
    """All of the task's languages (the evaluated ones are ``options.languages``)."""
    data: Mapping[str, str] = field(default_factory=dict)
    """Data file -> sha256."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """``queries`` loaded and ``candidates`` searched."""
    licence: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OptionsSection(Section):
    """Every option that changed a number and the evaluation's rules; a family's own (e.g.
    ``candidate_text``; ``pool``, ``index``, ``depth``) in ``extras``."""

    OPEN: ClassVar[bool] = True
    task_version: str | None = None
    languages: tuple[str, ...] = ()
    """The languages evaluated."""
    settings: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    prompts: Mapping[str, str | None] | None = None
    """The prompts used (after the user's overrides)."""
    ranking: str | None = None
    """``exhaustive`` or ``top-k``."""
    ties: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CoverageSection(Section):
    declared: bool | None = None
    """Whether the model declares its languages."""
    uncovered_languages: tuple[str, ...] = ()
    """Evaluated languages the model does not cover (scored anyway)."""


@dataclass(frozen=True)
class ProvenanceSection(Section):
    """Where and how the result was produced (none of it changes a number)."""

    OPEN: ClassVar[bool] = True
    xret_version: str | None = None
    git_commit: str | None = None
    created: str | None = None
    """UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    python: str | None = None
    platform: str | None = None
    cpus: int | None = None
    libraries: Mapping[str, str | None] = field(default_factory=dict)
    engine: str | None = None
    workers: int | None = None
    device: str | None = None
    """Where the vectors were computed (for cached ones, as the cache recorded)."""
    dtype: str | None = None
    precision: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    """Seconds per stage."""
    encode: Mapping[str, float] = field(default_factory=dict)
    """The embedding engine's counters (texts, unique, cached, encoded, tokens, …)."""
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CellScores:
    setting: str
    query_language: str
    pool_language: str
    n_queries: int
    excluded: int
    values: dict[str, float]

    @property
    def by_candidate_language(self) -> bool:
        """A cell of the bias panel's per-candidate-language measures: the multilingual
        ranking's values for one candidate language (docs/bias.md), not a ranking of its own."""
        return self.setting == "multi" and self.pool_language != "all"


_SECTIONS: dict[str, type[Section]] = {
    "model": ModelSection,
    "task": TaskSection,
    "options": OptionsSection,
    "coverage": CoverageSection,
    "provenance": ProvenanceSection,
}


@dataclass(frozen=True)
class ResultRecord:
    key: str
    model: ModelSection
    task: TaskSection
    options: OptionsSection
    coverage: CoverageSection
    cells: tuple[CellScores, ...]
    by_language: dict[str, dict[str, dict[str, float]]]
    summary: dict[str, dict[str, dict[str, float]]]
    provenance: ProvenanceSection
    per_query: str | None = None
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    """Family-specific additions (e.g. MIRACL's reduced-pool description)."""

    def __post_init__(self) -> None:
        for name, kind in _SECTIONS.items():
            if not isinstance(getattr(self, name), kind):
                found = type(getattr(self, name)).__name__
                raise TypeError(f"ResultRecord.{name}: expected {kind.__name__}, found {found}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "schema_version": self.schema_version,
            **{name: getattr(self, name).to_dict() for name in _SECTIONS},
            "cells": [asdict(c) for c in self.cells],
            "by_language": self.by_language,
            "summary": self.summary,
            "per_query": self.per_query,
            "extra": self.extra,
        }

    def to_json(self) -> str:
        return (
            json.dumps(
                self.to_dict(), indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False
            )
            + "\n"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultRecord:
        """A record from its JSON form; a missing or mistyped field raises ValueError naming its
        place (e.g. ``cells[3].values.MAP``), so no reader meets it half-way through a table."""
        if not isinstance(data, dict):
            raise MalformedRecord(f"expected a JSON object, found {type(data).__name__}")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise MalformedRecord(
                f"result schema version {version}, this xret reads {SCHEMA_VERSION}"
            )
        _check_fields(data)
        sections = {name: kind.from_dict(data[name], name) for name, kind in _SECTIONS.items()}
        cells = tuple(CellScores(**c) for c in data["cells"])
        return cls(**{**data, **sections, "cells": cells})

    def cell(self, setting: str, query_language: str, pool_language: str) -> CellScores | None:
        for c in self.cells:
            if (c.setting, c.query_language, c.pool_language) == (
                setting,
                query_language,
                pool_language,
            ):
                return c
        return None


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - {f.name for f in fields(ResultRecord)}
    if unknown:
        raise MalformedRecord(f"unknown fields {sorted(unknown)}")
    _typed(data, "key", str)
    for name in _SECTIONS:
        _typed(data, name, dict)
    for name in ("model", "task"):
        _typed(data[name], "name", str, f"{name}.")
    if not isinstance(data.get("per_query"), (str, type(None))):
        raise MalformedRecord("per_query: expected a file name")
    if not isinstance(data.get("extra", {}), dict):
        raise MalformedRecord("extra: expected an object")
    for i, cell in enumerate(_typed(data, "cells", list)):
        where = f"cells[{i}]"
        names = [f.name for f in fields(CellScores)]
        if not isinstance(cell, dict) or set(cell) != set(names):
            raise MalformedRecord(f"{where}: expected an object with {names}")
        for name in ("setting", "query_language", "pool_language"):
            _typed(cell, name, str, f"{where}.")
        for name in ("n_queries", "excluded"):
            if _typed(cell, name, int, f"{where}.") < 0:
                raise MalformedRecord(f"{where}.{name}: negative")
        _numbers(_typed(cell, "values", dict, f"{where}."), f"{where}.values", depth=1)
    for name in ("by_language", "summary"):
        _numbers(_typed(data, name, dict), name, depth=3)


def _typed(parent: dict, name: str, kind: type, where: str = ""):
    value = parent.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedRecord(
            f"{where}{name}: expected {kind.__name__}, found {type(value).__name__}"
        )
    return value


def _numbers(tree: dict, where: str, depth: int) -> None:
    """``depth`` levels of objects keyed by strings whose leaves are finite numbers."""
    for key, value in tree.items():
        here = f"{where}.{key}"
        if depth > 1:
            if not isinstance(value, dict):
                raise MalformedRecord(f"{here}: expected an object, found {type(value).__name__}")
            _numbers(value, here, depth - 1)
        elif type(value) not in (int, float) or not math.isfinite(value):
            raise MalformedRecord(f"{here}: expected a finite number, found {value!r:.40}")
