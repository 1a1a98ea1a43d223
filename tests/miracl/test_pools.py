"""The reduced pool of single-machine mode: all judged passages + a seeded uniform sample."""

from __future__ import annotations

import pytest

from xret.benchmark.pools import PoolSpec, reduced_pool
from xret.errors import XretError
from xret.tasks.records import Document


def docs(n: int) -> list[Document]:
    return [Document(id=f"{i}#0", language="sw", text=f"text {i}") for i in range(n)]


def test_judged_passages_plus_distractors_in_corpus_order():
    corpus = docs(1000)
    judged = {"5#0", "500#0", "999#0", "missing#0"}
    pool = reduced_pool(corpus, judged, PoolSpec("reduced", distractors=50, seed=3))
    ids = [d.id for d in pool.documents]
    assert len(ids) == 53 and len(set(ids)) == 53
    assert {"5#0", "500#0", "999#0"} <= set(ids)
    assert pool.judged_found == {"5#0", "500#0", "999#0"}  # "missing#0" is not in the corpus
    assert ids == sorted(ids, key=lambda d: int(d.split("#")[0]))  # corpus order
    assert pool.passages_seen == 1000


def test_sample_depends_on_seed_and_docids_only():
    corpus = docs(400)
    spec = PoolSpec("reduced", distractors=30, seed=7)
    first = {d.id for d in reduced_pool(corpus, set(), spec).documents}
    assert first == {d.id for d in reduced_pool(list(reversed(corpus)), set(), spec).documents}
    other = {d.id for d in reduced_pool(corpus, set(), PoolSpec("reduced", 30, seed=8)).documents}
    assert other != first and len(other) == 30


def test_sample_is_uniform_over_the_corpus():
    """Over many seeds every tenth of the corpus gets a tenth of the draws (expected share 0.1,
    binomial sd 0.003 for 8,000 draws: the bounds are 5 sd wide; a sampler biased to either end
    or to early shards fails)."""
    corpus = docs(1000)
    tenths = [0] * 10
    for seed in range(80):
        for d in reduced_pool(
            corpus, set(), PoolSpec("reduced", distractors=100, seed=seed)
        ).documents:
            tenths[int(d.id.split("#")[0]) // 100] += 1
    assert sum(tenths) == 8000
    assert all(0.085 <= n / 8000 <= 0.115 for n in tenths), tenths


def test_no_distractors_keeps_only_judged():
    pool = reduced_pool(docs(20), {"3#0"}, PoolSpec("reduced", distractors=0))
    assert [d.id for d in pool.documents] == ["3#0"]


def test_pool_options_and_labels():
    assert PoolSpec().options() == {"kind": "full"} and PoolSpec().label() == ""
    spec = PoolSpec.parse("reduced", 500, None)
    assert spec.options() == {"kind": "reduced", "distractors": 500, "seed": 0}
    assert spec.label() == "reduced-500-seed0"
    with pytest.raises(XretError, match="apply to --pool reduced only"):
        PoolSpec.parse("full", 10, None)
    with pytest.raises(XretError, match="--pool everything"):
        PoolSpec.parse("everything", None, None)
