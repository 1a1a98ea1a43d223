"""How a stored record gains measures (the bias panel, or any measure added later).

A bench whose measures are a superset of a stored record's, everything else equal (its key,
recomputed with the stored measure list, is the stored key), evaluates again from the cached
vectors, checks that every number the stored record holds comes out the same to the last digit
written (cells, per-language values, summaries, per-query scores), and replaces it: the new
record keeps the old numbers byte for byte, adds the new ones, and names what it supersedes in
its provenance. A number that moved is an error, and nothing is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import numpy as np

from xret.errors import DataError
from xret.io import discard
from xret.results.record import ResultRecord
from xret.results.store import (
    FLOAT_FORMAT,
    PER_QUERY_KEYS,
    ResultStore,
    load_per_query,
    load_record,
    slug,
)


def find_superseded(
    store: ResultStore,
    key: str,
    task: str,
    measures: Collection[str],
    key_with: Callable[[tuple[str, ...]], str],
) -> tuple[Path, ResultRecord] | None:
    """The stored record of this evaluation with a subset of ``measures``, if any.
    ``key_with(measures)``: the key the evaluation would have with that measure list."""
    folder = store.json_path(key).parent
    for path in sorted(folder.glob(f"{slug(task)}__*.json")) if folder.is_dir() else ():
        if path == store.json_path(key):
            continue
        record = load_record(path)
        if (
            set(record.options.measures) <= set(measures)
            and key_with(record.options.measures) == record.key
            and path == store.json_path(record.key)
        ):
            return path, record
    return None


def discard_record(path: Path, record: ResultRecord) -> None:
    """Remove a superseded record: its per-query scores, then the record."""
    if record.per_query:
        discard(path.parent / record.per_query)
    discard(path)


def _numbers(record: ResultRecord) -> Iterator[tuple[str, float]]:
    for cell in record.cells:
        for measure, value in cell.values.items():
            yield f"cell {cell.setting}/{cell.query_language}/{cell.pool_language} {measure}", value
    for name, nested in (("by language", record.by_language), ("summary", record.summary)):
        for outer, inner in nested.items():
            for middle, values in inner.items():
                for last, value in values.items():
                    yield f"{name} {outer}/{middle}/{last}", value


def check_reproduced(old_path: Path, old: ResultRecord, new: ResultRecord, per_query) -> int:
    """How many numbers of ``old`` the new record reproduces (all, or a DataError naming the
    first that moved). ``per_query``: the new per-query table, as the store writes it."""
    fresh = dict(_numbers(new))
    count = 0
    for where, value in _numbers(old):
        if where not in fresh or repr(fresh[where]) != repr(value):
            raise DataError(
                f"{old_path}: {where} is {value} there but {fresh.get(where)} now; the stored "
                "record is kept (it can gain measures only where its numbers come out the same)"
            )
        count += 1
    stored = load_per_query(old_path, old)
    merged = stored.merge(per_query, on=list(PER_QUERY_KEYS), how="left", suffixes=("", "~new"))
    for column in stored.columns.difference(PER_QUERY_KEYS):
        was = stored[column].to_numpy()
        now = merged[f"{column}~new"].to_numpy(dtype=np.float64)
        # Compared as the store writes them: the per-query file holds FLOAT_FORMAT text.
        now_text = np.array(["" if np.isnan(v) else FLOAT_FORMAT % v for v in now])
        was_text = np.array(["" if np.isnan(v) else FLOAT_FORMAT % v for v in was])
        moved = np.flatnonzero(now_text != was_text)
        if len(moved):
            row = stored.iloc[moved[0]]
            raise DataError(
                f"{old_path}: query {row['query_id']} ({row['setting']}/{row['query_language']}/"
                f"{row['pool_language']}) {column} is {was_text[moved[0]]} there but "
                f"{now_text[moved[0]] or 'missing'} now; the stored record is kept"
            )
        count += len(was)
    return count


def supersedes(old: ResultRecord) -> dict:
    """What the new record's provenance says of the record it replaces."""
    return {
        "key": old.key,
        "measures": list(old.options.measures),
        "created": old.provenance.created,
        "git_commit": old.provenance.git_commit,
        "encode": dict(old.provenance.encode),
    }
