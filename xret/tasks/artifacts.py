"""Pinned external data files: where each comes from, its sha256, and how a local copy is found.

A file is looked up in the user's data directory first, then in xret's download cache; when
neither has it, it is downloaded from its pinned source (or ``$XRET_DATA_MIRROR``, a base URL
laid out like the data directory) into the cache. Every copy is verified before use.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from xret.errors import DataError
from xret.fingerprint import sha256_file
from xret.io import atomic_write, only_writes_fail

MIRROR_ENV = "XRET_DATA_MIRROR"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Artifact:
    path: str
    """Relative path inside a data directory, e.g. ``xquad-r/en.json``."""
    url: str
    sha256: str
    size: int


@cache
def _pins() -> dict[str, dict]:
    return json.loads(resources.files("xret.tasks").joinpath("downloads.json").read_text())


def pinned(path: str) -> Artifact:
    """The pinned artifact for a data-directory path (the pins live in ``downloads.json``)."""
    entry = _pins()[path]
    return Artifact(path=path, url=entry["url"], sha256=entry["sha256"], size=entry["size"])


def _check(artifact: Artifact, path: Path) -> None:
    size = path.stat().st_size
    if size != artifact.size:
        raise DataError(
            f"{path}: {size:,} bytes, the pinned {artifact.path} has {artifact.size:,} "
            "(truncated, corrupt or another version; delete it to download it again)"
        )
    digest = sha256_file(path)
    if digest != artifact.sha256:
        raise DataError(
            f"{path}: sha256 {digest} differs from the pinned {artifact.sha256} "
            "(corrupt or another version; delete it to download it again)"
        )


def locate(artifact: Artifact, data_dir: Path | None, cache_dir: Path) -> Path:
    """A verified local copy of ``artifact``, downloading it into the cache if needed."""
    if data_dir is not None and (data_dir / artifact.path).is_file():
        local = data_dir / artifact.path
        _check(artifact, local)
        return local
    cached = cache_dir / "downloads" / artifact.path
    if cached.is_file():
        _check(artifact, cached)
        return cached
    _download(artifact, cached)
    return cached


def _source_url(artifact: Artifact) -> str:
    mirror = os.environ.get(MIRROR_ENV)
    return f"{mirror.rstrip('/')}/{artifact.path}" if mirror else artifact.url


def _download(artifact: Artifact, dest: Path) -> None:
    url = _source_url(artifact)

    def fetch(tmp: Path) -> None:
        with open(tmp, "wb") as out:  # an error here is the cache's: atomic_write names it
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    shutil.copyfileobj(response, out, _CHUNK)
            except OSError as err:  # urllib.error.URLError included
                if only_writes_fail(err):
                    raise
                raise DataError(
                    f"cannot download {artifact.path} from {url} ({getattr(err, 'reason', err)}); "
                    "point --data-dir or XRET_DATA_DIR at a local copy"
                ) from None
        try:
            _check(artifact, tmp)
        except DataError as err:
            raise DataError(f"download of {url} is corrupt: {err}") from None

    atomic_write(dest, fetch)
