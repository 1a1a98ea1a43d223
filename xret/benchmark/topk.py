"""The top-k strategy: corpus tasks (MIRACL), one monolingual cell per language.

Per language: the queries with at least one relevant judgement are embedded (text cache); the
pool is the full corpus, encoded shard by shard into a resumable store
(xret.benchmark.corpus_store), or a reduced pool (xret.benchmark.pools); an index (flat by
default, IVF or HNSW on request) gives the top k passages per query with their real docids;
pytrec_eval measures that run against the qrels as published (judged negatives are rel 0).
Memory is bounded by a block of vectors (flat) or by the index itself (IVF, HNSW), never by
holding the corpus's texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xret.benchmark.corpus_store import CorpusEmbeddings, corpus_root, encode_corpus
from xret.benchmark.engine import EmbeddingEngine
from xret.benchmark.evaluate import CellResult
from xret.benchmark.measures import Measure, evaluate
from xret.benchmark.pools import PoolSpec, ReducedPool, reduced_pool
from xret.benchmark.search import FlatIndex, Hits, IndexSpec, TopK
from xret.benchmark.strategies import Plan, RecordFacts, Stages, Workspace
from xret.defaults import DEPTH
from xret.errors import DataError, XretError
from xret.fingerprint import file_fingerprint, sha256_file
from xret.models.spec import Role
from xret.results.runs import RunWriter, cell_name
from xret.tasks import load_task
from xret.tasks.corpus import Corpus, passage_label, passage_text
from xret.tasks.miracl import CORPUS_HINT, CorpusTaskData, task_corpus
from xret.tasks.records import Query, TaskData
from xret.tasks.spec import Setting, TaskSpec

SEARCH_BLOCK = 1 << 17
"""Corpus vectors searched (flat) or added (IVF, HNSW) at a time: 192 MiB at 384 dimensions."""

POLICY = {
    "ranking": "top-k",
    "ties": "equal scores ranked by corpus order (shard, then line); the run given to pytrec_eval "
    "carries these ranks, so trec_eval's own docid tie rule never applies",
    "qrels": "as published: graded judgements, rel 0 = judged non-relevant",
    "no_relevant": "queries without a relevant judgement are excluded from scoring and counted "
    "(cells[].excluded, extra.no_relevant)",
    "missing_judged": "judged passages absent from the corpus stay in the qrels (never retrieved) "
    "and are counted (extra.missing_judged)",
    "duplicate_docids": "a docid retrieved twice keeps its better rank",
}


@dataclass(frozen=True)
class CorpusOptions:
    """What the top-k families (MIRACL, trec-format task files) read of a bench's options."""

    corpus_dir: Path | None = None
    """Local copy of the corpora (``<dir>/miracl-corpus-v1.0-<lang>/docs-<i>.jsonl.gz``)."""
    pool: PoolSpec = field(default_factory=PoolSpec)
    index: IndexSpec = field(default_factory=IndexSpec)
    depth: int = DEPTH
    """Hits kept per query (k); at least the largest measure cutoff."""
    title: bool = True
    """Encode a passage as ``title text`` (True) or ``text`` alone."""


def no_corpus_message(task: str) -> str:
    return (
        f"{task} searches a corpus and none was given: pass --corpus-dir DIR "
        f"(or set XRET_CORPUS_DIR) with {CORPUS_HINT}; without any corpus nothing can be evaluated"
    )


@dataclass(frozen=True)
class Language:
    """One language as loaded: its corpus, its judgements and, when asked, its reduced pool."""

    corpus: Corpus
    judgements: Judgements
    pool: ReducedPool | None
    pool_shards: dict[str, str]
    """Reduced pool: source shard -> sha256 of the shards it was drawn from."""


@dataclass(frozen=True)
class Loaded:
    task: TaskSpec
    data: CorpusTaskData
    languages: dict[str, Language]


@dataclass(frozen=True, eq=False)
class Searchable:
    """One language's scored queries as vectors, and the vectors they are searched against."""

    queries: np.ndarray
    source: CorpusEmbeddings | _InMemory


@dataclass(frozen=True, eq=False)
class Retrieved:
    """One language's top k and what searching found out about its data."""

    hits: Hits
    docids: list[list[str]]
    """Per scored query, the docids of its hits, best first."""
    facts: _Facts


class CorpusTopK:
    _SEARCH = (
        "--pool",
        "--distractors",
        "--seed",
        "--index",
        "--nlist",
        "--nprobe",
        "--hnsw-m",
        "--ef-construction",
        "--ef-search",
        "--depth",
        "--title/--no-title",
    )
    # A trec-format task file names its own corpus folders: --corpus-dir is MIRACL's only.
    flags = {"miracl": ("--corpus-dir", *_SEARCH), "trec": _SEARCH}

    def __init__(self, options: CorpusOptions, where: Workspace):
        self.options = options
        self.where = where

    def plan(self, task: TaskSpec, languages, measures: tuple[Measure, ...], shared) -> Plan:
        corpus = self.options
        for m in measures:
            if not m.is_trec:
                raise XretError(
                    f"{task.name}: {m} needs exhaustive ranking; this task is ranked top-k"
                )
            if m.cutoff is not None and m.cutoff > corpus.depth:
                raise XretError(f"{task.name}: {m} looks deeper than --depth {corpus.depth}")
        name = f"{task.name}-{corpus.pool.label()}" if corpus.pool.reduced else task.name
        if corpus.corpus_dir is None and not task.corpora:
            raise DataError(no_corpus_message(task.name))
        shards = {}
        for language in languages:
            corpus_label, paths = task_corpus(task, corpus.corpus_dir, language)
            for path in paths:
                shards[f"{corpus_label}/{path.name}"] = file_fingerprint(path, self.where.cache_dir)
        return Plan(
            name,
            {
                **shared,
                "passage_text": passage_label(corpus.title),
                "pool": corpus.pool.options(),
                "index": corpus.index.options(),
                "depth": corpus.depth,
            },
            data=shards,
        )

    def load(self, task: TaskSpec, languages: tuple[str, ...], settings, measures) -> Loaded:
        """Topics, qrels and corpora; a reduced pool is drawn here (one pass over its corpus)."""
        where, pool = self.where, self.options.pool
        data = load_task(task, languages, where.data_dir, where.cache_dir, self.options.corpus_dir)
        loaded = {}
        for language in languages:
            corpus, judged = data.corpora[language], judgements(data, language)
            drawn, shards = None, {}
            if pool.reduced:
                drawn = reduced_pool(corpus.passages(), set(judged.judged), pool)
                shards = {p.name: sha256_file(p) for p in corpus.shards}
            loaded[language] = Language(corpus, judged, drawn, shards)
        return Loaded(task, data, loaded)

    def encode(self, loaded: Loaded, engine: EmbeddingEngine) -> dict[str, Searchable]:
        """The scored queries (text cache), and the pool: a reduced one through the text cache,
        a full corpus shard by shard into its resumable store."""
        title, out = self.options.title, {}
        for language, lang in loaded.languages.items():
            embedded = engine.embed([q.text for q in lang.judgements.scored], Role.QUERY)
            queries = embedded.vectors[embedded.index]
            if lang.pool is not None:
                texts = [passage_text(d, title) for d in lang.pool.documents]
                vectors = engine.embed(texts, Role.DOCUMENT)
                source = _InMemory(vectors.vectors[vectors.index])
            else:
                root = corpus_root(self.where.cache_dir, engine, lang.corpus, title)
                source = encode_corpus(lang.corpus, engine, root, title, log=self.where.log)
                engine.note_cached(Role.DOCUMENT)  # shards encoded by earlier runs, as it says
            out[language] = Searchable(queries, source)
        return out

    def rank(
        self, loaded: Loaded, encoded: dict[str, Searchable], engine, stage: Stages
    ) -> dict[str, Retrieved]:
        exact = getattr(engine, "exact_search", local_exact)  # a distributed engine: its workers
        out = {}
        for language, lang in loaded.languages.items():
            searchable = encoded[language]
            source, k = searchable.source, self.options.depth
            hits, index = search(source, searchable.queries, k, self.options.index, stage, exact)
            judged = lang.judgements.judged
            if lang.pool is not None:
                pool = lang.pool
                docids = [[pool.documents[i].id for i in row if i >= 0] for row in hits.ids]
                present, passages, size = (
                    set(pool.judged_found),
                    pool.passages_seen,
                    len(pool.documents),
                )
                shards = lang.pool_shards
            else:
                docids = source.docids_of(hits.ids)
                present = {
                    d
                    for shard in range(len(source.shards))
                    for d in source.docids(shard)
                    if d in judged
                }
                shards, passages, size = source.source_checksums(), source.rows, source.rows
            facts = _facts(loaded.data, language, lang, passages, size, shards, index, present)
            _warn(language, facts, self.where.log)
            out[language] = Retrieved(hits, docids, facts)
        return out

    def measure(
        self, loaded: Loaded, ranked: dict[str, Retrieved], measures: tuple[Measure, ...]
    ) -> tuple[CellResult, ...]:
        """pytrec_eval over each language's run, against its qrels as published."""
        results = []
        for language, lang in loaded.languages.items():
            topics, qrels = lang.judgements.topics, lang.judgements.qrels
            query_ids = tuple(q.id for q in lang.judgements.scored)
            run = ranked_run(query_ids, ranked[language].docids)
            per_query = evaluate({q: qrels[q] for q in query_ids}, run, measures)
            values = {
                m: np.array([per_query[q][m] for q in query_ids], dtype=np.float64)
                for m in measures
            }
            results.append(
                CellResult(
                    setting=Setting.MONO,
                    query_language=language,
                    pool_language=language,
                    excluded=len(topics) - len(query_ids),
                    query_ids=query_ids,
                    values=values,
                )
            )
        return tuple(results)

    def save_runs(self, loaded: Loaded, encoded, ranked: dict[str, Retrieved], runs: RunWriter):
        for language, lang in loaded.languages.items():
            hits, qrels = ranked[language].hits, lang.judgements.qrels
            query_ids = tuple(q.id for q in lang.judgements.scored)
            scores = [row[ids >= 0] for row, ids in zip(hits.scores, hits.ids)]
            name = cell_name(Setting.MONO, language, language)
            ranked_cell = zip(query_ids, ranked[language].docids, scores)
            runs.write_cell(name, ranked_cell, {q: qrels[q] for q in query_ids})

    def facts(self, loaded: Loaded, ranked: dict[str, Retrieved]) -> RecordFacts:
        found = {language: r.facts for language, r in ranked.items()}
        return RecordFacts(
            checksums=dict(loaded.data.checksums),
            counts={
                "queries": len(loaded.data.queries),
                "candidates": sum(f.pool for f in found.values()),
            },
            policy=POLICY,
            task={"corpus": {language: f.corpus_record() for language, f in found.items()}},
            extra=_extra(found, loaded.task, self.options.pool),
        )


@dataclass(frozen=True)
class _Facts:
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


def _facts(data, language: str, lang: Language, passages, size, shards, index, present) -> _Facts:
    topics = lang.judgements.topics
    topic_ids = {q.id for q in topics}
    scored_ids = {q.id for q in lang.judgements.scored}
    orphans = sum(
        1 for qid in data.qrels if qid.startswith(f"{language}/") and qid not in topic_ids
    )
    return _Facts(
        corpus=lang.corpus,
        passages=passages,
        pool=size,
        shards=shards,
        index=index,
        judged=lang.judgements.judged,
        present=present,
        no_relevant=[q.id for q in topics if q.id not in scored_ids],
        orphan_qrels=orphans,
    )


def _warn(language: str, found: _Facts, log) -> None:
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


def _extra(found: dict[str, _Facts], task: TaskSpec, pool: PoolSpec) -> dict:
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


class _InMemory:
    """Pool vectors already in memory, offered like a corpus store (blocks, sample)."""

    def __init__(self, vectors: np.ndarray):
        self._vectors = vectors
        self.rows, self.dim = vectors.shape

    def blocks(self, rows: int):
        for start in range(0, self.rows, rows):
            yield start, self._vectors[start : start + rows]

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        chosen = np.sort(
            np.random.default_rng(seed).choice(self.rows, size=min(n, self.rows), replace=False)
        )
        return self._vectors[chosen]


def local_exact(source, queries: np.ndarray, k: int) -> Hits:
    """Flat search block by block, merged exactly (memory: one block)."""
    merged = TopK(len(queries), k)
    for offset, block in source.blocks(SEARCH_BLOCK):
        flat = FlatIndex(source.dim)
        flat.add(block)
        merged.push(flat.search(queries, k), offset)
    return merged.result()


def search(
    source, queries: np.ndarray, k: int, spec: IndexSpec, stage: Stages, exact=local_exact
) -> tuple[Hits, dict]:
    """Top k of ``queries`` over a vector source; returns the hits and the parameters used.

    Flat: ``exact`` (``local_exact``, or the engine's own, e.g. on Ray workers). IVF/HNSW: one
    index over the whole source, built block by block (memory: the index).
    """
    params = spec.resolved(source.rows, k)
    if source.rows == 0 or len(queries) == 0:
        empty = np.empty((len(queries), 0))
        return Hits(scores=empty.astype(np.float32), ids=empty.astype(np.int64)), params
    if spec.exact:
        with stage("search"):
            return exact(source, queries, k), params
    if spec.kind == "ivf" and params["nlist"] > source.rows:
        raise XretError(f"--nlist {params['nlist']} exceeds the {source.rows:,} vectors to index")
    with stage("index"):
        index = spec.build(source.dim, source.rows, k)
        if spec.kind == "ivf":
            index.train(source.sample(params["train_size"]))
        for _, block in source.blocks(SEARCH_BLOCK):
            index.add(block)
    with stage("search"):
        return index.search(queries, k), params
