"""Exact search on Ray: each part of the collection searched by FAISS on a worker (the encoding
actors, which already hold the run's resources), the parts' top k merged on the driver by
``TopK``: the same parts and merge as the in-process flat search
(xret.benchmark.corpus_search.local_exact), so the ranking is identical, ties included.

Approximate indexes (IVF, HNSW) stay on the driver: one index over the whole collection.
"""

from __future__ import annotations

import numpy as np

from xret.benchmark import corpus_search
from xret.benchmark.search import FlatIndex, Hits, TopK
from xret.cluster.runtime import ray_module


def search_part(offset: int, vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[int, Hits]:
    """One part's top k, ids local to the part; ``offset`` comes back with it."""
    index = FlatIndex(vectors.shape[1])
    index.add(vectors)
    return offset, index.search(queries, k)


def distributed_exact(pool, source, queries: np.ndarray, k: int) -> Hits:
    """Top k of ``queries`` over ``source`` (blocks of ``corpus_search.SEARCH_BLOCK`` rows) on
    an ActorPool.

    A part is read from the source (a memory map) only when an actor is free to take it.
    """
    shared = ray_module().put(np.ascontiguousarray(queries, dtype=np.float32))
    merged = TopK(len(queries), k)
    parts = pool.map_unordered(
        lambda actor, part: actor.search.remote(part[0], np.ascontiguousarray(part[1]), shared, k),
        source.blocks(corpus_search.SEARCH_BLOCK),
    )
    for offset, hits in parts:
        merged.push(hits, offset)
    return merged.result()
