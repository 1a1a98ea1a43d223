"""What a corpus task's search found out about its data, and which of a language's topics are
scored: judgements, passages missing from the corpus, comparability with the published numbers;
all recorded (``extra``) and the surprising parts logged."""

from __future__ import annotations

from dataclasses import dataclass

from xret.benchmark.pools import PoolSpec
from xret.tasks.corpus import Corpus
from xret.tasks.records import Query, TaskData
from xret.tasks.spec import TaskSpec


@dataclass(frozen=True)
class CorpusFacts:
    """What searching one language found out about its data."""

    corpus: Corpus
    passages: int
    pool: int
    shards: dict[str, str]
    """Source shard -> sha256 as found."""
    index: dict
    judged: dict[str, int]
    """docid -> grade, over the language's topics."""
    present: set[str]
    no_relevant: list[str]
    orphan_qrels: int
    """Queries in the qrels that have no topic (ignored)."""

    def corpus_record(self) -> dict:
        return {
            "name": self.corpus.name,
            "passages": self.passages,
            "expected_passages": self.corpus.expected_passages,
            "pool": self.pool,
            "shards": self.shards,
        }

    def missing(self) -> dict:
        missing = sorted(set(self.judged) - self.present)
        return {
            "judged": len(self.judged),
            "missing": len(missing),
            "missing_relevant": sum(self.judged[d] > 0 for d in missing),
            "examples": missing[:5],
        }


def corpus_facts(
    data: TaskData,
    corpus: Corpus,
    judged: Judgements,
    passages: int,
    size: int,
    shards: dict[str, str],
    index: dict,
    present: set[str],
) -> CorpusFacts:
    """The facts of ``corpus``'s language: ``passages`` read, ``size`` searched."""
    language, topics = corpus.language, judged.topics
    topic_ids = {q.id for q in topics}
    scored_ids = {q.id for q in judged.scored}
    orphans = sum(
        1 for qid in data.qrels if qid.startswith(f"{language}/") and qid not in topic_ids
    )
    return CorpusFacts(
        corpus=corpus,
        passages=passages,
        pool=size,
        shards=shards,
        index=index,
        judged=judged.judged,
        present=present,
        no_relevant=[q.id for q in topics if q.id not in scored_ids],
        orphan_qrels=orphans,
    )


def warn_facts(language: str, found: CorpusFacts, log) -> None:
    lost = found.missing()
    if lost["missing"]:
        log(
            f"{language}: {lost['missing']:,} of {lost['judged']:,} judged passages are not in "
            f"the corpus ({lost['missing_relevant']:,} relevant); counted in extra.missing_judged"
        )
    expected = found.corpus.expected_passages
    if expected is not None and found.passages != expected:
        log(
            f"{language}: the corpus has {found.passages:,} passages, MIRACL v1.0 has "
            f"{expected:,}: not comparable"
        )


def facts_extra(found: dict[str, CorpusFacts], task: TaskSpec, pool: PoolSpec) -> dict:
    """The record's ``extra`` of a corpus task: comparability, index, missing and excluded."""
    reasons = []
    if pool.reduced:
        reasons.append(
            f"reduced pool: judged passages + {pool.distractors:,} sampled distractors per "
            f"language (seed {pool.seed}), not the full corpus"
        )
    if task.expected is None:
        reasons.append("not a pinned MIRACL task")
    for language, f in found.items():
        expected = f.corpus.expected_passages
        if expected is not None and f.passages != expected:
            reasons.append(
                f"{language}: the corpus has {f.passages:,} passages, MIRACL v1.0 has {expected:,}"
            )
    return {
        "comparable_with_published": not reasons,
        "not_comparable_because": reasons,
        "index": {language: f.index for language, f in found.items()},
        "missing_judged": {language: f.missing() for language, f in found.items()},
        "no_relevant": {language: f.no_relevant for language, f in found.items()},
        "qrels_without_topic": {language: f.orphan_qrels for language, f in found.items()},
    }


@dataclass(frozen=True)
class Judgements:
    """One language's topics and judgements, as the top-k strategy evaluates them (the mteb
    adapter builds its subsets from the same value, so both sides score the same queries)."""

    topics: tuple[Query, ...]
    qrels: dict[str, dict[str, int]]
    """Query id -> docid -> grade, for every topic (judged negatives included)."""
    scored: tuple[Query, ...]
    """The topics with at least one relevant judgement: the ones scored."""
    judged: dict[str, int]
    """Every judged docid of the language's topics -> its highest grade (a reduced pool keeps them
    all)."""


def judgements(data: TaskData, language: str) -> Judgements:
    """Which of a language's topics are scored and which passages are judged: one place for both."""
    topics = tuple(q for q in data.queries if q.language == language)
    qrels = {q.id: dict(data.qrels.get(q.id, {})) for q in topics}
    scored = tuple(q for q in topics if any(grade > 0 for grade in qrels[q.id].values()))
    judged: dict[str, int] = {}
    for docs in qrels.values():
        for doc, grade in docs.items():
            judged[doc] = max(grade, judged.get(doc, 0))
    return Judgements(topics, qrels, scored, judged)


def ranked_run(query_ids: tuple[str, ...], docids: list[list[str]]) -> dict[str, dict[str, float]]:
    """A pytrec_eval run in our order: descending rank scores, so ties were settled already."""
    run = {}
    for qid, docs in zip(query_ids, docids):
        entries: dict[str, float] = {}
        for rank, doc in enumerate(docs):
            entries.setdefault(doc, float(len(docs) - rank))
        run[qid] = entries
    return run
