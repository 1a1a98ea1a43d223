"""The pooled top-k strategy: a MIRACL-format task's queries searched in one pool made of several
languages' corpora (``miracl/sw/dev+en+yo``, xret.tasks.miracl.pooled_task).

Each corpus is encoded into its own resumable store exactly as the monolingual strategy does
(xret.benchmark.topk: the same stores, so a corpus is encoded once whichever tasks pool it), each
store is searched top-k, and the per-language top k are merged into the exact pooled top k: the
top k of a union is the top k of its parts' top k. Ties: lower pool position first, the pool
being the corpora in language order (sorted codes), each in corpus order (shard, then line).
Docids are namespaced ``<corpus language>/<docid>`` (MIRACL's ``123#0`` recurs across
languages). Judgements are the query language's: passages of other languages are unjudged,
level 0 for every measure. One multilingual cell per query language gets trec_eval's measures
and the bias-panel measures defined on such a pool (xret.measures.table.pooled_corpus_gap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xret.benchmark.corpus_facts import Judgements, facts_extra, judgements, ranked_run
from xret.benchmark.engine import EmbeddingEngine
from xret.benchmark.evaluate import CellResult
from xret.benchmark.search import Hits, TopK
from xret.benchmark.strategies import Plan, RecordFacts, Stages, Workspace
from xret.benchmark.topk import POLICY, CorpusOptions, CorpusTopK, Loaded, Retrieved, Searchable
from xret.errors import XretError
from xret.measures.bias import BEYOND, PER_QUERY, Pooled
from xret.measures.table import (
    BIAS_PANEL_DEFAULT,
    Measure,
    parse_measures,
    pooled_corpus_gap,
)
from xret.measures.trec import evaluate
from xret.models.spec import Role
from xret.results.runs import RunWriter, cell_name
from xret.tasks import load_task
from xret.tasks.spec import ALL_LANGUAGES, Setting, TaskSpec

POOLED_POLICY = {
    **POLICY,
    "ties": "equal scores ranked by pool position: the corpora in language order (sorted codes), "
    "each in corpus order (shard, then line); the run given to pytrec_eval carries these ranks",
    "pooling": "the corpora of the pool's languages searched as one: each corpus's store searched "
    "top-k, the parts' top k merged into the exact pooled top k",
    "docids": "namespaced '<corpus language>/<docid>' (MIRACL docids recur across languages)",
    "unjudged": "passages of other languages than the query's are unjudged: level 0 "
    "(non-relevant) for every measure, PEER's level 0 included",
}


@dataclass(frozen=True)
class PooledLoaded:
    corpora: Loaded
    """Every pool language's corpus (and reduced pool), as the monolingual strategy loads it."""
    queries: dict[str, Judgements]
    """Query language (a multilingual cell each) -> its topics, qrels and scored queries."""

    def cells(self):
        """Per query language: (language, judgements, its rows among all scored queries, their
        ids, their qrels with namespaced docids)."""
        start = 0
        for language, judged in self.queries.items():
            rows = slice(start, start + len(judged.scored))
            start = rows.stop
            ids = tuple(q.id for q in judged.scored)
            qrels = {q: _namespaced(language, judged.qrels[q]) for q in ids}
            yield language, judged, rows, ids, qrels


@dataclass(frozen=True, eq=False)
class PooledEncoded:
    queries: np.ndarray
    """Every scored query of every query language, in ``PooledLoaded.queries`` order."""
    corpora: dict[str, Searchable]
    """Pool language -> the queries and that language's vectors."""


@dataclass(frozen=True, eq=False)
class PooledRanked:
    parts: dict[str, Retrieved]
    """Pool language -> its own top k of every query (and what searching it found out)."""
    hits: Hits
    """The merged top k, ids global over the pool (languages in order, each in corpus order)."""
    docids: list[list[str]]
    """Per query, the namespaced docids of its hits, best first."""
    languages: list[list[str]]
    """Per query, the corpus language of each hit."""
    sizes: dict[str, int]
    """Pool language -> passages searched."""


class PooledTopK:
    flags = {"miracl": CorpusTopK.flags["miracl"]}

    def __init__(self, options: CorpusOptions, where: Workspace):
        self.options = options
        self.corpora = CorpusTopK(options, where)
        """Loads, encodes and searches each corpus as the monolingual tasks do."""

    def plan(self, task: TaskSpec, languages, measures: tuple[Measure, ...], shared) -> Plan:
        for m in measures:
            why = None if m.is_trec else pooled_corpus_gap(m)
            if why is not None:
                raise XretError(f"{task.name}: {m} {why}")
            if m.cutoff is not None and m.cutoff > self.options.depth:
                raise XretError(f"{task.name}: {m} looks deeper than --depth {self.options.depth}")
        pool = task.corpus_languages(languages)
        trec = tuple(m for m in measures if m.is_trec)
        plan = self.corpora.plan(task, pool, trec, shared)  # shards of every pooled corpus
        return Plan(plan.name, {**plan.options, "corpus_languages": list(pool)}, plan.data)

    def load(self, task: TaskSpec, languages, settings, measures) -> PooledLoaded:
        where = self.corpora.where
        data = load_task(task, languages, where.data_dir, where.cache_dir, self.options.corpus_dir)
        pool = task.corpus_languages(languages)
        corpora = {language: self.corpora.language(data, language) for language in pool}
        queries = {language: judgements(data, language) for language in languages}
        return PooledLoaded(Loaded(task, data, corpora), queries)

    def encode(self, loaded: PooledLoaded, engine: EmbeddingEngine) -> PooledEncoded:
        scored = [q for judged in loaded.queries.values() for q in judged.scored]
        embedded = engine.embed([q.text for q in scored], Role.QUERY)
        queries = embedded.vectors[embedded.index]
        corpora = {
            language: Searchable(queries, self.corpora.source(lang, engine))
            for language, lang in loaded.corpora.languages.items()
        }
        return PooledEncoded(queries, corpora)

    def rank(
        self, loaded: PooledLoaded, encoded: PooledEncoded, engine, stage: Stages
    ) -> PooledRanked:
        data = loaded.corpora.data
        parts = {
            language: self.corpora.retrieve(data, lang, encoded.corpora[language], engine, stage)
            for language, lang in loaded.corpora.languages.items()
        }
        merged = TopK(len(encoded.queries), self.options.depth)
        offsets, offset = {}, 0
        for language, part in parts.items():  # the pool's order: sorted languages
            merged.push(part.hits, offset)
            offsets[language], offset = offset, offset + part.facts.pool
        hits = merged.result()
        docids, languages = _named(hits, parts, offsets)
        sizes = {language: part.facts.pool for language, part in parts.items()}
        return PooledRanked(parts, hits, docids, languages, sizes)

    def measure(
        self, loaded: PooledLoaded, ranked: PooledRanked, measures: tuple[Measure, ...]
    ) -> tuple[CellResult, ...]:
        """trec_eval's measures of each query language's pooled run against its qrels
        (namespaced), and the panel's from its pooled top k and the passages' languages."""
        codes = {language: i for i, language in enumerate(ranked.sizes)}
        counts = np.array(list(ranked.sizes.values()), dtype=np.int64)
        trec = [m for m in measures if m.is_trec]
        panel = [m for m in measures if not m.is_trec]
        results = []
        for language, judged, rows, query_ids, qrels in loaded.cells():
            values = {}
            if trec:
                per_query = evaluate(qrels, ranked_run(query_ids, ranked.docids[rows]), trec)
                values = {
                    m: np.array([per_query[q][m] for q in query_ids], dtype=np.float64)
                    for m in trec
                }
            if panel and query_ids:
                relevant = [[d for d, g in qrels[q].items() if g > 0] for q in query_ids]
                view = _PoolView(
                    ranked.docids[rows], ranked.languages[rows], relevant, codes, counts
                )
                values.update({m: view.values(m, codes[language]) for m in panel})
            results.append(
                CellResult(
                    setting=Setting.MULTI,
                    query_language=language,
                    pool_language=ALL_LANGUAGES,
                    excluded=len(judged.topics) - len(query_ids),
                    query_ids=query_ids,
                    values=values,
                )
            )
        return tuple(results)

    def save_runs(self, loaded: PooledLoaded, encoded, ranked: PooledRanked, runs: RunWriter):
        hits = ranked.hits
        for language, _, rows, query_ids, qrels in loaded.cells():
            scores = [row[ids >= 0] for row, ids in zip(hits.scores[rows], hits.ids[rows])]
            name = cell_name(Setting.MULTI, language, ALL_LANGUAGES)
            runs.write_cell(name, zip(query_ids, ranked.docids[rows], scores), qrels)

    def facts(self, loaded: PooledLoaded, ranked: PooledRanked) -> RecordFacts:
        found = {language: part.facts for language, part in ranked.parts.items()}
        task, data = loaded.corpora.task, loaded.corpora.data
        extra = facts_extra(found, task, self.options.pool)
        reason = (
            f"a pooled task ({', '.join(loaded.queries)} queries, one pool of the "
            f"{', '.join(ranked.sizes)} corpora): MIRACL's published numbers are monolingual"
        )
        total = sum(ranked.sizes.values())
        return RecordFacts(
            checksums=dict(data.checksums),
            counts={"queries": len(data.queries), "candidates": total},
            policy=POOLED_POLICY,
            task={"corpus": {language: f.corpus_record() for language, f in found.items()}},
            extra={
                **extra,
                "comparable_with_published": False,
                "not_comparable_because": [reason, *extra["not_comparable_because"]],
                "pool": {
                    "passages": ranked.sizes,
                    "share": {language: n / total for language, n in ranked.sizes.items()},
                },
                "panel_undefined": undefined_panel(),
            },
        )


def undefined_panel() -> dict[str, str]:
    """The bias panel's measures (RD and the bench's defaults) a pooled corpus task leaves
    blank, each with why."""
    panel = parse_measures(["RD", *BIAS_PANEL_DEFAULT])
    return {str(m): why for m in panel if (why := pooled_corpus_gap(m)) is not None}


def _namespaced(language: str, docs: dict[str, int]) -> dict[str, int]:
    return {f"{language}/{doc}": grade for doc, grade in docs.items()}


def _named(
    hits: Hits, parts: dict[str, Retrieved], offsets: dict[str, int]
) -> tuple[list[list[str]], list[list[str]]]:
    """Per query, the namespaced docid and the language of each merged hit, read from the
    part it came from (every merged hit is in its part's top k)."""
    starts = np.array(list(offsets.values()))
    names = list(offsets)
    docids, languages = [], []
    for row, ids in enumerate(hits.ids):
        ids = ids[ids >= 0]
        part = np.searchsorted(starts, ids, side="right") - 1
        local = {
            language: dict(zip(parts[language].hits.ids[row].tolist(), parts[language].docids[row]))
            for language in {names[p] for p in part}
        }
        found = [names[p] for p in part]
        docids.append(
            [f"{lang}/{local[lang][int(i) - offsets[lang]]}" for lang, i in zip(found, ids)]
        )
        languages.append(found)
    return docids, languages


class _PoolView:
    """One query language's pooled rankings as the panel reads them (``Pooled``): positions
    index the passages the rankings and the qrels name, and ``Pooled.pool_counts`` holds the
    whole pool's composition (a corpus pool is too large to list)."""

    def __init__(self, docids, languages, relevant: list[list[str]], codes: dict[str, int], counts):
        self.docids, self.relevant, self.codes, self.counts = docids, relevant, codes, counts
        self.position: dict[str, int] = {}
        self.language: list[int] = []
        self.ranked = [
            [self._at(d, lang) for d, lang in zip(row, langs)]
            for row, langs in zip(docids, languages)
        ]
        self.cells: dict[int, tuple[list[int], Pooled]] = {}
        """Depth read -> (the queries ranked that deep, their Pooled): one per cutoff."""

    def _at(self, doc: str, language: str) -> int:
        if doc not in self.position:
            self.position[doc] = len(self.language)
            self.language.append(self.codes[language])
        return self.position[doc]

    def values(self, m: Measure, query_language: int) -> np.ndarray:
        """Per query, ``m`` over its top ``k``; NaN where its ranking holds fewer than ``k``
        passages (an approximate index can return fewer) while the pool holds more."""
        need = min(m.cutoff or 1, int(self.counts.sum()))
        if need not in self.cells:
            self.cells[need] = self._cell(need, query_language)
        rows, cell = self.cells[need]
        out = np.full(len(self.ranked), np.nan)
        out[rows] = PER_QUERY[m.name](cell, m.cutoff)
        return out

    def _cell(self, need: int, query_language: int) -> tuple[list[int], Pooled]:
        rows = [i for i, row in enumerate(self.ranked) if len(row) >= need]
        most = max(map(len, self.relevant), default=0)
        ranks = np.zeros((len(rows), most), dtype=np.int64)
        where = np.full((len(rows), most), -1, dtype=np.int64)
        for out, row in enumerate(rows):
            rank: dict[str, int] = {}
            for r, d in enumerate(self.docids[row], 1):
                rank.setdefault(d, r)
            for j, d in enumerate(self.relevant[row]):  # relevant: in the query's language
                ranks[out, j] = rank.get(d, BEYOND)
                where[out, j] = self._at(d, d.split("/", 1)[0])
        cell = Pooled(
            ranks=ranks,
            relevant=where,
            top=np.array([self.ranked[r][:need] for r in rows], dtype=np.int64).reshape(
                len(rows), need
            ),
            pool_language=np.array(self.language, dtype=np.int64),
            query_language=np.full(len(rows), query_language, dtype=np.int64),
            languages=len(self.codes),
            pool_counts=self.counts,
        )
        return rows, cell
