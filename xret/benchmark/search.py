"""Vector search: a small protocol with FAISS behind it and an exact numpy search as the oracle.

Vectors are L2-normalised by the engine, so inner product is cosine. ``search`` returns the top
k per query, best first, ties broken by the lower id so that every backend ranks alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True, eq=False)
class Hits:
    scores: np.ndarray
    """(queries, k) float32, descending."""
    ids: np.ndarray
    """(queries, k) int64 positions in the index; -1 where fewer than k exist."""


class VectorIndex(Protocol):
    @property
    def ntotal(self) -> int: ...

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> Hits: ...


def exact_scores(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Every query against every vector: the exhaustive inner products, float32."""
    return np.asarray(queries, dtype=np.float32) @ np.asarray(vectors, dtype=np.float32).T


def _tie_order(scores: np.ndarray, ids: np.ndarray) -> Hits:
    """Re-sort each row by (score desc, id asc); only rows that contain ties change."""
    tied = (np.diff(scores, axis=1) == 0).any(axis=1)
    for row in np.flatnonzero(tied):
        order = np.lexsort((ids[row], -scores[row]))
        scores[row], ids[row] = scores[row][order], ids[row][order]
    return Hits(scores=scores, ids=ids)


class ExactIndex:
    """Brute force with numpy: the test oracle for every other index."""

    def __init__(self, dim: int):
        self._vectors = np.empty((0, dim), dtype=np.float32)

    @property
    def ntotal(self) -> int:
        return len(self._vectors)

    def add(self, vectors: np.ndarray) -> None:
        self._vectors = np.concatenate([self._vectors, np.asarray(vectors, dtype=np.float32)])

    def search(self, queries: np.ndarray, k: int) -> Hits:
        scores = exact_scores(queries, self._vectors)
        k = min(k, self.ntotal)
        ids = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return Hits(scores=np.take_along_axis(scores, ids, axis=1), ids=ids.astype(np.int64))


class FlatIndex:
    """FAISS exact inner-product search (IndexFlatIP)."""

    def __init__(self, dim: int):
        import faiss

        self._index = faiss.IndexFlatIP(dim)

    @property
    def ntotal(self) -> int:
        return self._index.ntotal

    def add(self, vectors: np.ndarray) -> None:
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> Hits:
        k = min(k, self.ntotal)
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return _tie_order(scores, ids)
