"""Top k over a corpus's vectors, whatever holds them (a resumable corpus store, or a reduced
pool in memory): flat search block by block merged exactly, or one IVF/HNSW index built block by
block. Memory is bounded by a block (flat) or by the index itself."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from xret.benchmark.search import FlatIndex, Hits, IndexSpec, TopK
from xret.benchmark.strategies import Stages
from xret.errors import XretError

SEARCH_BLOCK = 1 << 17
"""Corpus vectors searched (flat) or added (IVF, HNSW) at a time: 192 MiB at 384 dimensions."""


class InMemory:
    """Pool vectors already in memory, offered like a corpus store (blocks, sample)."""

    def __init__(self, vectors: np.ndarray):
        self._vectors = vectors
        self.rows, self.dim = vectors.shape

    def blocks(self, rows: int):
        for start in range(0, self.rows, rows):
            yield start, self._vectors[start : start + rows]

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        chosen = np.sort(
            np.random.default_rng(seed).choice(self.rows, size=min(n, self.rows), replace=False)
        )
        return self._vectors[chosen]


def local_exact(source, queries: np.ndarray, k: int) -> Hits:
    """Flat search block by block, merged exactly (memory: one block)."""
    merged = TopK(len(queries), k)
    for offset, block in source.blocks(SEARCH_BLOCK):
        flat = FlatIndex(source.dim)
        flat.add(block)
        merged.push(flat.search(queries, k), offset)
    return merged.result()


def search(
    source,
    queries: np.ndarray,
    k: int,
    spec: IndexSpec,
    stage: Stages,
    exact: Callable[..., Hits] = local_exact,
) -> tuple[Hits, dict]:
    """Top k of ``queries`` over a vector source; returns the hits and the parameters used.

    Flat: ``exact`` (``local_exact``, or the engine's, e.g. on Ray workers). IVF/HNSW: one
    index over the whole source, built block by block (memory: the index).
    """
    params = spec.resolved(source.rows, k)
    if source.rows == 0 or len(queries) == 0:
        empty = np.empty((len(queries), 0))
        return Hits(scores=empty.astype(np.float32), ids=empty.astype(np.int64)), params
    if spec.exact:
        with stage("search"):
            return exact(source, queries, k), params
    if spec.kind == "ivf" and params["nlist"] > source.rows:
        raise XretError(f"--nlist {params['nlist']} exceeds the {source.rows:,} vectors to index")
    with stage("index"):
        index = spec.build(source.dim, source.rows, k)
        if spec.kind == "ivf":
            index.train(source.sample(params["train_size"]))
        for _, block in source.blocks(SEARCH_BLOCK):
            index.add(block)
    with stage("search"):
        return index.search(queries, k), params
