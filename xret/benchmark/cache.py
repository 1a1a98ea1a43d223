"""On-disk embedding cache: (embedding namespace, text digest) -> float32 vector.

A namespace is one model identity + prompt + dtype (ModelSpec.embedding_namespace). Each flush
writes a new shard atomically, so an interrupted run keeps every shard it finished and a rerun
encodes only what is missing. ``producers.json`` names the devices that wrote a namespace's
vectors (texts and corpus shards alike), so a run that encodes nothing can still say where its
vectors were computed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from xret.io import atomic_write

DIGEST_BYTES = 16
PRODUCERS = "producers.json"


def text_digests(texts: Sequence[str]) -> list[bytes]:
    return [hashlib.blake2b(t.encode("utf-8"), digest_size=DIGEST_BYTES).digest() for t in texts]


class NamespaceCache:
    def __init__(self, root: Path):
        self.root = root
        self._rows: dict[bytes, int] = {}
        self._blocks: list[np.ndarray] = []
        self._size = 0
        for shard in sorted(root.glob("part-*.npz")) if root.is_dir() else ():
            with np.load(shard) as data:
                self._remember([row.tobytes() for row in data["keys"]], data["vectors"])

    def __len__(self) -> int:
        return len(self._rows)

    def _remember(self, keys: list[bytes], vectors: np.ndarray) -> None:
        for offset, key in enumerate(keys):
            self._rows.setdefault(key, self._size + offset)
        self._blocks.append(np.asarray(vectors, dtype=np.float32))
        self._size += len(keys)

    def lookup(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(mask of keys found, their vectors in key order)."""
        rows = np.array([self._rows.get(k, -1) for k in keys], dtype=np.int64)
        found = rows >= 0
        if not found.any():
            return found, np.empty((0, 0), dtype=np.float32)
        if len(self._blocks) > 1:
            self._blocks = [np.concatenate(self._blocks)]
        return found, self._blocks[0][rows[found]]

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        if not len(keys):
            return
        name = f"part-{time.time_ns():020d}-{os.getpid()}"
        # Raw bytes, not numpy's "S" strings, which drop trailing NUL bytes of a digest.
        raw = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), DIGEST_BYTES)

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:  # a handle: given a path, numpy appends ".npz"
                np.savez(handle, keys=raw, vectors=vectors)

        atomic_write(self.root / f"{name}.npz", save, kept="embedding shard")
        self._remember(list(keys), vectors)


class EmbeddingCache:
    def __init__(self, root: Path):
        self.root = root

    def namespace(self, name: str) -> NamespaceCache:
        return NamespaceCache(self.root / name)

    def producers(self, name: str) -> list[str]:
        """Devices that wrote vectors of namespace ``name`` (empty for a cache older than this)."""
        try:
            return json.loads((self.root / name / PRODUCERS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []

    def add_producer(self, name: str, device: str) -> None:
        known = self.producers(name)
        if device in known:
            return
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{PRODUCERS}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(sorted([*known, device])), encoding="utf-8")
        os.replace(tmp, folder / PRODUCERS)
