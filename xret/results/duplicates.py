"""Copies of one result in a results tree count once.

A record's key names its evaluation (model, revision, task, options), so two files with the same
key, e.g. a reference record and its copy beside a reproduction, are one evaluation: its numbers
must agree; its provenance (date, timings, git commit, what was cached) may not.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from xret.errors import DataError
from xret.results.record import ResultRecord


def _numbers(record: ResultRecord) -> tuple:
    return record.cells, record.by_language, record.summary


def distinct(records: Iterable[tuple[Path, ResultRecord]]) -> list[tuple[Path, ResultRecord]]:
    """The first ``(path, record)`` of every key, in the order given; a copy whose numbers differ
    is an error naming both files."""
    kept: dict[str, tuple[Path, ResultRecord]] = {}
    for path, record in records:
        first_path, first = kept.setdefault(record.key, (path, record))
        if first_path != path and _numbers(first) != _numbers(record):
            raise DataError(
                f"{first_path} and {path} are the same evaluation ({record.key}) with different "
                "numbers; keep one of them"
            )
    return list(kept.values())
