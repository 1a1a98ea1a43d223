"""Progress for a log file (periodic lines) and a terminal (a bar that stays), stage timings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import xret
from xret.benchmark.corpus_store import encode_corpus
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
from xret.errors import XretError
from xret.models.spec import ModelSpec
from xret.progress import LogLines, duration, interval, progress, stage_lines
from xret.tasks.corpus import Corpus, find_shards
from xret.testing import HashEncoder, write_corpus, write_lareqa_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_every_interval_with_rate_and_eta(capsys):
    clock = Clock()
    bar = LogLines(200, "encode query texts", "text", 10.0, clock)
    bar.update(10)
    clock.now += 9.9
    bar.update(40)
    assert capsys.readouterr().err == ""  # not yet 10 s
    clock.now += 0.1
    bar.update(50)
    line = "encode query texts: 100/200 texts (50 %), 10 texts/s, ETA 10.0 s\n"
    assert capsys.readouterr().err == line
    clock.now += 5
    bar.update(100)
    bar.close()
    line = "encode query texts: 200/200 texts (100 %), 13 texts/s, 15.0 s in all\n"
    assert capsys.readouterr().err == line


def test_eta_follows_the_work_when_texts_differ_in_cost(capsys):
    clock = Clock()
    bar = LogLines(200, "encode", "text", 10.0, clock, work=1000.0)
    clock.now += 10
    bar.update(100, 800.0)  # the long half, longest first: 80 % of the work in 10 s
    assert capsys.readouterr().err.endswith(", ETA 2.5 s\n")  # not the 10 s the count suggests


def test_unknown_total_and_short_stages(capsys):
    clock = Clock()
    quick = LogLines(5, "quick", "text", 10.0, clock)
    quick.update(5)
    quick.close()
    assert capsys.readouterr().err == ""  # a stage shorter than the interval prints nothing
    shard = LogLines(None, "encode docs-0.jsonl.gz", "passage", 10.0, clock)
    clock.now += 20
    shard.update(30)
    assert capsys.readouterr().err == "encode docs-0.jsonl.gz: 30 passages, 1.5 passages/s\n"


def test_terminal_bar_stays_and_quiet_is_silent(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = progress(3, "encode", "text")
    assert bar.bar.leave
    bar.close()
    silent = progress(3, "encode", "text", enabled=False)
    silent.update(3)
    silent.close()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert isinstance(progress(3, "encode", "text"), LogLines)
    monkeypatch.setitem(sys.modules, "ipykernel", object())  # a notebook: a bar, not lines
    notebook = progress(3, "encode", "text")
    assert not isinstance(notebook, LogLines)
    notebook.close()


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_bad_interval_is_a_one_line_error(monkeypatch, value):
    monkeypatch.setenv("XRET_PROGRESS_INTERVAL", value)
    with pytest.raises(XretError, match="XRET_PROGRESS_INTERVAL"):
        interval()


def test_durations_and_stage_lines():
    assert [duration(s) for s in (4.24, 423, 7500)] == ["4.2 s", "7 min 03 s", "2 h 05 min"]
    lines = stage_lines("xquad-r", {"load_data": 1.0, "encode": 420.0}, 423.4)
    assert lines == [
        "xquad-r: time per stage",
        "  load_data         1.0 s",
        "  encode       7 min 00 s",
        "  rest              2.4 s",
        "  total        7 min 03 s",
    ]


def test_bench_log_has_progress_lines_and_stage_times(tmp_path, monkeypatch, xret_cli):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("XRET_PROGRESS_INTERVAL", "1e-9")  # a line per batch
    toy = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "--batch-size", "2")
    assert code == 0, err
    lines = err.splitlines()
    assert any(line.startswith("encode document texts: 2/") and "ETA" in line for line in lines)
    assert any(line.startswith("encode query texts: ") and "in all" in line for line in lines)
    timed = lines[lines.index("lareqa:toy: time per stage") + 1 :]
    end = next(i for i, line in enumerate(timed) if line.split()[0] == "total")
    stages = [line.split()[0] for line in timed[: end + 1]]
    assert stages[0] == "load_data" and stages[-2:] == ["rest", "total"]
    assert {"load_model", "encode", "search", "measures", "write"} <= set(stages)


def test_a_corpus_shard_reports_per_batch_not_per_block(tmp_path, monkeypatch, capsys):
    # A block is 8,192 passages: at 15 passages/s, progress per block is a line per 9 minutes.
    monkeypatch.setenv("XRET_PROGRESS_INTERVAL", "1e-9")
    name = "miracl-corpus-v1.0-sw"
    write_corpus(
        tmp_path / name,
        [[{"docid": f"{i}#0", "title": "T", "text": f"passage {i}"} for i in range(10)]],
    )
    corpus = Corpus(name=name, language="sw", shards=find_shards(tmp_path / name))
    spec = ModelSpec(name="hash", provider="python", source=MODEL, revision="r1", dim=64)
    engine = EmbeddingEngine(spec, HashEncoder, None, BatchPolicy(max_texts=4), progress=True)
    encode_corpus(corpus, engine, tmp_path / "store", with_title=True, log=lambda _: None)
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith(f"encode {name}/docs-0.jsonl.gz: ") for line in lines)
    assert [line.split(": ")[1].split()[0] for line in lines] == ["4", "8", "10", "10"]


def test_eta_prices_what_is_left_at_the_recent_rate_of_work(capsys):
    """A slow first minute (loading, the longest batches) is outside the window a minute later."""
    clock = Clock()
    bar = LogLines(2000, "encode", "text", 10.0, clock, work=20_000.0)
    for _ in range(6):  # 10 tokens/s for 60 s
        clock.now += 10
        bar.update(10, 100.0)
    capsys.readouterr()
    for _ in range(6):  # then 100 tokens/s for 60 s: 6,600 of 20,000 done
        clock.now += 10
        bar.update(100, 1000.0)
    last = capsys.readouterr().err.splitlines()[-1]
    # 13,400 tokens left at 100/s; the average since the start would say 4 min 04 s
    assert last.endswith(", ETA 2 min 14 s") and ", 10 texts/s," in last


def test_the_end_of_a_bench_says_where_its_files_went(tmp_path, monkeypatch, xret_cli):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    toy = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "--save-run", "-q")
    assert code == 0, err
    (record,) = (tmp_path / "results").rglob("*.json")
    per_query = record.with_name(record.stem + ".queries.csv.gz")
    files = len(list(record.with_suffix(".runs").iterdir()))
    last = err.splitlines()[-3:]  # the end of the run
    assert last[0] == f"lareqa:toy: the record {record}"
    assert last[1].startswith(f"  per-query scores: {per_query} (")
    assert last[2].startswith(
        f"  TREC runs and qrels: {record.with_suffix('.runs')}/ ({files} files, "
    )


def test_library_bars_are_off_in_a_log_and_a_users_choice_stays(monkeypatch):
    from xret.progress import LIBRARY_BARS_OFF, quiet_library_bars

    for name in LIBRARY_BARS_OFF:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TQDM_DISABLE", "0")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    import os

    with quiet_library_bars():
        assert os.environ["TQDM_DISABLE"] == "0"
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
        assert os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == "1"
    assert "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ and os.environ["TQDM_DISABLE"] == "0"


@pytest.mark.slow
def test_a_bench_logged_to_a_file_has_no_library_bars(tmp_path):
    """transformers' "Loading weights" bar was written to log files (a fresh process: the
    libraries read the switches when imported)."""
    import os
    import subprocess

    from xret.testing import tiny_sentence_transformer

    model = tiny_sentence_transformer(tmp_path / "m")
    toy = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    env = {**os.environ, "XRET_CACHE_DIR": str(tmp_path / "c"), "XRET_RESULTS_DIR": str(tmp_path)}
    with open(tmp_path / "log", "w") as log:
        done = subprocess.run(
            [sys.executable, "-m", "xret", "bench", "-m", str(model), "-t", toy],
            stderr=log,
            stdout=subprocess.DEVNULL,
            env=env,
            cwd=Path(__file__).parents[1],
        )
    text = (tmp_path / "log").read_text()
    assert done.returncode == 0, text
    assert f"loading {model.name}" in text and "Loading weights" not in text and "\r" not in text


@pytest.mark.parametrize("watched", [True, False])
def test_bench_shows_progress_where_a_person_watches(watched, tmp_path, monkeypatch, capsys):
    """A terminal or a notebook (xret.progress.interactive) gets progress and the stage times by
    default; a script's log does not (a 5-minute run printed nothing in a notebook)."""
    monkeypatch.setattr("xret.progress.interactive", lambda: watched)
    monkeypatch.setenv("XRET_PROGRESS_INTERVAL", "0.000001")
    task = write_lareqa_task(tmp_path / "toy", PARAGRAPHS)
    xret.bench(
        HashEncoder(), [f"lareqa:{task}"], results_dir=tmp_path / "r", cache_dir=tmp_path / "c"
    )
    err = capsys.readouterr().err
    assert ("time per stage" in err and "encode document texts" in err) == watched
    assert err == "" or watched
