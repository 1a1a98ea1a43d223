"""The top-k strategy end to end on generated MIRACL-format data, against independent oracles."""

from __future__ import annotations

import gzip
import json
import random
import statistics

import numpy as np
import pytest
import pytrec_eval
from hypothesis import given, settings

from xret.benchmark import corpus_facts, corpus_search
from xret.benchmark.pools import PoolSpec
from xret.benchmark.runner import BenchConfig, CorpusOptions, run_bench
from xret.benchmark.search import ExactIndex, IndexSpec
from xret.benchmark.strategies import Stages
from xret.errors import DataError, UnknownNameError, XretError
from xret.results.aggregate import summarise
from xret.results.store import load_per_query
from xret.tasks import get_task
from xret.tasks.corpus import find_shards, passage_text, read_shard
from xret.testing import HashEncoder, toy_miracl

from test_search import collections

MODEL = "xret.testing:HashEncoder"


@pytest.fixture
def toy(tmp_path):
    task_dir, corpus_dir = toy_miracl(tmp_path / "data", passages=150, shards=3, queries=10)
    return task_dir, corpus_dir


def bench(tmp_path, task_dir, corpus_dir, **corpus):
    config = BenchConfig(
        model=MODEL,
        tasks=(f"miracl:{task_dir}",),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        corpus=CorpusOptions(corpus_dir=corpus_dir, **corpus),
        progress=False,
    )
    (outcome,) = run_bench(config, log=lambda m: None)
    return outcome


def oracle_run(task_dir, corpus_dir, language, with_title=True):
    """Every passage scored with numpy, ranked in full (ties by corpus order), real docids."""
    passages = [
        d
        for p in find_shards(corpus_dir / f"miracl-corpus-v1.0-{language}")
        for d in read_shard(p, language)
    ]
    vectors = HashEncoder().encode([passage_text(d, with_title) for d in passages])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    topics = dict(
        line.rstrip("\n").split("\t")
        for line in open(task_dir / "topics" / f"topics.miracl-v1.0-{language}-dev.tsv")
    )
    run = {}
    for qid, text in topics.items():
        q = HashEncoder().encode([text])[0]
        scores = vectors @ (q / np.linalg.norm(q))
        order = sorted(range(len(passages)), key=lambda i: (-scores[i], i))
        run[f"{language}/{qid}"] = {
            passages[i].id: float(len(order) - r) for r, i in enumerate(order)
        }
    qrels = {}
    for line in open(task_dir / "qrels" / f"qrels.miracl-v1.0-{language}-dev.tsv"):
        qid, _, doc, rel = line.split()
        qrels.setdefault(f"{language}/{qid}", {})[doc] = int(rel)
    return qrels, run


def test_full_corpus_run_agrees_with_pytrec_eval_on_a_full_ranking(tmp_path, toy):
    outcome = bench(tmp_path, *toy)
    record = outcome.record
    per_query = load_per_query(outcome.path, record)
    assert list(per_query.columns) == [
        "setting",
        "query_language",
        "pool_language",
        "query_id",
        "nDCG@10",
        "R@100",
    ]
    for language in ("sw", "ru", "th"):
        qrels, run = oracle_run(*toy, language)
        expected = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(
            run
        )
        rows = per_query[per_query.query_language == language].set_index("query_id")
        assert len(rows) == 10
        for qid, values in expected.items():
            assert rows.loc[qid, "nDCG@10"] == pytest.approx(values["ndcg_cut_10"], abs=1e-6)
            assert rows.loc[qid, "R@100"] == pytest.approx(values["recall_100"], abs=1e-6)
        assert 0 < rows["nDCG@10"].mean() < 1  # not a trivial ranking
    assert record.options.ranking == "top-k" and record.options.extras["pool"] == {"kind": "full"}
    assert (
        record.options.extras["index"] == {"kind": "flat"}
        and record.options.extras["passage_text"] == "title+text"
    )
    assert record.task.counts == {"queries": 30, "candidates": 450}
    assert set(record.task.extras["corpus"]["sw"]["shards"]) == {
        "docs-0.jsonl.gz",
        "docs-1.jsonl.gz",
        "docs-2.jsonl.gz",
    }
    nd = record.by_language["mono"]["nDCG@10"]
    assert record.summary["mean-3"]["mono"]["nDCG@10"] == pytest.approx(
        statistics.fmean(nd.values())
    )
    assert record.summary["median-3"]["mono"]["nDCG@10"] == pytest.approx(
        statistics.median(nd.values())
    )
    assert record.extra["comparable_with_published"] is False  # a custom task: nothing published
    assert {"load_data", "encode", "search", "measures"} <= set(record.provenance.timings)


def test_rerun_reads_the_corpus_store_and_encodes_nothing(tmp_path, toy):
    first = bench(tmp_path, *toy)
    config = BenchConfig(
        model=MODEL,
        tasks=(f"miracl:{toy[0]}",),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        corpus=CorpusOptions(corpus_dir=toy[1]),
        overwrite=True,
        progress=False,
    )
    (again,) = run_bench(config, log=lambda m: None)
    assert again.record.provenance.encode["encoded"] == 0
    assert again.record.cells == first.record.cells


def test_the_15_and_18_language_mean_and_median():
    task = get_task("miracl/dev")
    values = {lang: float(i) for i, lang in enumerate(task.languages)}  # ar=0 … zh=17
    values.update(en=100.0, de=200.0, yo=300.0)  # outside the paper's 15: they move only the 18s
    summary = summarise({"mono": {"nDCG@10": values}}, task.aggregates)
    paper = [v for lang, v in values.items() if lang not in ("en", "de", "yo")]
    assert summary["mean-15"]["mono"]["nDCG@10"] == pytest.approx(statistics.fmean(paper))
    assert summary["median-15"]["mono"]["nDCG@10"] == statistics.median(paper) == 9.0
    assert summary["mean-18"]["mono"]["nDCG@10"] == pytest.approx(statistics.fmean(values.values()))
    assert summary["median-18"]["mono"]["nDCG@10"] == statistics.median(values.values()) == 10.5
    # A subset of languages reports no 15/18 aggregate (it would not be the paper's).
    partial = {lang: v for lang, v in values.items() if lang != "sw"}
    assert set(summarise({"mono": {"nDCG@10": partial}}, task.aggregates)) == set()


def test_reduced_pool_is_recorded_and_kept_apart(tmp_path, toy):
    outcome = bench(tmp_path, *toy, pool=PoolSpec("reduced", distractors=20, seed=1))
    record = outcome.record
    assert outcome.path.name.startswith("miracl-task-reduced-20-seed1__")
    assert record.options.extras["pool"] == {"kind": "reduced", "distractors": 20, "seed": 1}
    assert record.extra["comparable_with_published"] is False
    assert any("reduced pool" in reason for reason in record.extra["not_comparable_because"])
    for language in ("sw", "ru", "th"):
        judged = record.extra["missing_judged"][language]["judged"]
        assert record.task.extras["corpus"][language]["pool"] == judged + 20
        assert record.task.extras["corpus"][language]["passages"] == 150
    full = bench(tmp_path, *toy)
    assert full.path != outcome.path


def test_hnsw_parameters_are_recorded(tmp_path, toy):
    outcome = bench(tmp_path, *toy, index=IndexSpec("hnsw", m=8, ef_search=50))
    record = outcome.record
    assert record.options.extras["index"] == {
        "kind": "hnsw",
        "m": 8,
        "ef_construction": 200,
        "ef_search": 50,
    }
    assert record.extra["index"]["sw"] == {
        "kind": "hnsw",
        "m": 8,
        "ef_construction": 200,
        "ef_search": 100,
    }
    assert "index" in record.provenance.timings


def _append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_bad_input_is_counted_reported_and_the_run_continues(tmp_path, toy):
    task_dir, corpus_dir = toy
    _append(
        task_dir / "topics" / "topics.miracl-v1.0-sw-dev.tsv",
        "900\tonly negatives\n901\tno qrels at all\n",
    )
    _append(
        task_dir / "qrels" / "qrels.miracl-v1.0-sw-dev.tsv",
        "900\tQ0\t1#0\t0\n1\tQ0\tgone#7\t1\n1\tQ0\tgone#8\t0\n777\tQ0\t1#1\t1\n",
    )
    record = bench(tmp_path, task_dir, corpus_dir).record
    sw = record.cell("mono", "sw", "sw")
    assert (sw.n_queries, sw.excluded) == (10, 2)
    assert record.extra["no_relevant"]["sw"] == ["sw/900", "sw/901"]
    missing = record.extra["missing_judged"]["sw"]
    assert (missing["missing"], missing["missing_relevant"]) == (2, 1) and missing["examples"] == [
        "gone#7",
        "gone#8",
    ]
    assert record.extra["qrels_without_topic"]["sw"] == 1
    assert record.extra["missing_judged"]["ru"]["missing"] == 0
    # The missing relevant passage still counts: query 1 cannot reach full recall.
    per_query = load_per_query(record_path(tmp_path), record).set_index("query_id")
    assert per_query.loc["sw/1", "R@100"] == pytest.approx(2 / 3)


def record_path(tmp_path):
    (path,) = (tmp_path / "results").rglob("*.json")
    return path


def test_corpus_changed_in_place_between_runs_is_refused(tmp_path, toy):
    """Same shards, same sizes, other content: the store refuses to mix two corpora (a corpus
    of another layout, e.g. a truncated copy, has a store of its own: tests/test_identity.py)."""
    task_dir, corpus_dir = toy
    shard = corpus_dir / "miracl-corpus-v1.0-ru" / "docs-1.jsonl.gz"
    lines = gzip.decompress(shard.read_bytes()).decode().splitlines()
    shard.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))  # as edited below
    size = shard.stat().st_size
    bench(tmp_path, task_dir, corpus_dir)
    first = json.loads(lines[0])
    for seed in range(500):  # shuffled words: an edit that keeps the compressed size
        words = first["text"].split()
        random.Random(seed).shuffle(words)
        edited = json.dumps({**first, "text": " ".join(words)}, ensure_ascii=False)
        changed = gzip.compress(("\n".join([edited, *lines[1:]]) + "\n").encode(), mtime=0)
        if len(changed) == size and edited != lines[0]:
            break
    assert len(changed) == size
    shard.write_bytes(changed)
    config = BenchConfig(
        model=MODEL,
        tasks=(f"miracl:{task_dir}",),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        corpus=CorpusOptions(corpus_dir=corpus_dir),
        overwrite=True,
        progress=False,
    )
    with pytest.raises(DataError, match="miracl-corpus-v1.0-ru: docs-1.jsonl.gz changed"):
        run_bench(config, log=lambda m: None)


def test_without_a_corpus_nothing_can_be_evaluated(tmp_path, toy):
    config = BenchConfig(
        model=MODEL,
        tasks=("miracl/dev",),
        cache_dir=tmp_path / "c",
        results_dir=tmp_path / "r",
        progress=False,
    )
    with pytest.raises(
        DataError, match="none was given: pass --corpus-dir DIR .* nothing can be evaluated"
    ):
        run_bench(config, log=lambda m: None)


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(measures=("RD",)), XretError, "RD needs exhaustive ranking"),
        (dict(measures=("R@1000",)), XretError, "R@1000 looks deeper than --depth 100"),
        (dict(settings=("cross",)), UnknownNameError, "unknown setting of miracl:task 'cross'"),
    ],
)
def test_options_a_corpus_task_cannot_honour(tmp_path, toy, change, error, message):
    from xret.tasks.spec import Setting

    if "settings" in change:
        change = {"settings": tuple(Setting(s) for s in change["settings"])}
    config = BenchConfig(
        model=MODEL,
        tasks=(f"miracl:{toy[0]}",),
        cache_dir=tmp_path / "c",
        results_dir=tmp_path / "r",
        corpus=CorpusOptions(corpus_dir=toy[1]),
        progress=False,
        **change,
    )
    with pytest.raises(error, match=message):
        run_bench(config, log=lambda m: None)


def test_title_option_changes_what_is_encoded(tmp_path, toy):
    record = bench(tmp_path, *toy, title=False).record
    assert record.options.extras["passage_text"] == "text"
    qrels, run = oracle_run(*toy, "th", with_title=False)
    expected = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(run)
    assert record.by_language["mono"]["nDCG@10"]["th"] == pytest.approx(
        statistics.fmean(v["ndcg_cut_10"] for v in expected.values()), abs=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(collections())
def test_block_search_of_the_corpus_path_equals_exact(case):
    vectors, queries, k, block = case
    original = corpus_search.SEARCH_BLOCK
    corpus_search.SEARCH_BLOCK = block
    try:
        hits, params = corpus_search.search(
            corpus_search.InMemory(vectors), queries, k, IndexSpec(), Stages()
        )
    finally:
        corpus_search.SEARCH_BLOCK = original
    oracle = ExactIndex(vectors.shape[1])
    oracle.add(vectors)
    assert np.array_equal(hits.ids, oracle.search(queries, k).ids)
    assert params == {"kind": "flat"}


def test_ivf_needs_fewer_lists_than_vectors():
    vectors = np.eye(10, 4, dtype=np.float32)
    with pytest.raises(XretError, match="--nlist 64 exceeds the 10 vectors"):
        corpus_search.search(
            corpus_search.InMemory(vectors), vectors[:1], 5, IndexSpec("ivf", nlist=64), Stages()
        )


def test_ranked_run_keeps_the_better_rank_of_a_repeated_docid():
    assert corpus_facts.ranked_run(("q",), [["a", "b", "a", "c"]]) == {
        "q": {"a": 4.0, "b": 3.0, "c": 1.0}
    }


@pytest.mark.realdata
def test_real_yoruba_topics_on_a_generated_corpus(data_dir, tmp_path):
    """The pinned yo dev topics/qrels against a small corpus holding every judged passage: all
    119 queries are scored, nothing is missing, and the corpus size makes it non-comparable."""
    from xret.tasks.miracl import read_qrels, read_topics
    from xret.testing import write_corpus

    topics = read_topics(data_dir / "miracl/topics/topics.miracl-v1.0-yo-dev.tsv")
    qrels = read_qrels(data_dir / "miracl/qrels/qrels.miracl-v1.0-yo-dev.tsv")
    text = {
        doc: topics[q] if rel else "ọ̀rọ̀ mìíràn"
        for q, docs in qrels.items()
        for doc, rel in docs.items()
    }
    rows = [{"docid": doc, "title": "", "text": t} for doc, t in sorted(text.items())]
    rows += [{"docid": f"x{i}#0", "title": "", "text": f"ìpínrọ̀ {i}"} for i in range(200)]
    write_corpus(tmp_path / "corpus" / "miracl-corpus-v1.0-yo", [rows[::2], rows[1::2]])
    config = BenchConfig(
        model=MODEL,
        tasks=("miracl/yo/dev",),
        data_dir=data_dir,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        corpus=CorpusOptions(corpus_dir=tmp_path / "corpus"),
        progress=False,
    )
    messages = []
    (outcome,) = run_bench(config, log=messages.append)
    record = outcome.record
    cell = record.cell("mono", "yo", "yo")
    assert (cell.n_queries, cell.excluded) == (119, 0)
    assert record.extra["missing_judged"]["yo"]["missing"] == 0
    assert record.task.extras["corpus"]["yo"]["expected_passages"] == 49_043
    assert record.extra["comparable_with_published"] is False
    assert record.extra["not_comparable_because"] == [
        f"yo: the corpus has {len(rows):,} passages, MIRACL v1.0 has 49,043"
    ]
    assert any("not comparable" in m for m in messages)
    assert cell.values["R@100"] > 0.5  # relevant passages repeat their query's words
