"""On-disk embedding cache: (embedding namespace, text digest) -> float32 vector.

A namespace is one model identity + prompt + dtype (ModelSpec.embedding_namespace). Each flush
writes a new shard atomically, so an interrupted run keeps every shard it finished and a rerun
encodes only what is missing. A shard that cannot be read in alignment (torn, keys and rows
differing, another width, non-finite values) is set aside as ``*.bad`` with a warning; its texts
are encoded again. ``producers.json`` names the devices that wrote a namespace's vectors (texts
and corpus shards alike), so a run that encodes nothing can still say where its vectors were
computed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from xret.io import atomic_write

DIGEST_BYTES = 16
PRODUCERS = "producers.json"
log = logging.getLogger(__name__)


def text_digests(texts: Sequence[str]) -> list[bytes]:
    return [hashlib.blake2b(t.encode("utf-8"), digest_size=DIGEST_BYTES).digest() for t in texts]


class NamespaceCache:
    def __init__(self, root: Path, width: int | None = None):
        """``width``: the model's vector width, when known."""
        self.root = root
        self._rows: dict[bytes, int] = {}
        self._blocks: list[np.ndarray] = []
        self._size = 0
        self._width = width
        if not root.is_dir():
            return
        _remove_orphans(root)
        for shard in sorted(root.glob("part-*.npz")):
            try:
                keys, vectors = self._read(shard)
            except _BadShard as err:
                log.warning(
                    "xret: warning: %s: %s; set aside as %s.bad, its texts are encoded again",
                    shard,
                    err,
                    shard.name,
                )
                os.replace(shard, shard.with_name(f"{shard.name}.bad"))
                continue
            self._remember([row.tobytes() for row in keys], vectors)

    def __len__(self) -> int:
        return len(self._rows)

    def _read(self, shard: Path) -> tuple[np.ndarray, np.ndarray]:
        try:
            with np.load(shard) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
            raise _BadShard(f"unreadable ({type(err).__name__}: {err})") from None
        if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != DIGEST_BYTES:
            raise _BadShard(f"keys of {keys.dtype} {keys.shape}, not {DIGEST_BYTES}-byte digests")
        if vectors.dtype.kind != "f" or vectors.ndim != 2:
            raise _BadShard(f"vectors of {vectors.dtype} {vectors.shape}, not a float matrix")
        if len(keys) != len(vectors):
            raise _BadShard(f"{len(keys)} keys for {len(vectors)} rows")
        if self._width is not None and vectors.shape[1] != self._width:
            raise _BadShard(f"vectors of width {vectors.shape[1]}, expected {self._width}")
        if not np.isfinite(vectors).all():
            raise _BadShard("non-finite vectors")
        self._width = vectors.shape[1]
        return keys, vectors

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


class _BadShard(Exception):
    """A cache shard that cannot be read in alignment; the message says why."""


def _remove_orphans(root: Path) -> None:
    """Temporary shards of processes that died while writing them."""
    for tmp in root.glob(".part-*.tmp.npz"):
        pid = tmp.name.removesuffix(".tmp.npz").rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


class EmbeddingCache:
    def __init__(self, root: Path):
        self.root = root

    def namespace(self, name: str, width: int | None = None) -> NamespaceCache:
        return NamespaceCache(self.root / name, width)

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
        path = self.root / name / PRODUCERS
        atomic_write(
            path, lambda tmp: tmp.write_text(json.dumps(sorted([*known, device])), encoding="utf-8")
        )
