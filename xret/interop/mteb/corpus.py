"""xret corpus tasks (MIRACL) as in-memory mteb retrieval tasks: one task, one subset per language.

    import mteb
    from xret.interop.mteb import mteb_tasks
    (task,) = mteb_tasks("miracl/dev", languages=["sw", "yo"], corpus_dir="/data/miracl-corpus")
    (task,) = mteb_tasks("miracl/dev", corpus_dir=..., pool="reduced", distractors=10_000, seed=0)

A subset (``sw-sw``) holds what xret's top-k strategy evaluates for that language
(xret.benchmark.topk): the topics with at least one relevant judgement, the qrels as published
(judged negatives, rel 0, kept), and the passages searched: the whole corpus, or xret's reduced
pool (xret.benchmark.pools: every judged passage found plus the same seeded distractors), so an
mteb run and an xret run see the same documents. Passages keep their title in mteb's ``title``
column (mteb encodes ``title text``, as xret does) unless ``title=False``.

mteb holds a subset's corpus in memory (texts in Arrow tables, scores in Python dicts), so a full
MIRACL corpus of millions of passages is not practical this way: corpora larger than
``max_passages`` are refused (xret bench streams them instead). Subsets are loaded one at a time,
when mteb evaluates them, and the previous one is dropped.

Ties: pytrec_eval orders equal scores by document id, descending; xret by corpus order (shard,
then line). Document ids are ``<n>:<docid>`` with ``n`` counting down in corpus order, so both
rules rank alike; mteb's own heap keeps the larger id, i.e. the earlier passage, at the cut-off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from xret.interop.mteb import require_mteb

require_mteb("the mteb task adapter")

import pyarrow as pa  # noqa: E402  (mteb's dependency, through datasets)
import pyarrow.compute as pc  # noqa: E402
from datasets import Dataset  # noqa: E402
from mteb.abstasks.retrieval import AbsTaskRetrieval  # noqa: E402
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData  # noqa: E402

from xret.benchmark.corpus_facts import judgements  # noqa: E402
from xret.benchmark.pools import PoolSpec, reduced_pool  # noqa: E402
from xret.errors import XretError  # noqa: E402
from xret.fingerprint import sha256_file  # noqa: E402
from xret.interop.mteb.metadata import TaskFacts, task_metadata  # noqa: E402
from xret.interop.mteb.naming import SPLIT, corpus_checksums, corpus_variant, subset_name, task_name  # noqa: E402
from xret.tasks.corpus import passage_label  # noqa: E402
from xret.tasks.records import Document, TaskData  # noqa: E402
from xret.tasks.spec import CandidateText, Setting, TaskSpec  # noqa: E402

logger = logging.getLogger(__name__)

MAX_PASSAGES = 2_500_000
"""The largest pool put in memory by default (9 of MIRACL's 18 dev corpora are smaller; en has
32.9M)."""
_BLOCK = 65_536
"""Passages turned into one Arrow table at a time while a corpus is read."""
_SCHEMA = pa.schema([("docid", pa.string()), ("title", pa.string()), ("text", pa.string())])
MISSING_PREFIX = "missing:"
"""Document id of a judged passage that is not in the corpus (kept in the qrels, never
retrieved)."""


@dataclass(frozen=True, eq=False)
class CorpusTaskSource:
    """One loaded corpus task: topics and qrels now, corpora read when a subset is evaluated."""

    spec: TaskSpec
    languages: tuple[str, ...]
    data: TaskData
    title: bool
    pool: PoolSpec
    depth: int
    max_passages: int | None

    def __post_init__(self) -> None:
        for language in self.languages:
            expected = self.data.corpora[language].expected_passages
            if not self.pool.reduced and expected is not None:
                self._check_size(language, expected)

    @cached_property
    def shards(self) -> dict[str, dict[str, str]]:
        """Language -> shard -> sha256 as found (MIRACL corpora are not pinned): part of the
        dataset revision, as in a record."""
        return {
            lang: {path.name: sha256_file(path) for path in self.data.corpora[lang].shards}
            for lang in self.languages
        }

    @property
    def passage_text(self) -> str:
        return passage_label(self.title)

    def facts(self) -> TaskFacts:
        checksums = dict(self.data.checksums)
        for language in self.languages:
            checksums.update(
                corpus_checksums(self.data.corpora[language].name, self.shards[language])
            )
        return TaskFacts.from_spec(
            self.spec,
            self.languages,
            checksums,
            family=self.spec.family,
            ranking=str(self.spec.ranking),
            passage_text=self.passage_text,
            pool=self.pool.options(),
            depth=self.depth,
        )

    def name(self) -> str:
        variant = corpus_variant(self.passage_text, self.pool.options())
        return task_name(
            self.spec.name,
            Setting.MONO,
            self.languages,
            self.spec.languages,
            CandidateText.SENTENCE,
            variant,
        )

    def _check_size(self, language: str, passages: int, at_least: bool = False) -> None:
        if self.max_passages is not None and passages > self.max_passages:
            raise XretError(
                f"{self.spec.name}/{language}: {'at least ' if at_least else ''}{passages:,} "
                f"passages to hold in memory, more than max_passages={self.max_passages:,}; "
                "mteb keeps a corpus in memory: pass "
                "pool='reduced' (not comparable with full-corpus numbers), raise max_passages, or "
                "evaluate the full corpus with xret bench, which streams it"
            )

    def passages(self, language: str, judged: Iterable[str]) -> Iterator[Document]:
        corpus = self.data.corpora[language]
        if self.pool.reduced:
            return iter(reduced_pool(corpus.passages(), set(judged), self.pool).documents)
        return corpus.passages()

    def split_data(self, language: str) -> RetrievalSplitData:
        """The subset of one language (reads its corpus now)."""
        found = judgements(self.data, language)
        corpus, position = self._corpus(
            language, self.passages(language, found.judged), set(found.judged)
        )
        count, width = len(corpus), _id_width(len(corpus))

        def doc_id(docid: str) -> str:
            at = position.get(docid)
            return (
                f"{MISSING_PREFIX}{docid}" if at is None else f"{count - 1 - at:0{width}d}:{docid}"
            )

        return RetrievalSplitData(
            corpus=corpus,
            # xret's policy (docs/miracl.md): topics without a relevant judgement are not scored;
            # as mteb queries they would count 0 in every mean.
            queries=Dataset.from_dict(
                {"id": [q.id for q in found.scored], "text": [q.text for q in found.scored]}
            ),
            relevant_docs={
                q.id: {doc_id(d): grade for d, grade in found.qrels[q.id].items()}
                for q in found.scored
            },
            top_ranked=None,
        )

    def _corpus(
        self, language: str, passages: Iterator[Document], judged: set[str]
    ) -> tuple[Dataset, dict[str, int]]:
        """The passages as an Arrow-backed Dataset with ids counting down, built block by block
        (memory: the texts, not Python objects per passage); and the corpus position of every
        judged passage present. A docid seen again keeps its first passage."""
        tables, position, seen, duplicates = [], {}, set(), 0
        block: dict[str, list[str]] = {"docid": [], "title": [], "text": []}
        count = 0
        for doc in passages:
            if doc.id in seen:
                duplicates += 1
                continue
            seen.add(doc.id)
            if doc.id in judged:
                position[doc.id] = count
            block["docid"].append(doc.id)
            block["title"].append(doc.context)
            block["text"].append(doc.text)
            count += 1
            self._check_size(language, count, at_least=True)
            if count % _BLOCK == 0:
                tables.append(pa.table(block, schema=_SCHEMA))
                block = {key: [] for key in block}
        tables.append(pa.table(block, schema=_SCHEMA))
        if duplicates:
            logger.warning(
                "%s/%s: %d passages repeat an earlier docid; mteb gets the first of each",
                self.spec.name,
                language,
                duplicates,
            )
        table = pa.concat_tables(tables)
        numbers = pc.utf8_lpad(
            pc.cast(pa.array(range(count - 1, -1, -1), pa.int64()), pa.string()),
            _id_width(count),
            "0",
        )
        ids = pc.binary_join_element_wise(numbers, table["docid"], ":")
        columns = {"id": ids, "text": table["text"]}
        if self.title:
            columns["title"] = table["title"]
        return Dataset(pa.table(columns)), position


def _id_width(count: int) -> int:
    """Digits of the position numbers in document ids (zero-padded: pytrec_eval compares
    strings)."""
    return len(str(max(count - 1, 0)))


class _Subsets(Mapping):
    """``{subset: {split: data}}`` that reads a language's corpus when mteb asks for its subset
    and drops the previous one: mteb evaluates subsets in turn, so one corpus is in memory."""

    def __init__(self, source: CorpusTaskSource):
        self._source = source
        self._languages = {subset_name(lang, lang): lang for lang in source.languages}
        self._loaded: tuple[str | None, dict | None] = (None, None)

    def __getitem__(self, subset: str) -> dict[str, RetrievalSplitData]:
        language = self._languages[subset]
        if self._loaded[0] != subset:
            self._loaded = (None, None)
            self._loaded = (subset, {SPLIT: self._source.split_data(language)})
        return self._loaded[1]

    def __contains__(self, subset: object) -> bool:
        return subset in self._languages

    def __iter__(self) -> Iterator[str]:
        return iter(self._languages)

    def __len__(self) -> int:
        return len(self._languages)


class XretCorpusRetrievalTask(AbsTaskRetrieval):
    """Base class of the generated corpus tasks; each subclass carries its metadata and source."""

    source: CorpusTaskSource

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._top_k = self.source.depth

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        self.dataset = _Subsets(self.source)
        self.data_loaded = True


def corpus_task(source: CorpusTaskSource) -> XretCorpusRetrievalTask:
    """The mteb task of a loaded corpus task (a class per task: mteb reads ``metadata`` from it)."""
    if source.depth < 1:
        raise XretError(f"depth {source.depth}: expected at least 1")
    name = source.name()
    metadata = task_metadata(
        source.facts(), Setting.MONO, name, [(lang, lang) for lang in source.languages]
    )
    # mteb's cutoffs up to the depth, and the depth itself: deeper ones would only repeat it.
    k_values = tuple(
        sorted({k for k in AbsTaskRetrieval.k_values if k <= source.depth} | {source.depth})
    )
    attrs = {"metadata": metadata, "source": source, "k_values": k_values, "__module__": __name__}
    cls = type(
        name.replace("-", "_").replace(".", "_").replace("+", "_"),
        (XretCorpusRetrievalTask,),
        attrs,
    )
    return cls()
