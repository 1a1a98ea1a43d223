"""Vector search: a small protocol with FAISS behind it and an exact numpy search as the oracle.

Vectors are L2-normalised by the engine, so inner product is cosine. ``search`` returns the top
k per query, best first, ties broken by the lower id so that every backend ranks alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Hits:
    scores: np.ndarray
    """(queries, k) float32, descending."""
    ids: np.ndarray
    """(queries, k) int64 positions in the index; -1 where fewer than k exist."""


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


_TIED_ROWS = 32
GPU_MAX_K = 2048
"""FAISS GPU indexes return at most this many hits per query."""


def _gpu_copy(index):
    """The index replicated on every GPU when FAISS was built with GPU support (faiss-gpu), else
    None."""
    import faiss

    if getattr(faiss, "get_num_gpus", lambda: 0)() > 0:
        return faiss.index_cpu_to_all_gpus(index)
    return None


class FlatIndex:
    """FAISS exact inner-product search (IndexFlatIP); on GPUs when FAISS has them.

    The CPU index is always kept: it answers the rare full rankings that settle ties and any k
    beyond what a GPU index returns.
    """

    def __init__(self, dim: int, gpu=None):
        """``gpu``: None = use FAISS's GPUs when it has any, False = never, or an index to use."""
        import faiss

        self._index = faiss.IndexFlatIP(dim)
        self._gpu = _gpu_copy(self._index) if gpu is None else (gpu or None)

    @property
    def ntotal(self) -> int:
        return self._index.ntotal

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index.add(vectors)
        if self._gpu is not None:
            self._gpu.add(vectors)

    def search(self, queries: np.ndarray, k: int) -> Hits:
        """FAISS keeps *some* of the vectors tied at the k-th score, not the lowest ids; one
        extra hit shows where that can happen, and those rows are ranked in full instead."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, self.ntotal)
        if k == 0:
            return Hits(
                np.empty((len(queries), 0), np.float32), np.empty((len(queries), 0), np.int64)
            )
        probe = min(k + 1, self.ntotal)
        fast = self._gpu if self._gpu is not None and probe <= GPU_MAX_K else self._index
        scores, ids = fast.search(queries, probe)
        if probe > k:
            tied = np.flatnonzero(scores[:, k] == scores[:, k - 1])
            for start in range(0, len(tied), _TIED_ROWS):  # chunks bound the full rankings' memory
                rows = tied[start : start + _TIED_ROWS]
                full = _tie_order(*self._index.search(queries[rows], self.ntotal))
                scores[rows], ids[rows] = full.scores[:, :probe], full.ids[:, :probe]
            scores, ids = scores[:, :k], ids[:, :k]
        return _tie_order(np.ascontiguousarray(scores), np.ascontiguousarray(ids))


class TopK:
    """The running top k of several searches over disjoint id ranges, merged exactly.

    Each pushed result holds one part's top k (ids local to that part, -1 for none); the merged
    order is score descending, then global id ascending, the same rule as every index here, so
    merging the parts of a collection gives what one search over all of it gives.
    """

    def __init__(self, n_queries: int, k: int):
        self.k = k
        self._scores = np.empty((n_queries, 0), dtype=np.float32)
        self._ids = np.empty((n_queries, 0), dtype=np.int64)

    def push(self, hits: Hits, offset: int) -> None:
        ids = np.where(hits.ids >= 0, hits.ids + offset, -1)
        scores = np.where(hits.ids >= 0, hits.scores, -np.inf).astype(np.float32)
        scores = np.concatenate([self._scores, scores], axis=1)
        ids = np.concatenate([self._ids, ids], axis=1)
        # Missing entries (-1) sort last: their score is -inf and their id key is the largest.
        key = np.where(ids >= 0, ids, np.iinfo(np.int64).max)
        order = np.lexsort((key, -scores), axis=1)[:, : self.k]
        self._scores = np.take_along_axis(scores, order, axis=1)
        self._ids = np.take_along_axis(ids, order, axis=1)

    def result(self) -> Hits:
        return Hits(scores=self._scores.copy(), ids=self._ids.copy())


class IVFIndex:
    """FAISS inverted lists (IndexIVFFlat, inner product): approximate; needs ``train`` first."""

    def __init__(self, dim: int, nlist: int, nprobe: int):
        import faiss

        self._quantizer = faiss.IndexFlatIP(dim)
        self._index = faiss.IndexIVFFlat(self._quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        self._index.nprobe = nprobe

    @property
    def ntotal(self) -> int:
        return self._index.ntotal

    def train(self, sample: np.ndarray) -> None:
        self._index.train(np.ascontiguousarray(sample, dtype=np.float32))

    def add(self, vectors: np.ndarray) -> None:
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> Hits:
        scores, ids = self._index.search(
            np.ascontiguousarray(queries, dtype=np.float32), min(k, self.ntotal)
        )
        return _tie_order(scores, ids)


class HNSWIndex:
    """FAISS HNSW graph (IndexHNSWFlat, inner product): approximate, no training."""

    def __init__(self, dim: int, m: int, ef_construction: int, ef_search: int):
        import faiss

        self._index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = ef_construction
        self._index.hnsw.efSearch = ef_search

    @property
    def ntotal(self) -> int:
        return self._index.ntotal

    def add(self, vectors: np.ndarray) -> None:
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> Hits:
        scores, ids = self._index.search(
            np.ascontiguousarray(queries, dtype=np.float32), min(k, self.ntotal)
        )
        return _tie_order(scores, ids)


INDEX_KINDS = ("flat", "ivf", "hnsw")


@dataclass(frozen=True)
class IndexSpec:
    """Which index searches a corpus, with its parameters; ``options()`` is what a result records.

    ``flat`` is exact. ``ivf``: ``nlist`` lists (None: the power of two nearest 4·√n, at most
    n/39 so that k-means has 39 points per list), ``nprobe`` of them searched, trained on up to
    ``64·nlist`` vectors sampled with seed 0. ``hnsw``: ``m`` links per node, ``ef_construction``
    and ``ef_search`` beam widths (``ef_search`` is raised to k when smaller).
    """

    kind: str = "flat"
    nlist: int | None = None
    nprobe: int = 32
    m: int = 32
    ef_construction: int = 200
    ef_search: int = 256

    _PARAMS = {
        "flat": (),
        "ivf": ("nlist", "nprobe"),
        "hnsw": ("m", "ef_construction", "ef_search"),
    }

    @classmethod
    def parse(cls, kind: str, **params: int | None) -> IndexSpec:
        """From user input: parameters that do not belong to ``kind`` are an error."""
        from xret.errors import UnknownNameError, XretError

        if kind not in INDEX_KINDS:
            raise UnknownNameError("index", kind, INDEX_KINDS)
        given = {name: value for name, value in params.items() if value is not None}
        wrong = sorted(set(given) - set(cls._PARAMS[kind]))
        if wrong:
            raise XretError(f"--{wrong[0].replace('_', '-')} does not apply to --index {kind}")
        if any(value < 1 for value in given.values()):
            raise XretError("index parameters must be positive")
        return cls(kind=kind, **given)

    @property
    def exact(self) -> bool:
        return self.kind == "flat"

    def options(self) -> dict:
        return {
            "kind": self.kind,
            **{name: getattr(self, name) for name in self._PARAMS[self.kind]},
        }

    def resolved(self, n: int, k: int) -> dict:
        """The parameters actually used for a collection of ``n`` vectors searched at depth k."""
        out = self.options()
        if self.kind == "ivf":
            out["nlist"] = self.nlist or auto_nlist(n)
            out["train_size"] = min(n, 64 * out["nlist"])
        if self.kind == "hnsw":
            out["ef_search"] = max(self.ef_search, k)
        return out

    def build(self, dim: int, n: int, k: int):
        """An empty index for ``n`` vectors (an IVF index still needs ``train``)."""
        params = self.resolved(n, k)
        if self.kind == "ivf":
            return IVFIndex(dim, params["nlist"], params["nprobe"])
        if self.kind == "hnsw":
            return HNSWIndex(dim, params["m"], params["ef_construction"], params["ef_search"])
        return FlatIndex(dim)


def auto_nlist(n: int) -> int:
    target = 2 ** round(np.log2(max(4 * np.sqrt(max(n, 1)), 1)))
    return int(max(1, min(target, n // 39)))
