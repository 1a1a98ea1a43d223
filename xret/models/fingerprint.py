"""Content fingerprints of model folders, memoised by file stat so reruns do not re-hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from xret.io import atomic_write_text
from xret.tasks.artifacts import sha256_file


def _stat_signature(files: list[Path], root: Path) -> str:
    stats = [(str(f.relative_to(root)), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()


def _memoised(files: list[Path], root: Path, memo_dir: Path | None, compute) -> str:
    if memo_dir is None:
        return compute()
    memo = memo_dir / "fingerprints" / f"{_stat_signature(files, root)}.txt"
    if memo.is_file():
        return memo.read_text().strip()
    digest = compute()
    atomic_write_text(memo, digest)
    return digest


def folder_fingerprint(root: Path, memo_dir: Path | None = None) -> str:
    """sha256 over (relative path, sha256) of every file below ``root``, sorted."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

    def compute() -> str:
        manifest = [(str(f.relative_to(root)), sha256_file(f)) for f in files]
        return hashlib.sha256(json.dumps(manifest).encode()).hexdigest()

    return _memoised(files, root, memo_dir, compute)


def file_fingerprint(path: Path, memo_dir: Path | None = None) -> str:
    """sha256 of one file, memoised like folders."""
    return _memoised([path], path.parent, memo_dir, lambda: sha256_file(path))
