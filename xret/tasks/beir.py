"""BEIR-format tasks (``beir:DIR``): one BEIR dataset per language, evaluated as LAReQA is.

``DIR/<lang>/`` holds ``corpus.jsonl`` (``_id``, ``text``, optional ``title``), ``queries.jsonl``
(``_id``, ``text``) and ``qrels/<split>.tsv`` (header ``query-id corpus-id score``). A language's
queries are those of its qrels; a query id shared across languages is the same question, so its
relevant documents in every loaded language are its gold there (cross-lingual and multilingual
cells), exactly as LAReQA's shared question ids. Candidates keep language order (sorted folder
names), then file order: the order that breaks score ties. Ids become ``<lang>/<_id>`` (an integer
``_id`` is read as its decimal text, as the qrels file writes it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from xret.errors import DataError
from xret.io import text_lines
from xret.tasks.lareqa import LAREQA_MEASURES
from xret.tasks.records import Document, Query, TaskData
from xret.tasks.spec import Aggregate, Setting, TaskSpec

DEFAULT_SPLIT = "test"
_HEADER = ("query-id", "corpus-id", "score")
_ID = re.compile(r"\S+")  # an id is one TREC token (run files)


def custom_task(argument: str) -> TaskSpec:
    """``DIR`` or ``DIR@SPLIT`` (default split: test) -> a task over DIR's language folders."""
    where, _, split = argument.rpartition("@") if "@" in argument else (argument, "", DEFAULT_SPLIT)
    root = Path(where).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: no such directory (expected one BEIR folder per language)")
    languages = tuple(sorted(p.name for p in root.iterdir() if (p / "corpus.jsonl").is_file()))
    if not languages:
        raise DataError(f"{root}: no <language>/corpus.jsonl (one BEIR folder per language)")
    for language in languages:
        if not (root / language / "qrels" / f"{split}.tsv").is_file():
            raise DataError(f"{root / language}: no qrels/{split}.tsv")
    return TaskSpec(
        name=f"beir:{root.name}" + ("" if split == DEFAULT_SPLIT else f"@{split}"),
        family="beir",
        version="custom",
        description=f"BEIR-format task from {root} (split {split})",
        languages=languages,
        settings=(Setting.MONO, Setting.CROSS, Setting.MULTI),
        measures=LAREQA_MEASURES,
        aggregates=(Aggregate("macro", languages),),
        data_files={
            lang: (f"{lang}/corpus.jsonl", f"{lang}/queries.jsonl", f"{lang}/qrels/{split}.tsv")
            for lang in languages
        },
        loader="xret.tasks.beir:load_beir",
        licence="unknown",
        reference=str(root),
        root=root,
    )


def _records(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """JSON-lines objects with string ``_id`` (one token) and the given string fields."""
    for number, line in text_lines(path):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{number}: not JSON ({err.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{number}: not a JSON object")
        if type(obj.get("_id")) is int:  # as the qrels file writes it: its decimal text
            obj["_id"] = str(obj["_id"])
        if "title" in fields:
            obj.setdefault("title", "")  # optional
        for name in ("_id", *fields):
            value = obj.get(name, "" if name == "title" else None)
            bad_id = name == "_id" and isinstance(value, str) and not _ID.fullmatch(value)
            if not isinstance(value, str) or bad_id:
                found = "missing" if value is None else repr(value)[:40]
                raise DataError(f"{path}:{number}: field {name!r} is {found}")
        yield number, obj


def _unique(path: Path, items: Iterator[tuple[int, dict[str, str]]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for number, obj in items:
        if obj["_id"] in out:
            raise DataError(f"{path}:{number}: _id {obj['_id']!r} occurs twice")
        out[obj["_id"]] = obj
    return out


def _qrels(path: Path, queries: Mapping, corpus: Mapping) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    lines = text_lines(path)
    number, header = next(lines, (1, ""))
    if tuple(header.split("\t")) != _HEADER:
        raise DataError(f"{path}:{number}: expected the header {'<TAB>'.join(_HEADER)!r}")
    for number, line in lines:
        fields = tuple(line.split("\t"))
        if len(fields) != 3 or not re.fullmatch(r"-?\d+", fields[2]):
            raise DataError(f"{path}:{number}: expected query-id<TAB>corpus-id<TAB>integer score")
        query, doc, grade = fields[0], fields[1], int(fields[2])
        if query not in queries:
            raise DataError(f"{path}:{number}: query-id {query!r} is not in queries.jsonl")
        if doc not in corpus:
            raise DataError(f"{path}:{number}: corpus-id {doc!r} is not in corpus.jsonl")
        if grade not in (0, 1):
            # The exhaustive measures are binary; a graded nDCG would silently be wrong.
            raise DataError(f"{path}:{number}: score {grade}: only 0 and 1 are supported")
        if doc in out.setdefault(query, {}):
            raise DataError(f"{path}:{number}: ({query}, {doc}) judged twice")
        out[query][doc] = grade
    return out


def load_beir(
    spec: TaskSpec, files: Mapping[str, Path], languages: tuple[str, ...], options: object = None
) -> TaskData:
    documents: list[Document] = []
    queries: list[Query] = []
    judged: dict[str, dict[str, dict[str, int]]] = {}  # language -> query -> doc -> grade
    for language in languages:
        corpus_file, queries_file, qrels_file = (files[p] for p in spec.files_for((language,)))
        corpus = _unique(corpus_file, _records(corpus_file, ("text", "title")))
        texts = _unique(queries_file, _records(queries_file, ("text",)))
        for path, found, what in (
            (corpus_file, corpus, "documents"),
            (queries_file, texts, "queries"),
        ):
            if not found:
                raise DataError(f"{path}: no {what} (an empty file)")
        judged[language] = _qrels(qrels_file, texts, corpus)
        if not judged[language]:
            raise DataError(f"{qrels_file}: no judgements, so no query of {language} to score")
        documents.extend(
            Document(id=f"{language}/{i}", language=language, text=d["text"], context=d["title"])
            for i, d in corpus.items()
        )
        queries.extend(
            Query(id=f"{language}/{i}", language=language, text=q["text"])
            for i, q in texts.items()
            if i in judged[language]
        )
    qrels = {
        q.id: {
            f"{other}/{doc}": grade
            for other, by_query in judged.items()
            for doc, grade in by_query.get(q.id.split("/", 1)[1], {}).items()
        }
        for q in queries
    }
    return TaskData(documents=tuple(documents), queries=tuple(queries), qrels=qrels, checksums={})
