"""Counts of the real training sources and of the contamination guard (shared/data/README.md)."""

from __future__ import annotations

from collections import Counter

import pytest

from xret.baselines.data import drop_overlap, eval_keys, load_source
from xret.baselines.samplers import PairBatchSampler, Sampling

pytestmark = pytest.mark.realdata

MLQA_QUESTIONS = {"ar": 517, "de": 512, "en": 1148, "es": 500, "hi": 507, "vi": 511, "zh": 504}


@pytest.fixture(scope="module")
def squad_it_es(data_dir):
    return load_source("squad-it-es", data_dir)


@pytest.fixture(scope="module")
def mlqa_dev(data_dir):
    return load_source("mlqa-dev", data_dir)


@pytest.fixture(scope="module")
def xquad(data_dir):
    return eval_keys(sorted((data_dir / "xquad").glob("xquad.*.json")))


def per_language(items) -> Counter:
    return Counter(lang for item in items for lang in item.by_language)


def test_squad_it_es_items(squad_it_es):
    # SQuAD-it has 7,609 questions; "d250" has only empty answers and is reported, not loaded.
    assert squad_it_es.unanswered == (("it", "d250"),)
    assert per_language(squad_it_es.items) == {"it": 7608, "es": 6583}
    assert Counter(len(item.by_language) for item in squad_it_es.items) == {1: 5113, 2: 4539}


def test_xquad_overlap_of_squad_it_es_matches_the_readme(squad_it_es, xquad):
    assert len(xquad.question_ids) == 1190 and len(xquad.articles) == 48
    items = squad_it_es.items
    in_xquad = [item for item in items if item.id in xquad.question_ids]
    assert per_language(in_xquad) == {"it": 778, "es": 732}
    shared = [item for item in items if len(item.by_language) == 2]
    assert len(shared) == 4539
    assert sum(item.id not in xquad.question_ids for item in shared) == 4029

    kept, dropped = drop_overlap(items, xquad.question_ids, ())
    assert dropped.counts == {"question_id": 778 + 732 - (4539 - 4029), "article": 0, "kept": 8652}
    assert sum(len(item.by_language) == 2 for item in kept) == 4029
    assert per_language(kept) == {"it": 7608 - 778, "es": 6583 - 732}


def test_article_guard_only_catches_titles_spelled_alike(squad_it_es, xquad):
    # All 48 SQuAD-dev articles are XQuAD's, but the items' titles are Italian (Spanish where the id
    # has no Italian): only those left untranslated, like "Super Bowl _ 50", match XQuAD's.
    _, dropped = drop_overlap(squad_it_es.items, (), xquad.articles)
    assert dropped.counts == {"question_id": 0, "article": 2539, "kept": 9652 - 2539}


def test_mlqa_dev_items(mlqa_dev):
    assert mlqa_dev.unanswered == ()
    assert per_language(mlqa_dev.items) == MLQA_QUESTIONS
    assert Counter(len(item.by_language) for item in mlqa_dev.items) == {2: 65, 3: 263, 4: 820}
    assert all(item.article for item in mlqa_dev.items)


def test_mlqa_dev_against_the_eval_sets(mlqa_dev, xquad, data_dir):
    mlqa_r = eval_keys(sorted((data_dir / "mlqa-r").glob("*.json")))
    _, dropped = drop_overlap(mlqa_dev.items, mlqa_r.question_ids, mlqa_r.articles)
    assert dropped.counts == {"question_id": 1148, "article": 0, "kept": 0}
    # No shared ids with XQuAD, but two English Wikipedia articles are in both.
    _, dropped = drop_overlap(mlqa_dev.items, xquad.question_ids, xquad.articles)
    assert dropped.counts == {"question_id": 0, "article": 3, "kept": 1145}


def test_paper_batch_size_runs_on_the_real_sources(squad_it_es, mlqa_dev, xquad):
    kept, _ = drop_overlap(squad_it_es.items, xquad.question_ids, ())
    sampler = PairBatchSampler(
        {"squad-it-es": kept, "mlqa-dev": mlqa_dev.items}, "hybrid", batch_size=100
    )
    for batch in sampler.batches(40):
        assert len(batch.pairs) == 100
        assert len({p.passage_text for p in batch.pairs}) == 100
        if batch.kind is Sampling.X_X_MONO:
            assert len({p.query_lang for p in batch.pairs}) == 1
        else:
            assert all(p.query_lang != p.passage_lang for p in batch.pairs)
