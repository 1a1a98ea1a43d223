"""The training recipe as a value: ``TrainConfig`` (the paper's hyper-parameters as defaults,
protocol §1.4) and the training data it names, with the contamination guard applied.

Everything here is cheap and imports no torch: a bad setting or bad data fails before a model loads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from xret import defaults
from xret.baselines.data import (
    TRAINING_SOURCES,
    Dropped,
    ParallelItem,
    PassageUnit,
    drop_overlap,
    eval_keys,
    load_parallel,
    source_files,
)
from xret.baselines.samplers import CustomSampling, Sampling, parse_sampling, resolve_alpha
from xret.errors import DataError, SamplingError, TrainingError, UnknownNameError
from xret.fingerprint import sha256_file


@dataclass(frozen=True)
class TrainConfig:
    """What a training run is: two runs with equal configs (and equal base model and data) train
    the same model. ``alpha`` is the probability of a monolingual batch, for hybrid only."""

    base: str
    sampling: Sampling | CustomSampling
    """A built-in regime, or a sampler class (or a plugin's name for one)."""
    sources: tuple[str, ...]
    alpha: float | None = None
    exclude: tuple[str, ...] = defaults.TRAIN_EXCLUDE
    passage_unit: PassageUnit = PassageUnit(defaults.PASSAGE_UNIT)
    steps: int = defaults.STEPS
    batch_size: int = defaults.BATCH_SIZE
    learning_rate: float = defaults.LEARNING_RATE
    weight_decay: float = defaults.WEIGHT_DECAY
    warmup_ratio: float = defaults.WARMUP_RATIO
    seed: int = 0
    max_seq_length: int = defaults.MAX_SEQ_LENGTH
    """Training texts are cut to this many tokens; evaluation keeps the base model's limit."""
    scale: float = defaults.SCALE

    def __post_init__(self) -> None:
        sampling = parse_sampling(self.sampling)
        object.__setattr__(self, "sampling", sampling)
        units = [unit.value for unit in PassageUnit]
        if not isinstance(self.passage_unit, PassageUnit) and self.passage_unit not in units:
            raise UnknownNameError("passage unit", str(self.passage_unit), units)
        object.__setattr__(self, "passage_unit", PassageUnit(self.passage_unit))
        if isinstance(sampling, Sampling):  # a custom sampler class may take an α of its own
            try:
                alpha = resolve_alpha(sampling, self.alpha)
            except SamplingError as err:
                raise TrainingError(f"--{err}") from None
            object.__setattr__(self, "alpha", alpha if sampling is Sampling.HYBRID else None)
        if not self.sources:
            raise TrainingError("no training data: name at least one source (--data)")
        if len(set(self.sources)) != len(self.sources):
            raise TrainingError(f"a training source is named twice: {', '.join(self.sources)}")
        for name in ("steps", "batch_size", "max_seq_length"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise TrainingError(f"{name} must be a positive integer, not {value!r}")
        if type(self.seed) is not int or self.seed < 0:
            raise TrainingError(f"seed must be a non-negative integer, not {self.seed!r}")
        for name in ("learning_rate", "weight_decay", "warmup_ratio", "scale"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TrainingError(f"{name} must be a number, not {value!r}")
        for name, ok in (
            ("learning_rate", self.learning_rate > 0),
            ("weight_decay", self.weight_decay >= 0),
            ("warmup_ratio", 0 <= self.warmup_ratio < 1),
            ("scale", self.scale > 0),
        ):
            if not ok or not math.isfinite(getattr(self, name)):
                raise TrainingError(f"{name} {getattr(self, name)!r} is out of range")

    @property
    def warmup_steps(self) -> int:
        return math.ceil(self.steps * self.warmup_ratio)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out.update(
            sampling=self.sampling.value,
            passage_unit=self.passage_unit.value,
            sources=list(self.sources),
            exclude=list(self.exclude),
        )
        return out


@dataclass(frozen=True)
class SourceData:
    """One training source after the guard, and where it came from."""

    name: str
    files: Mapping[str, str] = field(hash=False)
    """Language -> sha256 of the file read."""
    items: tuple[ParallelItem, ...]
    unanswered: int
    dropped: Dropped

    def summary(self) -> dict[str, object]:
        per_language: dict[str, int] = {}
        for item in self.items:
            for lang in item.by_language:
                per_language[lang] = per_language.get(lang, 0) + 1
        return {
            "files_sha256": dict(self.files),
            "items": len(self.items),
            "items_in_two_or_more_languages": sum(len(i.by_language) > 1 for i in self.items),
            "questions_per_language": dict(sorted(per_language.items())),
            "unanswered_questions": self.unanswered,
            "removed_by_guard": len(self.dropped.question_id),
        }


@dataclass(frozen=True)
class TrainingData:
    sources: tuple[SourceData, ...]
    exclude: tuple[str, ...]

    def items(self) -> dict[str, tuple[ParallelItem, ...]]:
        return {source.name: source.items for source in self.sources}

    def summary(self) -> dict[str, object]:
        return {
            "sources": {source.name: source.summary() for source in self.sources},
            "guard": {
                "by": "question id",
                "evaluation_tasks": list(self.exclude),
                "removed": {
                    source.name: len(source.dropped.question_id) for source in self.sources
                },
            },
        }


def load_training_data(config: TrainConfig, data_dir: Path | None, cache_dir: Path) -> TrainingData:
    """The sources of ``config`` with every question id of its ``exclude`` tasks removed.

    The guard goes by question id only: SQuAD-it/-es translate the titles, so titles would catch
    some overlapping articles and miss the rest; the ids are SQuAD's own and catch every question.
    """
    ids = excluded_question_ids(config.exclude, data_dir, cache_dir)
    sources = []
    for name in config.sources:
        label, files = _source_files(name, data_dir)
        data = load_parallel(label, files, unit=config.passage_unit)
        kept, dropped = drop_overlap(data.items, ids, ())
        if not kept:
            raise DataError(
                f"training source {name!r} has no question left once those of "
                f"{', '.join(config.exclude)} are removed; evaluate on another task and leave "
                "this one out of --exclude"
            )
        checksums = {lang: sha256_file(Path(path)) for lang, path in files.items()}
        sources.append(SourceData(label, checksums, kept, len(data.unanswered), dropped))
    if len({s.name for s in sources}) != len(sources):
        raise TrainingError(f"two training sources share a name: {', '.join(config.sources)}")
    return TrainingData(tuple(sources), config.exclude)


def excluded_question_ids(
    tasks: tuple[str, ...], data_dir: Path | None, cache_dir: Path
) -> frozenset[str]:
    """Question ids of the evaluation tasks ``tasks`` (registered names or ``lareqa:DIR``)."""
    from xret.tasks import get_task
    from xret.tasks.artifacts import locate, pinned

    paths: list[Path] = []
    for name in tasks:
        spec = get_task(name)
        for relpath in spec.files_for(spec.languages):
            if spec.root is not None:
                paths.append(spec.root / relpath)
            else:
                paths.append(locate(pinned(relpath), data_dir, cache_dir))
    return eval_keys(paths).question_ids


def _source_files(name: str, data_dir: Path | None) -> tuple[str, dict[str, Path]]:
    """A registered source under the data directory, or a directory of ``<language>.json[.gz]``
    SQuAD-format files joined by question id (named after the directory)."""
    if name in TRAINING_SOURCES:
        if data_dir is None:
            raise DataError(
                f"training source {name!r} is read from the data directory: "
                "set --data-dir or XRET_DATA_DIR"
            )
        return name, source_files(name, data_dir)
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise UnknownNameError("training source (or directory)", name, TRAINING_SOURCES)
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.endswith((".json", ".json.gz")):
            lang = path.name.split(".", 1)[0]
            if lang in files:
                raise DataError(f"{folder}: two files for language {lang!r}")
            files[lang] = path
    if not files:
        raise DataError(f"{folder}: no <language>.json or <language>.json.gz training files")
    return folder.resolve().name, files
