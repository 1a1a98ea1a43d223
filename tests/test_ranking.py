"""Exact relevant ranks and the rank projection handed to pytrec_eval, against brute-force
oracles."""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval
from hypothesis import given, settings
from hypothesis import strategies as st

from xret.benchmark.ranking import PAD, relevant_ranks
from xret.benchmark.search import ExactIndex, FlatIndex
from xret.measures.ranks import measure_ranks
from xret.measures.table import parse_measures


def oracle_ranks(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Full stable sort: descending score, ties by column order."""
    out = np.zeros(relevant.shape, dtype=np.int64)
    for row in range(len(scores)):
        order = sorted(range(scores.shape[1]), key=lambda c: (-scores[row, c], c))
        position = {c: i + 1 for i, c in enumerate(order)}
        out[row] = [position[c] if c != PAD else 0 for c in relevant[row]]
    return out


@st.composite
def scored_pools(draw):
    n_queries = draw(st.integers(1, 5))
    pool = draw(st.integers(1, 30))
    # Few distinct values so that ties are common.
    scores = draw(
        st.lists(
            st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=pool, max_size=pool),
            min_size=n_queries,
            max_size=n_queries,
        )
    )
    width = draw(st.integers(1, min(6, pool)))  # >= 4 relevant takes the sorting path
    relevant = []
    for _ in range(n_queries):
        cols = draw(st.lists(st.integers(0, pool - 1), min_size=1, max_size=width, unique=True))
        relevant.append(cols + [PAD] * (width - len(cols)))
    return np.array(scores, dtype=np.float32), np.array(relevant, dtype=np.int64)


@settings(max_examples=200, deadline=None)
@given(scored_pools())
def test_relevant_ranks_match_full_sort(case):
    scores, relevant = case
    assert np.array_equal(relevant_ranks(scores, relevant), oracle_ranks(scores, relevant))


def test_ties_break_by_pool_order():
    scores = np.array([[0.5, 0.9, 0.5, 0.5]], dtype=np.float32)
    assert relevant_ranks(scores, np.array([[3, 0, 2]])).tolist() == [[4, 2, 3]]


@settings(max_examples=50, deadline=None)
@given(scored_pools())
def test_rank_projection_equals_pytrec_eval_on_the_full_run(case):
    scores, relevant = case
    measures = parse_measures(["MAP", "MRR", "R@1", "R@10", "Hit@1", "Hit@10", "nDCG@10", "P@5"])
    projected = measure_ranks(relevant_ranks(scores, relevant), measures)
    qids = [f"q{i}" for i in range(len(scores))]
    rel_ids = [[f"d{c}" for c in row if c != PAD] for row in relevant]
    qrels = {q: dict.fromkeys(ids, 1) for q, ids in zip(qids, rel_ids)}
    # The oracle: the complete ranking with real ids, order made explicit by distinct scores.
    full = {}
    for q, row in zip(qids, scores):
        order = sorted(range(len(row)), key=lambda c: (-row[c], c))
        full[q] = {f"d{c}": float(-i) for i, c in enumerate(order)}
    expected = pytrec_eval.RelevanceEvaluator(
        qrels, {"map", "recip_rank", "recall.1,10", "success.1,10", "ndcg_cut.10", "P.5"}
    ).evaluate(full)
    for row, q in enumerate(qids):
        for m in measures:
            assert projected[m][row] == expected[q][m.trec_key], (q, m)


def test_faiss_flat_search_agrees_with_exact_ranking():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 32)).astype(np.float32)
    vectors[250:260] = vectors[0]  # exact duplicates: ties resolved by the lower id
    queries = rng.standard_normal((20, 32)).astype(np.float32)
    queries[0] = vectors[0]
    flat, exact = FlatIndex(32), ExactIndex(32)
    flat.add(vectors)
    exact.add(vectors)
    a, b = flat.search(queries, 50), exact.search(queries, 50)
    assert np.array_equal(a.ids, b.ids)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-5)
    assert a.ids[0, :11].tolist() == [0, *range(250, 260)]
    # Ranks from exhaustive counting agree with the index's order.
    scores = queries @ vectors.T
    top = a.ids[:, :5]
    assert np.array_equal(relevant_ranks(scores, top), np.tile(np.arange(1, 6), (20, 1)))


def test_task_ranks_equal_a_full_sort_of_every_cell(tmp_path):
    from xret.benchmark.cache import EmbeddingCache
    from xret.benchmark.engine import EmbeddingEngine
    from xret.benchmark.evaluate import task_ranks
    from xret.models.spec import ModelSpec, Role
    from xret.tasks import get_task, load_task
    from xret.tasks.settings import build_cells
    from xret.testing import HashEncoder, write_lareqa_task

    from test_lareqa import PARAGRAPHS

    task = get_task(f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}")
    data = load_task(task, task.languages, None, tmp_path)
    spec = ModelSpec(name="h", provider="python", source="x:y", revision="1", dim=64)
    engine = EmbeddingEngine(spec, HashEncoder, EmbeddingCache(tmp_path / "e"), progress=False)
    docs = engine.embed([d.text for d in data.documents], Role.DOCUMENT)
    queries = engine.embed([q.text for q in data.queries], Role.QUERY)
    cells = build_cells(data, task.languages, task.settings)
    doc_vectors = docs.vectors[docs.index]
    for cell, ranked in zip(cells, task_ranks(data, cells, queries, docs)):
        ranks = ranked.ranks
        scores = queries.vectors[queries.index[cell.queries]] @ doc_vectors[cell.pool].T
        pool_ids = [data.documents[i].id for i in cell.pool]
        for row, q in enumerate(cell.queries):
            rel = [pool_ids.index(d) for d in data.qrels[data.queries[q].id] if d in pool_ids]
            expected = sorted(oracle_ranks(scores[row : row + 1], np.array([rel]))[0])
            assert sorted(r for r in ranks[row] if r) == expected, cell.label


def test_flat_index_uses_an_accelerated_copy_for_the_probe_only():
    """Where FAISS has GPUs the probe search runs on them; ties are still settled on the CPU copy.
    A second CPU index stands in for the GPU copy here, recording the depths asked of it."""
    asked = []

    class Recording:  # a raw FAISS index, as faiss.index_cpu_to_all_gpus returns
        def __init__(self):
            import faiss

            self.index = faiss.IndexFlatIP(16)

        def add(self, vectors):
            self.index.add(vectors)

        def search(self, queries, k):
            asked.append(k)
            return self.index.search(queries, k)

    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    vectors[200] = vectors[100]  # a tie at the cut below
    queries = np.vstack([vectors[100], rng.standard_normal((3, 16)).astype(np.float32)])
    accelerated = FlatIndex(16, gpu=Recording())
    exact = ExactIndex(16)
    accelerated.add(vectors)
    exact.add(vectors)
    a, b = accelerated.search(queries, 1), exact.search(queries, 1)
    assert np.array_equal(a.ids, b.ids) and a.ids[0, 0] == 100
    assert asked == [2]  # the probe (k + 1); the full ranking of the tied row stayed on the CPU


@pytest.mark.parametrize("scattered", [False, True])
@pytest.mark.parametrize("exclusions", [False, True])
def test_task_ranks_equal_a_full_sort_with_duplicates_exclusions_and_scattered_pools(
    scattered, exclusions
):
    """Several query blocks per language; pools consecutive (views) or ``scattered`` by language
    (gathers); queries excluded from cells or not; documents sharing a vector unless neither.
    Small integer vectors: every score is exact, and ties are everywhere."""
    from xret.benchmark.engine import Embedded
    from xret.benchmark.evaluate import QUERY_CHUNK, task_ranks
    from xret.tasks.records import Document, Query, TaskData
    from xret.tasks.settings import build_cells
    from xret.tasks.spec import Setting

    rng = np.random.default_rng([scattered, exclusions])
    languages = ("a", "b", "c")
    n_docs, n_queries = 240, 3 * (QUERY_CHUNK + 40)
    doc_language = [
        languages[i % 3] if scattered else languages[i * 3 // n_docs] for i in range(n_docs)
    ]
    documents = tuple(Document(f"d{i}", lang, "") for i, lang in enumerate(doc_language))
    queries = tuple(Query(f"q{i}", languages[i * 3 // n_queries], "") for i in range(n_queries))
    qrels = {}
    for q in queries:
        # Relevant documents in two of the three languages: cells exclude queries.
        wanted = rng.choice(languages, 2, replace=False) if exclusions else languages
        chosen = {
            int(rng.choice([i for i, lang in enumerate(doc_language) if lang == w])) for w in wanted
        }
        chosen |= set(
            rng.choice([i for i, lang in enumerate(doc_language) if lang in wanted], 3).tolist()
        )
        qrels[q.id] = {documents[i].id: 1 for i in chosen}
    data = TaskData(documents, queries, qrels, checksums={})
    unique = 200 if scattered or exclusions else n_docs  # the others share a vector
    doc_index = np.concatenate([np.arange(unique), rng.integers(0, unique, n_docs - unique)])
    docs = Embedded(rng.integers(-1, 3, (unique, 8)).astype(np.float32), doc_index)
    query_vectors = Embedded(
        rng.integers(-1, 3, (n_queries, 8)).astype(np.float32), np.arange(n_queries)
    )
    cells = build_cells(data, languages, (Setting.MONO, Setting.CROSS, Setting.MULTI))
    assert any(c.excluded for c in cells) == exclusions
    for cell, ranked in zip(cells, task_ranks(data, cells, query_vectors, docs, depth=7)):
        scores = query_vectors.vectors[cell.queries] @ docs.vectors[doc_index[cell.pool]].T
        pool_ids = [documents[i].id for i in cell.pool]
        for row, q in enumerate(cell.queries):
            rel = [pool_ids.index(d) for d in qrels[queries[q].id] if d in pool_ids]
            expected = sorted(oracle_ranks(scores[row : row + 1], np.array([rel]))[0])
            assert sorted(r for r in ranked.ranks[row] if r) == expected, cell.label
            assert sorted(ranked.relevant[row][ranked.ranks[row] > 0]) == sorted(rel)
        # The top of a multilingual ranking is the head of a stable full sort (ties everywhere).
        full = np.argsort(-scores, axis=1, kind="stable")[:, :7]
        kept = full if cell.pool_language == "all" else full[:, :0]
        assert np.array_equal(ranked.top, kept), cell.label
