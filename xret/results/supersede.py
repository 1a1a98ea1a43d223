"""How a stored record gains measures (the bias panel, or any measure added later).

A bench whose measures are a superset of a stored record's, everything else equal (its key,
recomputed with the stored measure list, is the stored key), evaluates again from the cached
vectors, checks that every number the stored record holds comes out the same to the last digit
written (cells, per-language values, summaries, per-query scores), and replaces it: the new
record keeps the old numbers byte for byte, adds the new ones, and names what it supersedes in
its provenance. A number that moved is an error, and nothing is replaced.

When the cached vectors are gone, encoding again gives float32 vectors that differ in their last
bits (batches are made of other texts), and near-ties can swap: MAP moved by 1.4e-4 on one
XQuAD-R cell. ``accept_drift`` (``--accept-drift``) then bounds how far any stored aggregate
number may have moved; within it, the stored numbers are kept as they were, the new measures come
from the new vectors, and the record's provenance says how many numbers moved and by how much.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from xret.errors import DataError
from xret.io import discard
from xret.results.record import ResultRecord
from xret.results.store import (
    FLOAT_FORMAT,
    PER_QUERY_KEYS,
    ResultStore,
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


@dataclass(frozen=True)
class Drift:
    """How far a re-evaluation moved a stored record's numbers. A move is relative to the
    stored value where that exceeds 1 (rank distances), absolute below (every [0, 1] measure)."""

    numbers: int
    moved: int
    largest: float
    largest_at: str
    """Where the largest move is ('' when none moved)."""
    first: str
    """The first moved number, as the error shows it ('' when none moved)."""
    per_query: int
    per_query_moved: int

    @property
    def exact(self) -> bool:
        return self.moved == 0 and self.per_query_moved == 0

    def as_dict(self) -> dict:
        return {
            "numbers": self.numbers,
            "moved": self.moved,
            "largest_move": self.largest,
            "largest_at": self.largest_at,
            "per_query_values": self.per_query,
            "per_query_moved": self.per_query_moved,
        }


def measure_drift(old_path: Path, old: ResultRecord, stored, new: ResultRecord, per_query) -> Drift:
    """Every number of ``old`` (``stored``: its per-query table) against the new record's
    (``per_query``: the new per-query table, as the store writes it). A number the new record
    lacks, or a cell with other query counts, is another evaluation: a DataError."""
    for cell in old.cells:
        now = new.cell(cell.setting, cell.query_language, cell.pool_language)
        if now is None or (now.n_queries, now.excluded) != (cell.n_queries, cell.excluded):
            raise DataError(
                f"{old_path}: cell {cell.setting}/{cell.query_language}/{cell.pool_language} "
                "holds other queries now; the stored record is kept"
            )
    fresh = dict(_numbers(new))
    numbers = moved = 0
    largest, largest_at, first = 0.0, "", ""
    for where, value in _numbers(old):
        if where not in fresh:
            raise DataError(f"{old_path}: {where} is missing now; the stored record is kept")
        numbers += 1
        if repr(fresh[where]) != repr(value):
            moved += 1
            move = abs(fresh[where] - value) / max(1.0, abs(value))
            if move > largest:
                largest, largest_at = move, where
            first = first or f"{where} is {value} there but {fresh[where]} now"
    total, per_query_moved, first_row = _per_query_drift(stored, per_query)
    return Drift(numbers, moved, largest, largest_at, first or first_row, total, per_query_moved)


def _per_query_drift(stored, per_query) -> tuple[int, int, str]:
    """How many stored per-query values there are, how many moved, and the first that did."""
    merged = stored.merge(per_query, on=list(PER_QUERY_KEYS), how="left", suffixes=("", "~new"))
    total = moved = 0
    first = ""
    for column in stored.columns.difference(PER_QUERY_KEYS):
        # Compared as the store writes them: the per-query file holds FLOAT_FORMAT text.
        was = _as_written(stored[column].to_numpy())
        now = _as_written(merged[f"{column}~new"].to_numpy(dtype=np.float64))
        changed = np.flatnonzero(now != was)
        total, moved = total + len(was), moved + len(changed)
        if len(changed) and not first:
            row = stored.iloc[changed[0]]
            first = (
                f"query {row['query_id']} ({row['setting']}/{row['query_language']}/"
                f"{row['pool_language']}) {column} is {was[changed[0]]} there but "
                f"{now[changed[0]] or 'missing'} now"
            )
    return total, moved, first


def _as_written(values: np.ndarray) -> np.ndarray:
    return np.array(["" if np.isnan(v) else FLOAT_FORMAT % v for v in values])


def check_reproduced(
    old_path: Path,
    old: ResultRecord,
    stored,
    new: ResultRecord,
    per_query,
    accept_drift: float | None = None,
) -> Drift:
    """How the new record reproduces ``old`` (``stored``: its per-query table, read once by the
    caller): exactly, or (with ``accept_drift``) every stored number within that relative move;
    otherwise a DataError naming the first that moved."""
    drift = measure_drift(old_path, old, stored, new, per_query)
    if drift.exact or (accept_drift is not None and drift.largest <= accept_drift):
        return drift
    hint = (
        f"; its largest move is {drift.largest:.2g} ({drift.largest_at}): if its vectors were "
        "encoded again (the cache was lost), --accept-drift TOL keeps its numbers and adds the "
        "new measures"
        if accept_drift is None
        else f" (its largest move, {drift.largest:.2g} at {drift.largest_at}, exceeds "
        f"--accept-drift {accept_drift:g})"
    )
    raise DataError(
        f"{old_path}: {drift.first}; the stored record is kept (it can gain measures only where "
        f"its numbers come out the same{hint})"
    )


def keep_stored(
    old: ResultRecord, stored, new: ResultRecord, per_query, drift: Drift
) -> tuple[ResultRecord, object]:
    """The new record and per-query table with every number ``old`` holds put back as stored
    (its JSON value, its per-query text), and the drift named in the provenance."""
    stored_cells = {(c.setting, c.query_language, c.pool_language): c for c in old.cells}
    cells = tuple(
        replace(c, values={**c.values, **stored_cells[key].values})
        if (key := (c.setting, c.query_language, c.pool_language)) in stored_cells
        else c
        for c in new.cells
    )
    extras = {**new.provenance.extras, "kept_numbers": drift.as_dict()}
    record = replace(
        new,
        cells=cells,
        by_language=_overlay(new.by_language, old.by_language),
        summary=_overlay(new.summary, old.summary),
        provenance=replace(new.provenance, extras=extras),
    )
    keys = list(PER_QUERY_KEYS)
    table = per_query.merge(stored, on=keys, how="left", suffixes=("", "~old"), indicator=True)
    in_stored = table["_merge"] == "both"  # a stored blank stays blank
    for column in stored.columns.difference(PER_QUERY_KEYS):
        table[column] = table[f"{column}~old"].where(in_stored, table[column])
    return record, table[list(per_query.columns)]


def _overlay(new: dict, old: dict) -> dict:
    """Nested per-language / summary numbers: the new ones with the stored ones put back."""
    return {
        outer: {
            middle: {**values, **old.get(outer, {}).get(middle, {})}
            for middle, values in inner.items()
        }
        for outer, inner in new.items()
    }


def supersedes(old: ResultRecord) -> dict:
    """What the new record's provenance says of the record it replaces."""
    return {
        "key": old.key,
        "measures": list(old.options.measures),
        "created": old.provenance.created,
        "git_commit": old.provenance.git_commit,
        "encode": dict(old.provenance.encode),
    }
