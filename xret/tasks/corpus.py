"""Passage corpora too large to hold in memory: JSON-lines shards, read one passage at a time.

The format is the one MIRACL publishes (``miracl/miracl-corpus`` on Hugging Face): a directory
of shards ``docs-<i>.jsonl`` or ``docs-<i>.jsonl.gz``, one JSON object per line with the string
fields ``docid``, ``title`` and ``text`` (``title`` may be absent). Shards are read in the
numeric order of ``<i>``; that order, then the line order, is the corpus order that breaks ties.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from xret.errors import DataError
from xret.tasks.records import Document

_SHARD = re.compile(r"^docs-(\d+)\.jsonl(\.gz)?$")
_SPACE = re.compile(r"\s")  # a docid must be one TREC token


@dataclass(frozen=True)
class Corpus:
    name: str
    """Identity of the corpus, e.g. ``miracl-corpus-v1.0-sw``; part of the embedding-cache key."""
    language: str
    shards: tuple[Path, ...]
    expected_passages: int | None = None
    """The published passage count, when there is one to compare with."""

    def passages(self) -> Iterator[Document]:
        for shard in self.shards:
            yield from read_shard(shard, self.language)


def find_shards(directory: Path) -> tuple[Path, ...]:
    """The ``docs-<i>.jsonl[.gz]`` files of a corpus directory, in shard order."""
    if not directory.is_dir():
        raise DataError(
            f"{directory}: no such corpus directory (expected docs-<i>.jsonl.gz shards there, "
            "laid out as in miracl/miracl-corpus)"
        )
    found: dict[int, Path] = {}
    for path in directory.iterdir():
        match = _SHARD.match(path.name)
        if match is None:
            continue
        index = int(match[1])
        if index in found:
            raise DataError(
                f"{directory}: shard {index} exists twice ({found[index].name}, {path.name})"
            )
        found[index] = path
    if not found:
        raise DataError(f"{directory}: no docs-<i>.jsonl or docs-<i>.jsonl.gz shards")
    return tuple(found[i] for i in sorted(found))


def _field(obj: dict, name: str, required: bool = True) -> str:
    value = obj.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (name == "docid" and (not value or _SPACE.search(value))):
        raise ValueError(f"field {name!r} is {'missing' if value is None else repr(value)[:40]}")
    return value


def read_shard(path: Path, language: str) -> Iterator[Document]:
    """The passages of one shard; a malformed line raises a DataError naming file and line."""
    number = 0
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    obj = json.loads(line)
                    if not isinstance(obj, dict):
                        raise ValueError("not a JSON object")
                    doc = Document(
                        id=_field(obj, "docid"),
                        language=language,
                        text=_field(obj, "text"),
                        context=_field(obj, "title", required=False),
                    )
                except ValueError as err:  # json.JSONDecodeError is a ValueError
                    raise DataError(f"{path}:{number}: not a corpus passage ({err})") from None
                yield doc
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as err:
        raise DataError(f"{path}: unreadable after line {number} ({err})") from None


def passage_label(title: bool) -> str:
    """What is encoded of a passage, as options, keys and records name it."""
    return "title+text" if title else "text"


def passage_text(document: Document, with_title: bool) -> str:
    """What is encoded for a passage: ``title text`` (the BEIR/MTEB convention) or the text
    alone."""
    if with_title and document.context:
        return f"{document.context} {document.text}"
    return document.text
