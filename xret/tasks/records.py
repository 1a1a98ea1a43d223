"""Language-tagged retrieval records: what every task loader produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xret.tasks.spec import CandidateText

Qrels = Mapping[str, Mapping[str, int]]
"""query id -> document id -> relevance grade, the pytrec_eval layout (0 = judged non-relevant)."""


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    language: str
    text: str
    context: str = ""
    """The enclosing paragraph (LAReQA) or the title (MIRACL); used only when an option asks."""


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    language: str
    text: str


@dataclass(frozen=True)
class TaskData:
    """Everything one task provides: candidates, queries and judgements, over all its languages."""

    documents: tuple[Document, ...]
    queries: tuple[Query, ...]
    qrels: Qrels
    checksums: Mapping[str, str]
    """data file (relative path) -> sha256, for provenance."""


def candidate_text(document: Document, option: CandidateText) -> str:
    """What is encoded for a pooled candidate (LAReQA, BEIR): the sentence, or sentence +
    context."""
    if option is CandidateText.SENTENCE_CONTEXT:
        return f"{document.text} {document.context}"
    return document.text
