"""Search at scale: sharded / block-merged top k equals one exact search; IVF and HNSW settings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xret.benchmark.search import (
    ExactIndex,
    FlatIndex,
    Hits,
    IndexSpec,
    TopK,
    auto_nlist,
)
from xret.errors import UnknownNameError, XretError


@st.composite
def collections(draw):
    """Small-integer vectors: every inner product is exact in float32, whatever the summation
    order, so ties are real ties and the comparison tests the merge, not rounding."""
    dim = draw(st.integers(1, 6))
    n = draw(st.integers(1, 60))
    values = st.integers(-2, 2)
    vectors = np.array(
        draw(st.lists(st.lists(values, min_size=dim, max_size=dim), min_size=n, max_size=n)),
        dtype=np.float32,
    )
    duplicates = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=10)
    )
    for src, dst in duplicates:
        vectors[dst] = vectors[src]
    queries = np.array(
        draw(st.lists(st.lists(values, min_size=dim, max_size=dim), min_size=1, max_size=5)),
        dtype=np.float32,
    )
    return vectors, queries, draw(st.integers(1, 70)), draw(st.integers(1, 25))


@settings(max_examples=150, deadline=None)
@given(collections())
def test_parts_merged_by_top_k_equal_a_single_index(case):
    """What the corpus search does (per-part flat indexes, their top k merged by TopK with
    offsets) equals one index over all the vectors, ties included."""
    vectors, queries, k, part_size = case
    merged = TopK(len(queries), k)
    for offset in range(0, len(vectors), part_size):
        part = FlatIndex(vectors.shape[1])
        part.add(vectors[offset : offset + part_size])
        merged.push(part.search(queries, k), offset)
    flat, exact = FlatIndex(vectors.shape[1]), ExactIndex(vectors.shape[1])
    for index in (flat, exact):
        index.add(vectors)
    got, one, oracle = merged.result(), flat.search(queries, k), exact.search(queries, k)
    assert np.array_equal(got.ids, oracle.ids) and np.array_equal(got.scores, oracle.scores)
    assert np.array_equal(one.ids, oracle.ids)


def test_top_k_merge_handles_short_and_missing_parts():
    merged = TopK(n_queries=2, k=3)
    merged.push(
        Hits(np.array([[0.9, 0.1], [0.5, 0.5]], np.float32), np.array([[1, 0], [0, 1]])), offset=0
    )
    merged.push(
        Hits(np.array([[0.9, -1e30], [0.7, 0.5]], np.float32), np.array([[0, -1], [1, 0]])),
        offset=10,
    )
    out = merged.result()
    assert out.ids.tolist() == [[1, 10, 0], [11, 0, 1]]  # a tie goes to the lower global id
    assert out.scores[0].tolist() == pytest.approx([0.9, 0.9, 0.1])


def _random_unit(n, dim, seed):
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _built(spec: IndexSpec, vectors: np.ndarray, k: int):
    index = spec.build(vectors.shape[1], len(vectors), k)
    if spec.kind == "ivf":
        index.train(vectors[: spec.resolved(len(vectors), k)["train_size"]])
    index.add(vectors)
    return index


@pytest.mark.parametrize(
    "spec",
    [
        IndexSpec("ivf", nlist=8, nprobe=8),
        IndexSpec("hnsw", m=16, ef_construction=100, ef_search=200),
    ],
    ids=["ivf-all-lists", "hnsw-wide-beam"],
)
def test_approximate_indexes_find_the_exact_top_k_when_given_enough_effort(spec):
    vectors, queries = _random_unit(2000, 16, 0), _random_unit(20, 16, 1)
    exact = ExactIndex(16)
    exact.add(vectors)
    assert np.array_equal(
        _built(spec, vectors, 10).search(queries, 10).ids, exact.search(queries, 10).ids
    )


def test_ivf_with_few_probes_is_approximate():
    vectors, queries = _random_unit(3000, 16, 2), _random_unit(50, 16, 3)
    spec = IndexSpec("ivf", nprobe=1)
    assert spec.resolved(3000, 20) == {
        "kind": "ivf",
        "nlist": 76,
        "nprobe": 1,
        "train_size": 3000,
    }  # n / 39
    exact = ExactIndex(16)
    exact.add(vectors)
    oracle = exact.search(queries, 20).ids
    found = _built(spec, vectors, 20).search(queries, 20).ids
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(found, oracle)])
    assert 0.1 < recall < 1.0


def test_index_spec_parsing_and_recorded_options():
    assert IndexSpec.parse("flat").options() == {"kind": "flat"}
    assert IndexSpec.parse("ivf", nlist=256, nprobe=None).options() == {
        "kind": "ivf",
        "nlist": 256,
        "nprobe": 32,
    }
    assert IndexSpec.parse("hnsw", m=8).options() == {
        "kind": "hnsw",
        "m": 8,
        "ef_construction": 200,
        "ef_search": 256,
    }
    assert IndexSpec("hnsw", ef_search=16).resolved(10, k=100)["ef_search"] == 100
    with pytest.raises(XretError, match="--nprobe does not apply to --index hnsw"):
        IndexSpec.parse("hnsw", nprobe=4)
    with pytest.raises(XretError, match="--nlist does not apply to --index flat"):
        IndexSpec.parse("flat", nlist=4)
    with pytest.raises(UnknownNameError, match="unknown index 'ivff'"):
        IndexSpec.parse("ivff")


def test_auto_nlist():
    assert auto_nlist(1_000_000) == 4096  # 4 * sqrt(1e6) = 4000 -> nearest power of two
    assert auto_nlist(131_924) == 2048  # 4 * sqrt = 1453, nearest in log scale
    assert auto_nlist(1000) == 25  # capped at n / 39 points per list
    assert auto_nlist(10) == 1


def test_many_rows_tied_at_the_k_th_score():
    vectors = np.zeros((50, 2), dtype=np.float32)
    vectors[::3, 0] = 1.0  # 17 equal best vectors, more than k
    queries = np.tile(
        np.array([[1.0, 0.0]], dtype=np.float32), (70, 1)
    )  # 70 tied rows: several chunks
    flat = FlatIndex(2)
    flat.add(vectors)
    assert flat.search(queries, 5).ids.tolist() == [[0, 3, 6, 9, 12]] * 70
