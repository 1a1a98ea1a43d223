"""Content manifests of built folders: what a cache folder must hold, and its fingerprint.

The manifest lists every file (relative path, size, sha256) and the recipe that produced them;
the fingerprint is a sha256 over the sorted ``sha256  path`` lines, so it names the content
independently of where the folder lives and of file times.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST_NAME = "xret-manifest.json"


class FolderMismatch(Exception):
    """A folder differs from its manifest; the message says how. Callers rebuild on it."""


def write_manifest(folder: Path, recipe: str) -> str:
    """Record every file under ``folder`` in its manifest and return the fingerprint."""
    files = {
        path: {"sha256": _sha256(folder / path), "size": (folder / path).stat().st_size}
        for path in _relative_files(folder)
    }
    manifest = {"fingerprint": _fingerprint(files), "files": files, "recipe": recipe}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest["fingerprint"]


def verify_manifest(folder: Path, recipe: str) -> str:
    """The folder's fingerprint if it holds exactly its manifest's files with their sizes and
    hashes and was made by ``recipe``; else FolderMismatch."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        files, fingerprint = manifest["files"], manifest["fingerprint"]
        made_by = manifest["recipe"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise FolderMismatch(f"no readable {MANIFEST_NAME} ({err})") from None
    if made_by != recipe:
        raise FolderMismatch(f"built by recipe {made_by!r}, expected {recipe!r}")
    if _fingerprint(files) != fingerprint:
        raise FolderMismatch(f"{MANIFEST_NAME} does not match its own fingerprint")
    present = set(_relative_files(folder))
    if present != files.keys():
        missing, extra = sorted(files.keys() - present), sorted(present - files.keys())
        raise FolderMismatch(f"missing files {missing}, unexpected files {extra}")
    # Sizes first: a truncated copy fails without reading the half-gigabyte of weights.
    for path, meta in files.items():
        if (folder / path).stat().st_size != meta["size"]:
            raise FolderMismatch(f"{path}: size differs from the manifest")
    for path, meta in files.items():
        if _sha256(folder / path) != meta["sha256"]:
            raise FolderMismatch(f"{path}: sha256 differs from the manifest")
    return fingerprint


def _relative_files(folder: Path) -> list[str]:
    manifest = folder / MANIFEST_NAME
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p != manifest
    )


def _fingerprint(files: dict[str, dict]) -> str:
    lines = "".join(f"{files[path]['sha256']}  {path}\n" for path in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
