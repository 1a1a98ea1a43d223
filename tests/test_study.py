"""``xret study``: a study file parses into a grid; run trains and benches every cell, resumes
after a kill, and report gives the tables, claims with intervals and verdicts, and figures."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xret import defaults
from xret.baselines.samplers import Sampling
from xret.study.claims import SAME_MAP, _decide, seed_interval, verdicts
from xret.study.run import STATE_FILE, _time_left
from xret.study.runs import collect_runs
from xret.study.spec import Arm, GridCell, StudyError, load_study, parse_study
from xret.testing import tiny_sentence_transformer, write_lareqa_task, write_squad

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
name = "tiny"
bases = ["{base}"]
seeds = [0, 1]

[train]
data = ["{data}"]
exclude = ["{task}"]
steps = 2
batch_size = 4
max_seq_length = 32

[[regime]]
sampling = "x-x-mono"
[[regime]]
sampling = "x-y"
[[regime]]
sampling = "hybrid"
alpha = [0.5]
[[regime]]
sampling = "hybrid"
alpha = [0.25]
seeds = [0]

[bench]
tasks = ["{task}", "xquad-r"]
"""


def _minimal(**changes) -> dict:
    data = {
        "bases": ["m"],
        "train": {"data": ["squad-it-es"]},
        "regime": [{"sampling": "hybrid"}],
        "bench": {"tasks": ["xquad-r"]},
    }
    return {**data, **changes}


def test_the_grid_of_a_study_file(tmp_path):
    study = parse_study(
        _minimal(
            seeds=[0, 1],
            regime=[
                {"sampling": "x-y"},
                {"sampling": "hybrid", "alpha": [0.25, 0.75], "seeds": [5]},
            ],
        ),
        tmp_path / "s.toml",
    )
    ids = [cell.id for cell in study.cells()]
    assert ids == [
        "m",
        "m__x-y__seed0",
        "m__x-y__seed1",
        "m__hybrid-a0.25__seed5",
        "m__hybrid-a0.75__seed5",
    ]
    seeds = parse_study(
        _minimal(seeds=[0, 1], regime=[{"sampling": "x-y"}, {"sampling": "x-x-mono"}]),
        tmp_path / "s.toml",
    )
    assert [c.id for c in seeds.cells()][1:] == [
        "m__x-y__seed0",
        "m__x-x-mono__seed0",
        "m__x-y__seed1",
        "m__x-x-mono__seed1",
    ]
    assert study.work == tmp_path / "s-work" and study.results == tmp_path / "s-work" / "results"
    kept = parse_study(
        _minimal(work="models", results="../kept/records", report="../kept"),
        tmp_path / "studies" / "s.toml",
    )
    assert (kept.work, kept.results, kept.report) == (
        tmp_path / "studies" / "models",
        tmp_path / "kept" / "records",
        tmp_path / "kept",
    )
    config = study.train_config(study.cells()[3])
    assert (config.alpha, config.seed, config.sources) == (0.25, 5, ("squad-it-es",))
    # [train] keeps TrainConfig's defaults, the contamination guard's exclude among them
    assert config.exclude == defaults.TRAIN_EXCLUDE and config.steps == defaults.STEPS
    assert study.bench_tasks() == (("xquad-r",), ())
    unguarded = parse_study(
        _minimal(train={"data": ["squad-it-es"], "exclude": ["mlqa-r"]}), tmp_path / "s.toml"
    )
    assert unguarded.bench_tasks() == ((), ("xquad-r",))  # not excluded from training: not benched


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"regime": []}, "at least one [[regime]]"),
        ({"regime": [{"sampling": "hybird"}]}, "unknown sampling 'hybird'"),
        ({"regime": [{"sampling": "x-y", "alpha": 0.5}]}, "alpha applies to hybrid sampling only"),
        ({"regime": [{"sampling": "hybrid", "alpha": [1.5]}]}, "alpha must be a number in [0, 1]"),
        ({"regime": [{"sampling": "x-y"}, {"sampling": "x-y"}]}, "X-Y is listed twice"),
        ({"seeds": [0, 0]}, "a seed is listed twice"),
        ({"seeds": ["a"]}, "non-negative integers"),
        ({"train": {"data": ["x"], "steps": 0}}, "steps must be a positive integer"),
        ({"train": {"data": ["x"], "stpes": 3}}, "unknown option 'stpes' (did you mean 'steps'?)"),
        ({"train": {"data": ["x"], "lr": "fast"}}, "learning_rate must be a number, not 'fast'"),
        ({"train": {"data": ["x"], "passage": "para"}}, "unknown passage unit 'para'"),
        ({"colour": 1}, "unknown key 'colour'"),
        ({"seed": [1]}, "unknown key 'seed' (did you mean 'seeds'?)"),
        ({"bench": {"tasks": ["x"], "setings": ["mono"]}}, "did you mean 'settings'?"),
        ({"name": "../escape"}, "name '../escape': use letters, digits"),
        ({"name": "a/b"}, "name 'a/b': use letters, digits"),
        ({"bench": {}}, "'tasks' is missing"),
    ],
)
def test_a_bad_study_file_is_one_line(tmp_path, changes, message):
    with pytest.raises(StudyError, match=None) as err:
        parse_study(_minimal(**changes), tmp_path / "s.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_an_unreadable_study_file(tmp_path, xret_cli):
    path = tmp_path / "s.toml"
    path.write_text("name = [")
    code, _, err = xret_cli("study", "report", str(path))
    assert code == 2 and "cannot read the study file" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "intervals, tolerance, verdict",
    [
        ([(0.01, 0.02), (0.001, 0.05)], None, "reproduced"),
        ([(0.01, 0.02), (-0.001, 0.05)], None, "inconclusive"),
        ([(-0.02, -0.01)], None, "not reproduced"),
        ([(-0.004, 0.004), (-0.001, 0.002)], SAME_MAP, "reproduced"),
        ([(-0.004, 0.006)], SAME_MAP, "inconclusive"),
        ([(0.006, 0.02), (0.01, 0.03)], SAME_MAP, "not reproduced"),
    ],
)
def test_verdict_rule(intervals, tolerance, verdict):
    assert _decide(intervals, tolerance) == verdict


def test_time_left_ignores_a_paused_cell_and_tells_benching_from_training():
    """One trained cell took 20 h because the run was paused: the estimate must not follow it,
    and a cell that is only benched must not be priced like a training."""
    trained = GridCell("m", Arm(Sampling.HYBRID, 0.5), 1)
    base = GridCell("m2", None, None)
    busy = {True: [600.0, 72_000.0, 610.0], False: [300.0]}
    assert _time_left([trained, trained, base], busy) == 610.0 + 610.0 + 300.0
    # a kind not seen yet is priced like the finished cells of any kind
    assert _time_left([base], {True: [600.0], False: []}) == 600.0
    assert _time_left([], busy) is None
    assert _time_left([trained], {True: [], False: []}) is None


def test_seed_interval_is_a_t_interval():
    low, high = seed_interval([1.0, 2.0, 3.0])
    # mean 2, sd 1, t(0.975, 2) = 4.3027
    assert low == pytest.approx(2 - 4.302653 / 3**0.5, abs=1e-5) and high == pytest.approx(
        2 + 4.302653 / 3**0.5, abs=1e-5
    )
    assert seed_interval([1.0]) is None


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    paragraphs = {
        lang: [
            {
                "sentences": [f"Eval {lang} a.", f"Eval {lang} b.", f"Other {lang} c."],
                "questions": [("q0", f"{lang} eval 0?", 0), ("q1", f"{lang} eval 1?", 1)],
            }
        ]
        for lang in ("en", "de", "es")
    }
    task = f"lareqa:{write_lareqa_task(root / 'toy-eval', paragraphs)}"
    text = STUDY.format(
        base=tiny_sentence_transformer(root / "tiny"), data=write_squad(root / "qa"), task=task
    )
    path = root / "tiny.toml"
    path.write_text(text)
    return path


@pytest.mark.slow
def test_run_resumes_after_a_kill_and_reports(world, monkeypatch, xret_cli):
    cache = world.parent / "cache"
    environ = {
        **os.environ,
        "XRET_CACHE_DIR": str(cache),
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from xret.cli import main; main()",
            "study",
            "run",
            str(world),
            "--device",
            "cpu",
        ],
        env=environ,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = world.parent / "tiny-work" / "results" / STATE_FILE
    try:
        deadline = time.monotonic() + 300
        while (
            time.monotonic() < deadline
            and len(json.loads(state.read_text()) if state.is_file() else {}) < 2
        ):
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    finished = set(json.loads(state.read_text()))
    assert len(finished) >= 2

    monkeypatch.setenv("XRET_CACHE_DIR", str(cache))
    code, out, err = xret_cli("study", "run", str(world), "--device", "cpu")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert len(lines) == 8  # the base and 2 seeds x 3 regimes + 1 seed of hybrid α=0.25
    assert "it/s]" not in err and "Loading weights" not in err  # one line per cell, no bars
    assert "{'loss'" not in out + err  # nor the trainer's printed log dicts
    assert re.search(r"8 cells: \d already recorded, \d to train and bench", err)
    # training says how it goes, a line per logging interval, in words
    assert re.search(r"__seed1: step 2/2, loss \d+\.\d{4}, about 0 min 00 s left", err)
    assert all("already done" in line for line in lines[: len(finished)])
    assert "xquad-r" in err  # named as not benched: its questions were not kept out of training

    study = load_study(world)
    runs = collect_runs(study)
    assert len(runs) == 8
    found = {(v.claim.text, v.verdict) for v in verdicts(runs)}
    # The paper's 7 claims, and its two rank-distance claims asked of the 12 other bias measures
    # the default bench records (docs/bias.md).
    assert len(found) == 7 + 2 * 12 and {v for _, v in found} <= {
        "reproduced",
        "not reproduced",
        "inconclusive",
    }
    for verdict in verdicts(runs):
        assert verdict.topics[0] <= verdict.topics[1] and verdict.seeds is not None
    report = study.report / "report.md"
    text = report.read_text()
    assert "Table 1 shape" in text and "Claims of the paper" in text and "figure-1.png" in text
    assert "Where the bias measures agree and disagree" in text and "bias: X-Y ≈ Hybrid" in text
    assert "Language bias panel, Mul." in text  # each measure's least biased regime ranked (1)
    assert (study.report / "report.html").read_text().count("data:image/png;base64") >= 3

    # report alone runs nothing and gives the same page
    before = report.read_text()
    code, _, err = xret_cli("study", "report", str(world))
    assert code == 0, err
    assert report.read_text() == before

    # a result store kept elsewhere (the repository) reports alike without the models
    shutil.copytree(world.parent / "tiny-work" / "results", world.parent / "kept")
    kept = world.parent / "kept.toml"
    kept.write_text(
        world.read_text().replace(
            'name = "tiny"',
            'name = "tiny"\nresults = "kept"\nwork = "gone"\nreport = "kept-report"',
        )
    )
    code, _, err = xret_cli("study", "report", str(kept))
    assert code == 0, err
    again = (world.parent / "kept-report" / "report.md").read_text()
    assert again == before.replace("tiny.toml", "kept.toml")
    assert not (world.parent / "gone").exists()

    # a fresh clone (records and state kept, no trained models) trains nothing and rewrites
    # nothing: the state's training keys say the records belong to these very cells
    kept_state = (world.parent / "kept" / STATE_FILE).read_bytes()
    code, _, err = xret_cli("study", "run", str(kept), "--device", "cpu")
    assert code == 0, err
    assert "8 cells: 8 already recorded, none to train" in err
    assert sum("already done" in line for line in err.splitlines()) == 8
    assert (world.parent / "kept" / STATE_FILE).read_bytes() == kept_state
    assert not (world.parent / "gone").exists()


def test_size_plot_reads_parameter_counts_of_the_trained_folders(tmp_path):
    import numpy as np
    from safetensors.numpy import save_file

    from xret.results.record import (
        CoverageSection,
        ModelSection,
        OptionsSection,
        ProvenanceSection,
        ResultRecord,
        TaskSection,
    )
    from xret.study.figures import figures, parameter_count
    from xret.study.run import model_dir
    from xret.study.runs import Run

    study = parse_study(
        _minimal(
            bases=["small", "large"],
            seeds=[0],
            include_base=False,
            regime=[{"sampling": "x-y"}, {"sampling": "hybrid"}],
        ),
        tmp_path / "s.toml",
    )
    runs = []
    for width, cell in zip([4, 4, 8, 8], study.cells()):
        folder = model_dir(study, cell)
        folder.mkdir(parents=True)
        save_file(
            {"w": np.zeros((width, width), np.float32), "b": np.zeros(width, np.float32)},
            str(folder / "model.safetensors"),
        )
        summary = {"macro": {s: {"MAP": 0.5 + width / 100} for s in ("mono", "cross", "multi")}}
        record = ResultRecord(
            key="k",
            model=ModelSection(name="m"),
            task=TaskSection(name="t"),
            options=OptionsSection(),
            coverage=CoverageSection(),
            cells=(),
            by_language={},
            summary=summary,
            provenance=ProvenanceSection(),
        )
        runs.append(Run(cell.base, cell.arm, cell.seed, "t", folder / "r.json", record))
    assert parameter_count(model_dir(study, study.cells()[2])) == 8 * 8 + 8
    titles = [title for title, _ in figures(runs, study)]
    assert "Size — metrics against parameter count" in titles


def test_the_committed_report_is_what_the_committed_records_give(tmp_path):
    """The study kept in the repository re-reports byte for byte without models or data."""
    import dataclasses

    from xret.study.report import write_report

    study = load_study(ROOT / "studies" / "me5-small-regimes.toml")
    committed = study.report
    written = write_report(dataclasses.replace(study, report=tmp_path))
    assert len(written) == 5  # α sweep, two delta heatmaps, report.md, report.html
    for path in written:
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name


def test_a_grid_of_100k_seeds_is_listed_in_linear_time(tmp_path):
    """Each seed was looked up in a tuple of every seed: 100k seeds took minutes."""
    import time

    regimes = [{"sampling": "x-y"}, {"sampling": "hybrid"}]
    study = parse_study(_minimal(seeds=list(range(100_000)), regime=regimes), tmp_path / "s.toml")
    start = time.perf_counter()
    cells = study.cells()
    assert time.perf_counter() - start < 30
    assert len(cells) == 1 + 2 * 100_000 and cells[-1].id == "m__hybrid-a0.5__seed99999"
