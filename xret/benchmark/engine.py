"""The embedding engine: deduplication, cache, length-sorted token-budget batches, one encode per
text.

What the cache lacks goes to the engine's encoding backend (``Encoding``): in this process
(``InProcess``, the default) or on Ray workers (xret.cluster.encode.RayEncoding). The in-process
encoder is created lazily, only when some text is missing from the cache, so a rerun with a warm
cache never loads the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Protocol

import numpy as np

from xret.benchmark.cache import EmbeddingCache, text_digests
from xret.benchmark.search import Hits
from xret.defaults import CPU_BATCH, GPU_BATCH
from xret.errors import ModelError
from xret.models.encoder import Encoder, encode_batches
from xret.models.spec import ModelSpec, Role
from xret.progress import Progress
from xret.progress import progress as show_progress
from xret.runtime.device import CPU, Device

UNKNOWN_PRODUCER = "unknown (cached before xret recorded producers)"


@dataclass(frozen=True)
class BatchPolicy:
    max_texts: int = CPU_BATCH[0]
    max_tokens: int = CPU_BATCH[1]
    """Padded tokens per batch: texts x the longest text in it."""
    max_padding: float = 1.05
    """Longest / shortest text in a batch. Small batches cost little next to the compute that
    padding wastes (short texts of 15 tokens in batches of 128 by count alone padded 20 %)."""
    flush_every: int = 2048
    """Texts encoded between cache writes: the most an interruption can lose."""

    @classmethod
    def for_device(cls, cuda: bool) -> BatchPolicy:
        """Defaults per device (xret.defaults)."""
        return cls(*GPU_BATCH) if cuda else cls()


@dataclass(frozen=True, eq=False)
class Embedded:
    vectors: np.ndarray
    """(unique texts, dim) float32."""
    index: np.ndarray
    """Text i of the input -> its row in ``vectors``."""


@dataclass
class EncodeStats:
    texts: int = 0
    unique: int = 0
    cached: int = 0
    encoded: int = 0
    tokens: int = 0
    padded_tokens: int = 0
    seconds: float = 0.0

    def minus(self, earlier: EncodeStats) -> EncodeStats:
        return EncodeStats(
            **{f.name: getattr(self, f.name) - getattr(earlier, f.name) for f in fields(self)}
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EngineUsage:
    """An engine's counters at one moment; ``since`` gives what happened between two."""

    stats: EncodeStats
    load_seconds: float
    """Seconds spent loading the model."""
    producers: tuple[str, ...]
    """Devices that computed the vectors handed out (cached ones as the cache says)."""

    def since(self, earlier: EngineUsage) -> EngineUsage:
        return EngineUsage(
            self.stats.minus(earlier.stats),
            self.load_seconds - earlier.load_seconds,
            self.producers[len(earlier.producers) :],
        )


def plan_batches(lengths: np.ndarray, policy: BatchPolicy) -> list[np.ndarray]:
    """Positions into ``lengths``, longest first, grouped so each batch fits the token budget."""
    order = np.argsort(-lengths, kind="stable")
    # A text costs at least one token: with zero-length texts a batch could otherwise be empty.
    ordered = np.maximum(lengths[order], 1)
    batches, start = [], 0
    while start < len(order):
        longest = int(ordered[start])
        size = max(1, min(policy.max_texts, policy.max_tokens // longest))
        # Also stop where a text is so much shorter than the longest that padding would exceed the
        # bound.
        too_short = np.flatnonzero(ordered[start : start + size] * policy.max_padding < longest)
        if len(too_short):
            size = int(too_short[0])  # >= 1: the longest text is never too short for itself
        batches.append(order[start : start + size])
        start += size
    return batches


def checked_lengths(raw, count: int, model: str) -> np.ndarray:
    """An encoder's token lengths, one non-negative integer per text, or a ModelError."""
    lengths = np.asarray(raw) if raw is not None else np.empty(0, dtype=object)
    if lengths.dtype.kind not in "iu" or lengths.ndim != 1 or len(lengths) != count:
        found = f"{lengths.ndim}-dimensional {lengths.dtype} array of {lengths.size}"
        raise ModelError(
            f"model {model} gave {found} token lengths for {count:,} texts; "
            "expected one integer per text"
        )
    if len(lengths) and lengths.min() < 0:
        raise ModelError(f"model {model} gave a negative token length ({lengths.min()})")
    return lengths.astype(np.int64)


def checked_batch(raw, rows: int, width: int | None, model: str) -> np.ndarray:
    """One batch of encoder output as a float array of ``rows`` x ``width``, or a ModelError:
    anything else would be written out of alignment with its texts."""
    if raw is None:
        raise ModelError(f"model {model} returned None instead of vectors")
    try:
        vectors = np.asarray(raw)
    except (ValueError, TypeError) as err:
        kind = type(raw).__name__
        raise ModelError(f"model {model} returned {kind}, not an array ({err})") from None
    if vectors.dtype.kind != "f":
        what = type(raw).__name__ if vectors.dtype == object else f"{vectors.dtype} values"
        raise ModelError(f"model {model} returned {what}, not floating-point vectors")
    if vectors.ndim != 2:
        raise ModelError(
            f"model {model} returned a {vectors.ndim}-dimensional array {vectors.shape}; "
            "expected (texts, dim)"
        )
    if len(vectors) != rows:
        raise ModelError(f"model {model} returned {len(vectors):,} rows for {rows:,} texts")
    if width is not None and vectors.shape[1] != width:
        raise ModelError(
            f"model {model} returned vectors of width {vectors.shape[1]}, "
            f"its other vectors have width {width}"
        )
    return vectors


@dataclass(frozen=True)
class EncodeSink:
    """What an encoding backend reports into while it encodes, for the engine that called it."""

    stats: EncodeStats
    """The engine's counters: a backend adds what it encoded (texts, tokens, seconds)."""
    produced_by: Callable[[str], None]
    """Called with a device before the vectors it computed are stored (the cache records it)."""
    store: Callable[[Sequence[int], np.ndarray], None] | None
    """Hands finished vectors (positions in the call's texts) to the text cache; None: no cache."""


class Encoding(Protocol):
    """Where an engine's missing texts are encoded, and where its exact corpus search runs. The
    engine keeps deduplication, the text cache and the counters."""

    device: Device
    load_seconds: float
    """Seconds spent loading models here so far."""

    def encode(
        self,
        texts: list[str],
        role: Role,
        sink: EncodeSink,
        width: int | None,
        progress: Progress | None,
    ) -> np.ndarray:
        """Vectors of ``texts`` in order; ``width``: that of vectors this run already has."""
        ...

    def placement_facts(self) -> dict:
        """How vectors are computed, for the record's provenance (``engine``, ``workers``)."""
        ...

    def exact_search(self, source, queries: np.ndarray, k: int) -> Hits:
        """Exact top k of ``queries`` over a vector source (xret.benchmark.corpus_search)."""
        ...


class InProcess:
    """The encoding backend of this process: the provider's encoder, loaded on first need."""

    def __init__(
        self,
        spec: ModelSpec,
        load_encoder: Callable[[], Encoder],
        policy: BatchPolicy,
        device: Device,
        progress: bool = True,
    ):
        self.spec = spec
        self.device = device
        self.policy = policy
        self.progress = progress
        self._load_encoder = load_encoder
        self._encoder: Encoder | None = None
        self.load_seconds = 0.0

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            start = time.perf_counter()
            self._encoder = self._load_encoder()
            self.load_seconds += time.perf_counter() - start
        return self._encoder

    def placement_facts(self) -> dict:
        return {"engine": "in-process", "workers": 1}

    def exact_search(self, source, queries: np.ndarray, k: int) -> Hits:
        from xret.benchmark.corpus_search import local_exact

        return local_exact(source, queries, k)

    def encode(
        self,
        texts: list[str],
        role: Role,
        sink: EncodeSink,
        width: int | None,
        progress: Progress | None,
    ) -> np.ndarray:
        encoder = self.encoder
        sink.produced_by(self.device.name)
        stats, start = sink.stats, time.perf_counter()
        lengths = checked_lengths(encoder.token_lengths(texts, role), len(texts), self.spec.name)
        out: np.ndarray | None = None
        pending: list[int] = []
        batches = plan_batches(lengths, self.policy)
        padded = [int(lengths[b].max()) * len(b) for b in batches]
        bar = progress
        if bar is None:  # its ETA counts padded tokens: batches run longest first
            desc = f"encode {role} texts"
            bar = show_progress(len(texts), desc, "text", self.progress, work=sum(padded))
        stream = encode_batches(encoder, ([texts[i] for i in b] for b in batches), role)
        try:
            for i, raw in enumerate(stream):
                batch = batches[i]
                vectors = self._checked(checked_batch(raw, len(batch), width, self.spec.name))
                width = vectors.shape[1]
                if out is None:
                    out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
                out[batch] = vectors
                pending.extend(batch.tolist())
                stats.encoded += len(batch)
                stats.tokens += int(lengths[batch].sum())
                stats.padded_tokens += padded[i]
                bar.update(len(batch), padded[i])
                if sink.store is not None and len(pending) >= self.policy.flush_every:
                    sink.store(pending, out[pending])
                    pending = []
        finally:
            # Whatever finished is kept, also when the run is interrupted.
            if sink.store is not None and pending and out is not None:
                sink.store(pending, out[pending])
            if progress is None:
                bar.close()
            stats.seconds += time.perf_counter() - start
        return out

    def _checked(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        if self.spec.dim is not None and vectors.shape[1] != self.spec.dim:
            raise ModelError(
                f"model {self.spec.name} returned {vectors.shape[1]}-dimensional vectors, "
                f"its spec says {self.spec.dim}"
            )
        if not np.isfinite(vectors).all():
            raise ModelError(f"model {self.spec.name} returned non-finite vectors")
        if self.spec.similarity == "cosine":
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return vectors


class EmbeddingEngine:
    def __init__(
        self,
        spec: ModelSpec,
        load_encoder: Callable[[], Encoder] | None,
        cache: EmbeddingCache | None,
        policy: BatchPolicy = BatchPolicy(),
        progress: bool = True,
        device: Device = CPU,
        encoding: Encoding | None = None,
    ):
        """``device``: where ``load_encoder`` puts the model, decided before any lookup because
        its dtype is part of the cache namespace. ``encoding``: another backend than this
        process (then ``load_encoder`` is None)."""
        if (encoding is None) == (load_encoder is None):
            raise TypeError("an engine takes load_encoder or encoding, one of them")
        self.spec = spec
        self.device = device
        self.encoding = encoding or InProcess(spec, load_encoder, policy, device, progress)
        self.cache = cache
        self.policy = policy
        self.progress = progress
        self.stats = EncodeStats()
        self.producers: list[str] = []
        """Devices that computed the vectors handed out so far (cached ones as the cache says)."""

    def usage(self) -> EngineUsage:
        return EngineUsage(replace(self.stats), self.encoding.load_seconds, tuple(self.producers))

    def placement_facts(self) -> dict:
        """How this engine computes vectors, for the record's provenance."""
        return self.encoding.placement_facts()

    def exact_search(self, source, queries: np.ndarray, k: int) -> Hits:
        """Exact top k over a corpus's vectors, where this engine's backend searches."""
        return self.encoding.exact_search(source, queries, k)

    def namespace(self, role: Role) -> str:
        return self.spec.embedding_namespace(role, self.device.key)

    def note_cached(self, role: Role) -> None:
        """Vectors of ``role`` were taken from the cache (here or in a corpus store)."""
        known = self.cache.producers(self.namespace(role)) if self.cache else []
        self.producers.extend(known or [UNKNOWN_PRODUCER])

    def embed(self, texts: Sequence[str], role: Role) -> Embedded:
        unique: dict[str, int] = {}
        index = np.fromiter(
            (unique.setdefault(t, len(unique)) for t in texts), np.int64, len(texts)
        )
        distinct = list(unique)
        keys = text_digests(distinct)
        store = self.cache.namespace(self.namespace(role), self.spec.dim) if self.cache else None
        vectors: np.ndarray | None = None
        found = np.zeros(len(distinct), dtype=bool)
        if store is not None:
            found, cached = store.lookup(keys)
            if found.any():
                self.note_cached(role)
                vectors = np.empty((len(distinct), cached.shape[1]), dtype=np.float32)
                vectors[found] = cached
        missing = np.flatnonzero(~found)
        if len(missing):
            width = None if vectors is None else vectors.shape[1]
            todo = [distinct[i] for i in missing]
            fresh = self._encode(todo, role, [keys[i] for i in missing], store, width=width)
            if vectors is None:
                vectors = np.empty((len(distinct), fresh.shape[1]), dtype=np.float32)
            vectors[missing] = fresh
        if vectors is None:
            vectors = np.empty((0, self.spec.dim or 0), dtype=np.float32)
        self._count(len(texts), len(distinct), int(found.sum()))
        return Embedded(vectors=vectors, index=index)

    def encode_uncached(
        self, texts: Sequence[str], role: Role, progress: Progress | None = None
    ) -> np.ndarray:
        """Vectors for ``texts`` in input order, bypassing the text cache: for corpora streamed
        shard by shard, which keep their own store (xret.benchmark.corpus_store). ``progress``:
        the caller's (a shard's), advanced per batch, so that a log hears of it every few
        seconds."""
        self._count(len(texts), len(texts), 0)
        if not texts:
            return np.empty((0, self.spec.dim or 0), dtype=np.float32)
        return self._encode(list(texts), role, None, None, progress)

    def _count(self, texts: int, unique: int, cached: int) -> None:
        self.stats.texts += texts
        self.stats.unique += unique
        self.stats.cached += cached

    def _encode(
        self,
        texts: list[str],
        role: Role,
        keys: list[bytes] | None,
        store,
        outer: Progress | None = None,
        width: int | None = None,
    ) -> np.ndarray:
        """``width``: that of vectors already found for this run (in the cache), if any."""
        first = len(self.producers)

        def produced_by(where: str) -> None:
            if where not in self.producers[first:]:
                self.producers.append(where)
                if self.cache is not None:
                    self.cache.add_producer(self.namespace(role), where)

        def stored(rows: Sequence[int], vectors: np.ndarray) -> None:
            store.add([keys[i] for i in rows], vectors)

        sink = EncodeSink(self.stats, produced_by, stored if store is not None else None)
        return self.encoding.encode(texts, role, sink, width, outer)
