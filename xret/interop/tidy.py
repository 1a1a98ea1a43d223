"""``xret export --format parquet``: every stored per-query score as one tidy table, for
re-analysis in pandas, polars, R or DuckDB (docs/export.md).

One row per (record, cell, query, measure): model, revision, task, setting, query_language,
pool_language, query_id, topic (the unit significance tests resample, as
``xret.leaderboards.uncertainty.topic_ids`` says), measure, value. Queries without a value for a
measure (rank distance outside the multilingual pool) have no row. Parquet needs pyarrow
(``xret[parquet]``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xret.errors import DataError, MissingPackageError
from xret.io import atomic_write, ensure_dir
from xret.leaderboards.uncertainty import topic_ids
from xret.results.duplicates import distinct
from xret.results.record import ResultRecord
from xret.results.store import PER_QUERY_KEYS, ResultStore, load_per_query

COLUMNS = (
    "model",
    "revision",
    "task",
    "setting",
    "query_language",
    "pool_language",
    "query_id",
    "topic",
    "measure",
    "value",
)
_ROW_KEY = [c for c in COLUMNS if c not in ("topic", "value")]


@dataclass(frozen=True)
class TidyExport:
    path: Path
    rows: int
    records: int


def per_query_frame(records: Sequence[tuple[Path, ResultRecord]]):
    """The tidy table of the records' per-query scores (columns ``COLUMNS``)."""
    import pandas as pd

    frames = []
    for path, record in records:
        wide = load_per_query(path, record)
        long = wide.melt(id_vars=list(PER_QUERY_KEYS), var_name="measure", value_name="value")
        long = long[long["value"].notna()]
        frames.append(
            long.assign(
                model=record.model.name,
                revision=str(record.model.revision or ""),
                task=record.task.name,
                topic=topic_ids(long["query_id"], record.task.family or ""),
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else str) for c in COLUMNS})
    frame = pd.concat(frames, ignore_index=True)[list(COLUMNS)]
    twice = frame.duplicated(_ROW_KEY)
    if twice.any():
        row = frame[twice].iloc[0]
        raise DataError(
            f"two evaluations of {row['model']} on {row['task']} score {row['query_id']} in "
            f"{row['setting']} {row['query_language']}→{row['pool_language']}; a tidy table "
            "keyed by model, revision and task cannot hold both: export one results folder each"
        )
    return frame


def export_parquet(results_dir: Path, out: Path) -> TidyExport:
    """Write the per-query scores of every record under ``results_dir`` to ``out`` (Parquet)."""
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        raise MissingPackageError(
            "pyarrow", "xret export --format parquet", "'xret[parquet]'"
        ) from None
    records = distinct(ResultStore(results_dir).records())
    if not records:
        raise DataError(f"no result records under {results_dir}")
    frame = per_query_frame(records)
    ensure_dir(out.parent)
    atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))
    return TidyExport(out, len(frame), len(records))
