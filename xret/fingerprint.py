"""Content hashing: the sha256 of a file, the files of a folder, and the two folder digests.

Two folder digests exist side by side because committed result records are keyed by both, so
neither format may change (``tests/test_fingerprint.py`` pins them):

- ``folder_fingerprint`` names a model folder xret did not build (a sentence-transformers or
  mteb folder, a trained model): sha256 of the JSON list of ``[relative path, sha256]`` pairs
  in path-component order; ``__pycache__`` is skipped, since loading a folder's code may add it.
- ``manifest_digest`` names a folder xret built and described in a manifest
  (``xret.models.manifest``, e.g. me5-small-q4): sha256 of ``sha256sum``-style lines
  ``"<sha256>  <path>\\n"`` in string order, so it can be recomputed from the manifest alone.

Hashes of files and folders are memoised by file stat (size, mtime) so that reruns do not re-hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from xret.io import atomic_write_text

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The sha256 of one file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


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
    """The content of the model folder ``root`` (``json_pairs_digest`` of its files)."""
    files = folder_files(root, skip_pycache=True)

    def compute() -> str:
        return json_pairs_digest({str(f): sha256_file(root / f) for f in files})

    return _memoised(files, root, memo_dir, compute)


def file_fingerprint(path: Path, memo_dir: Path | None = None) -> str:
    """sha256 of one file, memoised like folders."""
    return _memoised([PurePosixPath(path.name)], path.parent, memo_dir, lambda: sha256_file(path))


def _memoised(
    files: list[PurePosixPath], root: Path, memo_dir: Path | None, compute: Callable[[], str]
) -> str:
    if memo_dir is None:
        return compute()
    memo = memo_dir / "fingerprints" / f"{_stat_signature(files, root)}.txt"
    if memo.is_file():
        return memo.read_text().strip()
    digest = compute()
    atomic_write_text(memo, digest)
    return digest


def _stat_signature(files: list[PurePosixPath], root: Path) -> str:
    stats = []
    for file in files:
        stat = (root / file).stat()
        stats.append((str(file), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()
