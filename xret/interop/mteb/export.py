"""``xret export --format mteb``: xret result records in mteb's results layout and JSON schema.

Each record becomes one mteb ``TaskResult`` per setting (task ``xret-<task>-<setting>``, one
subset per cell, split ``test``) for a ``ModelMeta`` built from the record's model block, written
by mteb's own ``ResultCache.save_to_cache`` under ``OUT/results/<model>/<revision>/<task>.json``
(with ``model_meta.json`` beside it), then loaded back with ``ResultCache.load_results`` and
compared with what was meant to be written: an export that mteb cannot read, or reads
differently, is an error.

Scores carry every measure of the record under mteb's keys (naming.score_key), including the
ones mteb's evaluator does not compute (``map``/``mrr`` over the full ranking,
``rank_distance``, the bias panel's ``xret_…`` keys); the main score is the one ``mteb_tasks``
uses, so an mteb run of the same task and an export share keys and file names.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

from xret.errors import DataError, OutputError
from xret.interop.mteb import require_mteb
from xret.interop.mteb.metadata import TaskFacts, model_meta, task_metadata
from xret.interop.mteb.naming import SPLIT, main_score, record_task_name, score_key, subset_name
from xret.io import discard, ensure_dir, output_error
from xret.results.duplicates import distinct
from xret.results.record import ResultRecord
from xret.results.store import ResultStore, slug
from xret.tasks.spec import Setting

_TOLERANCE = 1e-6
"""mteb writes scores rounded to 6 decimals."""


@dataclass(frozen=True)
class Exported:
    """One mteb result file: a setting of one record (or several records' cells, merged)."""

    path: Path
    model: str
    revision: str
    task: str
    subsets: int
    records: tuple[str, ...]


@dataclass
class ExportReport:
    files: list[Exported] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _facts(record: ResultRecord) -> TaskFacts:
    from xret.tasks import TASKS

    facts = TaskFacts.from_record(record.task, record.options)
    if (
        not facts.description and facts.name in TASKS
    ):  # a user's own task: the record is all there is
        facts = replace(facts, description=TASKS.get(facts.name).description)
    return facts


def export_record(record: ResultRecord, notes: list[str] | None = None) -> tuple[object, list]:
    """(``ModelMeta``, ``TaskResult`` per setting) of one record; settings that cannot be
    expressed (their main score was not computed) are skipped with a note."""
    require_mteb("xret export --format mteb")
    from mteb.results import TaskResult

    notes = notes if notes is not None else []
    facts = _facts(record)
    meta = model_meta(record.model)
    meta = meta.model_copy(update={"revision": slug(meta.revision)})  # a folder name: no ../x
    by_setting: dict[Setting, list] = defaultdict(list)
    for cell in record.cells:
        # A bias-panel cell by candidate language is a view of a multilingual ranking, not a
        # subset mteb could evaluate: its measures stay in xret's record.
        if cell.n_queries and not cell.by_candidate_language:
            by_setting[Setting(cell.setting)].append(cell)
    results = []
    for setting, cells in by_setting.items():
        name = record_task_name(record.task, record.options, setting)
        main = main_score(setting, facts.ranking)
        scores = {}
        for cell in cells:
            values = {score_key(m): float(v) for m, v in cell.values.items()}
            if main not in values:
                break
            scores[subset_name(cell.query_language, cell.pool_language)] = {
                **values,
                "main_score": values[main],
            }
        else:
            metadata = task_metadata(
                facts, setting, name, [(c.query_language, c.pool_language) for c in cells]
            )
            results.append(
                TaskResult.from_task_results(
                    SimpleNamespace(metadata=metadata),
                    {SPLIT: scores},
                    evaluation_time=sum(record.provenance.timings.values()),
                    date=_date(record.provenance.created),
                )
            )
            continue
        notes.append(
            f"{record.key}: {setting} not exported: its main score {main!r} was not computed"
        )
    return meta, results


def _date(created: str | None) -> datetime.datetime | None:
    if not created:
        return None
    return datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


def export_results(
    records: Path | Iterable[tuple[str, ResultRecord]],
    out: Path,
    log: Callable[[str], None] = lambda _: None,
) -> ExportReport:
    """Export every record under a results directory (or given ``(label, record)`` pairs) to
    ``out`` in mteb's layout, then validate the files with mteb's loader."""
    require_mteb("xret export --format mteb")
    from mteb.cache import ResultCache

    if isinstance(records, Path):
        if not records.is_dir():
            raise DataError(f"{records}: no such results directory")
        records = [(str(path), record) for path, record in distinct(ResultStore(records).records())]
    report = ExportReport()
    groups: dict[tuple[str, str, str], list[tuple[str, ResultRecord, object, object]]] = (
        defaultdict(list)
    )
    for label, record in records:
        meta, results = export_record(record, report.notes)
        for result in results:
            groups[(meta.name, meta.revision, result.task_name)].append(
                (label, record, meta, result)
            )
    if not groups:
        report.notes.append("nothing to export")
        return report
    ensure_dir(out)  # mteb's ResultCache creates it with no error of ours
    cache = ResultCache(out)
    written = []
    for (model, revision, task), entries in sorted(groups.items()):
        meta, result, labels = _merge(entries, report.notes)
        path = _checked_path(cache, meta, task, labels)
        try:
            cache.save_to_cache(result, meta)
        except OSError as err:  # mteb writes in place: what it left of this file goes
            discard(path)
            raise output_error(path, err) from None
        written.append((meta, result))
        report.files.append(
            Exported(path, model, revision, task, len(result.scores[SPLIT]), labels)
        )
        log(f"wrote {path}")
    _validate(cache, written)
    return report


def _checked_path(cache, meta, task: str, labels: tuple[str, ...]) -> Path:
    """Where mteb will write ``task``: refused unless it is OUT/results/<model>/<revision>/<file>
    (names from a record must not lead elsewhere)."""
    path = cache.get_task_result_path(task, meta)
    folder = (cache.cache_path / "results").resolve()
    if path.resolve().parent.parent.parent != folder:
        raise OutputError(
            f"{labels[0]}: refusing to write {path}: not a file of one model, "
            f"revision and task under {folder}"
        )
    return path


def _merge(entries, notes: list[str]):
    """One TaskResult from the entries of one file: subsets of all entries, the newest record
    winning where they overlap or disagree on the dataset revision."""
    entries = sorted(entries, key=lambda e: e[1].provenance.created or "")
    label, _, meta, result = entries[-1]
    labels = [label]
    subsets = {s["hf_subset"]: s for s in result.scores[SPLIT]}
    for older_label, _, _, older in reversed(entries[:-1]):
        if older.dataset_revision != result.dataset_revision:
            notes.append(
                f"{older_label}: {result.task_name} not merged: other data files than {label} "
                "(newer)"
            )
            continue
        labels.append(older_label)
        for s in older.scores[SPLIT]:
            if s["hf_subset"] in subsets:
                if s != subsets[s["hf_subset"]]:
                    notes.append(
                        f"{older_label}: {result.task_name}/{s['hf_subset']} superseded by "
                        f"{label} (newer)"
                    )
                continue
            subsets[s["hf_subset"]] = s
    if len(labels) > 1:
        result = result.model_copy(
            update={"scores": {SPLIT: [subsets[k] for k in sorted(subsets)]}}
        )
    return meta, result, tuple(labels)


def _validate(cache, written) -> None:
    """Load the files back with mteb's ResultCache and check every score survived."""
    metas = list({meta: None for meta, _ in written})
    loaded = cache.load_results(
        models=metas,
        tasks=[r.task_name for _, r in written],
        include_remote=False,
        require_model_meta=True,
    )
    found = {
        (m.model_name, m.model_revision, t.task_name): t
        for m in loaded.model_results
        for t in m.task_results
    }
    for meta, result in written:
        back = found.get((meta.name, meta.revision, result.task_name))
        if back is None:
            raise DataError(
                "mteb's ResultCache does not find the exported "
                f"{meta.name}/{meta.revision}/{result.task_name}"
            )
        mismatch = _first_difference(result, back)
        if mismatch:
            raise DataError(
                f"mteb reads {result.task_name} of {meta.name} back differently: {mismatch}"
            )


def _first_difference(expected, back) -> str | None:
    if back.dataset_revision != expected.dataset_revision:
        return f"dataset_revision {back.dataset_revision!r} != {expected.dataset_revision!r}"
    mine = {s["hf_subset"]: s for s in expected.scores[SPLIT]}
    theirs = {s["hf_subset"]: s for s in back.scores.get(SPLIT, [])}
    if set(mine) != set(theirs):
        return f"subsets {sorted(theirs)} != {sorted(mine)}"
    for subset, scores in mine.items():
        for key, value in scores.items():
            other = theirs[subset].get(key)
            if isinstance(value, float):
                if other is None or abs(other - value) > _TOLERANCE:
                    return f"{subset}/{key}: {other} != {value}"
            elif other != value:
                return f"{subset}/{key}: {other!r} != {value!r}"
    return None
