"""A study's stored evaluations as runs (base model, arm, seed, task), and the seed-grouped
values the claims, figures and tables are all computed from, so that each reads them alike."""

from __future__ import annotations

import functools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xret.errors import DataError
from xret.fingerprint import FileState
from xret.results.record import ResultRecord
from xret.results.store import PER_QUERY_KEYS, load_per_query, load_record
from xret.study.run import read_state, results_dir
from xret.study.spec import Arm, Study

SETTINGS = (("mono", "Mo."), ("cross", "Cr."), ("multi", "Mul."))


@dataclass(frozen=True)
class Run:
    """One stored evaluation of the study: a base model's arm (None: untrained) and seed."""

    base: str
    arm: Arm | None
    seed: int | None
    task: str
    path: Path
    record: ResultRecord

    def macro(self, setting: str, measure: str) -> float | None:
        return self.record.summary.get("macro", {}).get(setting, {}).get(measure)


def collect_runs(study: Study) -> list[Run]:
    state = read_state(study)
    runs = []
    for cell in study.cells():
        entry = state.get(cell.id)
        for task, relative in (entry or {}).get("records", {}).items():
            path = results_dir(study) / relative
            runs.append(Run(cell.base, cell.arm, cell.seed, task, path, load_record(path)))
    if not runs:
        raise DataError(
            f"{study.path}: no finished cell yet; run `xret study run {study.path}` first"
        )
    return runs


def group_runs(runs: Sequence[Run]) -> dict[tuple[str, str, Arm | None], list[Run]]:
    """The runs of each (task, base model, arm): its seeds."""
    groups: dict[tuple[str, str, Arm | None], list[Run]] = defaultdict(list)
    for run in runs:
        groups[(run.task, run.base, run.arm)].append(run)
    return groups


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def cell_means(members: Sequence[Run], measure: str) -> dict[tuple[str, str, str], float]:
    """(setting, query language, pool language) -> the measure's mean over ``members``."""
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for run in members:
        for cell in run.record.cells:
            if measure in cell.values:
                sums[(cell.setting, cell.query_language, cell.pool_language)].append(
                    cell.values[measure]
                )
    return {key: statistics.fmean(values) for key, values in sums.items()}


def per_query(run: Run, setting: str, measure: str):
    """A run's per-query scores of one setting and measure, indexed by the per-query keys."""
    scores = run.path.parent / (run.record.per_query or "")
    table = _per_query_table(run.path, FileState.of(scores) if scores.is_file() else None)
    if measure not in table.columns:
        raise DataError(f"{run.path}: its per-query scores have no {measure}")
    table = table[table["setting"] == setting]
    return table.set_index(list(PER_QUERY_KEYS))[measure]


@functools.lru_cache(maxsize=64)
def _per_query_table(path: Path, state: FileState | None):
    """A record's per-query scores, read once while unchanged (``state``: the file memo's key,
    which an edit with the mtime kept still changes): every claim on a run needs them."""
    return load_per_query(path, load_record(path))
