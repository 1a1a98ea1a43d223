"""xret tasks as in-memory mteb retrieval tasks: one ``AbsTaskRetrieval`` per setting, one subset
per cell, built from xret's own loader (pinned local files, no hub access).

    import mteb
    from xret.interop.mteb import mteb_tasks
    tasks = mteb_tasks("xquad-r", languages=["en", "de"])      # mono, cross, multi
    results = mteb.evaluate(model, tasks, cache=None)

What carries over exactly (see docs/mteb.md): each subset holds one xret cell's queries (those
with a gold in the pool), its pool, and the gold restricted to the pool. Mono/cross rankings are
made exhaustive (mteb's ``top_k`` = the largest pool), so besides mteb's own scores each subset
gets ``map`` and ``mrr`` over the full ranking: the paper's MAP. The multilingual setting keeps
mteb's depth of 1000 by default (``multi_depth``): its R@k and nDCG@k are exact, ``map_at_1000``
is not the paper's MAP, and rank distance is not computed (an xret measure; use ``xret bench``).

Ties: mteb ranks through pytrec_eval, which orders equal scores by document id, descending;
xret orders them by candidate order. Document ids here are ``<n>:<xret id>`` with ``n`` counting
down in candidate order, so both rules give the same ranking (identical candidate texts tie).

Corpus tasks (MIRACL: one task, a subset per language, a corpus read from the user's copy) are
built by xret.interop.mteb.corpus; ``mteb_tasks`` returns either kind.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xret.defaults import DEPTH
from xret.interop.mteb import require_mteb

require_mteb("the mteb task adapter")

from datasets import Dataset  # noqa: E402  (mteb's dependency)
from mteb.abstasks.retrieval import AbsTaskRetrieval  # noqa: E402
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData  # noqa: E402

from xret import paths  # noqa: E402
from xret.benchmark.pools import PoolSpec  # noqa: E402
from xret.errors import DataError, XretError  # noqa: E402
from xret.interop.mteb import corpus  # noqa: E402
from xret.interop.mteb.metadata import TaskFacts, task_metadata  # noqa: E402
from xret.interop.mteb.naming import SPLIT, subset_name, task_name  # noqa: E402
from xret.measures.table import Measure  # noqa: E402
from xret.measures.trec import evaluate  # noqa: E402
from xret.tasks import get_task, load_task  # noqa: E402
from xret.tasks.records import TaskData, candidate_text  # noqa: E402
from xret.tasks.settings import Cell, build_cells  # noqa: E402
from xret.tasks.spec import CandidateText, Ranking, Setting, TaskSpec  # noqa: E402

MTEB_DEPTH = 1000
"""mteb's default retrieval depth (``max(AbsTaskRetrieval.k_values)``)."""
_FULL = (Measure("MAP"), Measure("MRR"))


@dataclass(eq=False)
class XretTaskSource:
    """One loaded xret task, shared by the mteb tasks of its settings (loaded once)."""

    spec: TaskSpec
    languages: tuple[str, ...]
    candidate_text: CandidateText
    data: TaskData
    cells: dict[Setting, list[Cell]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        count = len(self.data.documents)
        width = len(str(count))
        # Counting down in candidate order: "doc id descending" (pytrec_eval) = candidate order
        # (xret).
        self.doc_ids = [
            f"{count - 1 - i:0{width}d}:{d.id}" for i, d in enumerate(self.data.documents)
        ]
        self.doc_texts = [candidate_text(d, self.candidate_text) for d in self.data.documents]

    def facts(self) -> TaskFacts:
        return TaskFacts.from_spec(self.spec, self.languages, self.data.checksums)

    def setting_cells(self, setting: Setting) -> list[Cell]:
        if setting not in self.cells:
            cells = build_cells(self.data, self.languages, (setting,))
            self.cells[setting] = [c for c in cells if len(c.queries)]
        return self.cells[setting]

    def split_data(self, cell: Cell) -> RetrievalSplitData:
        in_pool = {self.data.documents[i].id: self.doc_ids[i] for i in cell.pool}
        queries = [self.data.queries[i] for i in cell.queries]
        relevant = {
            q.id: {
                in_pool[doc]: grade
                for doc, grade in self.data.qrels[q.id].items()
                if grade > 0 and doc in in_pool
            }
            for q in queries
        }
        return RetrievalSplitData(
            corpus=Dataset.from_dict(
                {
                    "id": [self.doc_ids[i] for i in cell.pool],
                    "text": [self.doc_texts[i] for i in cell.pool],
                }
            ),
            queries=Dataset.from_dict(
                {"id": [q.id for q in queries], "text": [q.text for q in queries]}
            ),
            relevant_docs=relevant,
            top_ranked=None,
        )


class XretRetrievalTask(AbsTaskRetrieval):
    """Base class of the generated tasks; each subclass carries its metadata, source and setting."""

    source: XretTaskSource
    setting: Setting
    depth: int | None = None
    """Retrieval depth; None = the whole pool (exhaustive, as xret ranks)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cells = self.source.setting_cells(self.setting)
        largest = max((len(c.pool) for c in cells), default=0)
        self._pool_sizes = {
            subset_name(c.query_language, c.pool_language): len(c.pool) for c in cells
        }
        self._top_k = max(largest, 1) if self.depth is None else self.depth

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        self.dataset = {
            subset_name(c.query_language, c.pool_language): {SPLIT: self.source.split_data(c)}
            for c in self.source.setting_cells(self.setting)
        }
        self.data_loaded = True

    def exhaustive(self, hf_subset: str) -> bool:
        return self._top_k >= self._pool_sizes[hf_subset]

    def task_specific_scores(
        self, scores, qrels, results, hf_split: str, hf_subset: str
    ) -> dict[str, float]:
        """Full-ranking ``map`` and ``mrr`` (xret's MAP and MRR) when the ranking covers the
        pool."""
        if not self.exhaustive(hf_subset):
            return {}
        per_query = evaluate(qrels, results, _FULL)
        n = max(len(per_query), 1)
        return {
            key: sum(v[m] for v in per_query.values()) / n
            for key, m in (("map", _FULL[0]), ("mrr", _FULL[1]))
        }


def mteb_tasks(
    task: str | TaskSpec = "xquad-r",
    *,
    settings: Sequence[str | Setting] | None = None,
    languages: Sequence[str] | None = None,
    candidate_text: str | CandidateText = CandidateText.SENTENCE,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    multi_depth: int | None = MTEB_DEPTH,
    corpus_dir: str | Path | None = None,
    title: bool = True,
    pool: str | PoolSpec = "full",
    distractors: int | None = None,
    seed: int | None = None,
    depth: int = DEPTH,
    max_passages: int | None = corpus.MAX_PASSAGES,
) -> list[AbsTaskRetrieval]:
    """mteb retrieval tasks of an xret task: one per setting, data loaded and verified now.

    ``data_dir`` / ``cache_dir`` default to ``$XRET_DATA_DIR`` / ``$XRET_CACHE_DIR`` as in
    ``xret bench``. ``multi_depth=None`` makes the multilingual setting exhaustive too (adds
    ``map``/``mrr``; costs memory: mteb keeps every (query, candidate) score in Python dicts).

    Corpus tasks (``miracl/dev``, ``miracl/<lang>/dev``, ``miracl:DIR``; one task, a subset per
    language), with xret bench's options: ``corpus_dir`` (default ``$XRET_CORPUS_DIR``),
    ``title`` (encode ``title text``, or the text alone), ``pool="reduced"`` with
    ``distractors`` and ``seed`` (xret's reduced pool, not comparable with full-corpus numbers),
    ``depth`` (passages retrieved per query, default 100) and ``max_passages`` (the largest
    pool held in memory, default 2,500,000; None: no limit). See xret.interop.mteb.corpus.
    """
    spec = get_task(task) if isinstance(task, str) else task
    if spec.ranking is Ranking.POOLED_TOP_K:  # mteb's retrieval tasks hold one corpus per subset
        raise XretError(f"{spec.name}: a pooled corpus task has no mteb form; use xret bench")
    chosen = spec.check_languages(tuple(languages) if languages else None)
    wanted = spec.check_settings(
        tuple(Setting.parse(s) if isinstance(s, str) else s for s in settings or ())
    )
    text = CandidateText(candidate_text)
    corpus_options = {
        "corpus_dir": corpus_dir,
        "title": title,
        "pool": pool,
        "distractors": distractors,
        "seed": seed,
        "depth": depth,
        "max_passages": max_passages,
    }
    if spec.ranking is Ranking.TOP_K:
        if text is not CandidateText.SENTENCE or multi_depth != MTEB_DEPTH:
            raise XretError(
                f"{spec.name}: candidate_text and multi_depth apply to LAReQA-format tasks only"
            )
        return [_corpus_task(spec, chosen, data_dir, cache_dir, **corpus_options)]
    defaults = inspect.signature(
        mteb_tasks
    ).parameters  # the signature is the one place of the defaults
    given = [k for k, v in corpus_options.items() if v != defaults[k].default]
    if given:
        raise XretError(f"{spec.name}: {', '.join(given)} apply to corpus tasks (MIRACL) only")
    data = load_task(spec, chosen, paths.data_dir(data_dir), paths.cache_dir(cache_dir))
    source = XretTaskSource(spec, chosen, text, data)
    return [_task_class(source, s, multi_depth if s is Setting.MULTI else None)() for s in wanted]


def _corpus_task(
    spec: TaskSpec,
    languages: tuple[str, ...],
    data_dir: str | Path | None,
    cache_dir: str | Path | None,
    *,
    corpus_dir: str | Path | None,
    title: bool,
    pool: str | PoolSpec,
    distractors: int | None,
    seed: int | None,
    depth: int,
    max_passages: int | None,
) -> AbsTaskRetrieval:
    from xret.tasks.corpus import CORPUS_HINT

    root = paths.corpus_dir(corpus_dir)
    if root is None:
        raise DataError(
            f"{spec.name} searches a corpus and none was given: pass corpus_dir=DIR (or set "
            f"XRET_CORPUS_DIR) with {CORPUS_HINT}"
        )
    if not isinstance(pool, PoolSpec):
        pool = PoolSpec.parse(pool, distractors, seed)
    elif distractors is not None or seed is not None:
        raise XretError("distractors and seed are part of the PoolSpec given as pool")
    data = load_task(spec, languages, paths.data_dir(data_dir), paths.cache_dir(cache_dir), root)
    source = corpus.CorpusTaskSource(spec, languages, data, title, pool, depth, max_passages)
    return corpus.corpus_task(source)


def _task_class(
    source: XretTaskSource, setting: Setting, depth: int | None
) -> type[XretRetrievalTask]:
    """A subclass per task: mteb reads ``metadata`` from the class (``unload_data`` drops instance
    copies)."""
    name = task_name(
        source.spec.name, setting, source.languages, source.spec.languages, source.candidate_text
    )
    cells = source.setting_cells(setting)
    metadata = task_metadata(
        source.facts(), setting, name, [(c.query_language, c.pool_language) for c in cells]
    )
    attrs = {
        "metadata": metadata,
        "source": source,
        "setting": setting,
        "depth": depth,
        "__module__": __name__,
    }
    return type(
        name.replace("-", "_").replace(".", "_").replace("+", "_"), (XretRetrievalTask,), attrs
    )
