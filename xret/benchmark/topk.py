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

from xret.benchmark.corpus_facts import (
    CorpusFacts,
    Judgements,
    corpus_facts,
    facts_extra,
    judgements,
    ranked_run,
    warn_facts,
)
from xret.benchmark.corpus_search import InMemory, search
from xret.benchmark.corpus_store import CorpusEmbeddings, corpus_root, encode_corpus
from xret.benchmark.engine import EmbeddingEngine
from xret.benchmark.evaluate import CellResult
from xret.benchmark.pools import PoolSpec, ReducedPool, reduced_pool
from xret.benchmark.search import Hits, IndexSpec
from xret.benchmark.strategies import Plan, RecordFacts, Stages, Workspace
from xret.defaults import DEPTH
from xret.errors import DataError, XretError
from xret.fingerprint import file_fingerprint
from xret.measures.table import Measure
from xret.measures.trec import evaluate
from xret.models.spec import Role
from xret.results.runs import RunWriter, cell_name
from xret.tasks import load_task
from xret.tasks.corpus import (
    CORPUS_HINT,
    Corpus,
    CorpusTaskData,
    passage_label,
    passage_text,
    task_corpus,
)
from xret.tasks.spec import Setting, TaskSpec

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
    source: CorpusEmbeddings | InMemory


@dataclass(frozen=True, eq=False)
class Retrieved:
    """One language's top k and what searching found out about its data."""

    hits: Hits
    docids: list[list[str]]
    """Per scored query, the docids of its hits, best first."""
    facts: CorpusFacts


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
        where = self.where
        data = load_task(task, languages, where.data_dir, where.cache_dir, self.options.corpus_dir)
        return Loaded(
            task, data, {language: self.language(data, language) for language in languages}
        )

    def language(self, data: CorpusTaskData, language: str) -> Language:
        """``language``'s corpus and judgements, and its reduced pool when one is asked for."""
        corpus, judged, pool = data.corpora[language], judgements(data, language), self.options.pool
        if not pool.reduced:
            return Language(corpus, judged, None, {})
        drawn = reduced_pool(corpus.passages(), set(judged.judged), pool)
        shards = {p.name: file_fingerprint(p, self.where.cache_dir) for p in corpus.shards}
        return Language(corpus, judged, drawn, shards)

    def encode(self, loaded: Loaded, engine: EmbeddingEngine) -> dict[str, Searchable]:
        """The scored queries (text cache), and the pool: a reduced one through the text cache,
        a full corpus shard by shard into its resumable store."""
        out = {}
        for language, lang in loaded.languages.items():
            embedded = engine.embed([q.text for q in lang.judgements.scored], Role.QUERY)
            out[language] = Searchable(embedded.vectors[embedded.index], self.source(lang, engine))
        return out

    def source(self, lang: Language, engine: EmbeddingEngine) -> CorpusEmbeddings | InMemory:
        """The vectors of ``lang``'s pool: its reduced pool's, or its corpus store's (encoded
        where it is not finished)."""
        title = self.options.title
        if lang.pool is not None:
            vectors = engine.embed(
                [passage_text(d, title) for d in lang.pool.documents], Role.DOCUMENT
            )
            return InMemory(vectors.vectors[vectors.index])
        root = corpus_root(self.where.cache_dir, engine, lang.corpus, title)
        store = encode_corpus(lang.corpus, engine, root, title, log=self.where.log)
        engine.note_cached(Role.DOCUMENT)  # shards encoded by earlier runs, as it says
        return store

    def rank(
        self, loaded: Loaded, encoded: dict[str, Searchable], engine, stage: Stages
    ) -> dict[str, Retrieved]:
        return {
            language: self.retrieve(loaded.data, lang, encoded[language], engine, stage)
            for language, lang in loaded.languages.items()
        }

    def retrieve(
        self, data: CorpusTaskData, lang: Language, searchable: Searchable, engine, stage: Stages
    ) -> Retrieved:
        """The top k of ``searchable``'s queries in ``lang``'s pool, with what was found out."""
        source, k = searchable.source, self.options.depth
        hits, index = search(
            source, searchable.queries, k, self.options.index, stage, engine.exact_search
        )
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
        facts = corpus_facts(
            data, lang.corpus, lang.judgements, passages, size, shards, index, present
        )
        warn_facts(lang.corpus.language, facts, self.where.log)
        return Retrieved(hits, docids, facts)

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
            extra=facts_extra(found, loaded.task, self.options.pool),
        )
