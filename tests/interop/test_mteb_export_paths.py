"""``xret export --format mteb`` writes only under ``--out``, whatever a record names."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("mteb", reason="mteb is an optional extra: pip install 'xret[mteb]'")

from xret.benchmark.runner import BenchConfig, run_bench  # noqa: E402
from xret.testing import write_lareqa_task  # noqa: E402

from test_lareqa import PARAGRAPHS  # noqa: E402


@pytest.fixture
def record_path(tmp_path):
    toy = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    config = BenchConfig(
        model="xret.testing:HashEncoder",
        tasks=(toy,),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        progress=False,
    )
    run_bench(config, log=lambda _: None)
    (path,) = (tmp_path / "results").rglob("*.json")
    return path


def _set_revision(path, revision: str) -> None:
    data = json.loads(path.read_text())
    data["model"]["revision"] = revision
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("revision", ["../../../escaped", "/absolute/escaped"])
def test_a_revision_cannot_send_files_out_of_out(tmp_path, record_path, xret_cli, revision):
    if revision.startswith("/"):
        revision = str(tmp_path / "absolute" / "escaped")
    _set_revision(record_path, revision)
    out = tmp_path / "deep" / "er" / "out"
    code, _, err = xret_cli(
        "export", "--format", "mteb", str(tmp_path / "results"), "--out", str(out)
    )
    assert code == 0, err
    outside = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and "escaped" in str(p) and not p.is_relative_to(out)
    ]
    assert outside == []
    files = [p for p in out.rglob("*.json") if p.name.startswith("xret-")]
    assert len(files) == 3 and all(p.parent.parent.parent == out / "results" for p in files)


def test_a_task_name_that_leads_out_is_refused_in_one_line(
    tmp_path, record_path, xret_cli, monkeypatch
):
    import xret.interop.mteb.export as export

    real = export.record_task_name
    monkeypatch.setattr(
        export,
        "record_task_name",  # a name mteb would join to a path as it is
        lambda *args: "../../../escaped-" + real(*args),
    )
    code, _, err = xret_cli(
        "export", "--format", "mteb", str(tmp_path / "results"), "--out", str(tmp_path / "out")
    )
    assert code != 0 and "Traceback" not in err
    assert "refusing to write" in err and err.count("\n") == 1
    assert not [p for p in tmp_path.rglob("escaped-*")]


def test_an_out_that_cannot_be_written_is_one_line(tmp_path, record_path, xret_cli):
    (tmp_path / "file").write_text("")
    code, _, err = xret_cli(
        "export",
        "--format",
        "mteb",
        str(tmp_path / "results"),
        "--out",
        str(tmp_path / "file" / "out"),
    )
    assert code != 0 and "Traceback" not in err
    assert (
        err == f"xret: error: cannot write {tmp_path / 'file' / 'out'}: a part of the path is "
        "a file, not a folder\n"
    )


def test_a_full_disk_while_mteb_writes_leaves_no_partial_file(
    tmp_path, record_path, xret_cli, monkeypatch
):
    import errno

    from mteb.results import TaskResult

    def full(self, path):
        path.write_text("{half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(TaskResult, "to_disk", full)
    code, _, err = xret_cli(
        "export", "--format", "mteb", str(tmp_path / "results"), "--out", str(tmp_path / "out")
    )
    assert code != 0 and err.endswith(".json: no space left on device\n") and err.count("\n") == 1
    assert not [p for p in (tmp_path / "out").rglob("xret-*.json")]
