"""``xret export --format parquet | ranx`` on a toy evaluation, and the snippets of docs/export.md
run against it: each must print the leaderboard's value of the cell it re-derives."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path

import pytest

from xret.benchmark.runner import BenchConfig, run_bench
from xret.leaderboards.scores import load_collection
from xret.results.store import load_per_query
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow", reason="xret[parquet] not installed")
ranx = pytest.importorskip("ranx", reason="test extra not installed: pip install -e '.[test]'")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "export.md"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A toy LAReQA evaluation with its runs saved, and the leaderboard's Cr. MAP of it."""
    root = tmp_path_factory.mktemp("export")
    task = f"lareqa:{write_lareqa_task(root / 'toy', PARAGRAPHS)}"
    config = BenchConfig(
        model="xret.testing:HashEncoder",
        tasks=(task,),
        cache_dir=root / "cache",
        results_dir=root / "results",
        progress=False,
        save_run=True,
    )
    (outcome,) = run_bench(config, log=lambda _: None)
    (scores,) = load_collection(root / "results").scores
    return root, outcome, scores.statistic("mean", "cross", "MAP")


def _snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def _run_snippet(code: str, first_line: str) -> tuple[float, str]:
    """Run a docs snippet with its first line (the cell it re-derives) replaced."""
    code = first_line + "\n" + code.split("\n", 1)[1]
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    return float(namespace["value"]), out.getvalue().strip()


def test_parquet_is_one_tidy_row_per_query_and_measure(toy, tmp_path, xret_cli):
    root, outcome, _ = toy
    code, out, err = xret_cli(
        "export", str(root / "results"), "--format", "parquet", "-o", str(tmp_path / "t.parquet")
    )
    assert code == 0, err
    frame = pd.read_parquet(tmp_path / "t.parquet")
    assert list(frame.columns) == [
        "model",
        "revision",
        "task",
        "setting",
        "query_language",
        "pool_language",
        "query_id",
        "topic",
        "measure",
        "value",
    ]
    wide = load_per_query(outcome.path, outcome.record)
    measures = [
        c
        for c in wide.columns
        if c not in ("setting", "query_language", "pool_language", "query_id")
    ]
    assert len(frame) == int(wide[measures].notna().sum().sum()) and f"{len(frame)} rows" in out
    assert set(frame.model) == {outcome.record.model.name}
    assert set(frame.task) == {outcome.record.task.name}
    # Parallel questions: de/q1 and en/q1 are one topic.
    pairs = frame[["query_id", "topic"]].drop_duplicates()
    assert (pairs.topic == pairs.query_id.str.split("/").str[1]).all()
    cell = outcome.record.cell("cross", "en", "de")
    rows = frame[
        (frame.setting == "cross")
        & (frame.query_language == "en")
        & (frame.pool_language == "de")
        & (frame.measure == "MAP")
    ]
    assert rows.value.mean() == pytest.approx(cell.values["MAP"], abs=1e-6)


def test_the_pandas_snippet_re_derives_the_leaderboard_cell(toy, monkeypatch, xret_cli):
    root, outcome, expected = toy
    monkeypatch.chdir(root)
    code, _, err = xret_cli("export", "results", "--format", "parquet", "-o", "per-query.parquet")
    assert code == 0, err
    pandas_snippet = next(s for s in _snippets() if "read_parquet" in s)
    record = outcome.record
    names = f"{record.model.name!r}, {record.task.name!r}"
    value, printed = _run_snippet(
        pandas_snippet, f'model, task, setting, measure = {names}, "cross", "MAP"'
    )
    assert value == pytest.approx(expected, abs=1e-6) and printed == f"{expected:.4f}"


def test_ranx_files_and_the_ranx_snippet(toy, tmp_path, xret_cli):
    root, outcome, expected = toy
    out = tmp_path / "ranx"
    code, stdout, err = xret_cli(
        "export", str(root / "results"), "--format", "ranx", "-o", str(out)
    )
    assert code == 0, err
    folder = out / outcome.path.relative_to(root / "results").with_suffix("")
    assert stdout.strip() == str(folder)
    # a run per ranking: the bias panel's per-candidate-language cells rank nothing of their own
    rankings = [c for c in outcome.record.cells if not c.by_candidate_language]
    assert f"{len(rankings)} cell(s) of 1 record(s)" in err
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 * len(rankings) and "cross__de__en.run.json" in names
    run = json.loads((folder / "cross__de__en.run.json").read_text())
    qrels = ranx.Qrels.from_file(str(folder / "cross__de__en.qrels.json"))
    assert set(run) == set(qrels.keys())
    # Every cell's MAP from ranx is the record's.
    for cell in rankings:
        stem = folder / f"{cell.setting}__{cell.query_language}__{cell.pool_language}"
        found = ranx.evaluate(
            ranx.Qrels.from_file(f"{stem}.qrels.json"),
            ranx.Run.from_file(f"{stem}.run.json"),
            "map",
        )
        assert found == pytest.approx(cell.values["MAP"], abs=1e-9)
    ranx_snippet = next(s for s in _snippets() if "from ranx import" in s)
    value, printed = _run_snippet(ranx_snippet, f'folder, setting = {str(folder)!r}, "cross"')
    assert value == pytest.approx(expected, abs=1e-9) and printed == f"{expected:.4f}"


def test_records_without_runs_are_named(toy, tmp_path, xret_cli):
    root, outcome, _ = toy
    bare = tmp_path / "results" / outcome.path.relative_to(root / "results")
    bare.parent.mkdir(parents=True)
    bare.write_bytes(outcome.path.read_bytes())
    code, stdout, err = xret_cli(
        "export", str(tmp_path / "results"), "--format", "ranx", "-o", str(tmp_path / "r")
    )
    assert code == 0 and stdout == ""
    assert f"note: {bare} has no saved runs (xret bench --save-run)" in err


def test_parquet_without_pyarrow_is_one_line(toy, tmp_path, xret_cli, monkeypatch):
    root, _, _ = toy
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    code, out, err = xret_cli(
        "export", str(root / "results"), "--format", "parquet", "-o", str(tmp_path / "t.parquet")
    )
    assert code != 0 and out == ""
    assert err.strip().splitlines()[-1].endswith("pip install 'xret[parquet]'")
    assert "Traceback" not in err and not (tmp_path / "t.parquet").exists()
