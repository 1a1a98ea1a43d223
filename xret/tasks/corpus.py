"""Passage corpora too large to hold in memory: JSON-lines shards, read one passage at a time.

The format is the one MIRACL publishes (``miracl/miracl-corpus`` on Hugging Face): a directory
of shards ``docs-<i>.jsonl`` or ``docs-<i>.jsonl.gz``, one JSON object per line with the string
fields ``docid``, ``title`` and ``text`` (``title`` may be absent). Shards are read in the
numeric order of ``<i>``; that order, then the line order, is the corpus order that breaks ties.

A corpus task (MIRACL, ``trec`` task files) loads as ``CorpusTaskData``: its corpora are found
where its task file names them, else below ``--corpus-dir`` in MIRACL's published layout
(``task_corpus``), whatever strategy then reads them.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xret.errors import DataError
from xret.tasks.records import Document, TaskData
from xret.tasks.spec import TaskSpec

_SHARD = re.compile(r"^docs-(\d+)\.jsonl(\.gz)?$")
_SPACE = re.compile(r"\s")  # a docid must be one TREC token
CORPUS_REPOSITORY = "https://huggingface.co/datasets/miracl/miracl-corpus"
CORPUS_REVISION = "d921ec7e349ce0d28daf30b2da9da5ee698bef0d"
"""The dataset commit pinned by independent public projects; not verifiable offline
(docs/miracl.md)."""
CORPUS_HINT = (
    f"DIR/miracl-corpus-v1.0-<lang>/docs-<i>.jsonl.gz as published at {CORPUS_REPOSITORY} "
    f"(revision {CORPUS_REVISION[:12]}; not checksum-pinned)"
)


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


@dataclass(frozen=True)
class CorpusTaskData(TaskData):
    """A corpus task's data (MIRACL, trec-format task files): topics and qrels in ``queries`` and
    ``qrels``, no ``documents``: the passages stay in their shards, read while they are encoded."""

    corpora: Mapping[str, Corpus] = field(default_factory=dict)
    """Language -> its corpus (empty when no corpus was given)."""


def corpus_name(language: str) -> str:
    return f"miracl-corpus-v1.0-{language}"


def task_corpus(
    spec: TaskSpec, corpus_dir: Path | None, language: str
) -> tuple[str, tuple[Path, ...]]:
    """(name, shards) of ``language``'s corpus: the folder a task file names (format trec), else
    MIRACL's layout below ``corpus_dir``."""
    if language in spec.corpora:
        folder = spec.root / spec.corpora[language]
        return folder.name, find_shards(folder)
    if corpus_dir is None:
        raise DataError(
            f"{spec.name}: no corpus for {language}: pass --corpus-dir DIR with {CORPUS_HINT}"
        )
    return corpus_name(language), corpus_shards(corpus_dir, language)


def corpus_shards(corpus_dir: Path, language: str) -> tuple[Path, ...]:
    """The shards of ``language``'s corpus below ``corpus_dir``, in corpus order."""
    folder = corpus_dir / corpus_name(language)
    if not folder.is_dir():
        raise DataError(
            f"{folder}: no corpus for {language}; expected {CORPUS_HINT} "
            "(evaluate the languages you have with --languages)"
        )
    return find_shards(folder)
