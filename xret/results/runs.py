"""TREC run files beside a record (``xret bench --save-run``): output artefacts, not in the key.

Per evaluated cell, ``<record>.runs/<setting>__<query lang>__<pool lang>.run`` holds the standard
six columns ``qid Q0 docid rank score tag`` and ``….qrels`` the judgements that cell was measured
with (``qid 0 docid grade``: the query's judged documents in the pool), so any TREC tool
re-scores the cell from the two files alone. Ids are xret's (``<lang>/<id>``), each written as one
TREC token: an id holding whitespace (which would split it into columns) or ``%`` is written
percent-encoded as UTF-8 (``q 1`` -> ``q%201``; ``urllib.parse.unquote`` gives it back), and the
folder then holds a ``README.txt`` saying so; other ids are written as they are. Scores are the
model's similarities in single precision (trec_eval reads no more); where two are equal, the
later one is moved down by one float32 ulp, so that tools which order by score (trec_eval sorts
ties by docid) keep xret's tie order.

The files are written into a staging folder that replaces ``<record>.runs`` only once the
record is written; a failed or interrupted run leaves the previous runs as they were.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np

from xret.io import ensure_dir, output_error

RUNS_SUFFIX = ".runs"


def runs_dir(record_path: Path) -> Path:
    return record_path.with_suffix(RUNS_SUFFIX)


def strictly_decreasing(scores: Sequence[float]) -> list[float]:
    """The scores in single precision (trec_eval keeps no more), each tie moved one float32
    ulp below the score above it."""
    out: list[np.float32] = []
    for score in np.asarray(scores, dtype=np.float32):
        if out and score >= out[-1]:
            score = np.nextafter(out[-1], np.float32(-np.inf))
        out.append(score)
    return [float(score) for score in out]  # exact: every float32 is a float


ENCODED_NOTE = "README.txt"
_NOTE = (
    "Ids holding whitespace or '%' are percent-encoded as UTF-8 in these TREC files "
    "(e.g. 'q 1' is written 'q%201'): Python's urllib.parse.unquote gives back xret's id.\n"
)


def trec_token(text: str) -> str:
    """``text`` as one whitespace-free TREC column, reversibly (see the module docstring)."""
    if not any(c == "%" or c.isspace() for c in text):
        return text
    return "".join(quote(c, safe="") if c == "%" or c.isspace() else c for c in text)


@dataclass(frozen=True)
class RunWriter:
    folder: Path
    tag: str
    """The run's name in column 6 (one token)."""

    def _token(self, text: str) -> str:
        token = trec_token(text)
        if token != text and not (self.folder / ENCODED_NOTE).exists():
            (self.folder / ENCODED_NOTE).write_text(_NOTE, encoding="utf-8")
        return token

    def write_cell(
        self,
        name: str,
        ranked: Iterable[tuple[str, Sequence[str], Sequence[float]]],
        qrels: Mapping[str, Mapping[str, int]],
    ) -> None:
        """``ranked``: (query id, docids best first, their scores) per scored query; a docid
        listed twice keeps its first (better) place."""
        self._write(f"{name}.run", self._run_lines(ranked))
        self._write(
            f"{name}.qrels",
            (
                f"{self._token(qid)} 0 {self._token(doc)} {grade}\n"
                for qid, judged in qrels.items()
                for doc, grade in judged.items()
            ),
        )

    def _run_lines(self, ranked) -> Iterator[str]:
        for qid, docids, scores in ranked:
            first: dict[str, float] = {}
            for doc, score in zip(docids, scores):
                first.setdefault(doc, score)
            decreasing = strictly_decreasing(list(first.values()))
            query = self._token(qid)
            for rank, (doc, score) in enumerate(zip(first, decreasing), 1):
                yield f"{query} Q0 {self._token(doc)} {rank} {score!r} {self.tag}\n"

    def _write(self, name: str, lines: Iterable[str]) -> None:
        path = self.folder / name
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.writelines(lines)
        except OSError as err:  # a full or read-only disk: one line (the staging is removed)
            raise output_error(path, err) from None


def cell_name(setting: str, query_language: str, pool_language: str) -> str:
    return f"{setting}__{query_language}__{pool_language}"


@contextmanager
def staged_runs(record_path: Path, tag: str, enabled: bool) -> Iterator[RunWriter | None]:
    """A writer into a staging folder, swapped in for ``<record>.runs`` when the block succeeds
    (None when not ``enabled``)."""
    if not enabled:
        yield None
        return
    final = runs_dir(record_path)
    staging = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    ensure_dir(staging)
    try:
        yield RunWriter(staging, "".join(tag.split()) or "xret")
        old = final.with_name(f".{final.name}.{os.getpid()}.old")
        try:
            if final.exists():
                os.replace(final, old)
            os.replace(staging, final)
        except OSError as err:
            raise output_error(final, err) from None
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
