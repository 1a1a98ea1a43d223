"""Encoding on Ray: texts in chunks over a pool of long-lived actors, one model per actor loaded
once for the whole run, token-sorted batches inside each chunk (the engine's own plan_batches).

Actors are plain Ray actors, not a Ray Data ``map_batches`` pool: a Ray Data pool lives for one
dataset execution, and the corpus store hands the engine one block of a shard at a time (its
commit point), so Ray Data would start the pool and load the model again for every block
(measured: 13 s per execution on the 2-core test machine, for a hash encoder). Actors restart
when they die and their calls are retried (``max_restarts``/``max_task_retries``), so a killed
worker costs its chunk, not the job.

Vectors come back to the driver through the object store (no shared file system needed), which
writes them to the text cache chunk by chunk as they arrive, or returns them to the corpus store
that commits a source shard when all of it is encoded: an interruption loses only unfinished
chunks (cache) or the unfinished shard (corpus store), never a finished one.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from xret.benchmark.cache import EmbeddingCache
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine, EncodeSink
from xret.benchmark.engines import Model
from xret.cluster.runtime import ClusterOptions, Placement, connect, ray_module
from xret.errors import ModelError, XretError
from xret.models.providers import Provider, device_for
from xret.models.spec import ModelSpec, Role
from xret.runtime.device import Device, cuda_device, pick_device

CHUNKS_PER_WORKER = 4
"""Chunks per actor and call, at least: small enough to balance the pool and lose little to a
failure, large enough for token-sorted batches (each chunk is sorted on its own)."""


@dataclass(frozen=True)
class ActorConfig:
    """What an actor needs to build the same encoder as the in-process engine: the device (and
    dtype) are the driver's one decision (``cluster_device``), so that the cache namespace and
    the result key name what the actors really run."""

    spec: ModelSpec
    device: Device
    cache_dir: Path
    batch: BatchPolicy


class EncodeActor:
    """One model per actor, loaded once (on its first chunk); ``encode`` encodes one chunk,
    ``search`` searches one part of a corpus."""

    def __init__(self, config: ActorConfig):
        from xret.models.providers import get_provider

        provider = get_provider(config.spec.provider)
        self.where = f"{socket.gethostname()}:{config.device.name}"
        self.engine = EmbeddingEngine(
            config.spec,
            lambda: provider.load(config.spec, config.device, config.cache_dir),
            cache=None,
            policy=config.batch,
            progress=False,
            device=config.device,
        )

    def encode(self, rows: np.ndarray, texts: list[str], role: Role) -> tuple:
        """(rows, vectors, tokens, padded tokens, host:device) of one chunk; ``rows`` (its
        positions in the call) come back with it, as chunks finish in any order."""
        before = replace(self.engine.stats)
        vectors = self.engine.encode_uncached(texts, role)
        done = self.engine.stats.minus(before)
        return rows, vectors, done.tokens, done.padded_tokens, self.where

    def search(self, offset: int, vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple:
        from xret.cluster.search import search_part

        return search_part(offset, vectors, queries, k)


class RayEncoding:
    """The encoding backend on Ray (xret.benchmark.engine.Encoding): chunks over the actor pool;
    cache and deduplication stay with the engine on the driver."""

    load_seconds = 0.0  # the models load on the actors, inside their first chunk

    def __init__(self, actor: ActorConfig, cluster: ClusterOptions):
        self.actor = actor
        self.device = actor.device
        self.cluster = cluster
        self._placement: Placement | None = None

    @property
    def placement(self) -> Placement:
        if self._placement is None:
            self._placement = connect(self.cluster)
        return self._placement

    def placement_facts(self) -> dict:
        return {"engine": "ray", "workers": self.placement.workers}

    def exact_search(self, source, queries: np.ndarray, k: int):
        from xret.cluster.search import distributed_exact

        return distributed_exact(self.pool(), source, queries, k)

    def pool(self):
        placement = self.placement
        resources = {"num_gpus": 1} if self.device.is_cuda else {"num_cpus": self.cluster.cpus}
        return ray_module().util.ActorPool(_actors(self.actor, resources, placement.workers))

    def encode(
        self, texts: list[str], role: Role, sink: EncodeSink, width: int | None, progress
    ) -> np.ndarray:
        start, stats = time.perf_counter(), sink.stats
        size = _chunk_size(len(texts), self.placement.workers, self.actor.batch.flush_every)
        chunks = [np.arange(i, min(i + size, len(texts))) for i in range(0, len(texts), size)]
        out: np.ndarray | None = None
        done = 0
        try:
            pending = self.pool().map_unordered(
                lambda actor, rows: actor.encode.remote(rows, [texts[i] for i in rows], role),
                chunks,
            )
            for rows, vectors, tokens, padded, where in pending:
                width = width or vectors.shape[1]
                if vectors.shape[1] != width:  # each actor checked its chunk; the run is one width
                    raise ModelError(
                        f"model {self.actor.spec.name} returned {vectors.shape[1]}-dimensional "
                        f"vectors on {where} after {width}-dimensional ones"
                    )
                if out is None:
                    out = np.empty((len(texts), width), dtype=np.float32)
                out[rows] = vectors
                done += len(rows)
                sink.produced_by(where)
                stats.encoded += len(rows)
                stats.tokens += tokens
                stats.padded_tokens += padded
                if sink.store is not None:
                    sink.store(rows, vectors)
        except Exception as err:
            if isinstance(getattr(err, "cause", None), XretError):  # the actor's own one-line error
                raise ModelError(str(err.cause)) from None
            if type(err).__module__.startswith("ray"):
                raise ModelError(f"Ray encoding failed: {_first_line(err)}") from None
            raise
        finally:
            stats.seconds += time.perf_counter() - start
        if out is None or done != len(texts):
            raise ModelError(f"Ray returned {done:,} of {len(texts):,} vectors")
        return out


_LIVE: dict[tuple, list] = {}
"""The process's one actor pool: a later engine with the same model and placement in the same
Ray job (the Python API, the tests) reuses its loaded models; any other replaces it, so that
two pools never compete for the cluster's resources."""


def _actors(config: ActorConfig, resources: dict, workers: int) -> list:
    ray = ray_module()
    context = ray.get_runtime_context()
    key = (
        config,
        tuple(sorted(resources.items())),
        workers,
        context.get_job_id(),
        context.get_node_id(),
    )
    if key not in _LIVE:
        release()
        actor = ray.remote(max_restarts=-1, max_task_retries=-1, **resources)(EncodeActor)
        _LIVE[key] = [actor.remote(config) for _ in range(workers)]
    return _LIVE[key]


def release() -> None:
    """End the process's actor pool (its models and resources), e.g. before another driver runs."""
    ray = ray_module()
    for actor in _LIVE.pop(next(iter(_LIVE), None), []):
        ray.kill(actor)


def _chunk_size(texts: int, workers: int, most: int) -> int:
    return max(1, min(most, -(-texts // (workers * CHUNKS_PER_WORKER))))


def _first_line(err: Exception) -> str:
    return next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)


@dataclass(frozen=True)
class RayEngines:
    """The engines of a bench on Ray (xret.benchmark.engines.EngineFactory): the device decided
    once on the driver for the actors, encoding and exact search on them."""

    options: ClusterOptions

    def device(self, provider: Provider, requested: str | None, precision: str | None) -> Device:
        """A provider with a runtime of its own says where it runs; ``auto`` is a GPU when the
        cluster has GPUs (the driver itself may have none), else the CPU; the precision follows
        pick_device's rule."""
        if provider.fixed_device is not None:
            return device_for(provider, requested, precision)
        if requested in (None, "auto"):
            requested = "cuda" if connect(self.options).gpus else "cpu"
        if requested == "cpu":
            return pick_device("cpu", precision)
        if not requested.startswith("cuda"):
            raise XretError(f"--device {requested}: expected auto, cpu, cuda or cuda:N")
        return cuda_device(requested, precision)

    def engine(
        self,
        spec: ModelSpec,
        model: Model,
        cache_dir: Path,
        cache: EmbeddingCache,
        progress: bool,
        log: Callable[[str], None],
    ) -> EmbeddingEngine:
        return ray_engine(
            spec, self.options, model.device, cache_dir, model.policy, cache, progress
        )


def ray_engine(
    spec: ModelSpec,
    cluster: ClusterOptions,
    device: Device,
    cache_dir: Path,
    policy: BatchPolicy,
    cache: EmbeddingCache,
    progress: bool,
) -> EmbeddingEngine:
    ray_module()  # a missing Ray fails the run before any work
    actor = ActorConfig(spec=spec, device=device, cache_dir=cache_dir, batch=policy)
    encoding = RayEncoding(actor, cluster)
    return EmbeddingEngine(spec, None, cache, policy, progress, device, encoding=encoding)
