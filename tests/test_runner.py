"""The main path of ``xret bench`` (xret.benchmark.runner): values flow forward into one record."""

from __future__ import annotations

import pytest

from xret.benchmark.runner import BenchConfig, CorpusOptions, run_bench
from xret.benchmark.strategies import Stages
from xret.results.store import load_record
from xret.testing import toy_miracl, write_lareqa_task

from test_lareqa import PARAGRAPHS


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    root = tmp_path_factory.mktemp("tasks")
    lareqa = write_lareqa_task(root / "toy", PARAGRAPHS)
    task_dir, corpus_dir = toy_miracl(root / "miracl", ("sw",), passages=12, queries=2)
    return (f"lareqa:{lareqa}", f"miracl:{task_dir}"), corpus_dir


def test_the_record_returned_is_the_record_stored(tasks, tmp_path):
    """Nothing is added to a record once it is written (the log's write time included)."""
    names, corpus_dir = tasks
    lines: list[str] = []
    config = BenchConfig(
        model="xret.testing:HashEncoder",
        tasks=names,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        corpus=CorpusOptions(corpus_dir=corpus_dir, depth=10),
        measures=("nDCG@10",),
        progress=False,
        save_run=True,
    )
    outcomes = run_bench(config, log=lines.append)
    assert len(outcomes) == 2 and not any(o.skipped for o in outcomes)
    for outcome in outcomes:
        assert load_record(outcome.path) == outcome.record
        assert "write" not in outcome.record.provenance.timings
    assert sum(line.strip().startswith("write") for line in lines) == 2


def test_a_stage_inside_another_is_counted_once():
    """Building an index inside the ranking stage is ``index`` time, not ``search`` time too."""
    now = [0.0]
    stage = Stages(clock=lambda: now[0])

    def spend(seconds: float) -> None:
        now[0] += seconds

    with stage("search"):
        spend(2.0)
        with stage("index"):
            spend(30.0)
        with stage("search"):
            spend(1.0)
    assert stage.seconds == {"index": 30.0, "search": 3.0}
    assert sum(stage.seconds.values()) == now[0]
