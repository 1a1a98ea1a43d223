"""The one way xret writes a file: into a temporary file beside it, renamed over it when whole.

A reader never sees half a file, a failure leaves no partial file behind, and a file-system
error (read-only, disk full, a file where a folder should be) is an ``OutputError`` naming the
path and the reason, which the CLI prints as one line.

Files that a rerun resumes from (result records, embedding shards) are tallied in ``KEPT`` so
that an interrupted command can say what it kept. Reading a user's line-based text file (TREC
runs, BEIR qrels, language lists) goes through ``text_lines``: unreadable is one ``DataError``.
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from xret.errors import DataError, OutputError

KEPT: Counter[str] = Counter()
"""What this process finished writing, by kind (``"result record"``, ``"embedding shard"``)."""

_REASONS = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def output_error(path: Path, err: OSError) -> OutputError:
    """A one-line error for a failed write of ``path``."""
    reason = _REASONS.get(err.errno) or err.strerror or str(err)
    return OutputError(f"cannot write {path}: {reason}")


def inside(root: Path, path: Path) -> Path:
    """``path``, refused unless it stays under ``root``: a name taken from a record or an option
    (``..``, an absolute path) cannot send a file elsewhere."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise OutputError(f"refusing to write {path}: it is not under {root}")
    return path


def only_writes_fail(err: OSError) -> bool:
    """Whether an error of mixed reading and writing can only have come from a write."""
    return err.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT)


def ensure_dir(path: Path) -> Path:
    """Create a folder (and its parents) or fail in one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise output_error(path, err) from None
    return path


def atomic_write(path: Path, write: Callable[[Path], object], kept: str | None = None) -> Path:
    """Write ``path`` by calling ``write(tmp)`` on a temporary path in the same folder and
    renaming it over ``path``; ``kept`` names the kind of file for ``KEPT``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        raise output_error(path, err) from None
    finally:
        discard(tmp)
    if kept:
        KEPT[kept] += 1
    return path


def discard(path: Path) -> None:
    """Remove a partial file; a folder that went away or turned read-only holds none of ours."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def atomic_write_text(path: Path, text: str, kept: str | None = None) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), kept)


def atomic_write_bytes(path: Path, data: bytes, kept: str | None = None) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data), kept)


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 text file's non-blank lines; a file that cannot be read
    or decoded is one DataError naming it."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield number, line.rstrip("\n")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read ({err})") from None
