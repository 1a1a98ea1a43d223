"""XQuAD-R and MLQA-R (LAReQA): sentence candidates pooled over languages (protocol.md §2.1).

Candidates are every sentence of every paragraph of every language, duplicates kept; a
question's gold, in every language where its id exists, is the sentence whose span holds the
answer's ``answer_start``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from xret.errors import DataError
from xret.measures.table import BIAS_PANEL_DEFAULT
from xret.tasks.records import Document, Query, TaskData
from xret.tasks.spec import Aggregate, Setting, TaskSpec

LAREQA_MEASURES = (
    *("MAP", "MRR", "nDCG@10", "R@1", "R@10", "R@100", "Hit@1", "Hit@10", "RD"),
    *BIAS_PANEL_DEFAULT,
)


@dataclass(frozen=True)
class LareqaCounts:
    """Pinned counts (LAReQA README, protocol.md §2.1), asserted after every load."""

    queries: Mapping[str, int]
    candidates: Mapping[str, int]
    relevant_per_query: Mapping[int, int] | None = None
    """Number of relevant candidates -> number of queries, over the full task, when pinned."""
    pair_queries: Mapping[tuple[str, str], int] | None = None
    """(query language, pool language) -> queries with a gold there, when not all of them."""


@dataclass(frozen=True)
class _Question:
    text: str
    gold: str  # document id


def _read_json(path: Path) -> object:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read LAReQA JSON ({err})") from None
    except RecursionError:
        raise DataError(f"{path}: cannot read LAReQA JSON (nested too deeply)") from None


class _Malformed(Exception):
    """Where in the document (a JSON path) and what is wrong there."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")


def _kind(value: object) -> str:
    return (
        "null"
        if value is None
        else {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
            type(value), "a number"
        )
    )


def _get(parent: object, where: str, key: str, kind: type) -> tuple:
    """(``parent[key]`` checked to be a ``kind``, its JSON path)."""
    if not isinstance(parent, dict):
        raise _Malformed(where, f"expected an object, found {_kind(parent)}")
    path = f"{where}.{key}" if where else key
    if key not in parent:
        raise _Malformed(where or "top level", f"missing {key!r}")
    return _checked(parent[key], path, kind), path


def _checked(value: object, where: str, kind: type):
    # bool is an int to Python, never to a LAReQA file
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = {str: "a string", int: "an integer", list: "an array", dict: "an object"}[kind]
        raise _Malformed(where, f"expected {expected}, found {_kind(value)}")
    if kind is str and not value.strip():
        raise _Malformed(where, "empty text")
    return value


def _spans(breaks: object, where: str, context: str) -> list[tuple[int, int]]:
    """Sentence spans: non-empty, in order, not overlapping, inside the context."""
    spans, end = [], 0
    for i, span in enumerate(_checked(breaks, where, list)):
        if not isinstance(span, list) or len(span) != 2:
            raise _Malformed(f"{where}[{i}]", f"expected [start, end], found {_kind(span)}")
        b, e = (_checked(x, f"{where}[{i}][{j}]", int) for j, x in enumerate(span))
        if not end <= b < e <= len(context):
            raise _Malformed(
                f"{where}[{i}]",
                f"span [{b}, {e}] is empty, overlaps the one before or leaves the context "
                f"({len(context)} characters)",
            )
        spans.append((b, e))
        end = e
    return spans


def _parse_language(path: Path, language: str) -> tuple[list[Document], dict[str, _Question]]:
    try:
        documents, questions = _parse_document(_read_json(path), language)
    except _Malformed as err:
        raise DataError(f"{path}: {err}") from None
    if not questions:
        raise DataError(f"{path}: no questions")
    return documents, questions


def _parse_document(doc: object, language: str) -> tuple[list[Document], dict[str, _Question]]:
    documents: list[Document] = []
    questions: dict[str, _Question] = {}
    articles, where = _get(doc, "", "data", list)
    p_index = 0  # over all articles: part of the candidate ids
    for a_index, article in enumerate(articles):
        paragraphs, a_where = _get(article, f"{where}[{a_index}]", "paragraphs", list)
        for j, paragraph in enumerate(paragraphs):
            here = f"{a_where}[{j}]"
            context, _ = _get(paragraph, here, "context", str)
            sentences, s_where = _get(paragraph, here, "sentences", list)
            sentences = [_checked(s, f"{s_where}[{i}]", str) for i, s in enumerate(sentences)]
            breaks, b_where = _get(paragraph, here, "sentence_breaks", list)
            spans = _spans(breaks, b_where, context)
            if len(spans) != len(sentences):
                found = f"{len(sentences)} sentences but {len(spans)} sentence_breaks"
                raise _Malformed(here, found)
            ids = [f"{language}/{p_index}/{s_index}" for s_index in range(len(spans))]
            documents.extend(
                Document(id=doc_id, language=language, text=sentence, context=context)
                for doc_id, sentence in zip(ids, sentences)
            )
            qas, q_where = _get(paragraph, here, "qas", list)
            for k, qa in enumerate(qas):
                qa_where = f"{q_where}[{k}]"
                qid, id_where = _get(qa, qa_where, "id", str)
                if "\0" in qid:
                    raise _Malformed(id_where, "NUL character (trec_eval cuts ids there)")
                question, _ = _get(qa, qa_where, "question", str)
                answers, an_where = _get(qa, qa_where, "answers", list)
                if not answers:
                    raise _Malformed(an_where, "no answers")
                start, st_where = _get(answers[0], f"{an_where}[0]", "answer_start", int)
                gold = next((ids[i] for i, (b, e) in enumerate(spans) if b <= start < e), None)
                if gold is None:
                    raise _Malformed(st_where, f"answer of question {qid!r} lies in no sentence")
                if qid in questions:
                    raise _Malformed(qa_where, f"question id {qid!r} occurs twice")
                questions[qid] = _Question(question, gold)
            p_index += 1
    return documents, questions


def custom_task(folder: str | Path) -> TaskSpec:
    """A task from a user's directory of LAReQA-format ``<lang>.json`` files (``lareqa:DIR``)."""
    root = Path(folder).expanduser()
    languages = tuple(sorted(p.stem for p in root.glob("*.json")))
    if not languages:
        raise DataError(f"{root}: no <language>.json files in the LAReQA format")
    return TaskSpec(
        name=f"lareqa:{root.name}",
        family="lareqa",
        version="custom",
        description=f"LAReQA-format task from {root}",
        languages=languages,
        settings=(Setting.MONO, Setting.CROSS, Setting.MULTI),
        measures=LAREQA_MEASURES,
        aggregates=(Aggregate("macro", languages),),
        data_files={lang: (f"{lang}.json",) for lang in languages},
        loader="xret.tasks.lareqa:load_lareqa",
        licence="unknown",
        reference=str(root),
        root=root,
    )


def load_lareqa(
    spec: TaskSpec, files: Mapping[str, Path], languages: tuple[str, ...], options: object = None
) -> TaskData:
    """Load the given languages of an XQuAD-R-style task; counts are checked against the pins."""
    documents: list[Document] = []
    by_language: dict[str, dict[str, _Question]] = {}
    for language in languages:
        (path,) = spec.files_for((language,))
        docs, questions = _parse_language(files[path], language)
        documents.extend(docs)
        by_language[language] = questions
    queries = tuple(
        Query(id=f"{lang}/{qid}", language=lang, text=q.text)
        for lang, questions in by_language.items()
        for qid, q in questions.items()
    )
    qrels = {
        f"{lang}/{qid}": {others[qid].gold: 1 for others in by_language.values() if qid in others}
        for lang, questions in by_language.items()
        for qid in questions
    }
    data = TaskData(documents=tuple(documents), queries=queries, qrels=qrels, checksums={})
    _check_counts(spec, data, languages)
    return data


def _check_counts(spec: TaskSpec, data: TaskData, languages: tuple[str, ...]) -> None:
    expected: LareqaCounts | None = spec.expected
    if expected is None:
        return  # a user's own LAReQA-format task: nothing pinned to compare with
    found_q = Counter(q.language for q in data.queries)
    found_c = Counter(d.language for d in data.documents)
    for language in languages:
        for what, found, pinned in (
            ("queries", found_q, expected.queries),
            ("candidates", found_c, expected.candidates),
        ):
            if found[language] != pinned[language]:
                raise DataError(
                    f"{spec.name}/{language}.json: {found[language]:,} {what} found, "
                    f"the task pins {pinned[language]:,}"
                )
    if tuple(languages) != spec.languages:
        return  # the remaining counts are over the full task only
    relevant = Counter(len(rel) for rel in data.qrels.values())
    if expected.relevant_per_query is not None and dict(relevant) != dict(
        expected.relevant_per_query
    ):
        raise DataError(
            f"{spec.name}: relevant-per-query distribution {dict(sorted(relevant.items()))} "
            f"differs from the pinned {dict(expected.relevant_per_query)}"
        )
    if expected.pair_queries is not None:
        pairs = Counter(
            (qid.split("/", 1)[0], doc.split("/", 1)[0])
            for qid, rel in data.qrels.items()
            for doc in rel
        )
        wrong = {pair: n for pair, n in expected.pair_queries.items() if pairs[pair] != n}
        if wrong:
            pair, n = next(iter(wrong.items()))
            raise DataError(
                f"{spec.name}: {pairs[pair]} {pair[0]} queries found with a gold in {pair[1]}, "
                f"the task pins {n} ({len(wrong)} pairs differ)"
            )
