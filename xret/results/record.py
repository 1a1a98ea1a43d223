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
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CellScores:
    setting: str
    query_language: str
    pool_language: str
    n_queries: int
    excluded: int
    values: dict[str, float]


@dataclass(frozen=True)
class ResultRecord:
    key: str
    model: dict[str, Any]
    task: dict[str, Any]
    options: dict[str, Any]
    coverage: dict[str, Any]
    cells: tuple[CellScores, ...]
    by_language: dict[str, dict[str, dict[str, float]]]
    summary: dict[str, dict[str, dict[str, float]]]
    provenance: dict[str, Any]
    per_query: str | None = None
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    """Family-specific additions (e.g. MIRACL's reduced-pool description)."""

    def to_json(self) -> str:
        data = asdict(self)
        data["cells"] = [asdict(c) for c in self.cells]
        return (
            json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultRecord:
        """A record from its JSON form; a missing or mistyped field raises ValueError naming its
        place (e.g. ``cells[3].values.MAP``), so no reader meets it half-way through a table."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, found {type(data).__name__}")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"result schema version {version}, this xret reads {SCHEMA_VERSION}")
        _check_fields(data)
        return cls(**{**data, "cells": tuple(CellScores(**c) for c in data["cells"])})

    def cell(self, setting: str, query_language: str, pool_language: str) -> CellScores | None:
        for c in self.cells:
            if (c.setting, c.query_language, c.pool_language) == (
                setting,
                query_language,
                pool_language,
            ):
                return c
        return None


_OBJECTS = ("model", "task", "options", "coverage", "provenance")


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - {f.name for f in fields(ResultRecord)}
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    _typed(data, "key", str)
    for name in _OBJECTS:
        _typed(data, name, dict)
    for name in ("model", "task"):
        _typed(data[name], "name", str, f"{name}.")
    if not isinstance(data.get("per_query"), (str, type(None))):
        raise ValueError("per_query: expected a file name")
    if not isinstance(data.get("extra", {}), dict):
        raise ValueError("extra: expected an object")
    for i, cell in enumerate(_typed(data, "cells", list)):
        where = f"cells[{i}]"
        names = [f.name for f in fields(CellScores)]
        if not isinstance(cell, dict) or set(cell) != set(names):
            raise ValueError(f"{where}: expected an object with {names}")
        for name in ("setting", "query_language", "pool_language"):
            _typed(cell, name, str, f"{where}.")
        for name in ("n_queries", "excluded"):
            if _typed(cell, name, int, f"{where}.") < 0:
                raise ValueError(f"{where}.{name}: negative")
        _numbers(_typed(cell, "values", dict, f"{where}."), f"{where}.values", depth=1)
    for name in ("by_language", "summary"):
        _numbers(_typed(data, name, dict), name, depth=3)


def _typed(parent: dict, name: str, kind: type, where: str = ""):
    value = parent.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{where}{name}: expected {kind.__name__}, found {type(value).__name__}")
    return value


def _numbers(tree: dict, where: str, depth: int) -> None:
    """``depth`` levels of objects keyed by strings whose leaves are finite numbers."""
    for key, value in tree.items():
        here = f"{where}.{key}"
        if depth > 1:
            if not isinstance(value, dict):
                raise ValueError(f"{here}: expected an object, found {type(value).__name__}")
            _numbers(value, here, depth - 1)
        elif type(value) not in (int, float) or not math.isfinite(value):
            raise ValueError(f"{here}: expected a finite number, found {value!r:.40}")
