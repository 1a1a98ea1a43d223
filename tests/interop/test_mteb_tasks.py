"""xret tasks as mteb tasks, on the toy LAReQA task: metadata, subsets, tie order, depth."""

from __future__ import annotations

import pytest

mteb = pytest.importorskip("mteb", reason="mteb is an optional extra: pip install 'xret[mteb]'")

from xret.interop.mteb.naming import SPLIT  # noqa: E402
from xret.interop.mteb.tasks import mteb_tasks  # noqa: E402
from xret.testing import write_lareqa_task  # noqa: E402

from test_lareqa import PARAGRAPHS  # noqa: E402


@pytest.fixture
def toy(tmp_path):
    return f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"


def test_one_task_per_setting_one_subset_per_cell(toy, cache_dir):
    mono, cross, multi = mteb_tasks(toy, cache_dir=cache_dir)
    assert [t.metadata.name for t in (mono, cross, multi)] == [
        "xret-lareqa-toy-mono",
        "xret-lareqa-toy-cross",
        "xret-lareqa-toy-multi",
    ]
    assert cross.metadata.eval_langs == {
        "de-en": ["deu-Latn", "eng-Latn"],
        "en-de": ["eng-Latn", "deu-Latn"],
    }
    assert multi.metadata.eval_langs["en-all"] == ["eng-Latn", "deu-Latn"]
    assert (mono.metadata.main_score, multi.metadata.main_score) == ("map", "recall_at_10")
    assert mono.metadata.type == "Retrieval" and mono.metadata.eval_splits == [SPLIT]
    # All settings describe the same files.
    assert len({t.metadata.revision for t in (mono, cross, multi)}) == 1
    assert type(mono).metadata is mono.metadata  # class-level: survives mteb's unload_data


def test_subset_holds_the_cell(toy, cache_dir):
    _, cross, _ = mteb_tasks(toy, cache_dir=cache_dir)
    cross.load_data()
    split = cross.dataset["en-de"][SPLIT]
    # en q3 has no German gold: not in the en->de cell (xret counts it as excluded).
    assert split["queries"]["id"] == ["en/q1", "en/q2"]
    assert split["corpus"]["text"] == ["Paris ist die Hauptstadt.", "Es hat 2 Millionen Einwohner."]
    # Gold restricted to the pool: only the German sentence, not the English one.
    assert split["relevant_docs"] == {"en/q1": {"5:de/0/0": 1}, "en/q2": {"4:de/0/1": 1}}


def test_document_ids_order_ties_like_xret(toy, cache_dir):
    (mono,) = mteb_tasks(toy, settings=["mono"], cache_dir=cache_dir)
    mono.load_data()
    ids = mono.dataset["en-en"][SPLIT]["corpus"]["id"]
    assert ids == ["3:en/0/0", "2:en/0/1", "1:en/1/0", "0:en/1/1"]
    # pytrec_eval breaks score ties by document id, descending: candidate order, as xret does.
    assert sorted(ids, reverse=True) == ids


def test_pytrec_eval_breaks_ties_by_descending_document_id():
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator({"q": {"a": 1}}, {"recip_rank"})
    assert evaluator.evaluate({"q": {"a": 0.5, "b": 0.5}})["q"]["recip_rank"] == 0.5
    assert evaluator.evaluate({"q": {"a": 0.5, "0": 0.5}})["q"]["recip_rank"] == 1.0


def test_mono_and_cross_rank_exhaustively_multi_at_mteb_depth(toy, cache_dir):
    mono, cross, multi = mteb_tasks(toy, cache_dir=cache_dir)
    assert mono._top_k == cross._top_k == 4  # the largest pool (English)
    assert multi._top_k == 1000 and multi.exhaustive("en-all")  # a 6-candidate pool fits
    (deep,) = mteb_tasks(toy, settings=["multi"], cache_dir=cache_dir, multi_depth=3)
    assert not deep.exhaustive("en-all")


def test_shallow_multilingual_run_has_no_full_ranking_map(toy, cache_dir):
    from xret.interop.mteb.models import XretMtebEncoder

    (multi,) = mteb_tasks(toy, settings=["multi"], cache_dir=cache_dir, multi_depth=3)
    result = mteb.evaluate(
        XretMtebEncoder("xret.testing:HashEncoder", cache_dir=cache_dir),
        multi,
        cache=None,
        show_progress_bar=False,
        co2_tracker=False,
    )
    (scores, *_) = result.task_results[0].scores[SPLIT]
    assert "map" not in scores and "mrr" not in scores and "map_at_1000" in scores
    assert scores["main_score"] == scores["recall_at_10"]


def test_registered_task_metadata_is_honest_about_origin_and_licence():
    from xret.interop.mteb.metadata import TaskFacts, task_metadata
    from xret.tasks import get_task
    from xret.tasks.spec import Setting

    for name, licence in (("xquad-r", "cc-by-sa-4.0"), ("mlqa-r", "cc-by-nc-4.0")):
        spec = get_task(name)
        facts = TaskFacts(
            spec.name, spec.version, spec.description, spec.licence, spec.languages, {"x": "0"}
        )
        metadata = task_metadata(facts, Setting.MONO, f"xret-{name}-mono", [("en", "en")])
        assert metadata.license == licence
        assert metadata.reference == "https://github.com/google-research-datasets/lareqa"
        assert "roy-etal-2020-lareqa" in metadata.bibtex_citation
        assert metadata.dataset["path"] == f"xret/{name}" and "LAReQA way" in metadata.description


@pytest.mark.realdata
def test_mlqa_r_cross_lingual_subsets_follow_the_pair_matrix(data_dir, tmp_path):
    from xret.tasks import get_task

    (cross,) = mteb_tasks("mlqa-r", settings=["cross"], data_dir=data_dir, cache_dir=tmp_path)
    assert (
        len(cross.metadata.hf_subsets) == 42 and cross._top_k == 6264
    )  # exhaustive: the English pool
    cross.load_data()
    pairs = get_task("mlqa-r").expected.pair_queries
    for subset, splits in cross.dataset.items():
        query_language, pool_language = subset.split("-")
        assert len(splits[SPLIT]["queries"]) == pairs[(query_language, pool_language)]
