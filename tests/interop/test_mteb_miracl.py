"""MIRACL through mteb: the corpus-task adapter, the cross-check against xret's top-k strategy, and
the export of MIRACL records, on generated MIRACL-format data (xret.testing.toy_miracl).

The toy corpus repeats some relevant passages (title and text) under new, unjudged docids in a
last shard: a relevant and a non-relevant passage then tie exactly, and only the tie rule (corpus
order on both sides) decides which ranks first.
"""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

mteb = pytest.importorskip("mteb", reason="mteb is an optional extra: pip install 'xret[mteb]'")

from xret.benchmark.pools import PoolSpec, reduced_pool  # noqa: E402
from xret.benchmark.runner import BenchConfig, CorpusOptions, run_bench  # noqa: E402
from xret.errors import DataError, XretError  # noqa: E402
from xret.interop.mteb.crosscheck import format_table, run_crosscheck  # noqa: E402
from xret.interop.mteb.export import export_results  # noqa: E402
from xret.interop.mteb.models import XretMtebEncoder  # noqa: E402
from xret.interop.mteb.naming import SPLIT, mteb_language  # noqa: E402
from xret.interop.mteb.tasks import mteb_tasks  # noqa: E402
from xret.tasks import get_task, load_task  # noqa: E402
from xret.testing import toy_miracl  # noqa: E402

MODEL = "xret.testing:HashEncoder"
LANGUAGES = ("sw", "ru", "th")
TOLERANCE = (
    1e-4  # the bar; mteb rounds its scores to 5 decimals, so agreement shows as < 5e-6
)


@pytest.fixture(autouse=True, scope="module")
def _one_faiss_thread():
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # tiny searches on a shared machine (see tests/miracl/conftest.py)
    yield
    faiss.omp_set_num_threads(before)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """(task name, corpus dir): 60 passages + 4 copies of relevant ones per language, 8 queries;
    sw has a 9th topic judged only non-relevant (not scored, on either side) and ru a relevant
    judgement of a passage that is not in the corpus (kept: recall counts it as missed)."""
    task_dir, corpus_dir = toy_miracl(tmp_path_factory.mktemp("toy") / "data", duplicates=4)
    with open(
        task_dir / "topics" / "topics.miracl-v1.0-sw-dev.tsv", "a", encoding="utf-8"
    ) as topics:
        topics.write("91\tmji mto ?\n")
    with open(task_dir / "qrels" / "qrels.miracl-v1.0-sw-dev.tsv", "a", encoding="utf-8") as qrels:
        qrels.write("91\tQ0\t1#0\t0\n")
    with open(task_dir / "qrels" / "qrels.miracl-v1.0-ru-dev.tsv", "a", encoding="utf-8") as qrels:
        qrels.write("1\tQ0\t999#9\t1\n")
    return f"miracl:{task_dir}", corpus_dir


def _task(toy, cache_dir, **options):
    (task,) = mteb_tasks(toy[0], corpus_dir=toy[1], cache_dir=cache_dir, **options)
    return task


# ---- the adapter ------------------------------------------------------------------------------


def test_one_task_one_subset_per_language(toy, cache_dir):
    task = _task(toy, cache_dir)
    metadata = task.metadata
    assert metadata.name == "xret-miracl-task-mono"
    assert metadata.eval_langs == {
        f"{lang}-{lang}": [mteb_language(lang)] for lang in ("ru", "sw", "th")
    }
    assert metadata.main_score == "ndcg_at_10" and metadata.eval_splits == [SPLIT]
    assert (
        task._top_k == 100 and max(task.k_values) == 100
    )  # xret's --depth; no cutoff deeper than the run
    assert "Pool: the full corpus" in metadata.description and "rel 0" in metadata.description
    assert metadata.license == "not specified"  # a user's own task: nothing known about it
    assert type(task).metadata is metadata  # class-level: survives mteb's unload_data


def test_subset_holds_what_xret_evaluates(toy, cache_dir):
    task = _task(toy, cache_dir)
    task.load_data()
    split = task.dataset["sw-sw"][SPLIT]
    data = load_task(get_task(toy[0]), ("sw",), None, cache_dir, toy[1])
    corpus = list(data.corpora["sw"].passages())
    ids = list(split["corpus"]["id"])
    # Every passage, in corpus order, ids counting down: pytrec_eval's tie rule (doc id
    # descending) is then xret's (corpus order).
    assert [i.split(":", 1)[1] for i in ids] == [d.id for d in corpus] and len(ids) == 64
    assert sorted(ids, reverse=True) == ids and ids[0] == "63:1#0" and ids[-1].startswith("00:")
    assert (
        split["corpus"]["title"][0] == corpus[0].context
        and split["corpus"]["text"][0] == corpus[0].text
    )
    # Qrels as published, judged negatives (rel 0) included, ids mapped; the topic judged only
    # non-relevant is not a query (mteb would score it 0; xret excludes it).
    position = {d.id: 63 - i for i, d in enumerate(corpus)}
    assert list(split["queries"]["id"]) == [f"sw/{10 * q + 1}" for q in range(8)]
    assert set(split["relevant_docs"]) == set(split["queries"]["id"])
    for qid, judged in split["relevant_docs"].items():
        assert judged == {f"{position[d]:02d}:{d}": grade for d, grade in data.qrels[qid].items()}
        assert sorted(judged.values()) == [0, 0, 1, 1]
    # A judged passage missing from the corpus stays, under an id no passage has.
    ru = task.dataset["ru-ru"][SPLIT]["relevant_docs"]["ru/1"]
    assert ru["missing:999#9"] == 1 and len(ru) == 5
    # mteb's documents read "title text", as xret encodes them.
    from mteb._create_dataloaders import _corpus_to_dict

    first = _corpus_to_dict({k: split["corpus"][k][0] for k in ("id", "title", "text")})["text"]
    assert first == f"{corpus[0].context} {corpus[0].text}"


def test_subsets_are_read_one_at_a_time(toy, cache_dir):
    task = _task(toy, cache_dir)
    task.load_data()
    assert "sw-sw" in task.dataset and task.dataset._loaded == (None, None)  # nothing read yet
    sw = task.dataset["sw-sw"]
    assert task.dataset["sw-sw"] is sw
    task.dataset["ru-ru"]
    assert task.dataset._loaded[0] == "ru-ru"  # sw was dropped


def test_reduced_pool_is_xrets_and_says_so(toy, cache_dir):
    task = _task(toy, cache_dir, pool="reduced", distractors=20, seed=3, title=False)
    assert task.metadata.name == "xret-miracl-task-notitle-reduced-20-seed3-mono"
    assert (
        "NOT comparable" in task.metadata.description
        and "the text alone" in task.metadata.description
    )
    task.load_data()
    split = task.dataset["th-th"][SPLIT]
    data = load_task(get_task(toy[0]), ("th",), None, cache_dir, toy[1])
    judged = {d for q in data.qrels.values() for d in q}
    same = reduced_pool(data.corpora["th"].passages(), judged, PoolSpec("reduced", 20, 3))
    assert [i.split(":", 1)[1] for i in split["corpus"]["id"]] == [d.id for d in same.documents]
    assert "title" not in split["corpus"].column_names
    assert task.metadata.revision == _task(toy, cache_dir).metadata.revision  # the same files read


def test_registered_miracl_metadata_is_honest():
    from xret.interop.mteb.metadata import TaskFacts, task_metadata
    from xret.tasks.spec import Setting

    spec = get_task("miracl/dev")
    facts = TaskFacts(
        spec.name,
        spec.version,
        spec.description,
        spec.licence,
        ("sw",),
        {"x": "0"},
        family="miracl",
        ranking="top-k",
        pool={"kind": "reduced", "distractors": 10, "seed": 0},
    )
    metadata = task_metadata(
        facts, Setting.MONO, "xret-miracl-dev-reduced-10-seed0-mono", [("sw", "sw")]
    )
    assert metadata.license == "cc-by-sa-4.0" and "MIRACL" in metadata.bibtex_citation
    assert metadata.reference.startswith("http://miracl.ai") and metadata.main_score == "ndcg_at_10"
    assert "Apache-2.0" in metadata.description and "NOT comparable" in metadata.description
    assert "--corpus-dir" not in metadata.description


def test_corpora_larger_than_the_memory_limit_are_refused(toy, cache_dir):
    from xret.interop.mteb.corpus import MAX_PASSAGES

    assert _task(toy, cache_dir).source.max_passages == MAX_PASSAGES
    assert (
        _task(toy, cache_dir, max_passages=None).source.max_passages is None
    )  # documented: no limit
    task = _task(toy, cache_dir, max_passages=50)  # a user's task: its size is known once read
    task.load_data()
    with pytest.raises(XretError, match=r"at least 51 passages .* max_passages=50.*xret bench"):
        task.dataset["sw-sw"]


@pytest.mark.realdata
def test_full_english_corpus_is_refused_before_reading(data_dir, tmp_path):
    (tmp_path / "miracl-corpus-v1.0-en").mkdir()
    (tmp_path / "miracl-corpus-v1.0-en" / "docs-0.jsonl").write_text("")
    with pytest.raises(XretError, match=r"32,893,221 passages .*pool='reduced'"):
        mteb_tasks(
            "miracl/en/dev", corpus_dir=tmp_path, data_dir=data_dir, cache_dir=tmp_path / "cache"
        )


def test_mistakes_are_one_line(toy, cache_dir, monkeypatch):
    monkeypatch.delenv("XRET_CORPUS_DIR", raising=False)
    with pytest.raises(DataError, match="pass corpus_dir=DIR"):
        mteb_tasks(toy[0], cache_dir=cache_dir)
    with pytest.raises(XretError, match="apply to LAReQA-format tasks only"):
        mteb_tasks(
            toy[0], corpus_dir=toy[1], cache_dir=cache_dir, candidate_text="sentence+context"
        )
    with pytest.raises(XretError, match="--distractors and --seed apply to --pool reduced only"):
        mteb_tasks(toy[0], corpus_dir=toy[1], cache_dir=cache_dir, seed=1)
    with pytest.raises(XretError, match="corpus_dir, pool apply to corpus tasks"):
        mteb_tasks("xquad-r", corpus_dir=toy[1], pool="reduced", cache_dir=cache_dir)


# ---- cross-check: mteb's evaluator and xret's top-k strategy on the same vectors -------------


@pytest.mark.parametrize(
    ("pool", "depth"),
    [(PoolSpec(), 100), (PoolSpec("reduced", 20, 3), 100), (PoolSpec(), 20)],
    ids=["full", "reduced", "full-depth-20"],
)
def test_mteb_and_xret_agree_per_language(toy, tmp_path, pool, depth):
    deep = f"R@{min(depth, 100)}"
    check = run_crosscheck(
        MODEL,
        toy[0],
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        corpus=CorpusOptions(corpus_dir=toy[1], pool=pool, depth=depth),
        measures=("nDCG@10", deep, "R@10", "MAP", "MRR"),
    )
    print(f"\n{pool.label() or 'full'}, depth {depth}:\n{format_table(check.rows)}")
    assert check.mteb_encoded == 0  # mteb ranked exactly the vectors xret searched
    sw = next(c for c in check.record.cells if c.query_language == "sw")
    assert (sw.n_queries, sw.excluded) == (8, 1)
    keys = {r.key for r in check.rows}
    assert keys == {
        "ndcg_at_10",
        f"recall_at_{min(depth, 100)}",
        "recall_at_10",
        f"map_at_{depth}",
        f"mrr_at_{depth}",
    }
    assert all(r.cells == 3 for r in check.rows)
    worst = max(check.rows, key=lambda r: r.max_abs_diff)
    assert worst.max_abs_diff < TOLERANCE, worst
    # The copies tie with relevant passages at rank 1: the tie rule is exercised, not bypassed.
    assert next(r for r in check.rows if r.measure == "MRR").xret_macro == 1.0


# ---- export -----------------------------------------------------------------------------------


def test_export_of_miracl_records_round_trips_and_matches_an_mteb_run(toy, tmp_path):
    records = []
    for pool in (PoolSpec(), PoolSpec("reduced", 20, 3)):
        config = BenchConfig(
            model=MODEL,
            tasks=(toy[0],),
            cache_dir=tmp_path / "cache",
            results_dir=tmp_path / "results",
            corpus=CorpusOptions(corpus_dir=toy[1], pool=pool),
            measures=("nDCG@10", "R@100", "R@10"),
            progress=False,
        )
        (outcome,) = run_bench(config, log=lambda _: None)
        records.append(outcome.record)
    report = export_results(tmp_path / "results", tmp_path / "out")  # validated with mteb's loader
    assert sorted(f.task for f in report.files) == [
        "xret-miracl-task-mono",
        "xret-miracl-task-reduced-20-seed3-mono",
    ]
    assert not report.notes
    loaded = mteb.ResultCache(tmp_path / "out").load_results(include_remote=False)
    (model_result,) = loaded.model_results
    exported = {t.task_name: t for t in model_result.task_results}
    for record, name in zip(
        records, ("xret-miracl-task-mono", "xret-miracl-task-reduced-20-seed3-mono")
    ):
        result = exported[name]
        subsets = {s["hf_subset"]: s for s in result.scores[SPLIT]}
        assert set(subsets) == {"ru-ru", "sw-sw", "th-th"}
        for cell in record.cells:
            scores = subsets[f"{cell.query_language}-{cell.pool_language}"]
            assert (
                scores["main_score"]
                == scores["ndcg_at_10"]
                == pytest.approx(cell.values["nDCG@10"], abs=1e-6)
            )
            assert scores["recall_at_100"] == pytest.approx(cell.values["R@100"], abs=1e-6)
        # xret's mean and median over languages, from mteb's file with mteb's own aggregation.
        summary = record.summary
        assert result.get_score() == pytest.approx(summary["mean-3"]["mono"]["nDCG@10"], abs=1e-6)
        assert result.get_score(aggregation=np.median) == pytest.approx(
            summary["median-3"]["mono"]["nDCG@10"], abs=1e-6
        )
        two = [mteb_language("sw"), mteb_language("th")]
        by_language = record.by_language["mono"]["nDCG@10"]
        assert result.get_score(languages=two) == pytest.approx(
            statistics.fmean([by_language["sw"], by_language["th"]]), abs=1e-6
        )
    # An mteb run of the adapted task lands in the same task, revision and keys.
    task = _task(toy, tmp_path / "cache")
    ran = mteb.evaluate(
        XretMtebEncoder(MODEL, cache_dir=tmp_path / "cache"),
        task,
        cache=None,
        show_progress_bar=False,
        co2_tracker=False,
    ).task_results[0]
    twin = exported[ran.task_name]
    assert twin.dataset_revision == ran.dataset_revision
    theirs = {s["hf_subset"]: s for s in twin.scores[SPLIT]}
    for scores in ran.scores[SPLIT]:
        for key in ("main_score", "ndcg_at_10", "recall_at_100", "recall_at_10"):
            assert theirs[scores["hf_subset"]][key] == pytest.approx(scores[key], abs=1e-5), key
    meta = json.loads(next((tmp_path / "out").rglob("model_meta.json")).read_text())
    assert meta["name"] == "xret/xret.testing-HashEncoder"


def test_a_pooled_corpus_task_has_no_mteb_form():
    with pytest.raises(XretError, match="miracl/sw/dev\\+en: a pooled corpus task has no mteb"):
        mteb_tasks("miracl/sw/dev+en")
