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
from dataclasses import asdict, dataclass, field
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
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultRecord:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"result schema version {version}, this xret reads {SCHEMA_VERSION}")
        data["cells"] = tuple(CellScores(**c) for c in data["cells"])
        return cls(**data)

    def cell(self, setting: str, query_language: str, pool_language: str) -> CellScores | None:
        for c in self.cells:
            if (c.setting, c.query_language, c.pool_language) == (setting, query_language, pool_language):
                return c
        return None
