"""``xret study run``: train and bench every cell of a study's grid, skipping what is finished.

Resumable by construction: ``xret train`` resumes a folder from its last checkpoint and skips a
finished one, ``xret bench`` skips a finished record, and the study's state file (which record
belongs to which cell) is rewritten atomically after every cell. A rerun after any interruption
therefore redoes at most the part of one cell that had not reached a checkpoint.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from xret.errors import DataError
from xret.io import atomic_write_text
from xret.study.spec import GridCell, Study, StudyError

STATE_FILE = "study-state.json"


@dataclass(frozen=True)
class CellOutcome:
    cell: GridCell
    records: dict[str, str]
    """Task -> record path, relative to the study's result store."""
    seconds: float
    skipped: bool
    """True when nothing was trained or benched: the cell was finished before."""


def results_dir(study: Study) -> Path:
    return study.results


def model_dir(study: Study, cell: GridCell) -> Path:
    return study.work / "models" / cell.id


def run_study(
    study: Study,
    *,
    cache_dir: Path,
    data_dir: Path | None,
    device: str = "auto",
    log: Callable[[str], None] = print,
) -> list[CellOutcome]:
    tasks, contaminated = study.bench_tasks()
    if contaminated:
        log(
            f"not benched, their questions are not removed from training ([train] exclude): "
            f"{', '.join(contaminated)}"
        )
    if not tasks:
        raise StudyError(
            f"{study.path}: no task to bench: add the evaluation tasks to [train] exclude"
        )
    from xret.baselines.train import training_key

    state = read_state(study)
    cells = study.cells()
    keys = {
        cell: _base_key(cell.base, cache_dir)
        if cell.arm is None
        else training_key(study.train_config(cell), data_dir, cache_dir)
        for cell in cells
    }
    done = {cell: _recorded(study, cell, tasks, state, keys.get(cell)) for cell in cells}
    log(_plan_line(cells, done, state))
    busy: dict[bool, list[float]] = {True: [], False: []}
    outcomes = []
    for number, cell in enumerate(cells, 1):
        start = time.perf_counter()
        if done[cell] is not None:
            outcome = CellOutcome(cell, done[cell], 0.0, skipped=True)
        else:
            with _quiet_libraries() as stderr:

                def progress(line: str, cell: GridCell = cell) -> None:
                    with redirect_stderr(stderr):  # the cell's own lines are not the libraries'
                        log(f"    {cell.id}: {line}")

                outcome = _run_cell(study, cell, tasks, cache_dir, data_dir, device, progress)
            outcome = CellOutcome(
                cell, outcome.records, time.perf_counter() - start, outcome.skipped
            )
            # A cell that was already finished keeps its entry: rerunning a study rewrites
            # nothing it did not add.
            entry = _state_entry(cell, outcome, keys.get(cell))
            if not (outcome.skipped and _same_but_time(state.get(cell.id), entry)):
                state[cell.id] = entry
                write_state(study, state)
        outcomes.append(outcome)
        if not outcome.skipped:
            busy[cell.arm is not None].append(outcome.seconds)
        log(_progress_line(number, outcome, cells[number:], busy))
    return outcomes


def _base_key(base: str, cache_dir: Path) -> str:
    """An untrained cell's key: its weights. Its record is then done like a trained cell's, not
    re-benched: a bench with more measures than a record made before them would re-encode, and
    float32 encodings differ in the last bits between runs, so the record could not gain them."""
    from xret.models import model_spec
    from xret.models.providers import get_provider

    spec = model_spec(base)
    return f"untrained {get_provider(spec.provider).resolve(spec, cache_dir).revision}"


def _recorded(study, cell, tasks, state, key: str | None) -> dict[str, str] | None:
    """The cell's records when the state file says they were made by this very cell (the same
    key: for a trained cell the recipe, base weights and data bytes; for an untrained one the
    weights) and every one is in the store: such a cell is done without its trained model,
    which a fresh clone does not have."""
    entry = state.get(cell.id)
    if not isinstance(entry, dict) or entry.get("training_key") != key:
        return None
    records = entry.get("records")
    # keyed by the task's name, which a path-given task (lareqa:/a/b) shortens: count them
    if not isinstance(records, dict) or len(records) != len(tasks):
        return None
    if not all(
        isinstance(path, str) and (results_dir(study) / path).is_file() for path in records.values()
    ):
        return None
    return records


def _plan_line(cells, done, state) -> str:
    """Say up front what will be trained, and roughly how long that takes."""
    train = [cell for cell in cells if cell.arm is not None and done[cell] is None]
    recorded = sum(d is not None for d in done.values())
    line = f"{len(cells)} cells: {recorded} already recorded"
    if not train:
        return line + ", none to train"
    seconds = [
        entry["seconds"]
        for entry in state.values()
        if isinstance(entry, dict) and entry.get("sampling") and entry.get("seconds")
    ]
    each = f", about {_duration(statistics.median(seconds))} each" if seconds else ""
    return line + f", {len(train)} to train and bench{each}"


@contextmanager
def _quiet_libraries() -> Iterator[TextIO]:
    """The study prints one line per cell; the libraries' own progress bars (weights loading,
    model-card widget examples) and advice (tokenizer tokens) would bury them. Errors are not
    lost: they are raised, and the command prints them."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its handler holds the real stderr: a redirect misses it
    try:
        stderr = sys.stderr
        with redirect_stderr(io.StringIO()):  # tqdm bars write to sys.stderr as it is then
            yield stderr
    finally:
        hf_logging.set_verbosity(verbosity)


def _run_cell(study, cell, tasks, cache_dir, data_dir, device, progress) -> CellOutcome:
    from xret.api import run
    from xret.baselines.train import RunOptions, train
    from xret.benchmark.runner import BenchConfig

    quiet = lambda message: None  # noqa: E731 - the study prints one line per cell instead
    trained_before = True
    model = cell.base
    if cell.arm is not None:
        options = RunOptions(
            output=model_dir(study, cell),
            cache_dir=cache_dir,
            data_dir=data_dir,
            device=device,
            save_steps=max(1, study.train.steps // 4),
            progress=False,
        )
        trained = train(study.train_config(cell), options, log=progress)
        trained_before, model = trained.skipped, str(trained.output)
    config = BenchConfig(
        model=model,
        tasks=tasks,
        cache_dir=cache_dir,
        results_dir=results_dir(study),
        data_dir=data_dir,
        settings=study.settings,
        measures=study.measures,
        device=device,
        progress=False,
    )
    benched = run(config, log=quiet)
    records = {r.task: r.path.relative_to(results_dir(study)).as_posix() for r in benched}
    return CellOutcome(cell, records, 0.0, trained_before and all(r.skipped for r in benched))


def _same_but_time(old: dict | None, new: dict) -> bool:
    return isinstance(old, dict) and {**old, "seconds": None} == {**new, "seconds": None}


def _state_entry(cell: GridCell, outcome: CellOutcome, training_key: str | None) -> dict:
    return {
        "training_key": training_key,
        "base": cell.base,
        "sampling": cell.arm.sampling.value if cell.arm else None,
        "alpha": cell.arm.alpha if cell.arm else None,
        "seed": cell.seed,
        "records": outcome.records,
        "seconds": round(outcome.seconds, 1),
    }


def _progress_line(
    number: int, outcome: CellOutcome, left: list[GridCell], busy: dict[bool, list[float]]
) -> str:
    done = "already done" if outcome.skipped else f"done in {_duration(outcome.seconds)}"
    seconds = _time_left(left, busy)
    eta = f", about {_duration(seconds)} left" if seconds is not None else ""
    return f"[{number}/{number + len(left)}] {outcome.cell.id}: {done}{eta}"


def _time_left(left: list[GridCell], busy: dict[bool, list[float]]) -> float | None:
    """Each cell still to run costs the median time of the finished cells of its kind (trained,
    or only benched). A median, because one cell's wall time can include a pause or be the short
    rest of a resumed training; a mean would let that one cell swing the estimate by hours."""
    every = busy[True] + busy[False]
    if not left or not every:
        return None
    return sum(statistics.median(busy[cell.arm is not None] or every) for cell in left)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (
        f"{hours} h {minutes:02d} min"
        if hours
        else f"{minutes} min {secs:02d} s"
        if minutes
        else f"{secs} s"
    )


def read_state(study: Study) -> dict[str, dict]:
    path = study.results / STATE_FILE
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(
            f"{path}: not a readable study state ({err}); delete it to rebuild it"
        ) from None
    if not isinstance(state, dict):
        raise DataError(f"{path}: not a readable study state; delete it to rebuild it")
    return state


def write_state(study: Study, state: dict) -> None:
    atomic_write_text(
        study.results / STATE_FILE, json.dumps(state, indent=1, sort_keys=True) + "\n"
    )
