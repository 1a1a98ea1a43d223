"""What a leaderboard row or column stands for: one system's per-language scores on one evaluation
of a task, read from stored result records (or, in ``published``, from the paper's tables).

Records are grouped by system (model name, revision, training regime) and by *evaluation*: the
task version, data checksums, evaluated languages, candidate text and ranking policy. Numbers of
different evaluations of one task are never averaged or ranked together; they stay apart and the
collection says which fields differ.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xret.errors import DataError
from xret.results.aggregate import summarise
from xret.results.duplicates import distinct
from xret.results.record import ResultRecord
from xret.results.store import ResultStore, load_record
from xret.results.summary import comparability_notes, coverage_notes, undefined_notes
from xret.tasks.spec import Aggregate

MEASURED = "measured"
REGIME_LABELS = {"x-x-mono": "X-X-mono", "x-y": "X-Y", "hybrid": "Hybrid"}
_REGIME_ORDER = {regime: i for i, regime in enumerate(REGIME_LABELS)}
TASK_LABELS = {
    "xquad-r": "XQuAD-R",
    "mlqa-r": "MLQA-R",
    "miracl": "MIRACL",
    "miracl/dev": "MIRACL dev",
}

Nested = Mapping[str, Mapping[str, Mapping[str, float]]]
CellKey = tuple[str, str, str]  # (setting, query language, pool language)


@dataclass(frozen=True)
class System:
    source: str
    """``MEASURED``, or the citation label of published numbers."""
    base_model: str
    """``model.base_model`` of a trained baseline, else the model itself; the paper's backbone."""
    regime: str
    """Training regime (x-x-mono, x-y, hybrid) of a trained baseline, else empty."""
    model: str
    """Model name; ``name@revision`` when two revisions of one name are in view."""
    revision: str = ""

    @property
    def regime_label(self) -> str:
        return REGIME_LABELS.get(self.regime, self.regime) or "—"

    @property
    def measured(self) -> bool:
        return self.source == MEASURED


def system_order(system: System) -> tuple:
    """Measured systems by base model, regime and name; published ones keep the paper's order."""
    if not system.measured:
        return (1,)
    regime = _REGIME_ORDER.get(system.regime, len(_REGIME_ORDER))
    return (
        0,
        system.base_model.casefold(),
        regime,
        system.regime,
        system.model.casefold(),
        system.revision,
    )


@dataclass(frozen=True)
class SeedCount:
    """How many training seeds a value is the mean of, out of its row's seeds."""

    held: int
    """The seeds whose records hold the value (a seed recorded before a measure has none)."""
    of: int

    def __str__(self) -> str:
        if self.held < self.of:
            return f"{self.held} of {self.of} seeds"
        return f"{self.held} seed{'s' if self.held > 1 else ''}"


@dataclass(frozen=True)
class Scores:
    system: System
    task: str
    family: str
    signature: tuple[tuple[str, str], ...]
    """(field, value) pairs that must agree before numbers of two systems are compared."""
    languages: tuple[str, ...]
    """Evaluated languages, in the task's order."""
    by_language: Nested
    """setting -> measure -> language -> value."""
    summary: Nested
    """statistic ("mean", "median" over ``languages``) -> setting -> measure -> value."""
    evaluation: str = ""
    """What tells this evaluation of the task apart from the others in view; empty when alone."""
    headline: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Published only: the paper's Table 1/2 values, which round the means their own way."""
    comparable_with_published: bool = True
    """False where the record says so (e.g. a reduced MIRACL pool, a corpus of the wrong size)."""
    cells: Mapping[CellKey, Mapping[str, float]] = field(default_factory=dict)
    path: Path | None = None
    """The record file (measured scores)."""
    seeds: tuple[int, ...] = ()
    """Training seeds averaged into this row (empty: one run)."""
    by_seed: tuple[Nested, ...] = ()
    """A row of several seeds: each seed's ``by_language`` (the row's is their mean)."""
    records: tuple[tuple[Path, ResultRecord], ...] = ()
    """Every record behind the row (measured scores): its seeds, and settings stored apart."""

    @property
    def task_label(self) -> str:
        label = TASK_LABELS.get(self.task, self.task)
        return f"{label} ({self.evaluation})" if self.evaluation else label

    def value(self, setting: str, measure: str, language: str) -> float | None:
        return self.by_language.get(setting, {}).get(measure, {}).get(language)

    def statistic(self, name: str, setting: str, measure: str) -> float | None:
        return self.summary.get(name, {}).get(setting, {}).get(measure)

    def per_seed(
        self, name: str, setting: str, measure: str, languages: Sequence[str] | None = None
    ) -> dict[int, float]:
        """seed -> its statistic over ``languages`` (default: all evaluated), for the seeds whose
        records hold it: a seed recorded before a measure existed has none, and the row's value
        is the mean over the others."""
        languages = self.languages if languages is None else languages
        found = {}
        for seed, values in zip(self.seeds, self.by_seed):
            value = language_statistics(values, languages).get(name, {}).get(setting, {})
            if measure in value:
                found[seed] = value[measure]
        return found

    def seed_count(
        self, name: str, setting: str, measure: str, languages: Sequence[str] | None = None
    ) -> SeedCount:
        if not self.seeds:
            return SeedCount(1, 1)
        return SeedCount(len(self.per_seed(name, setting, measure, languages)), len(self.seeds))

    def sd(
        self, name: str, setting: str, measure: str, languages: Sequence[str] | None = None
    ) -> float | None:
        """The sd of a statistic over the seeds that hold it; None for fewer than two."""
        values = list(self.per_seed(name, setting, measure, languages).values())
        return statistics.stdev(values) if len(values) > 1 else None

    def headline_value(self, setting: str, measure: str) -> float | None:
        printed = self.headline.get(setting, {}).get(measure)
        return printed if printed is not None else self.statistic("mean", setting, measure)


def language_statistics(by_language: Nested, languages: Sequence[str]) -> Nested:
    """Mean and median over ``languages``, as ``xret bench`` aggregates, and only where every one
    has a value: a mean over fewer languages would not be comparable."""
    languages = tuple(languages)
    return summarise(
        by_language,
        (
            Aggregate("mean", languages, complete=True),
            Aggregate("median", languages, "median", complete=True),
        ),
    )


def _gaps(
    by_language: Nested, languages: Sequence[str]
) -> dict[tuple[str, tuple[str, ...]], list[str]]:
    """{(setting, languages without a value): [measures]}."""
    gaps: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for setting, measures in by_language.items():
        for measure, values in measures.items():
            missing = tuple(lang for lang in languages if lang not in values)
            if missing:
                gaps.setdefault((setting, missing), []).append(measure)
    return gaps


@dataclass(frozen=True)
class Collection:
    scores: tuple[Scores, ...]
    notes: tuple[str, ...] = ()


def load_collection(
    results_dir: Path, tasks: Sequence[str] | None = None, by_seed: bool = False
) -> Collection:
    records = distinct(ResultStore(results_dir).records())
    if not records:
        raise DataError(f"no result records under {results_dir}")
    return collect(records, tasks, by_seed)


_SEED_SUFFIX = re.compile(r"__seed(\d+)$")


def training_seed(record: ResultRecord) -> int | None:
    """The seed a model was trained with: ``extra.seed`` where the record carries one, else the
    ``__seed<N>`` that ``xret study`` ends its trained models' names with; None otherwise."""
    seed = record.extra.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    found = _SEED_SUFFIX.search(record.model.name)
    return int(found.group(1)) if found else None


def collect(
    records: Sequence[tuple[Path, ResultRecord]],
    tasks: Sequence[str] | None = None,
    by_seed: bool = False,
) -> Collection:
    """Group records into scores: one per (system, task, evaluation signature). Records that
    differ only by training seed are one system (the mean over seeds; each in ``by_seed``) unless
    ``by_seed``."""
    records = [(p, r) for p, r in records if not tasks or r.task.name in tasks]
    if tasks and not records:
        raise DataError(f"no result records for task {', '.join(tasks)}")
    runs = {id(r): _run(r, by_seed) for _, r in records}
    labels = _model_labels(runs.values())
    grouped: dict[tuple, list[tuple[Path, ResultRecord]]] = defaultdict(list)
    for path, record in records:
        system = _system(record, runs[id(record)], labels)
        grouped[(system, record.task.name, signature(record))].append((path, record))
    evaluations, notes = _evaluation_labels({(task, sig) for _, task, sig in grouped})
    scores = []
    for (system, task, sig), members in grouped.items():
        path, record = members[0]
        seeds: dict[int | None, list[tuple[Path, ResultRecord]]] = defaultdict(list)
        for member in members:
            seeds[runs[id(member[1])].seed].append(member)
        languages = tuple(record.options.languages or record.task.languages)
        per_seed = {}
        for seed, runs_of_seed in sorted(seeds.items(), key=lambda item: item[0] or 0):
            paths = [p for p, _ in runs_of_seed]
            per_seed[seed] = (
                _union([r.by_language for _, r in runs_of_seed], paths),
                _union([_cells(r) for _, r in runs_of_seed], paths),
            )
            if len(runs_of_seed) > 1:
                notes.append(
                    f"{system.model} on {task}: {len(runs_of_seed)} records of the same "
                    "evaluation combined (they differ only in the settings or measures computed)"
                )
        by_language = _seed_mean([b for b, _ in per_seed.values()])
        notes += [
            f"{system.model} on {task}: {setting} has no value for {', '.join(missing)} "
            f"({', '.join(measures)}); the means there are left blank"
            for (setting, missing), measures in _gaps(by_language, languages).items()
        ]
        grouped_seeds = tuple(s for s in per_seed if s is not None) if len(per_seed) > 1 else ()
        scores.append(
            Scores(
                system=system,
                task=task,
                family=record.task.family or "",
                signature=sig,
                languages=languages,
                by_language=by_language,
                summary=language_statistics(by_language, languages),
                comparable_with_published=all(
                    r.extra.get("comparable_with_published", True) for _, r in members
                ),
                evaluation=evaluations[(task, sig)],
                cells=_seed_mean([c for _, c in per_seed.values()]),
                path=path,
                seeds=grouped_seeds,
                by_seed=tuple(b for b, _ in per_seed.values()) if grouped_seeds else (),
                records=tuple(members),
            )
        )
    scores.sort(key=lambda s: (system_order(s.system), s.task, s.evaluation))
    held = [r for _, r in records]
    notes += coverage_notes(held) + comparability_notes(held) + undefined_notes(held)
    return Collection(tuple(scores), tuple(dict.fromkeys(notes)))


_NOT_SIGNATURE = {"task_version", "languages", "settings", "measures", "prompts"}
"""Options that do not change a number: what was computed (settings, measures) or belongs to the
model (prompts); task version and languages are named on their own."""


def signature(record: ResultRecord) -> tuple[tuple[str, str], ...]:
    """The fields two records must share for their numbers to be compared: task version, data
    (files and, for corpus tasks, the corpus shards found), languages, and every evaluation option
    (candidate text, ranking and ties; pool, index, depth, …)."""
    options = record.options.to_dict()
    languages = record.options.languages or record.task.languages
    data = json.dumps(
        [record.task.data, record.task.extras.get("corpus", {})], sort_keys=True
    ).encode()
    return (
        ("task version", str(record.task.version)),
        ("data", hashlib.sha256(data).hexdigest()[:8]),
        (
            "languages",
            "all" if set(record.task.languages) <= set(languages) else ",".join(languages),
        ),
        *(
            (
                key.replace("_", " "),
                value if isinstance(value, str) else json.dumps(value, sort_keys=True),
            )
            for key, value in sorted(options.items())
            if key not in _NOT_SIGNATURE
        ),
    )


def _in_words(sig: tuple, varying: Sequence[int]) -> tuple[str, ...]:
    languages = dict(sig)["languages"]
    subset = () if languages == "all" else (", ".join(languages.split(",")),)
    return subset + tuple(
        f"{sig[i][0]} {sig[i][1]}" for i in varying if sig[i][0] not in ("languages", "data")
    )


def _evaluation_labels(keys: set[tuple[str, tuple]]) -> tuple[dict, list[str]]:
    """A label per (task, signature), in words: the languages of a subset (``en, de, zh``; the
    full task needs none), then the other fields that differ from the task's other evaluations.
    The data checksum is named only where the rest leaves two evaluations alike: a subset's
    differs from the full task's anyway, since it reads fewer files."""
    by_task: dict[str, list[tuple]] = defaultdict(list)
    for task, sig in sorted(keys):
        by_task[task].append(sig)
    labels, notes = {}, []
    for task, sigs in by_task.items():
        varying = [i for i in range(len(sigs[0])) if len({s[i][1] for s in sigs}) > 1]
        words = {sig: _in_words(sig, varying) for sig in sigs}
        for sig in sigs:
            parts = list(words[sig])
            if list(words.values()).count(words[sig]) > 1:
                parts += [f"data {value}" for name, value in sig if name == "data"]
            labels[(task, sig)] = "; ".join(parts)
        if varying:
            fields = ", ".join(
                f"{sigs[0][i][0]} ({' / '.join(dict.fromkeys(s[i][1] for s in sigs))})"
                for i in varying
            )
            notes.append(
                f"{task}: records differ in {fields}; they are kept as separate evaluations, "
                "never averaged or ranked together"
            )
    return labels, notes


@dataclass(frozen=True)
class _Run:
    """How a record counts as a row: the model's name and revision, or, for a seed of a trained
    model whose seeds are grouped, the name without its seed and no revision (each seed has
    its own)."""

    name: str
    revision: str
    precision: str
    seed: int | None


def _run(record: ResultRecord, by_seed: bool) -> _Run:
    seed = None if by_seed else training_seed(record)
    if seed is None:
        return _Run(record.model.name, _revision(record), _precision(record), None)
    name = _SEED_SUFFIX.sub("", record.model.name)
    return _Run(name, "", _precision(record), seed)


def _seed_mean(per_seed: Sequence[Mapping]) -> dict:
    """Nested dicts of numbers averaged key by key over the seeds that have the key."""
    if len(per_seed) == 1:
        return dict(per_seed[0])
    out: dict = {}
    for key in dict.fromkeys(k for d in per_seed for k in d):
        values = [d[key] for d in per_seed if key in d]
        if isinstance(values[0], Mapping):
            out[key] = _seed_mean(values)
        else:
            out[key] = statistics.fmean(values)
    return out


def _model_labels(runs: Iterable[_Run]) -> dict[tuple[str, str, str], str]:
    """A row label per (model, revision, precision): the name, with the revision where one name
    has several, and the precision where one name ran at several (fp32 beside bf16 rows)."""
    revisions: dict[str, set[str]] = defaultdict(set)
    precisions: dict[str, set[str]] = defaultdict(set)
    for r in runs:
        revisions[r.name].add(r.revision)
        precisions[r.name].add(r.precision)
    labels = {}
    for name, revs in revisions.items():
        for rev in revs:
            for precision in precisions[name]:
                label = f"{name}@{rev[:12]}" if len(revs) > 1 else name
                if len(precisions[name]) > 1:
                    label += f" [{precision or 'precision not recorded'}]"
                labels[(name, rev, precision)] = label
    return labels


def _revision(record: ResultRecord) -> str:
    return str(record.model.revision or "")


def _precision(record: ResultRecord) -> str:
    return str(record.provenance.precision or "")


def _system(record: ResultRecord, run: _Run, labels: Mapping[tuple[str, str, str], str]) -> System:
    model = record.model
    return System(
        source=MEASURED,
        base_model=model.base_model or run.name,
        regime=model.regime or "",
        model=labels[(run.name, run.revision, run.precision)],
        revision=run.revision,
    )


def _cells(record: ResultRecord) -> dict[CellKey, dict[str, float]]:
    return {(c.setting, c.query_language, c.pool_language): dict(c.values) for c in record.cells}


def _union(nested: Sequence[Mapping], paths: Sequence[Path]) -> dict:
    """Merge nested dicts of numbers; the same key with two different values is a data error."""

    def merge(into: dict, new: Mapping, path: Path, where: tuple) -> None:
        for key, value in new.items():
            if isinstance(value, Mapping):
                merge(into.setdefault(key, {}), value, path, (*where, key))
            elif key not in into:
                into[key] = value
            elif not math.isclose(into[key], value, rel_tol=1e-9, abs_tol=1e-12):
                raise DataError(
                    f"{path}: {'/'.join(map(str, (*where, key)))} = {value} disagrees with "
                    f"{into[key]} in {paths[0]} for the same model and evaluation"
                )

    out: dict = {}
    for item, path in zip(nested, paths):
        merge(out, item, path, ())
    return out


def check_comparable(a: Scores, b: Scores) -> None:
    """Refuse to set two systems side by side unless they share the task and its evaluation."""
    if a.task != b.task:
        raise DataError(f"{a.system.model} is on {a.task} and {b.system.model} on {b.task}")
    differing = [
        f"{name}: {va} vs {vb}" for (name, va), (_, vb) in zip(a.signature, b.signature) if va != vb
    ]
    if differing:
        raise DataError(
            f"{a.system.model} and {b.system.model} were evaluated differently on {a.task} "
            f"({'; '.join(differing)}); their numbers are not compared"
        )


def find_records(
    results_dir: Path | None, name_or_path: str, task: str | None = None
) -> list[tuple[Path, ResultRecord]]:
    """A record file, or the records of a model (name or display name) under ``results_dir``."""
    path = Path(name_or_path)
    if path.suffix == ".json" and path.is_file():
        record = load_record(path)
        return [(path, record)] if task in (None, record.task.name) else []
    if results_dir is None or not results_dir.is_dir():
        raise DataError(
            f"{name_or_path!r} is not a record file and there is no results directory {results_dir}"
        )
    found = distinct(
        (p, r)
        for p, r in ResultStore(results_dir).records()
        if name_or_path in (r.model.name, r.model.display_name, r.key)
        and task in (None, r.task.name)
    )
    if not found:
        where = f" on {task}" if task else ""
        names = {r.model.name for _, r in ResultStore(results_dir).records()}
        raise DataError(
            f"no result record of model {name_or_path!r}{where} under {results_dir}"
            f"{_hint(name_or_path, names)}"
        )
    return found


def _hint(name: str, names: set[str]) -> str:
    """The seeds of a study's row (a leaderboard row that is several records), or close names."""
    seeds = sorted(n for n in names if n.startswith(f"{name}__seed"))
    if seeds:
        return f"; its seeds are records of their own: {', '.join(seeds)}"
    close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
