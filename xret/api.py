"""The Python API: what the ``xret`` commands do, as functions returning values (README "Python
API"). ``bench`` takes anything ``--model`` takes or an in-memory model object; the others read
stored records."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xret import defaults, paths
from xret.benchmark.runner import BenchConfig, CorpusOptions, run_bench
from xret.errors import XretError
from xret.results.record import ResultRecord
from xret.tasks.spec import CandidateText, Setting

if TYPE_CHECKING:
    import pandas as pd

    from xret.leaderboards.compare import Comparison
    from xret.leaderboards.external import RunScores

PathLike = str | os.PathLike
TIDY_COLUMNS = (
    "model",
    "revision",
    "task",
    "setting",
    "query_language",
    "pool_language",
    "measure",
    "value",
    "record",
)


@dataclass(frozen=True)
class TaskResult:
    """One task's result: its record, where it is stored, and whether it was already there."""

    task: str
    """The task's name as recorded (``lareqa:DIR`` is recorded as ``lareqa:<folder name>``)."""
    path: Path
    record: ResultRecord
    skipped: bool

    @property
    def summary(self) -> pd.DataFrame:
        """Aggregates over languages: one row per (aggregate, setting, measure)."""
        import pandas as pd

        rows = [
            (name, setting, measure, value)
            for name, by_setting in self.record.summary.items()
            for setting, by_measure in by_setting.items()
            for measure, value in by_measure.items()
        ]
        return pd.DataFrame(rows, columns=["aggregate", "setting", "measure", "value"])

    def summary_ci(
        self,
        resamples: int = defaults.CI_RESAMPLES,
        seed: int = defaults.SEED,
        confidence: float = defaults.CONFIDENCE,
    ) -> pd.DataFrame:
        """``summary`` with each value's interval (``ci_low``, ``ci_high``): a percentile
        bootstrap over topics of the stored per-query scores, aggregated as the record is
        (docs/leaderboards.md); seeded, so the same call gives the same numbers."""
        from xret.leaderboards.uncertainty import Options, summary_intervals

        found = summary_intervals(self.path, self.record, Options(resamples, seed, confidence))
        frame = self.summary
        keys = list(zip(frame["aggregate"], frame["setting"], frame["measure"]))
        nan = (float("nan"), float("nan"))
        return frame.assign(
            ci_low=[found.get(k, nan)[0] for k in keys],
            ci_high=[found.get(k, nan)[1] for k in keys],
        )

    @property
    def cells(self) -> pd.DataFrame:
        """Every evaluated cell, tidy (the columns of ``load_results``)."""
        return _tidy([(self.path, self.record)])


@dataclass(frozen=True)
class BenchResults:
    """What ``bench`` returns: one TaskResult per task, in the order asked."""

    model: str
    tasks: tuple[TaskResult, ...]

    def __iter__(self) -> Iterator[TaskResult]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, task: str) -> TaskResult:
        for result in self.tasks:
            if result.task == task:
                return result
        raise KeyError(task)

    @property
    def summary(self) -> pd.DataFrame:
        """Every task's summary, with a ``task`` column first."""
        import pandas as pd

        frames = [r.summary.assign(task=r.task) for r in self.tasks]
        frame = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["aggregate", "setting", "measure", "value", "task"])
        )
        return frame[["task", "aggregate", "setting", "measure", "value"]]

    def summary_ci(
        self,
        resamples: int = defaults.CI_RESAMPLES,
        seed: int = defaults.SEED,
        confidence: float = defaults.CONFIDENCE,
    ) -> pd.DataFrame:
        """``summary`` with each value's interval (``TaskResult.summary_ci``)."""
        import pandas as pd

        frames = [r.summary_ci(resamples, seed, confidence).assign(task=r.task) for r in self.tasks]
        columns = ["task", "aggregate", "setting", "measure", "value", "ci_low", "ci_high"]
        return (
            pd.concat(frames, ignore_index=True)[columns]
            if frames
            else pd.DataFrame(columns=columns)
        )


def bench(
    model: object,
    tasks: Sequence[str | PathLike] = ("xquad-r",),
    *,
    languages: Sequence[str] | None = None,
    settings: Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
    results_dir: PathLike | None = None,
    cache_dir: PathLike | None = None,
    data_dir: PathLike | None = None,
    name: str | None = None,
    candidate_text: str = defaults.CANDIDATE_TEXT,
    corpus_dir: PathLike | None = None,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    device: str = "auto",
    overwrite: bool = False,
    accept_drift: float | None = None,
    progress: bool | None = None,
    log=None,
) -> BenchResults:
    """Evaluate ``model`` on ``tasks`` and store one record per task (as ``xret bench``).

    ``model``: a name, folder, ``module:attr`` or ``mteb:…`` as ``--model`` takes, or an
    in-memory object (a SentenceTransformer or anything with ``encode``; ``name`` names it).
    ``tasks``: task names, or paths of task files (``*.toml``). Directories default as in the
    CLI (``$XRET_RESULTS_DIR`` …). ``progress``: bars or periodic lines on stderr; by default
    on a terminal or in a notebook, off elsewhere. ``log``: a function for the run's lines (what
    it skips, stage times; default: stderr when progress is on, else silent). ``accept_drift``:
    as ``--accept-drift``, a stored record gains measures although its numbers moved by at most
    this much (xret.results.supersede).
    """
    from xret.progress import interactive

    if accept_drift is not None and not 0 <= accept_drift <= 1:
        raise XretError(f"accept_drift must lie in [0, 1], not {accept_drift}")

    if isinstance(model, (str, os.PathLike)):
        target = str(model)
    else:
        from xret.models.providers.objects import object_spec

        target = object_spec(model, name)
    names, files = _split_tasks(tasks)
    _check_options(names, files, candidate_text=candidate_text, corpus_dir=corpus_dir)
    progress = interactive() if progress is None else progress
    results = paths.results_dir(results_dir)
    note = paths.reference_store_warning(results)
    if note:
        warnings.warn(note, ReferenceStoreWarning, stacklevel=2)
    config = BenchConfig(
        model=target,
        tasks=names,
        task_files=files,
        cache_dir=paths.cache_dir(cache_dir),
        results_dir=results,
        data_dir=paths.data_dir(data_dir),
        languages=_names(languages, "languages"),
        settings=tuple(Setting.parse(s) for s in _names(settings, "settings") or ()) or None,
        measures=_names(measures, "measures"),
        candidate_text=CandidateText(candidate_text),
        corpus=CorpusOptions(corpus_dir=paths.corpus_dir(corpus_dir)),
        query_prompt=query_prompt,
        document_prompt=document_prompt,
        device=device,
        overwrite=overwrite,
        accept_drift=accept_drift,
        progress=progress,
    )
    return run(config, log=log or (_stderr if progress else lambda _: None))


class ReferenceStoreWarning(UserWarning):
    """``bench`` writes into a results folder a repository commits (xret.paths.REFERENCE_MARKER)."""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _names(value: str | Sequence[str] | None, keyword: str) -> tuple[str, ...] | None:
    """A keyword's names: a list, or one string as the CLI takes it (``"en"``, ``"en,de"``),
    never the characters of a string. None or empty: the task's own."""
    if isinstance(value, str):
        value = value.split(",")
    names = tuple(value or ())
    if any(not isinstance(n, str) or not n.strip() for n in names):
        raise XretError(f"{keyword}={value!r}: expected names (a list of non-empty strings)")
    return tuple(n.strip() for n in names) or None


_FAMILY_KEYWORDS = {"--candidate-text": "candidate_text", "--corpus-dir": "corpus_dir"}
"""The keywords of ``bench`` that only some task families read, and the option each one is."""


def _check_options(names: Sequence[str], files: Sequence[Path], **given) -> None:
    """As ``xret bench``: a family's option set for tasks that do not read it is refused, or
    warned about (IgnoredOptionWarning) when other tasks of the bench read it."""
    from xret.benchmark.strategies import IgnoredOptionWarning, check_flags
    from xret.tasks import get_task

    unset = {"candidate_text": defaults.CANDIDATE_TEXT, "corpus_dir": None}
    flags = [f for f, k in _FAMILY_KEYWORDS.items() if given[k] != unset[k]]
    if not flags:
        return

    def warn(line: str) -> None:
        warnings.warn(line, IgnoredOptionWarning, stacklevel=4)

    tasks = [get_task(name, files) for name in names]
    check_flags(tasks, flags, warn=warn, spelling=_FAMILY_KEYWORDS)


def run(config: BenchConfig, log=print) -> BenchResults:
    """Run a complete bench configuration (what ``xret bench`` builds from its options, after
    refusing the options no task reads)."""
    outcomes = run_bench(config, log=log)
    results = tuple(TaskResult(o.record.task.name, o.path, o.record, o.skipped) for o in outcomes)
    label = config.model if isinstance(config.model, str) else config.model.name
    return BenchResults(label, results)


def score(
    run: PathLike | Mapping[str, Mapping[str, float]],
    qrels: PathLike | Mapping[str, Mapping[str, int]],
    measures: Sequence[str] | None = None,
    *,
    doc_lang: PathLike | Mapping[str, str] | None = None,
    query_lang: PathLike | Mapping[str, str] | None = None,
    seed: int = defaults.SEED,
) -> RunScores:
    """Score a TREC run made by any system (as ``xret score``): files or ``{qid: {docid:
    score}}`` / ``{qid: {docid: grade}}``; languages as files of ``id language`` lines,
    ``"prefix"`` (``lang/…`` ids) or mappings. Means with 95 % intervals over queries, per query
    language with ``query_lang``, and the bias panel with ``doc_lang`` (RD and the bench's
    panel by default; ``skipped`` says which measures the languages given cannot give)."""
    from xret.leaderboards.external import score as score_run

    return score_run(run, qrels, measures, doc_lang=doc_lang, query_lang=query_lang, seed=seed)


def _split_tasks(tasks: Iterable[str | PathLike]) -> tuple[tuple[str, ...], tuple[Path, ...]]:
    """Task names as given, with each task file replaced by the name it defines."""
    from xret.tasks.taskfile import read_task_file

    if isinstance(tasks, (str, os.PathLike)):
        tasks = [tasks]
    names, files = [], []
    for task in tasks:
        if isinstance(task, os.PathLike) or str(task).endswith(".toml"):
            files.append(Path(task))
            names.append(read_task_file(Path(task)).name)
        else:
            names.append(str(task))
    if not names:
        raise XretError("no task given")
    return tuple(names), tuple(files)


def load_results(
    results_dir: PathLike | None = None,
    *,
    ci: bool = False,
    resamples: int = defaults.CI_RESAMPLES,
    seed: int = defaults.SEED,
    confidence: float = defaults.CONFIDENCE,
) -> pd.DataFrame:
    """Every cell of every record under ``results_dir``, one row per (record, cell, measure):
    model, revision, task, setting, query_language, pool_language, measure, value, record; with
    ``ci``, also each cell mean's interval (``ci_low``, ``ci_high``: a percentile bootstrap over
    the cell's topics, from the per-query scores)."""
    from xret.results.store import ResultStore

    root = paths.results_dir(results_dir)
    if not root.is_dir():
        raise XretError(f"{root}: no such results directory")
    records = list(ResultStore(root).records())
    frame = _tidy(records)
    if not ci:
        return frame
    from xret.leaderboards.uncertainty import Options, cell_intervals

    options = Options(resamples, seed, confidence)
    found = {str(path): cell_intervals(path, record, options) for path, record in records}
    nan = (float("nan"), float("nan"))
    keys = zip(
        frame["record"],
        frame["setting"],
        frame["query_language"],
        frame["pool_language"],
        frame["measure"],
    )
    bounds = [found[path].get(tuple(cell), nan) for path, *cell in keys]
    return frame.assign(ci_low=[b[0] for b in bounds], ci_high=[b[1] for b in bounds])


def _tidy(records: Sequence[tuple[Path, ResultRecord]]) -> pd.DataFrame:
    import pandas as pd

    rows = [
        (
            r.model.name,
            r.model.revision,
            r.task.name,
            cell.setting,
            cell.query_language,
            cell.pool_language,
            measure,
            value,
            str(path),
        )
        for path, r in records
        for cell in r.cells
        for measure, value in cell.values.items()
    ]
    return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))


def leaderboard(
    results_dir: PathLike | None = None,
    format: str = "markdown",
    *,
    published: bool = True,
    tasks: Sequence[str] | None = None,
    ci: bool = False,
    resamples: int = defaults.CI_RESAMPLES,
    seed: int = defaults.SEED,
    by_seed: bool = False,
) -> str:
    """The leaderboard of the records under ``results_dir`` as markdown, latex, csv or html;
    ``ci``, ``resamples``, ``seed`` and ``by_seed`` as ``xret leaderboard``'s options."""
    from xret.leaderboards.commands import LeaderboardConfig, leaderboard_text
    from xret.leaderboards.uncertainty import Options

    config = LeaderboardConfig(
        paths.results_dir(results_dir),
        format,
        None,
        published,
        tuple(tasks) if tasks else None,
        Options(resamples=resamples, seed=seed) if ci else None,
        by_seed,
    )
    return leaderboard_text(config)


def heatmap(
    models: Sequence[str],
    results_dir: PathLike | None = None,
    out: PathLike = "heatmaps",
    *,
    task: str | None = None,
    settings: Sequence[str] = defaults.HEATMAP_SETTINGS,
    measure: str = "MAP",
) -> list[Path]:
    """Query × pool language heatmaps of ``models`` (names or record paths): the files written."""
    from xret.leaderboards.commands import HeatmapConfig, run_heatmaps

    chosen = tuple(str(Setting.parse(s)) for s in settings)
    config = HeatmapConfig(
        paths.results_dir(results_dir), tuple(models), Path(out), task, chosen, measure
    )
    return run_heatmaps(config)


def compare(
    systems: Sequence[str],
    results_dir: PathLike | None = None,
    *,
    task: str | None = None,
    measure: str = "MAP",
    settings: Sequence[str] | None = None,
    test: str = "randomisation",
    seed: int = defaults.SEED,
    resamples: int = defaults.COMPARE_RESAMPLES,
    alpha: float = defaults.ALPHA,
) -> Comparison:
    """Paired significance of every pair of ``systems`` (two or more names or record paths) from
    per-query scores, on the same topics, Holm-corrected; ``test``: "randomisation" or
    "student"."""
    from xret.leaderboards.commands import CompareConfig, compare_results

    if isinstance(systems, (str, os.PathLike)):
        raise XretError("compare takes a list of two or more systems, e.g. compare(['a', 'b'])")
    chosen = tuple(str(Setting.parse(s)) for s in settings) if settings else None
    config = CompareConfig(
        tuple(str(s) for s in systems),
        paths.results_dir(results_dir),
        task,
        measure,
        chosen,
        seed,
        resamples,
        alpha,
        test=test,
    )
    return compare_results(config)
