"""FlatIndex on FAISS GPUs: with the CPU build (faiss-cpu) nothing moves; with a GPU build
(faked here by a CPU clone behind FAISS's GPU entry points) depths within GPU_MAX_K are answered
by the GPU copy, deeper ones by the CPU index, and both rank exactly as the numpy oracle."""

from __future__ import annotations

import numpy as np
import pytest

from xret.benchmark.search import GPU_MAX_K, ExactIndex, FlatIndex


def test_the_cpu_build_keeps_every_search_on_the_cpu():
    import faiss

    if faiss.get_num_gpus():
        pytest.skip("FAISS sees a GPU here (the gpu extra): this checks the CPU build")
    assert FlatIndex(4)._gpu is None


class FakeGpuIndex:
    """A CPU clone that counts the searches it answers, standing in for a GpuIndexFlatIP."""

    def __init__(self, index):
        import faiss

        self._index = faiss.clone_index(index)
        self.searches = 0

    def add(self, vectors):
        self._index.add(vectors)

    def search(self, queries, k):
        self.searches += 1
        return self._index.search(queries, k)


def test_a_gpu_build_answers_shallow_searches_on_the_gpu(monkeypatch):
    import faiss

    copies = []
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 1)
    monkeypatch.setattr(
        faiss,
        "index_cpu_to_all_gpus",
        lambda index: copies.append(FakeGpuIndex(index)) or copies[-1],
    )
    rng = np.random.default_rng(0)
    vectors = rng.integers(-2, 3, (GPU_MAX_K + 50, 4)).astype(np.float32)
    queries = rng.integers(-2, 3, (3, 4)).astype(np.float32)
    index, oracle = FlatIndex(4), ExactIndex(4)
    index.add(vectors)
    oracle.add(vectors)
    (gpu,) = copies
    for k, on_gpu in ((10, 1), (GPU_MAX_K, 0), (GPU_MAX_K + 20, 0)):
        before = gpu.searches
        got, want = index.search(queries, k), oracle.search(queries, k)
        assert gpu.searches - before == on_gpu
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_array_equal(got.scores, want.scores)
