"""Content hashing: the sha256 of a file, the files of a folder, and the two folder digests.

Two folder digests exist side by side because committed result records are keyed by both, so
neither format may change (``tests/test_fingerprint.py`` pins them):

- ``folder_fingerprint`` names a model folder xret did not build (a sentence-transformers or
  mteb folder, a trained model): sha256 of the JSON list of ``[relative path, sha256]`` pairs
  in path-component order; ``__pycache__`` is skipped, since loading a folder's code may add it.
- ``manifest_digest`` names a folder xret built and described in a manifest
  (``xret.models.manifest``, e.g. me5-small-q4): sha256 of ``sha256sum``-style lines
  ``"<sha256>  <path>\\n"`` in string order, so it can be recomputed from the manifest alone.

A file's sha256 is memoised (in this process, and under ``<cache>/fingerprints`` across runs)
by its state: absolute path, device, inode, size, mtime_ns and ctime_ns. Copies (another path or
inode), edits in place (ctime moves on every write and cannot be set back, even when the mtime
is restored) and replaced files all miss the memo. A file changed within the file system's clock
tick of its hashing could keep its ctime, so a file whose mtime or ctime is not at least
``SETTLED_NS`` older than the read that hashed it is never memoised ("racy" in git's sense): it is
hashed again each time it is asked for. ``verify`` re-checks a digest after a reader used the
file: unchanged and settled, the memo answers; otherwise the bytes are hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from xret.errors import DataError
from xret.io import atomic_write_text

_CHUNK = 1 << 20
SETTLED_NS = 2_000_000_000
"""How much older than its hashing a file's mtime and ctime must be for the digest to be
memoised: above the timestamp tick of common file systems (1 s on HFS+ and ext3)."""
MEMO_FOLDER = "file-sha256"
"""Below a cache folder: one file per memoised file state, holding its sha256."""


@dataclass(frozen=True)
class FileState:
    """What a file's sha256 is memoised by: its absolute path and everything a write changes."""

    path: str
    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileState:
        st = os.stat(path)
        absolute = os.path.abspath(path)
        return cls(absolute, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def settled(self, read_at_ns: int) -> bool:
        """Whether no write after a read started at ``read_at_ns`` can keep this state."""
        return max(self.mtime_ns, self.ctime_ns) < read_at_ns - SETTLED_NS

    def memo_name(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


_MEMO: dict[FileState, str] = {}
"""This process's memo (a run asks for a corpus shard's digest from several stages)."""


def sha256_file(path: Path) -> str:
    """The sha256 of one file, read in blocks (no memo)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def file_fingerprint(path: Path, memo_dir: Path | None = None) -> str:
    """sha256 of one file, memoised by its ``FileState`` in this process and, with ``memo_dir``,
    across runs (see the module docstring)."""
    state = FileState.of(path)
    if (known := _MEMO.get(state)) is not None:
        return known
    memo = None if memo_dir is None else memo_dir / MEMO_FOLDER / f"{state.memo_name()}.txt"
    digest = _read_memo(memo)
    if digest is None:
        read_at = time.time_ns()
        digest = sha256_file(path)
        if FileState.of(path) != state:
            raise DataError(f"{path}: changed while it was being read; run again")
        if not state.settled(read_at):
            return digest  # racy: a write in this clock tick would not show in its state
        if memo is not None:
            atomic_write_text(memo, digest)
    _MEMO[state] = digest
    return digest


def verify(path: Path, digest: str, memo_dir: Path | None = None) -> None:
    """Check, after a reader has used ``path``, that it still holds the bytes of ``digest``: a
    file changed since it was hashed (or hashed while racy) is hashed again."""
    if file_fingerprint(path, memo_dir) != digest:
        raise DataError(f"{path}: changed while it was being read; run again")


def _read_memo(memo: Path | None) -> str | None:
    if memo is None:
        return None
    try:
        text = memo.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else None


def folder_files(
    root: Path, *, skip_pycache: bool = False, skip_top: str | None = None
) -> list[PurePosixPath]:
    """Every file below ``root`` as a relative path, in path-component order.

    ``skip_pycache`` leaves out anything inside a ``__pycache__`` folder; ``skip_top`` leaves out
    the file of that name directly in ``root`` (a manifest does not list itself).
    """
    files = []
    for path in root.rglob("*"):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if not path.is_file() or (skip_pycache and "__pycache__" in relative.parts):
            continue
        if str(relative) != skip_top:
            files.append(relative)
    return sorted(files)


def json_pairs_digest(hashes: Mapping[str, str]) -> str:
    """``folder_fingerprint``'s format, from relative path -> sha256."""
    pairs = [(path, hashes[path]) for path in sorted(hashes, key=lambda p: PurePosixPath(p).parts)]
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


def manifest_digest(hashes: Mapping[str, str]) -> str:
    """A manifest's fingerprint, from relative path -> sha256."""
    lines = "".join(f"{hashes[path]}  {path}\n" for path in sorted(hashes))
    return hashlib.sha256(lines.encode()).hexdigest()


def folder_fingerprint(root: Path, memo_dir: Path | None = None) -> str:
    """The content of the model folder ``root`` (``json_pairs_digest`` of its files, each
    hashed through the file memo)."""
    files = folder_files(root, skip_pycache=True)
    return json_pairs_digest({str(f): file_fingerprint(root / f, memo_dir) for f in files})
