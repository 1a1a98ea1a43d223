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
from xret.tasks.records import Document, Query, TaskData
from xret.tasks.spec import Aggregate, CandidateText, Setting, TaskSpec


LAREQA_MEASURES = ("MAP", "MRR", "nDCG@10", "R@1", "R@10", "R@100", "Hit@1", "Hit@10", "RD")


@dataclass(frozen=True)
class LareqaCounts:
    """Pinned counts (LAReQA README, protocol.md §2.1), asserted after every load."""

    queries: Mapping[str, int]
    candidates: Mapping[str, int]
    relevant_per_query: Mapping[int, int]
    """Number of relevant candidates -> number of queries, over the full task."""
    pair_queries: Mapping[tuple[str, str], int] | None = None
    """(query language, pool language) -> queries with a gold there, when not all of them."""


@dataclass(frozen=True)
class _Question:
    text: str
    gold: str  # document id


def candidate_text(document: Document, option: CandidateText) -> str:
    if option is CandidateText.SENTENCE_CONTEXT:
        return f"{document.text} {document.context}"
    return document.text


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read LAReQA JSON ({err})") from None


def _parse_language(
    path: Path, language: str
) -> tuple[list[Document], dict[str, _Question]]:
    documents: list[Document] = []
    questions: dict[str, _Question] = {}
    try:
        paragraphs = [p for article in _read_json(path)["data"] for p in article["paragraphs"]]
        for p_index, paragraph in enumerate(paragraphs):
            context, breaks = paragraph["context"], paragraph["sentence_breaks"]
            if len(breaks) != len(paragraph["sentences"]):
                raise DataError(f"{path}: paragraph {p_index} has sentences and breaks of unequal length")
            ids = [f"{language}/{p_index}/{s_index}" for s_index in range(len(breaks))]
            documents.extend(
                Document(id=doc_id, language=language, text=sentence, context=context)
                for doc_id, sentence in zip(ids, paragraph["sentences"])
            )
            for qa in paragraph["qas"]:
                start = qa["answers"][0]["answer_start"]
                gold = next((ids[i] for i, (b, e) in enumerate(breaks) if b <= start < e), None)
                if gold is None:
                    raise DataError(f"{path}: answer of question {qa['id']} lies in no sentence")
                if qa["id"] in questions:
                    raise DataError(f"{path}: question id {qa['id']} occurs twice")
                questions[qa["id"]] = _Question(qa["question"], gold)
    except (KeyError, IndexError, TypeError) as err:
        raise DataError(f"{path}: not in the LAReQA format (missing or malformed {err})") from None
    return documents, questions


def custom_task(root: Path) -> TaskSpec:
    """A task from a user's directory of LAReQA-format ``<lang>.json`` files (``lareqa:DIR``)."""
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
        f"{lang}/{qid}": {
            others[qid].gold: 1 for others in by_language.values() if qid in others
        }
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
                    f"{spec.name}/{language}.json: {found[language]:,} {what}, "
                    f"the pinned data has {pinned[language]:,}"
                )
    if tuple(languages) != spec.languages:
        return  # the remaining counts are over the full task only
    relevant = Counter(len(rel) for rel in data.qrels.values())
    if dict(relevant) != dict(expected.relevant_per_query):
        raise DataError(
            f"{spec.name}: relevant-per-query distribution {dict(sorted(relevant.items()))} "
            f"differs from the pinned {dict(expected.relevant_per_query)}"
        )
    if expected.pair_queries is not None:
        pairs = Counter(
            (qid.split("/", 1)[0], doc.split("/", 1)[0]) for qid, rel in data.qrels.items() for doc in rel
        )
        wrong = {pair: n for pair, n in expected.pair_queries.items() if pairs[pair] != n}
        if wrong:
            pair, n = next(iter(wrong.items()))
            raise DataError(
                f"{spec.name}: {pairs[pair]} {pair[0]} queries have a gold in {pair[1]}, "
                f"the pinned data has {n} ({len(wrong)} pairs differ)"
            )
