"""``xret leaderboard``, ``xret heatmap`` and ``xret compare`` end to end: records from a real
``xret bench`` on the toy task (hash encoder), and synthetic records for the two-model cases."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from xret.testing import write_lareqa_task

from .conftest import store
from test_cli import MODEL
from test_lareqa import PARAGRAPHS


@pytest.fixture
def bench(tmp_path, monkeypatch, xret_cli):
    """Results of the hash encoder on the toy task, twice: sentence and sentence+context."""
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    toy = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    for text in ("sentence", "sentence+context"):
        code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q", "--candidate-text", text)
        assert code == 0, err
    return tmp_path / "results"


def test_leaderboard_formats(bench, tmp_path, xret_cli):
    code, out, err = xret_cli("leaderboard", str(bench), "--format", "markdown")
    assert code == 0, err
    assert "## mAP, macro average over languages (shape of the paper's Table 1)" in out
    # The two candidate texts are two evaluations of one task: two column groups, a note saying why.
    assert (
        "lareqa:toy (candidate text sentence) Mo." in out
        and "lareqa:toy (candidate text sentence+context)" in out
    )
    assert "records differ in candidate text (sentence / sentence+context)" in out
    assert "published" in out and "Table 3" not in out  # reference rows only for the paper's tasks
    for fmt, marker in (
        ("latex", r"\toprule"),
        ("csv", "source,base_model,regime"),
        ("terminal", "mAP, macro"),
    ):
        code, out, err = xret_cli("leaderboard", str(bench), "-f", fmt)
        assert code == 0 and marker in out, err
    rows = list(csv.DictReader(io.StringIO(xret_cli("leaderboard", str(bench), "-f", "csv")[1])))
    assert {r["model"] for r in rows} == {MODEL} and {r["language"] for r in rows} >= {
        "en",
        "de",
        "mean",
    }
    page = tmp_path / "out" / "board.html"
    code, _, err = xret_cli("leaderboard", str(bench), "-f", "html", "-o", str(page))
    assert code == 0 and f"wrote {page}" in err
    html = page.read_text()
    assert (
        html.count("data:image/png;base64,") == 4
    )  # per evaluation: a heatmap and a rank-distance chart
    code, out, err = xret_cli("leaderboard", str(bench), "-f", "markdown", "--task", "xquad-r")
    assert code == 2 and "no result records for task xquad-r" in err


def test_markdown_and_csv_are_byte_identical_across_runs(bench, xret_cli):
    for fmt in ("markdown", "csv", "latex"):
        first = xret_cli("leaderboard", str(bench), "-f", fmt)[1]
        assert xret_cli("leaderboard", str(bench), "-f", fmt)[1] == first


def test_heatmap_of_one_model_and_a_refused_delta(bench, tmp_path, xret_cli):
    records = sorted(bench.rglob("*.json"))
    code, out, err = xret_cli(
        "heatmap", str(bench), "-m", str(records[0]), "--out", str(tmp_path / "h")
    )
    assert code == 0, err
    names = sorted(p.rsplit("/", 1)[-1] for p in out.split())
    assert names == [
        "lareqa-toy__rank-distance.png",
        "lareqa-toy__rank-distance.svg",
        "lareqa-toy__xret.testing-HashEncoder__MAP__mono+cross.png",
        "lareqa-toy__xret.testing-HashEncoder__MAP__mono+cross.svg",
    ]
    code, _, err = xret_cli("heatmap", str(bench), "-m", MODEL)
    assert code == 2 and "matches 2 records" in err and "pass --task or a record path" in err
    code, _, err = xret_cli("heatmap", str(bench), "-m", str(records[0]), "-m", str(records[1]))
    assert code == 2 and "evaluated differently on lareqa:toy (candidate text: " in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_heatmap_over_two_tasks_draws_both(tmp_path, monkeypatch, xret_cli):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    for name in ("toy", "yot"):
        task = f"lareqa:{write_lareqa_task(tmp_path / name, PARAGRAPHS)}"
        assert xret_cli("bench", "-m", MODEL, "-t", task, "-q")[0] == 0
    for tasks in (["-t", "lareqa:toy", "-t", "lareqa:yot"], ["-t", "lareqa:toy,lareqa:yot"]):
        out_dir = tmp_path / "maps" / str(len(tasks))
        code, out, err = xret_cli(
            "heatmap", str(tmp_path / "results"), "-m", MODEL, *tasks, "--out", str(out_dir)
        )
        assert code == 0, err
        drawn = {Path(p).name.split("__")[0] for p in out.split() if "MAP" in p}
        assert drawn == {"lareqa-toy", "lareqa-yot"}


def test_heatmap_delta_of_two_models(tmp_path, two_models, xret_cli):
    for record in two_models:
        store(tmp_path / "results", record)
    out_dir = tmp_path / "maps"
    code, out, err = xret_cli(
        "heatmap",
        str(tmp_path / "results"),
        "-m",
        "model-a",
        "-m",
        "model-b",
        "-s",
        "mono,cross,multi",
        "--out",
        str(out_dir),
    )
    assert code == 0, err
    assert (out_dir / "xquad-r__model-a-minus-model-b__MAP__mono+cross+multi.svg").is_file()
    assert len(out.split()) == 8  # two maps, the delta, the rank-distance chart; PNG + SVG each


def test_compare_a_record_with_itself_finds_nothing(bench, xret_cli):
    path = sorted(bench.rglob("*.json"))[0]
    code, out, err = xret_cli("compare", str(path), str(path), "--resamples", "200", "-f", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["setting"] for r in rows} == {"Mo.", "Cr.", "Mul."}
    assert {r["p"] for r in rows} == {"1.0"} and {r["result"] for r in rows} == {""}
    code, out, err = xret_cli("compare", MODEL, MODEL, "--task", "lareqa:toy")
    assert code == 2 and "matches 2 records on lareqa:toy" in err
    code, _, err = xret_cli("compare", MODEL, "nobody", "--resamples", "10")
    assert code == 2 and "no result record of model 'nobody'" in err and err.count("\n") == 1


def test_compare_refuses_different_query_sets(bench, xret_cli):
    import pandas as pd

    from xret.results.store import load_record

    first, second = sorted(bench.rglob("*.json"))
    # Same evaluation, one query another: the second record is a copy of the first with a query
    # renamed (each table agrees with its record's counts; they disagree with each other).
    record = load_record(first)
    frame = pd.read_csv(first.parent / record.per_query)
    renamed = frame["query_id"] == frame["query_id"].iloc[0]
    frame.loc[renamed, "query_id"] = frame["query_id"].iloc[0] + "-other"
    frame.to_csv(second.parent / load_record(second).per_query, index=False)
    second.write_text(
        json.dumps({**json.loads(first.read_text()), "per_query": load_record(second).per_query}),
        encoding="utf-8",
    )
    code, _, err = xret_cli("compare", str(first), str(second), "--resamples", "10")
    assert code == 2 and "were evaluated on different query sets" in err and err.count("\n") == 1


def test_help_imports_no_plotting_or_statistics():
    code = (
        "import sys, json; from xret.cli import cli; cli.main(['--help'], standalone_mode=False); "
        "print(json.dumps(sorted(m for m in "
        "('torch', 'faiss', 'pandas', 'matplotlib', 'scipy', 'numpy') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_committed_leaderboard_is_what_the_committed_records_give(xret_cli):
    root = Path(__file__).resolve().parents[2]
    if (
        not (root / "results").is_dir()
        or not (root / "docs" / "reference" / "leaderboard.md").is_file()
    ):
        pytest.skip("no committed reference results in this checkout")
    code, out, err = xret_cli("leaderboard", str(root / "results"), "-f", "markdown")
    assert code == 0, err
    assert out == (root / "docs" / "reference" / "leaderboard.md").read_text(encoding="utf-8"), (
        "regenerate: xret leaderboard results -f markdown -o docs/reference/leaderboard.md"
    )


def test_a_study_row_named_as_a_model_lists_its_seeds(xret_cli, tmp_path):
    """The leaderboard shows a study's seeds as one row, 'me5-small-q4__x-y (5 seeds)'; a figure
    is drawn from one record, so that name gets the seeds' names, not a bare 'no record'."""
    study = Path(__file__).parents[2] / "results" / "study" / "me5-small-regimes" / "records"
    args = ("-t", "xquad-r", "--out", str(tmp_path))
    code, _, err = xret_cli("heatmap", str(study), "-m", "me5-small-q4__x-y", *args)
    seeds = ", ".join(f"me5-small-q4__x-y__seed{i}" for i in range(5))
    assert code == 2 and err.count("\n") == 1
    assert err.rstrip().endswith(f"its seeds are records of their own: {seeds}")
    code, _, err = xret_cli("heatmap", str(study), "-m", "me5-smal-q4", *args)
    assert code == 2 and "did you mean 'me5-small-q4'" in err
