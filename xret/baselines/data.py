"""Parallel question–passage training data from SQuAD-format files, and its contamination guard.

Several SQuAD-format files (one per language) that share question ids are joined by id into
``ParallelItem``s: one question and its passage in every language where that id exists. The passage
is the answer's sentence (``PassageUnit.SENTENCE``) or its paragraph (``PassageUnit.PARAGRAPH``).
"""

from __future__ import annotations

import bisect
import enum
import gzip
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from xret.errors import DataError, UnknownNameError

PathLike = str | os.PathLike


class PassageUnit(enum.Enum):
    """A training passage: the answer sentence (the LAReQA candidate unit) or its paragraph."""

    SENTENCE = "sentence"
    PARAGRAPH = "paragraph"


@dataclass(frozen=True)
class QAPair:
    question: str
    passage: str


@dataclass(frozen=True)
class ParallelItem:
    """One question id with its question and passage in each language where the id exists."""

    id: str
    source: str
    article: str
    by_language: Mapping[str, QAPair] = field(hash=False)

    def __post_init__(self) -> None:
        if not self.by_language:
            raise ValueError(f"item {self.id!r} has no language")
        # A read-only copy, so the caller's dict can neither change the item nor be changed by it.
        object.__setattr__(self, "by_language", MappingProxyType(dict(self.by_language)))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.by_language))


# Files of the training sources in the shared data layout, relative to the data directory.
# squad-it-es: both files translate SQuAD v1.1 dev, so they share the 48 articles of XQuAD (under
# translated titles); remove XQuAD by question id with ``drop_overlap`` before training.
# mlqa-dev: the MLQA-R evaluation files themselves; usable only where MLQA-R is not evaluated
# (e.g. as a held-out validation set). English comes first so that its titles name the articles.
TRAINING_SOURCES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "squad-it-es": {
            "it": "squad-it/SQuAD_it-test.json.gz",
            "es": "squad-es/dev-v1.1-es_small.json",
        },
        "mlqa-dev": {
            lang: f"mlqa-r/{lang}.json" for lang in ("en", "ar", "de", "es", "hi", "vi", "zh")
        },
    }
)


def source_files(name: str, data_dir: PathLike) -> dict[str, Path]:
    """``{language: path}`` of a training source in ``TRAINING_SOURCES`` under ``data_dir``."""
    if name not in TRAINING_SOURCES:
        raise UnknownNameError("training source", name, TRAINING_SOURCES)
    return {lang: Path(data_dir) / rel for lang, rel in TRAINING_SOURCES[name].items()}


@dataclass(frozen=True)
class ParallelData:
    """A source's items, and the (language, question id) pairs left out for lack of an answer."""

    source: str
    items: tuple[ParallelItem, ...]
    unanswered: tuple[tuple[str, str], ...]


def load_source(
    name: str, data_dir: PathLike, unit: PassageUnit = PassageUnit.SENTENCE
) -> ParallelData:
    return load_parallel(name, source_files(name, data_dir), unit=unit)


def load_parallel(
    source: str, files: Mapping[str, PathLike], *, unit: PassageUnit = PassageUnit.SENTENCE
) -> ParallelData:
    """Join per-language SQuAD-format files (plain or ``.gz``) by question id; items sorted by id.

    An item exists for every id answered in at least one file. Its article is the title in the first
    language of ``files`` that has the id (titles are translated in some sources).
    """
    articles: dict[str, str] = {}
    by_id: dict[str, dict[str, QAPair]] = {}
    unanswered: list[tuple[str, str]] = []
    for lang, path in files.items():
        for qid, title, pair in _read_squad(Path(path), unit):
            if pair is None:
                unanswered.append((lang, qid))
                continue
            articles.setdefault(qid, title)
            by_id.setdefault(qid, {})[lang] = pair
    items = tuple(ParallelItem(qid, source, articles[qid], by_id[qid]) for qid in sorted(by_id))
    return ParallelData(source, items, tuple(unanswered))


# Sentence rule for files without ``sentence_breaks``: a sentence ends after . ! ? … ؟ । ۔ and the
# whitespace that follows, unless the next character is a lower-case letter or a digit (so "e.g.
# this" and "ca. 1500" stay whole), or right after the CJK stops 。！？. Known limits: an
# abbreviation before a capital ("U.S. Army") splits, and scripts without sentence punctuation
# (Thai) never split: use PARAGRAPH there.
_SENTENCE_END = re.compile(r"(?<=[.!?…؟।۔])\s+|(?<=[。！？])\s*")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` character spans of the sentences of ``text`` under the rule above."""
    spans = []
    start = len(text) - len(text.lstrip())
    for match in _SENTENCE_END.finditer(text):
        following = text[match.end() : match.end() + 1]
        if following.islower() or following.isdigit():
            continue
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    tail = len(text.rstrip())
    if tail > start:
        spans.append((start, tail))
    return spans


def _read_squad(path: Path, unit: PassageUnit) -> Iterable[tuple[str, str, QAPair | None]]:
    """(question id, article title, pair) for every question of one SQuAD-format file; the pair is
    None when no answer has text."""
    data = _read_json(path)
    seen: set[str] = set()
    try:
        for article in data["data"]:
            title = article["title"]
            for para in article["paragraphs"]:
                context = para["context"]
                breaks = para.get("sentence_breaks")
                spans = [tuple(b) for b in breaks] if breaks is not None else None
                for qa in para["qas"]:
                    qid = qa["id"]
                    if qid in seen:
                        raise DataError(f"{path}: question id {qid!r} occurs twice")
                    seen.add(qid)
                    span = _answer_span(path, qid, qa["answers"], len(context))
                    if span is None:
                        yield qid, title, None
                        continue
                    passage = _passage(path, qid, context, spans, *span, unit)
                    yield qid, title, QAPair(qa["question"], passage)
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"{path}: not SQuAD format ({type(err).__name__}: {err})") from None


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read JSON ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: not SQuAD format (top level is not an object)")
    return data


def _answer_span(
    path: Path, qid: str, answers: Sequence[dict], context_len: int
) -> tuple[int, int] | None:
    """``[start, end)`` of the first answer that has text, or None when none has.

    Answers with empty text carry no position: SQuAD-es marks answers its alignment lost with
    ``{"text": "", "answer_start": -1}`` (1,194 of its 6,583 questions have such a first answer,
    none has only such answers); SQuAD-it has one question ("d250") with only empty answers.
    """
    for answer in answers:
        text, start = answer["text"], answer["answer_start"]
        if not text:
            continue
        if not 0 <= start < context_len:
            raise DataError(
                f"{path}: question {qid!r} has answer_start {start} outside its context "
                f"of {context_len} characters"
            )
        return start, min(start + len(text), context_len)
    return None


def _passage(
    path: Path,
    qid: str,
    context: str,
    spans: list[tuple[int, int]] | None,
    start: int,
    end: int,
    unit: PassageUnit,
) -> str:
    if unit is PassageUnit.PARAGRAPH:
        return context
    if spans is not None:
        # The file's sentences: gold is the one holding answer_start (LAReQA's rule).
        for s, e in spans:
            if s <= start < e:
                return context[s:e]
        raise DataError(
            f"{path}: answer_start {start} of question {qid!r} is in no sentence_breaks span"
        )
    # Our own split: take every sentence the answer touches; a split inside an answer is wrong.
    own = split_sentences(context) or [(0, len(context))]
    ends = [e for _, e in own]
    first = min(bisect.bisect_right(ends, start), len(own) - 1)
    last = min(bisect.bisect_right(ends, end - 1), len(own) - 1)
    return context[own[first][0] : own[last][1]]


@dataclass(frozen=True)
class EvalKeys:
    """What identifies evaluation material: its question ids and its article titles."""

    question_ids: frozenset[str]
    articles: frozenset[str]


def eval_keys(paths: Iterable[PathLike]) -> EvalKeys:
    """Question ids and article titles of SQuAD-format evaluation files (XQuAD, MLQA-R, ...)."""
    ids: set[str] = set()
    titles: set[str] = set()
    for path in paths:
        path = Path(path)
        data = _read_json(path)
        try:
            for article in data["data"]:
                titles.add(article["title"])
                ids.update(qa["id"] for para in article["paragraphs"] for qa in para["qas"])
        except (KeyError, TypeError) as err:
            raise DataError(f"{path}: not SQuAD format ({type(err).__name__}: {err})") from None
    return EvalKeys(frozenset(ids), frozenset(titles))


def normalize_title(title: str) -> str:
    """Titles compare case-blind with ``_`` as a space ("Super_Bowl_50" = "Super Bowl _ 50")."""
    return " ".join(title.replace("_", " ").casefold().split())


@dataclass(frozen=True)
class Dropped:
    """What ``drop_overlap`` removed, by reason, for a model's provenance.

    An item matching both reasons is listed under ``question_id`` only.
    """

    question_id: tuple[str, ...]
    article: tuple[str, ...]
    kept: int

    @property
    def counts(self) -> dict[str, int]:
        return {
            "question_id": len(self.question_id),
            "article": len(self.article),
            "kept": self.kept,
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "question_id": list(self.question_id),
            "article": list(self.article),
        }


def drop_overlap(
    items: Iterable[ParallelItem], eval_question_ids: Iterable[str], eval_articles: Iterable[str]
) -> tuple[tuple[ParallelItem, ...], Dropped]:
    """Remove items whose question id, or whose article title (see ``normalize_title``), is in the
    evaluation data. Titles only match in the same language: a translated title is not caught."""
    ids = frozenset(eval_question_ids)
    titles = frozenset(normalize_title(t) for t in eval_articles)
    kept: list[ParallelItem] = []
    by_id: list[str] = []
    by_article: list[str] = []
    for item in items:
        if item.id in ids:
            by_id.append(item.id)
        elif normalize_title(item.article) in titles:
            by_article.append(item.id)
        else:
            kept.append(item)
    return tuple(kept), Dropped(tuple(by_id), tuple(by_article), len(kept))
