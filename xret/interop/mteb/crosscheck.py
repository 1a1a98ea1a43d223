"""Agreement between an xret result record and mteb's scores for the same model and data.

Cell by cell (xret cell = mteb subset), per measure: the largest absolute difference, and the
difference of the per-language macro averages (xret's ``summary``). mteb rounds its own scores
to 5 decimals, so exact agreement shows as differences below 5e-6.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from xret.interop.mteb.naming import SPLIT, record_task_name, score_key, subset_name
from xret.measures.table import parse_measure
from xret.results.record import ResultRecord
from xret.tasks.spec import Setting


@dataclass(frozen=True)
class Agreement:
    setting: str
    measure: str
    """The xret measure."""
    key: str
    """The mteb score key it was compared with."""
    cells: int
    max_abs_diff: float
    """Largest |xret - mteb| over the cells."""
    macro_abs_diff: float
    """|xret macro - mteb macro| (mean over source languages of the per-language means)."""
    xret_macro: float
    mteb_macro: float


def compare(
    record: ResultRecord,
    task_results: Iterable,
    extra: Sequence[tuple[str, str]] = (),
) -> list[Agreement]:
    """Compare every measure of ``record`` that has an mteb key present in the scores of the
    matching ``task_results`` (mteb ``TaskResult``s), plus ``extra`` (xret measure, mteb key)
    pairs, e.g. ``("MAP", "map_at_1000")`` where every pool has at most 1000 candidates."""
    by_name = {
        r.task_name: {s["hf_subset"]: s for s in r.scores.get(SPLIT, [])} for r in task_results
    }
    rows = []
    for setting in Setting:
        cells = [
            c
            for c in record.cells
            if c.setting == setting and c.n_queries and not c.by_candidate_language
        ]
        name = record_task_name(record.task, record.options, setting)
        subsets = by_name.get(name)
        if not cells or subsets is None:
            continue
        measures = [
            (m, score_key(parse_measure(m))) for m in cells[0].values if parse_measure(m).is_trec
        ]
        for measure, key in [*measures, *extra]:
            pairs = []
            for cell in cells:
                theirs = subsets.get(subset_name(cell.query_language, cell.pool_language), {}).get(
                    key
                )
                if theirs is None or measure not in cell.values:
                    break
                pairs.append((cell.query_language, cell.values[measure], float(theirs)))
            else:
                rows.append(_agreement(str(setting), measure, key, pairs))
    return rows


def _agreement(
    setting: str, measure: str, key: str, pairs: list[tuple[str, float, float]]
) -> Agreement:
    mine, theirs = defaultdict(list), defaultdict(list)
    for language, a, b in pairs:
        mine[language].append(a)
        theirs[language].append(b)
    xret_macro = statistics.fmean(statistics.fmean(v) for v in mine.values())
    mteb_macro = statistics.fmean(statistics.fmean(v) for v in theirs.values())
    return Agreement(
        setting=setting,
        measure=measure,
        key=key,
        cells=len(pairs),
        max_abs_diff=max(abs(a - b) for _, a, b in pairs),
        macro_abs_diff=abs(xret_macro - mteb_macro),
        xret_macro=xret_macro,
        mteb_macro=mteb_macro,
    )


def format_table(rows: Sequence[Agreement]) -> str:
    lines = [
        f"{'setting':<7} {'measure':<8} {'mteb key':<14} {'cells':>5} {'max |d| cell':>13} "
        f"{'|d| macro':>10} {'xret macro':>11} {'mteb macro':>11}"
    ]
    for r in rows:
        lines.append(
            f"{r.setting:<7} {r.measure:<8} {r.key:<14} {r.cells:>5} {r.max_abs_diff:>13.2e} "
            f"{r.macro_abs_diff:>10.2e} {r.xret_macro:>11.6f} {r.mteb_macro:>11.6f}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class CrossCheck:
    record: ResultRecord
    task_results: list
    rows: list[Agreement]
    mteb_encoded: int
    """Texts the mteb side had to encode itself (0: it ranked exactly the vectors xret ranked)."""


def run_crosscheck(
    model: str,
    task: str,
    *,
    cache_dir,
    results_dir,
    languages: Sequence[str] | None = None,
    data_dir=None,
    corpus=None,
    measures: Sequence[str] | None = None,
) -> CrossCheck:
    """Evaluate ``model`` on ``task`` with ``xret bench``, then with ``mteb.evaluate`` on the
    adapted tasks, feeding mteb the vectors xret's engine produced (``XretMtebEncoder`` over the
    same cache), and compare cell by cell. Pools of at most 1000 candidates also compare xret's
    MAP with mteb's own ``map_at_1000``.

    Corpus tasks (MIRACL) take xret bench's ``corpus`` options (``CorpusOptions``: corpus
    directory, title, pool, depth; the index must be flat, mteb searches exactly) and
    ``measures``; xret's MAP and MRR over its top ``depth`` are compared with mteb's
    ``map_at_<depth>`` and ``mrr_at_<depth>``."""
    from pathlib import Path

    from xret import paths
    from xret.interop.mteb import require_mteb

    mteb = require_mteb("the mteb cross-check")
    from xret.benchmark.runner import BenchConfig, CorpusOptions, run_bench
    from xret.interop.mteb.models import XretMtebEncoder
    from xret.interop.mteb.tasks import mteb_tasks
    from xret.tasks import get_task
    from xret.tasks.spec import Ranking

    top_k = get_task(task).ranking is Ranking.TOP_K
    corpus = corpus or CorpusOptions()
    if top_k and not corpus.index.exact:
        raise ValueError("the cross-check compares exact searches: use the flat index")
    config = BenchConfig(
        model=model,
        tasks=(task,),
        cache_dir=Path(cache_dir),
        results_dir=Path(results_dir),
        data_dir=paths.data_dir(data_dir),
        languages=tuple(languages) if languages else None,
        measures=tuple(measures) if measures else None,
        corpus=corpus,
        overwrite=True,
        progress=False,
    )
    (outcome,) = run_bench(config, log=lambda _: None)
    encoder = XretMtebEncoder(model, cache_dir=cache_dir)
    if top_k:
        tasks = mteb_tasks(
            task,
            languages=languages,
            data_dir=data_dir,
            cache_dir=cache_dir,
            corpus_dir=corpus.corpus_dir,
            title=corpus.title,
            pool=corpus.pool,
            depth=corpus.depth,
            max_passages=None,
        )
        if not corpus.pool.reduced:
            _share_corpus_store(encoder, tasks[0].source, Path(cache_dir))
        extra = [("MAP", f"map_at_{corpus.depth}"), ("MRR", f"mrr_at_{corpus.depth}")]
    else:
        tasks = mteb_tasks(task, languages=languages, data_dir=data_dir, cache_dir=cache_dir)
        largest = max(len(c.pool) for t in tasks for c in t.source.setting_cells(t.setting))
        extra = [("MAP", "map_at_1000")] if largest <= 1000 else []
    before = encoder.engine.stats.encoded
    result = mteb.evaluate(
        encoder,
        tasks,
        cache=None,
        overwrite_strategy="always",
        show_progress_bar=False,
        co2_tracker=False,
    )
    rows = compare(outcome.record, result.task_results, extra=extra)
    return CrossCheck(
        outcome.record, list(result.task_results), rows, encoder.engine.stats.encoded - before
    )


def _share_corpus_store(encoder, source, cache_dir) -> None:
    """A full-corpus run keeps its passage vectors in xret's corpus store, not in the text cache
    that ``XretMtebEncoder`` reads: copy them there (passage text -> the vector xret searched), so
    mteb ranks exactly those vectors. For cross-checks on small corpora (mteb's own size)."""
    from xret.benchmark.cache import text_digests
    from xret.benchmark.corpus_store import corpus_root, encode_corpus
    from xret.models.spec import Role
    from xret.tasks.corpus import passage_text, read_shard

    engine = encoder.engine
    cache = engine.cache.namespace(engine.namespace(Role.DOCUMENT))
    for language in source.languages:
        corpus = source.data.corpora[language]
        root = corpus_root(cache_dir, engine, corpus, source.title)
        store = encode_corpus(
            corpus, engine, root, source.title, log=lambda _: None
        )  # finished: reads only
        for index, shard in enumerate(corpus.shards):
            texts = [passage_text(d, source.title) for d in read_shard(shard, language)]
            cache.add(text_digests(texts), np.array(store.vectors(index)))
