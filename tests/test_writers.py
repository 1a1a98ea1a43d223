"""Every writer is atomic and fails in one line; SIGTERM and SIGINT keep what was finished."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xret.benchmark.cache import NamespaceCache
from xret.errors import OutputError
from xret.io import atomic_write, atomic_write_text, inside
from xret.results.store import load_record, slug
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    return f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"


@pytest.fixture
def tiny_fs(tmp_path):
    """A 64 KiB tmpfs (``remount(ro=True)`` makes it read-only); skips where mounting is refused."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("needs root and mount to make a tiny or read-only file system")

    def remount(ro: bool) -> None:
        subprocess.run(["mount", "-o", f"remount,{'ro' if ro else 'rw'}", str(mount)], check=True)

    yield mount, remount
    subprocess.run(["umount", str(mount)], check=True)


def _fail_with(code: int):
    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(code, os.strerror(code))

    return write


@pytest.mark.parametrize(
    "code, reason",
    [
        (errno.ENOSPC, "no space left on device"),
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_a_failed_write_names_path_and_reason_and_leaves_the_old_file(tmp_path, code, reason):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(OutputError, match=f"^cannot write {target}: {reason}$"):
        atomic_write(target, _fail_with(code))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left


def test_a_file_where_a_folder_should_be(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="file, not a folder"):
        atomic_write_text(tmp_path / "file" / "sub" / "out.txt", "x")
    with pytest.raises(OutputError, match="it is a folder"):
        atomic_write_text(tmp_path, "x")


def test_a_full_disk_leaves_no_partial_file(tiny_fs):
    mount, _ = tiny_fs
    with pytest.raises(OutputError, match="no space left on device"):
        atomic_write_text(mount / "big.txt", "x" * 200_000)
    assert list(mount.iterdir()) == []


def test_bench_on_a_read_only_results_dir_fails_in_one_line(toy, tiny_fs, xret_cli):
    mount, remount = tiny_fs
    remount(True)
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q", "--results-dir", str(mount))
    assert code != 0 and "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"xret: error: cannot write {mount}/")
    assert err.splitlines()[-1].endswith(": read-only file system")


def test_a_record_that_cannot_be_written_leaves_no_scores_behind(
    toy, tmp_path, xret_cli, monkeypatch
):
    from xret import io

    real = io.atomic_write

    def fail_on_json(path, write, kept=None):
        if path.suffix == ".json":
            raise io.output_error(path, OSError(errno.ENOSPC, "full"))
        return real(path, write, kept)

    monkeypatch.setattr(io, "atomic_write", fail_on_json)
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q")
    assert code != 0 and err.splitlines()[-1].endswith(".json: no space left on device")
    assert [p for p in (tmp_path / "results").rglob("*") if p.is_file()] == []


def test_leaderboard_output_under_a_file_fails_in_one_line(tmp_path, xret_cli):
    (tmp_path / "file").write_text("")
    output = tmp_path / "file" / "lb.txt"
    code, _, err = xret_cli("leaderboard", str(ROOT / "results"), "-o", str(output))
    assert code != 0 and "Traceback" not in err
    reason = "a part of the path is a file, not a folder"
    assert err == f"xret: error: cannot write {output}: {reason}\n"


def test_names_that_become_paths_stay_under_the_results_dir(tmp_path):
    assert {slug(".."), slug("."), slug("/"), slug("...")} == {"x"}
    assert slug("./my-model") == ".-my-model"  # keys of existing records do not move
    with pytest.raises(OutputError, match="is not under"):
        inside(tmp_path / "results", tmp_path / "results" / ".." / "x.json")
    with pytest.raises(OutputError, match="is not under"):
        inside(tmp_path / "results", tmp_path / "results" / "/etc/x.json")


SLOW_ENCODER = '''
import os, time
from pathlib import Path
from xret.testing import HashEncoder

class SlowEncoder(HashEncoder):
    """Hangs on its second batch of the 'zebra' task, after saying so in a marker file."""
    calls = 0

    def encode(self, texts, role=None):
        if any("zebra" in t for t in texts):
            SlowEncoder.calls += 1
            if SlowEncoder.calls == 2:
                Path(os.environ["SLOW_MARKER"]).touch()
                time.sleep(60)
        return super().encode(texts, role)
'''


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum, code, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")]
)
def test_a_signal_keeps_finished_records_and_flushed_vectors(tmp_path, signum, code, name):
    (tmp_path / "slow_encoder.py").write_text(SLOW_ENCODER)
    first = write_lareqa_task(tmp_path / "first", PARAGRAPHS)
    zebra = {
        lang: [{**p, "sentences": [f"zebra {s}" for s in p["sentences"]]} for p in paras]
        for lang, paras in PARAGRAPHS.items()
    }
    second = write_lareqa_task(tmp_path / "second", zebra)
    marker = tmp_path / "hanging"
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
        "SLOW_MARKER": str(marker),
        "XRET_CACHE_DIR": str(tmp_path / "cache"),
        "XRET_RESULTS_DIR": str(tmp_path / "results"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xret",
            "bench",
            "-m",
            "slow_encoder:SlowEncoder",
            "-t",
            f"lareqa:{first}",
            "-t",
            f"lareqa:{second}",
            "-q",
            "--batch-size",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    last = err.strip().splitlines()[-1]
    kept = "finished results and cached embeddings are kept"
    assert last.startswith(f"xret: interrupted ({name}); {kept}")
    assert "(1 result record, " in last and "Traceback" not in err
    (record,) = (tmp_path / "results").rglob("*.json")
    assert "first" in record.name
    # The zebra task's first batch was encoded before the hang: its vector was flushed.
    (namespace,) = {p.parent for p in (tmp_path / "cache").rglob("part-*.npz")}
    unique = load_record(record).provenance.encode["unique"]
    assert len(NamespaceCache(namespace)) == unique + 1
    assert not [p for p in tmp_path.rglob(".*.tmp")]


def test_a_full_disk_while_a_corpus_shard_is_encoded_is_one_line(tmp_path, monkeypatch):
    from xret.benchmark import corpus_store
    from xret.benchmark.corpus_store import encode_corpus
    from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
    from xret.models.spec import ModelSpec
    from xret.tasks.corpus import Corpus, find_shards
    from xret.testing import HashEncoder, write_corpus

    spec = ModelSpec(name="hash", provider="python", source=MODEL, revision="r1", dim=64)
    write_corpus(
        tmp_path / "c",
        [
            [{"docid": f"{s}{i}", "title": "T", "text": f"passage {s} {i}"} for i in range(5)]
            for s in range(2)
        ],
    )
    corpus = Corpus(name="c", language="sw", shards=find_shards(tmp_path / "c"))
    engine = EmbeddingEngine(spec, HashEncoder, None, BatchPolicy(), progress=False)

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(corpus_store.os, "fsync", full)
    root = tmp_path / "store"
    with pytest.raises(OutputError, match=f"^cannot write {root}/shard-0000.f32: no space left"):
        encode_corpus(corpus, engine, root, with_title=True, log=lambda _: None)
    assert sorted(p.name for p in root.iterdir()) == [".lock"]
