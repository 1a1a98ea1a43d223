"""Pinned downloads: a loopback HTTP server stands in for the public source."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from xret.errors import DataError
from xret.fingerprint import sha256_file
from xret.tasks import get_task, load_task
from xret.tasks.artifacts import MIRROR_ENV, Artifact, locate, pinned


@pytest.fixture
def serve():
    """Serve a directory over HTTP on 127.0.0.1; yields a function dir -> base URL."""
    servers = []

    def start(root: Path) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()


@pytest.mark.realdata
def test_download_from_mirror_then_reuse(data_dir, cache_dir, serve, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, serve(data_dir))
    task = get_task("xquad-r")
    data = load_task(
        task, ("en", "de"), None, cache_dir
    )  # nothing local: both files are downloaded
    assert len(data.queries) == 2 * 1190
    cached = cache_dir / "downloads" / "xquad-r" / "en.json"
    assert sha256_file(cached) == pinned("xquad-r/en.json").sha256
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9")  # unreachable: the cache must serve now
    assert locate(pinned("xquad-r/en.json"), None, cache_dir) == cached


@pytest.mark.realdata
def test_corrupt_local_copy_is_named(data_dir, tmp_path, cache_dir):
    local = tmp_path / "data"
    shutil.copytree(data_dir / "xquad-r", local / "xquad-r")
    target = local / "xquad-r" / "de.json"
    raw = bytearray(target.read_bytes())
    raw[1000] ^= 1
    target.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"xquad-r/de.json: sha256 .* differs from the pinned"):
        locate(pinned("xquad-r/de.json"), local, cache_dir)
    target.write_bytes(bytes(raw[:-10]))
    with pytest.raises(DataError, match="bytes, the pinned xquad-r/de.json has"):
        locate(pinned("xquad-r/de.json"), local, cache_dir)


def test_corrupt_download_leaves_nothing(tmp_path, cache_dir, serve, monkeypatch):
    (tmp_path / "srv" / "x").mkdir(parents=True)
    (tmp_path / "srv" / "x" / "a.json").write_text("tampered")
    monkeypatch.setenv(MIRROR_ENV, serve(tmp_path / "srv"))
    artifact = Artifact(path="x/a.json", url="unused", sha256="0" * 64, size=8)
    with pytest.raises(DataError, match="download of .* is corrupt"):
        locate(artifact, None, cache_dir)
    assert not list((cache_dir / "downloads").rglob("*a.json*"))


def test_unreachable_source_says_what_to_do(cache_dir, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9")
    with pytest.raises(DataError, match="cannot download xquad-r/en.json .* XRET_DATA_DIR"):
        locate(pinned("xquad-r/en.json"), None, cache_dir)


def test_every_pin_is_a_public_https_source():
    import re

    from xret.tasks import TASKS

    for _, spec in TASKS.items():
        for path in spec.files_for(spec.languages):
            artifact = pinned(path)
            # The data directory's first level names the dataset; below it, the source's own path.
            assert artifact.url.startswith("https://") and artifact.url.endswith(
                "/" + path.split("/", 1)[1]
            )
            assert re.search(r"/[0-9a-f]{40}/", artifact.url), "pinned to a commit"
            assert len(artifact.sha256) == 64 and artifact.size > 0
