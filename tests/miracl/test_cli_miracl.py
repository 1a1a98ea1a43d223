"""``xret bench`` on corpus tasks: the corpus options, the printed table, one-line mistakes."""

from __future__ import annotations

import pytest

from xret.results.store import load_record
from xret.testing import toy_miracl

MODEL = "xret.testing:HashEncoder"


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("XRET_CORPUS_DIR", raising=False)
    task_dir, corpus_dir = toy_miracl(tmp_path / "toy", passages=30, queries=4)
    return f"miracl:{task_dir}", str(corpus_dir)


def test_bench_on_a_corpus_task(toy, tmp_path, xret_cli):
    task, corpus = toy
    code, out, err = xret_cli(
        "bench",
        "-m",
        MODEL,
        "-t",
        task,
        "--corpus-dir",
        corpus,
        "-q",
        "--index",
        "ivf",
        "--nlist",
        "2",
        "--nprobe",
        "2",
        "--no-title",
        "--depth",
        "20",
        "--measures",
        "nDCG@10,R@20",
    )
    assert code == 0, err
    assert (
        "monolingual corpus retrieval" in out
        and "mean-3" in out
        and "median-3" in out
        and "R@20" in out
    )
    (path,) = (tmp_path / "results").rglob("*.json")
    record = load_record(path)
    assert record.options.extras["index"] == {"kind": "ivf", "nlist": 2, "nprobe": 2}
    assert record.options.extras["depth"] == 20 and record.options.extras["passage_text"] == "text"


def test_reduced_pool_is_flagged_in_the_table(toy, monkeypatch, xret_cli):
    task, corpus = toy
    monkeypatch.setenv("XRET_CORPUS_DIR", corpus)  # the environment works as --corpus-dir
    code, out, err = xret_cli(
        "bench",
        "-m",
        MODEL,
        "-t",
        task,
        "-q",
        "--pool",
        "reduced",
        "--distractors",
        "5",
        "--seed",
        "2",
    )
    assert code == 0, err
    assert "miracl:task (*)" in out and "not comparable with published numbers: reduced pool" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["-t", "miracl/dev"],
            "miracl/dev searches a corpus and none was given: pass --corpus-dir DIR",
        ),
        (
            ["-t", "miracl/sw/dev", "--index", "hnsw", "--nprobe", "3"],
            "--nprobe does not apply to --index hnsw",
        ),
        (
            ["-t", "miracl/sw/dev", "--distractors", "5"],
            "--distractors and --seed apply to --pool reduced only",
        ),
        (["-t", "miracl/sw/dev", "--depth", "0"], "--depth must be positive"),
        (["-t", "miracl/xx/dev"], "unknown task 'miracl/xx/dev'"),
        (["-t", "miracl/sw/dev+xn"], "unknown MIRACL corpus language 'xn'"),
        (["-t", "miracl/sw/dev+en", "--measures", "RD"], "RD needs relevant candidates in several"),
        (["-t", "miracl/sw/dev+en", "-s", "mono"], "unknown setting of miracl/sw/dev+en 'mono'"),
    ],
)
def test_mistakes_give_one_line(toy, xret_cli, args, message):
    code, _, err = xret_cli("bench", "-m", MODEL, *args)
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_tasks_lists_the_miracl_family(xret_cli):
    code, out, _ = xret_cli("tasks")
    assert code == 0 and "miracl/dev" in out
    assert "miracl/<lang>/dev" in out and "miracl/<lang>/train" in out
