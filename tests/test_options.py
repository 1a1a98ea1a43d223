"""Options of one task family are never silently ignored by another (``xret bench``)."""

from __future__ import annotations

import click
import pytest

from xret.benchmark.strategies import strategy_for
from xret.cli import evaluation
from xret.tasks.spec import Ranking
from xret.testing import toy_miracl, write_lareqa_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"
LAREQA = "lareqa:toy (lareqa family, exhaustive ranking)"


@pytest.fixture
def toys(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("XRET_CORPUS_DIR", raising=False)
    lareqa = write_lareqa_task(tmp_path / "toy", PARAGRAPHS)
    task_dir, corpus_dir = toy_miracl(tmp_path / "miracl", ("sw",), passages=12, queries=2)
    return f"lareqa:{lareqa}", f"miracl:{task_dir}", corpus_dir


@pytest.mark.parametrize(
    "family, args, message",
    [
        (0, ["--index", "hnsw"], f"--index does not apply to {LAREQA}"),
        (0, ["--no-title"], f"--title/--no-title does not apply to {LAREQA}"),
        (0, ["--pool", "full"], f"--pool does not apply to {LAREQA}"),
        (
            1,
            ["--candidate-text", "sentence+context"],
            "--candidate-text does not apply to miracl:task (miracl family, top-k ranking)",
        ),
    ],
)
def test_an_option_no_task_reads_is_refused(toys, xret_cli, family, args, message):
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toys[family], *args)
    assert code == 2 and err == f"xret: error: {message}\n"


def test_an_option_some_tasks_ignore_is_warned_about(toys, monkeypatch, xret_cli):
    lareqa, miracl, corpus = toys
    monkeypatch.setenv("XRET_CORPUS_DIR", str(corpus))  # the environment is no explicit option
    # --depth 20 would refuse MIRACL's default R@100; nDCG@10 is a measure of both families.
    code, out, err = xret_cli(
        "bench",
        "-m",
        MODEL,
        "-t",
        lareqa,
        "-t",
        miracl,
        "-q",
        "--depth",
        "20",
        "--measures",
        "nDCG@10",
    )
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == [
        f"xret: warning: --depth does not apply to {LAREQA}; used for the other tasks"
    ]
    assert "lareqa:toy: macro average" in out and "monolingual corpus retrieval" in out


def test_depth_with_save_run_applies_to_every_task(toys, tmp_path, xret_cli):
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toys[0], "-q", "--depth", "3")
    assert code == 2 and "--depth does not apply" in err
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toys[0], "-q", "--depth", "3", "--save-run")
    assert code == 0 and "warning" not in err, err


def test_every_family_option_is_declared_by_a_family():
    def spelled(params):
        return {"/".join(p.opts + p.secondary_opts) for p in params}

    corpus = spelled(click.command()(evaluation._corpus_options(lambda **_: None)).params)
    declared = {
        family: set(flags)
        for ranking in Ranking
        for family, flags in strategy_for(ranking).flags.items()
    }
    assert declared == {
        "miracl": corpus,
        "trec": corpus - {"--corpus-dir"},
        "lareqa": {"--candidate-text"},
        "beir": {"--title/--no-title"},
    }
    assert corpus | {"--candidate-text"} <= spelled(evaluation.bench.params)
