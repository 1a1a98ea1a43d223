"""Where a bench's engines come from (``EngineFactory``): this process (``InProcessEngines``, the
default) or a Ray cluster (xret.cluster.encode.RayEngines, which the CLI and the Python API pass
in), so that the runner never imports the cluster package."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from xret.benchmark.cache import EmbeddingCache
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
from xret.models.providers import Provider, device_for
from xret.models.spec import ModelSpec
from xret.runtime.device import Device


@dataclass(frozen=True)
class Model:
    """The model of a bench, resolved once: its spec, provider, device and batch policy."""

    spec: ModelSpec
    provider: Provider
    device: Device
    policy: BatchPolicy


class EngineFactory(Protocol):
    def device(self, provider: Provider, requested: str | None, precision: str | None) -> Device:
        """Where the model runs, decided before any cache lookup (its dtype keys the cache)."""
        ...

    def engine(
        self,
        spec: ModelSpec,
        model: Model,
        cache_dir: Path,
        cache: EmbeddingCache,
        progress: bool,
        log: Callable[[str], None],
    ) -> EmbeddingEngine:
        """The engine of ``spec`` (``model.spec`` with a task's prompts)."""
        ...


@dataclass(frozen=True)
class InProcessEngines:
    """Engines that encode in this process, the model loaded on first need."""

    def device(self, provider: Provider, requested: str | None, precision: str | None) -> Device:
        return device_for(provider, requested, precision)

    def engine(
        self,
        spec: ModelSpec,
        model: Model,
        cache_dir: Path,
        cache: EmbeddingCache,
        progress: bool,
        log: Callable[[str], None],
    ) -> EmbeddingEngine:
        def load_encoder():
            log(f"loading {spec.name} on {model.device.name} ({model.device.precision})")
            return model.provider.load(spec, model.device, cache_dir)

        return EmbeddingEngine(spec, load_encoder, cache, model.policy, progress, model.device)
