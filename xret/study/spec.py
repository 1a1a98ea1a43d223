"""A study file (TOML) as a frozen value: which models are trained how, with which seeds, and
evaluated on what. Parsing checks everything it can before any model loads.

    name = "me5-small-regimes"
    bases = ["me5-small-q4"]
    seeds = [0, 1, 2]
    include_base = true                # also bench each base model untrained

    [train]                            # xret train's options (TrainConfig fields)
    data = ["squad-it-es", "mlqa-dev"]
    exclude = ["xquad-r"]
    steps = 64
    batch_size = 32
    max_seq_length = 64

    [[regime]]
    sampling = "x-x-mono"
    [[regime]]
    sampling = "hybrid"
    alpha = [0.25, 0.75]
    seeds = [0]                        # overrides the study's seeds for this regime

    [bench]
    tasks = ["xquad-r", "mlqa-r"]      # a task whose questions the guard did not remove is skipped
    settings = ["mono", "cross", "multi"]
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from xret.baselines.recipe import TrainConfig
from xret.baselines.samplers import Sampling, resolve_alpha
from xret.errors import SamplingError, XretError
from xret.tasks.spec import Setting


class StudyError(XretError):
    """A study file that cannot be read or that asks for something impossible."""


@dataclass(frozen=True)
class Arm:
    """One training regime at one α: X-X-mono is α = 1 and X-Y is α = 0 of the hybrid family."""

    sampling: Sampling
    alpha: float | None = None

    @property
    def label(self) -> str:
        if self.sampling is Sampling.HYBRID:
            return f"hybrid α={self.alpha:g}"
        return {Sampling.X_X_MONO: "X-X-mono", Sampling.X_Y: "X-Y"}[self.sampling]

    @property
    def slug(self) -> str:
        return self.sampling.value if self.alpha is None else f"hybrid-a{self.alpha:g}"

    @property
    def order(self) -> tuple[float, str]:
        return self.mono_share, self.sampling.value

    @property
    def mono_share(self) -> float:
        """The share of monolingual batches: the α axis of the sweep."""
        return {Sampling.X_X_MONO: 1.0, Sampling.X_Y: 0.0}.get(self.sampling, self.alpha)


@dataclass(frozen=True)
class GridCell:
    """One model of the grid: a base model, trained with ``arm`` and ``seed`` (None: untrained)."""

    base: str
    arm: Arm | None
    seed: int | None

    @property
    def id(self) -> str:
        base = Path(self.base).name
        return base if self.arm is None else f"{base}__{self.arm.slug}__seed{self.seed}"


@dataclass(frozen=True)
class Study:
    name: str
    path: Path
    bases: tuple[str, ...]
    arms: tuple[tuple[Arm, tuple[int, ...]], ...]
    """Each regime arm with its seeds."""
    train: TrainConfig
    """The [train] section: every cell's recipe, its base, sampling, alpha and seed aside (those
    are the cell's own; here placeholders). Fields not given keep TrainConfig's defaults."""
    tasks: tuple[str, ...]
    settings: tuple[Setting, ...] | None
    measures: tuple[str, ...] | None
    include_base: bool
    work: Path
    """The trained models (default: ``<study name>-work`` beside the study file)."""
    results: Path
    """The result store: records, per-query scores and the state file that says which record
    belongs to which cell (default: ``results`` in ``work``). A study whose records are kept in
    the repository points it there, so that ``xret study report`` works on a fresh clone."""
    report: Path
    """The report folder (default: ``<study name>-report`` beside the study file)."""

    def cells(self) -> tuple[GridCell, ...]:
        """Untrained bases first, then seed by seed, so that an interrupted study already holds
        whole seeds of every regime."""
        out = [GridCell(base, None, None) for base in self.bases] if self.include_base else []
        arms = [(arm, frozenset(seeds)) for arm, seeds in self.arms]  # linear in the seeds
        every_seed = sorted(set().union(*(seeds for _, seeds in arms)))
        out += [
            GridCell(base, arm, seed)
            for base in self.bases
            for seed in every_seed
            for arm, seeds in arms
            if seed in seeds
        ]
        return tuple(out)

    def train_config(self, cell: GridCell) -> TrainConfig:
        return replace(
            self.train,
            base=cell.base,
            sampling=cell.arm.sampling,
            alpha=cell.arm.alpha,
            seed=cell.seed,
        )

    def bench_tasks(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(tasks benched, tasks skipped): a task is benched only when the contamination guard
        removed its questions from the training data, i.e. it is in the recipe's ``exclude``."""
        excluded = set(self.train.exclude)
        return (
            tuple(t for t in self.tasks if t in excluded),
            tuple(t for t in self.tasks if t not in excluded),
        )


_TOP = {
    "name",
    "bases",
    "seeds",
    "include_base",
    "train",
    "regime",
    "bench",
    "work",
    "results",
    "report",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TRAIN_RENAMES = {"data": "sources", "passage": "passage_unit", "lr": "learning_rate"}
_TRAIN_FIELDS = {f.name for f in fields(TrainConfig)} - {"base", "sampling", "alpha", "seed"}


def load_study(path: Path) -> Study:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise StudyError(f"{path}: cannot read the study file ({err})") from None
    return parse_study(data, path)


def parse_study(data: dict[str, Any], path: Path) -> Study:
    where = str(path)
    _no_unknown(data, _TOP, where)
    name = _text(data.get("name", path.stem), f"{where}: name")
    if not _NAME.fullmatch(name):  # it names the default work and report folders
        raise StudyError(f"{where}: name {name!r}: use letters, digits, '.', '-' and '_' only")
    bases = tuple(_texts(_required(data, "bases", where), f"{where}: bases"))
    seeds = _seeds(data.get("seeds", [0]), f"{where}: seeds")
    train = _train(_table(data.get("train", {}), f"{where}: [train]"), f"{where}: [train]")
    regimes = data.get("regime", [])
    if not isinstance(regimes, list) or not regimes:
        raise StudyError(f"{where}: at least one [[regime]] is needed")
    arms: dict[Arm, tuple[int, ...]] = {}
    for i, regime in enumerate(regimes):
        at = f"{where}: regime {i + 1}"
        regime = _table(regime, at)
        _no_unknown(regime, {"sampling", "alpha", "seeds"}, at)
        sampling = _parsed(
            Sampling.parse, _text(_required(regime, "sampling", at), f"{at}: sampling"), at
        )
        regime_seeds = _seeds(regime["seeds"], f"{at}: seeds") if "seeds" in regime else seeds
        for alpha in _alphas(sampling, regime.get("alpha"), at):
            arm = Arm(sampling, alpha)
            if arm in arms:
                raise StudyError(f"{at}: {arm.label} is listed twice")
            arms[arm] = regime_seeds
    bench = _table(data.get("bench", {}), f"{where}: [bench]")
    _no_unknown(bench, {"tasks", "settings", "measures"}, f"{where}: [bench]")
    tasks = tuple(_texts(_required(bench, "tasks", f"{where}: [bench]"), f"{where}: [bench] tasks"))
    settings = bench.get("settings")
    folder = path.parent
    work = _under(folder, _text(data.get("work", f"{name}-work"), f"{where}: work"))
    return Study(
        name=name,
        path=path,
        bases=bases,
        arms=tuple(sorted(arms.items(), key=lambda item: item[0].order)),
        train=train,
        tasks=tasks,
        settings=tuple(
            _parsed(Setting.parse, s, f"{where}: settings")
            for s in _texts(settings, f"{where}: settings")
        )
        if settings
        else None,
        measures=tuple(_texts(bench["measures"], f"{where}: measures"))
        if "measures" in bench
        else None,
        include_base=_flag(data.get("include_base", True), f"{where}: include_base"),
        work=work,
        results=_under(folder, _text(data["results"], f"{where}: results"))
        if "results" in data
        else work / "results",
        report=_under(folder, _text(data.get("report", f"{name}-report"), f"{where}: report")),
    )


def _under(folder: Path, text: str) -> Path:
    """A path of the study file, relative to its folder, without '..' steps (printed paths read
    'results/study/x', not 'studies/../results/study/x')."""
    return Path(os.path.normpath(folder / text))


def _train(table: dict[str, Any], where: str) -> TrainConfig:
    out = {}
    for key, value in table.items():
        name = _TRAIN_RENAMES.get(key, key)
        if name not in _TRAIN_FIELDS:
            known = sorted(_TRAIN_FIELDS | set(_TRAIN_RENAMES))
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            raise StudyError(f"{where}: unknown option {key!r} ({hint})")
        out[name] = (
            tuple(_texts(value, f"{where} {key}")) if name in ("sources", "exclude") else value
        )
    if "sources" not in out:
        raise StudyError(f"{where}: name the training data (data = [...])")
    # Every field is validated now; base and sampling are placeholders that each cell replaces.
    try:
        return TrainConfig(base="-", sampling=Sampling.X_X_MONO, **out)
    except XretError as err:
        raise StudyError(f"{where}: {err}") from None


def _alphas(sampling: Sampling, value, where: str) -> list[float | None]:
    """The α values of one regime: hybrid's default and checks are the sampler's own."""
    values = value if isinstance(value, list) else [value]
    try:
        alphas = [resolve_alpha(sampling, alpha) for alpha in values]
    except SamplingError as err:
        raise StudyError(f"{where}: {err}") from None
    return alphas if sampling is Sampling.HYBRID else [None]


def _parsed(parse, text: str, where: str):
    try:
        return parse(text)
    except XretError as err:
        raise StudyError(f"{where}: {err}") from None


def _no_unknown(table: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known))}"
        raise StudyError(f"{where}: unknown key {unknown[0]!r} ({hint})")


def _required(table: dict, key: str, where: str):
    if key not in table:
        raise StudyError(f"{where}: {key!r} is missing")
    return table[key]


def _table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise StudyError(f"{where}: expected a table, not {type(value).__name__}")
    return value


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StudyError(f"{where}: expected a non-empty string, not {value!r}")
    return value


def _texts(value, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise StudyError(f"{where}: expected a non-empty list of strings, not {value!r}")
    texts = [_text(v, where) for v in value]
    if len(set(texts)) != len(texts):
        raise StudyError(f"{where}: a name is listed twice")
    return texts


def _seeds(value, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or any(type(s) is not int or s < 0 for s in value):
        raise StudyError(
            f"{where}: expected a non-empty list of non-negative integers, not {value!r}"
        )
    if len(set(value)) != len(value):
        raise StudyError(f"{where}: a seed is listed twice")
    return tuple(value)


def _flag(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise StudyError(f"{where}: expected true or false, not {value!r}")
    return value
