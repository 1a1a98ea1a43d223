"""The two folder digests that committed result records are keyed by, pinned on a tiny folder.

``folder_fingerprint`` is the revision of sentence-transformers folders (results/minilm-en);
``manifest_digest`` (through ``write_manifest``) that of me5-small-q4 (results/me5-small-q4).
A change to either format, file order or exclusion rule changes those keys: these literals fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xret import fingerprint
from xret.fingerprint import (
    file_fingerprint,
    folder_files,
    folder_fingerprint,
    json_pairs_digest,
    sha256_file,
)
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


@st.composite
def _same_size_contents(draw) -> tuple[bytes, bytes]:
    old = draw(st.binary(min_size=1, max_size=64))
    new = draw(st.binary(min_size=len(old), max_size=len(old)).filter(lambda b: b != old))
    return old, new


def _rewrite_keeping_mtime(path, data: bytes) -> None:
    """An edit in place that keeps the size and restores the mtime (``touch -r``)."""
    before = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@settings(max_examples=25, deadline=None)
@given(_same_size_contents(), st.booleans(), st.booleans(), st.booleans())
def test_no_memo_returns_a_hash_for_bytes_it_did_not_read(contents, settle, copy, new_process):
    """Whatever the memo holds (settled or racy, in this process or on disk), a file edited in
    place with its size and mtime kept, or a ``cp -p`` copy edited later, is hashed anew."""
    old, new = contents
    with tempfile.TemporaryDirectory() as tmp, patch.object(fingerprint, "SETTLED_NS", 20_000_000):
        root, memo = Path(tmp), Path(tmp) / "memo"
        first = root / "a" / "weights.bin"
        first.parent.mkdir()
        first.write_bytes(old)
        if settle:
            time.sleep(0.05)  # the state is memoised only once older than SETTLED_NS
        assert file_fingerprint(first, memo) == _sha(old)
        target = first
        if copy:
            target = root / "b" / "weights.bin"  # same name, size and mtime as the memoised one
            target.parent.mkdir()
            shutil.copy2(first, target)
        _rewrite_keeping_mtime(target, new)
        if new_process:
            fingerprint._MEMO.clear()
        assert file_fingerprint(target, memo) == _sha(new)
        assert folder_fingerprint(target.parent, memo) == json_pairs_digest(
            {"weights.bin": _sha(new)}
        )
        assert file_fingerprint(first, memo) == _sha(old if copy else new)


def test_an_unchanged_settled_file_is_read_once_per_run(tmp_path, monkeypatch):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b"x" * 1000)
    monkeypatch.setattr(fingerprint, "SETTLED_NS", 0)
    time.sleep(0.01)
    reads = []
    monkeypatch.setattr(fingerprint, "sha256_file", lambda p: reads.append(p) or _sha(b"x" * 1000))
    for _ in range(3):
        assert file_fingerprint(path, tmp_path / "memo") == _sha(b"x" * 1000)
    fingerprint._MEMO.clear()  # a later run: the memo on disk answers
    assert file_fingerprint(path, tmp_path / "memo") == _sha(b"x" * 1000)
    assert reads == [path]
