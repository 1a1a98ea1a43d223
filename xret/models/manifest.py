"""Content manifests of built folders: what a cache folder must hold, and its fingerprint.

The manifest lists every file (relative path, size, sha256) and the recipe that produced them;
the fingerprint is ``xret.fingerprint.manifest_digest`` of the files, so it names the content
independently of where the folder lives and of file times.
"""

from __future__ import annotations

import json
from pathlib import Path

from xret.fingerprint import file_fingerprint, folder_files, manifest_digest, sha256_file

MANIFEST_NAME = "xret-manifest.json"


class FolderMismatch(Exception):
    """A folder differs from its manifest; the message says how. Callers rebuild on it."""


def write_manifest(folder: Path, recipe: str) -> str:
    """Record every file under ``folder`` in its manifest and return the fingerprint."""
    files = {
        path: {"sha256": sha256_file(folder / path), "size": (folder / path).stat().st_size}
        for path in _relative_files(folder)
    }
    manifest = {"fingerprint": _fingerprint(files), "files": files, "recipe": recipe}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest["fingerprint"]


def verify_manifest(folder: Path, recipe: str, memo_dir: Path | None = None) -> str:
    """The folder's fingerprint if it holds exactly its manifest's files with their sizes and
    hashes and was made by ``recipe``; else FolderMismatch. ``memo_dir``: the file-hash memo
    (xret.fingerprint), which answers for a file unchanged since it was last hashed."""
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
        if file_fingerprint(folder / path, memo_dir) != meta["sha256"]:
            raise FolderMismatch(f"{path}: sha256 differs from the manifest")
    return fingerprint


def _relative_files(folder: Path) -> list[str]:
    return [str(path) for path in folder_files(folder, skip_top=MANIFEST_NAME)]


def _fingerprint(files: dict[str, dict]) -> str:
    return manifest_digest({path: meta["sha256"] for path, meta in files.items()})
