"""The two folder digests that committed result records are keyed by, pinned on a tiny folder.

``folder_fingerprint`` is the revision of sentence-transformers folders (results/minilm-en);
``manifest_digest`` (through ``write_manifest``) that of me5-small-q4 (results/me5-small-q4).
A change to either format, file order or exclusion rule changes those keys: these literals fail.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from xret.fingerprint import file_fingerprint, folder_files, folder_fingerprint, sha256_file
from xret.models.manifest import MANIFEST_NAME, write_manifest

FILES = {
    "weights.bin": bytes(range(256)) * 4,
    "sub/config.json": b'{"a": 1}\n',
    # Path-component order puts a/b.txt first, string order a-b.txt ('-' < '/'): the two
    # digests sort differently, and each must keep its order.
    "a-b.txt": b"dash\n",
    "a/b.txt": b"slash\n",
    "__pycache__/m.cpython-311.pyc": b"\0cache",
    "sub/__pycache__/n.pyc": b"\1cache",
}
FOLDER_FINGERPRINT = "b492eec8b35a64e40aa247c60a7d34c4dec93575729b678d76b298addb9ac282"
MANIFEST_FINGERPRINT = "5341110d13d45336c33ad2819bbe371981ebf03445c30c6509a41b870f54954a"


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "model"
    for relative, data in FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return root


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_folder_fingerprint_is_pinned(folder, tmp_path):
    # sha256 of the JSON [path, sha256] pairs in path-component order, __pycache__ left out.
    pairs = [[path, _sha(FILES[path])] for path in ("a/b.txt", "a-b.txt", "sub/config.json")]
    pairs.append(["weights.bin", _sha(FILES["weights.bin"])])
    assert _sha(json.dumps(pairs).encode()) == FOLDER_FINGERPRINT
    assert folder_fingerprint(folder) == FOLDER_FINGERPRINT
    memo = tmp_path / "memo"
    assert (
        folder_fingerprint(folder, memo) == folder_fingerprint(folder, memo) == FOLDER_FINGERPRINT
    )


def test_folder_fingerprint_ignores_pycache_but_not_content(folder):
    (folder / "sub" / "__pycache__" / "n.pyc").write_bytes(b"recompiled")
    assert folder_fingerprint(folder) == FOLDER_FINGERPRINT
    (folder / "a" / "b.txt").write_bytes(b"slash!\n")
    assert folder_fingerprint(folder) != FOLDER_FINGERPRINT


def test_manifest_fingerprint_is_pinned(folder):
    # sha256 of "sha256  path" lines in string order; __pycache__ is listed, the manifest is not.
    order = sorted(FILES)
    assert order[:2] == ["__pycache__/m.cpython-311.pyc", "a-b.txt"]
    lines = "".join(f"{_sha(FILES[path])}  {path}\n" for path in order)
    assert _sha(lines.encode()) == MANIFEST_FINGERPRINT
    assert write_manifest(folder, "tiny/1") == MANIFEST_FINGERPRINT
    listed = json.loads((folder / MANIFEST_NAME).read_text())["files"]
    assert sorted(listed) == order
    # A folder that holds a manifest: folder_fingerprint counts it like any other file.
    assert folder_fingerprint(folder) != FOLDER_FINGERPRINT


def test_folder_files_keeps_each_listing_rule(folder):
    (folder / MANIFEST_NAME).write_text("{}")
    (folder / "sub" / MANIFEST_NAME).write_text("{}")
    every = [str(p) for p in folder_files(folder)]
    assert every[:3] == ["__pycache__/m.cpython-311.pyc", "a/b.txt", "a-b.txt"]
    assert len(every) == len(FILES) + 2
    no_cache = folder_files(folder, skip_pycache=True)
    assert "sub/__pycache__/n.pyc" not in map(str, no_cache) and len(no_cache) == 6
    no_top = [str(p) for p in folder_files(folder, skip_top=MANIFEST_NAME)]
    assert MANIFEST_NAME not in no_top and f"sub/{MANIFEST_NAME}" in no_top


def test_file_fingerprint_is_the_sha256_of_the_file(folder, tmp_path):
    weights = folder / "weights.bin"
    assert sha256_file(weights) == _sha(FILES["weights.bin"])
    assert file_fingerprint(weights, tmp_path / "memo") == _sha(FILES["weights.bin"])
