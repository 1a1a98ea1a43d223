"""Where result records live and how they are written: atomically, the JSON last.

Path: ``<root>/<model>/<revision tag>/<task>__<options-hash>.json`` with the per-query scores in
``….queries.csv.gz`` beside it. The JSON is written after the scores, so its presence means the
result is complete; a rerun with the same key skips it unless asked to overwrite.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xret.errors import DataError
from xret.hashing import value_digest
from xret.io import atomic_write_bytes, atomic_write_text, discard, inside
from xret.results.record import MalformedRecord, ResultRecord

PER_QUERY_SUFFIX = ".queries.csv.gz"
FLOAT_FORMAT = "%.6g"
"""How a per-query score is written (blank where a query has none)."""
GZIP_LEVEL = 6
"""zlib's default: level 9 took 0.8 s more on XQuAD-R's table for a file 10% smaller."""


def slug(text: str) -> str:
    """A file-name-safe form of a model or task name (never ``.`` or ``..``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")
    return name if name.strip(".") else "x"


def revision_tag(revision: str) -> str:
    """A short directory name for a revision: 12 characters of a hex digest, else its slug."""
    if re.fullmatch(r"[0-9a-f]{16,}", revision):
        return revision[:12]
    return slug(revision)[:48]


def result_key(task: str, model: str, revision: str, options: dict[str, Any]) -> str:
    digest = value_digest(options)[:10]
    return f"{slug(model)}/{revision_tag(revision)}/{slug(task)}__{digest}"


class ResultStore:
    def __init__(self, root: Path):
        self.root = root

    def json_path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def per_query_path(self, key: str) -> Path:
        return self.root / f"{key}{PER_QUERY_SUFFIX}"

    def has(self, key: str) -> bool:
        return self.json_path(key).is_file()

    def write(self, record: ResultRecord, per_query) -> Path:
        """Write the per-query table (a pandas DataFrame) and then the record."""
        per_query_path = inside(self.root, self.per_query_path(record.key))
        text = _csv_text(per_query).encode("utf-8")
        # No file name or time in the gzip header: the same scores give the same bytes.
        atomic_write_bytes(per_query_path, gzip.compress(text, compresslevel=GZIP_LEVEL, mtime=0))
        path = inside(self.root, self.json_path(record.key))
        try:
            atomic_write_text(path, record.to_json(), kept="result record")
        except BaseException:  # scores without their record are a partial result: none is left
            discard(per_query_path)
            raise
        return path

    def load(self, key: str) -> ResultRecord:
        return load_record(self.json_path(key))

    def records(self) -> Iterator[tuple[Path, ResultRecord]]:
        for path in sorted(self.root.rglob("*.json")):
            data = _read_json(path)
            # Records declare schema_version; other JSON kept beside them (benchmark timings,
            # mteb exports) is passed over.
            if not isinstance(data, dict) or "schema_version" in data:
                yield path, _record(path, data)


def _csv_text(frame) -> str:
    """The CSV ``frame.to_csv(index=False, float_format=FLOAT_FORMAT)`` writes, byte for byte
    (pandas writes through csv.writer too), about twice as fast: each distinct float is
    formatted once, rows go to csv.writer directly (pandas formats every cell in Python:
    seconds for the 300k rows of XQuAD-R with the bias panel)."""
    import csv
    import io

    columns = []
    for column in frame.columns:
        values = frame[column].to_numpy()
        if values.dtype.kind == "f":
            # Distinct by bit pattern: 0.0 and -0.0 are written differently.
            bits, where = np.unique(values.view(f"i{values.itemsize}"), return_inverse=True)
            text = ["" if np.isnan(v) else FLOAT_FORMAT % v for v in bits.view(values.dtype)]
            values = np.array(text, dtype=object)[where]
        columns.append(values.tolist())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(frame.columns))
    writer.writerows(zip(*columns))
    return out.getvalue()


def load_record(path: Path) -> ResultRecord:
    return _record(path, _read_json(path))


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable xret result record ({err})") from None
    except RecursionError:
        raise DataError(f"{path}: not a readable xret result record (nested too deeply)") from None


def _record(path: Path, data) -> ResultRecord:
    try:
        return ResultRecord.from_dict(data)
    except MalformedRecord as err:  # anything else raised here is a bug, with its traceback
        raise DataError(f"{path}: not a readable xret result record ({err})") from None


PER_QUERY_KEYS = ("setting", "query_language", "pool_language", "query_id")


def load_per_query(json_path: Path, record: ResultRecord, measures: Sequence[str] | None = None):
    """The per-query scores of a record as a pandas DataFrame: the key columns, then one numeric
    column per measure (blank where a query has no value); only ``measures`` when given."""
    import pandas as pd

    if record.per_query is None:
        raise DataError(f"{json_path}: the record has no per-query scores")
    path = json_path.parent / record.per_query
    wanted = None if measures is None else {*PER_QUERY_KEYS, *measures}
    try:
        frame = _read_typed(path, wanted)
    except ImportError:  # pyarrow is optional (the parquet and test extras)
        frame = None
    except (OSError, ValueError, EOFError, zlib.error):
        frame = None  # the checked reader below says what is wrong
    if frame is None:
        try:
            frame = pd.read_csv(
                path,
                dtype=dict.fromkeys(PER_QUERY_KEYS, "category"),
                usecols=None if wanted is None else lambda column: column in wanted,
            )
        except (OSError, ValueError, EOFError, zlib.error) as err:  # torn gzip: EOFError
            why = f"{type(err).__name__}: {err}"
            raise DataError(f"{path}: cannot read per-query scores ({why})") from None
    missing = [key for key in PER_QUERY_KEYS if key not in frame.columns]
    if missing:
        raise DataError(f"{path}: per-query scores lack the columns {missing}")
    for column in frame.columns.difference(PER_QUERY_KEYS):
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or np.isinf(values).any():
            raise DataError(f"{path}: per-query column {column!r} holds values that are not scores")
    if frame[list(PER_QUERY_KEYS)].isna().any().any():
        raise DataError(f"{path}: per-query scores with blank keys")
    _check_against_record(path, frame, record)
    return frame


def _read_typed(path: Path, wanted: set[str] | None):
    """The table as written by the store, read fast: pyarrow's threaded reader with every
    column's type given (keys repeat, a row per cell for each query: categories; every other
    column a score). Anything unexpected raises, and the caller reads it the checked way."""
    import pandas as pd

    header = pd.read_csv(path, nrows=0).columns
    if not set(PER_QUERY_KEYS) <= set(header) or header.duplicated().any():
        raise ValueError("not a table as the store writes it")
    columns = [c for c in header if wanted is None or c in wanted]
    types = {c: "category" if c in PER_QUERY_KEYS else "float64" for c in columns}
    return pd.read_csv(path, engine="pyarrow", usecols=columns, dtype=types)


def _check_against_record(path: Path, frame, record: ResultRecord) -> None:
    """One row per (cell, query), and exactly the record's cells with their ``n_queries``: a
    duplicated or missing row would change every statistic computed from the table."""
    import pandas as pd

    # Integer codes of the keys: checking string columns directly is the slow part of a load.
    cell_codes, cell_keys = _codes(frame, PER_QUERY_KEYS[:3])
    query_codes, query_ids = pd.factorize(frame["query_id"])
    twice = pd.Index(cell_codes * len(query_ids) + query_codes).duplicated()
    if twice.any():
        setting, query, pool, qid = frame.iloc[int(twice.argmax())][list(PER_QUERY_KEYS)]
        raise DataError(
            f"{path}: query {qid} of {setting} {query}→{pool} has more than one row "
            f"({int(twice.sum())} repeated rows)"
        )
    counts = np.bincount(cell_codes, minlength=len(cell_keys))
    rows = {key: int(count) for key, count in sorted(zip(cell_keys, counts))}
    for cell in record.cells:
        found = rows.pop((cell.setting, cell.query_language, cell.pool_language), 0)
        if found != cell.n_queries:
            raise DataError(
                f"{path}: {found} rows for {cell.setting} {cell.query_language}→"
                f"{cell.pool_language}, the record says {cell.n_queries} queries"
            )
    if rows:
        setting, query, pool = next(iter(rows))
        raise DataError(f"{path}: rows for {setting} {query}→{pool}, a cell the record lacks")


def _codes(frame, columns: Sequence[str]):
    """Integer codes of the rows' distinct tuples of ``columns`` (no blanks), and those tuples."""
    import pandas as pd

    codes = np.zeros(len(frame), dtype=np.int64)
    keys: list[tuple] = [()]
    for column in columns:
        column_codes, names = pd.factorize(frame[column])
        # Refactorize after each column so the combined code stays below len(frame) ** 2.
        codes, combined = pd.factorize(codes * len(names) + column_codes)
        keys = [(*keys[k // len(names)], names[k % len(names)]) for k in combined]
    return codes, keys
