"""Seeded batch samplers for the paper's three regimes (protocol §1.2): X-X-mono, X-Y and hybrid(α).

Each batch is drawn in four steps:

1. kind: X-X-mono with probability α, X-Y otherwise (α is 1 for ``X_X_MONO``, 0 for ``X_Y``);
2. source: with probability proportional to its items usable for that kind (all items for X-X-mono,
   items in two or more languages for X-Y). Drawing the kind first lets a one-language source
   (e.g. English-only) take part in mono batches without ever being asked for an X-Y batch;
3. languages: X-X-mono takes one language for the whole batch, uniform over the source's languages;
   X-Y takes, per item, an ordered pair (X, Y) with X != Y, uniform over the item's languages;
4. items: a random permutation of the pool, taken in order, skipping an item whose query or passage
   text is already in the batch: a duplicate would be a false in-batch negative.

Batch ``i`` is a pure function of the data, the settings, the seed and ``i`` (its generator is
seeded with ``(seed, i)``), so a stream resumes from ``SamplerState`` without replaying the batches
before it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from xret import defaults
from xret.baselines.data import ParallelItem
from xret.errors import SamplingError, UnknownNameError

T = TypeVar("T")


class Sampling(enum.Enum):
    """A sampling regime; ``X_X_MONO`` and ``X_Y`` are also the kinds of single batches."""

    X_X_MONO = "x-x-mono"
    X_Y = "x-y"
    HYBRID = "hybrid"

    @classmethod
    def parse(cls, name: Sampling | str) -> Sampling:
        if isinstance(name, cls):
            return name
        try:
            return cls(name)
        except ValueError:
            raise UnknownNameError("sampling", str(name), [m.value for m in cls]) from None


@dataclass(frozen=True)
class CustomSampling:
    """A sampler class in place of a built-in regime: given directly, or named by a plugin
    (entry-point group ``xret.samplers``). It is called as ``factory(sources, batch_size=…,
    alpha=…, state=…)`` like ``PairBatchSampler`` and gives ``batches(n)`` (``Batch``es whose
    kind is X_X_MONO or X_Y) and ``state``. ``value`` names it in configs and model files."""

    value: str
    factory: type


SAMPLERS_GROUP = "xret.samplers"


def parse_sampling(name: Sampling | CustomSampling | str | type) -> Sampling | CustomSampling:
    """A built-in regime, a sampler class, or the name of a built-in or plugin sampler."""
    if isinstance(name, (Sampling, CustomSampling)):
        return name
    if isinstance(name, type):
        label = getattr(name, "name", None) or f"{name.__module__}:{name.__qualname__}"
        return CustomSampling(label, name)
    plugins = _plugin_samplers()
    if name in plugins:
        return plugins[name]
    try:
        return Sampling.parse(name)
    except UnknownNameError:
        known = [*(m.value for m in Sampling), *plugins]
        raise UnknownNameError("sampling", str(name), known) from None


def _plugin_samplers() -> dict[str, CustomSampling]:
    from xret.plugins import PluginError, plugin_objects

    found = {}
    for name, value, obj in plugin_objects(SAMPLERS_GROUP):
        if name in {m.value for m in Sampling}:
            raise PluginError(
                f"sampling {name!r} is defined twice: built in and by plugin {value!r}"
            )
        if not isinstance(obj, type):
            raise PluginError(f"plugin sampler {name!r} ({value}) is not a class")
        found[name] = CustomSampling(name, obj)
    return found


def make_sampler(
    sources: Mapping[str, Sequence[ParallelItem]],
    sampling: Sampling | CustomSampling,
    *,
    batch_size: int,
    alpha: float | None,
    state: SamplerState,
):
    """The batch stream of ``sampling``: the built-in sampler, or the custom class."""
    if isinstance(sampling, CustomSampling):
        return sampling.factory(sources, batch_size=batch_size, alpha=alpha, state=state)
    return PairBatchSampler(sources, sampling, batch_size=batch_size, alpha=alpha, state=state)


@dataclass(frozen=True)
class TrainingPair:
    query_text: str
    query_lang: str
    passage_text: str
    passage_lang: str
    item_id: str


@dataclass(frozen=True)
class Batch:
    index: int
    source: str
    kind: Sampling
    pairs: tuple[TrainingPair, ...]


@dataclass(frozen=True)
class SamplerState:
    """Where a stream stands: enough to resume it, given the same data and settings."""

    seed: int
    batches_drawn: int = 0

    def __post_init__(self) -> None:
        for name in ("seed", "batches_drawn"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise SamplingError(
                    f"sampler state {name} must be a non-negative integer, not {value!r}"
                )

    def to_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "batches_drawn": self.batches_drawn}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SamplerState:
        if set(data) != {"seed", "batches_drawn"}:
            raise SamplingError(
                f"sampler state needs exactly the keys seed and batches_drawn, got {sorted(data)}"
            )
        return cls(data["seed"], data["batches_drawn"])


@dataclass(frozen=True)
class _Pools:
    """A source: its ready mono pairs per language, and its items in two or more languages."""

    name: str
    size: int
    mono: Mapping[str, tuple[TrainingPair, ...]]
    cross: tuple[ParallelItem, ...]

    @classmethod
    def build(cls, name: str, items: Sequence[ParallelItem]) -> _Pools:
        # Sorted by id so that the stream depends on the items, not on the order they came in.
        ordered = sorted(items, key=lambda item: item.id)
        mono: dict[str, list[TrainingPair]] = {}
        for item in ordered:
            for lang, qa in item.by_language.items():
                mono.setdefault(lang, []).append(
                    TrainingPair(qa.question, lang, qa.passage, lang, item.id)
                )
        cross = tuple(item for item in ordered if len(item.by_language) > 1)
        return cls(name, len(ordered), {lang: tuple(mono[lang]) for lang in sorted(mono)}, cross)


class PairBatchSampler:
    """An endless, seeded stream of ``Batch``es over named sources of ``ParallelItem``s.

    ``alpha`` is the probability of an X-X-mono batch; only hybrid takes it (default 0.5).
    """

    def __init__(
        self,
        sources: Mapping[str, Sequence[ParallelItem]],
        sampling: Sampling | str,
        *,
        batch_size: int,
        alpha: float | None = None,
        state: SamplerState = SamplerState(seed=0),
    ):
        self.sampling = Sampling.parse(sampling)
        self.alpha = resolve_alpha(self.sampling, alpha)
        if type(batch_size) is not int or batch_size < 1:
            raise SamplingError(f"batch size must be a positive integer, not {batch_size!r}")
        self.batch_size = batch_size
        self._pools = tuple(_Pools.build(name, items) for name, items in sorted(sources.items()))
        self._mono_p = _proportions([p.size for p in self._pools])
        self._cross_p = _proportions([len(p.cross) for p in self._pools])
        self._check()
        self._seed = state.seed
        self._drawn = state.batches_drawn

    @property
    def state(self) -> SamplerState:
        return SamplerState(self._seed, self._drawn)

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        batch = self.batch(self._drawn)
        self._drawn += 1
        return batch

    def batches(self, n: int) -> tuple[Batch, ...]:
        """The next ``n`` batches of the stream."""
        return tuple(next(self) for _ in range(n))

    def batch(self, index: int) -> Batch:
        """Batch number ``index`` of the stream, without moving the stream."""
        rng = np.random.default_rng((self._seed, index))
        mono = rng.random() < self.alpha
        pools = self._pools[rng.choice(len(self._pools), p=self._mono_p if mono else self._cross_p)]
        if mono:
            langs = tuple(pools.mono)
            lang = langs[rng.integers(len(langs))]
            pairs = _fill(rng, pools.mono[lang], self.batch_size, lambda pair: pair)
            where = f"language {lang!r} of source {pools.name!r}"
        else:
            pairs = _fill(rng, pools.cross, self.batch_size, lambda item: _cross_pair(rng, item))
            where = f"the items in two or more languages of source {pools.name!r}"
        if pairs is None:
            raise SamplingError(
                f"batch {index}: {where} has too many repeated query or passage texts "
                f"to fill a batch of {self.batch_size}; lower the batch size"
            )
        return Batch(index, pools.name, Sampling.X_X_MONO if mono else Sampling.X_Y, pairs)

    def _check(self) -> None:
        """Fail now, with the reason, for settings the data cannot serve."""
        if not any(p.size for p in self._pools):
            raise SamplingError("no training items to sample from")
        if self.alpha > 0:
            for pools in self._pools:
                for lang, pairs in pools.mono.items():
                    distinct = min(
                        len({p.query_text for p in pairs}), len({p.passage_text for p in pairs})
                    )
                    if distinct < self.batch_size:
                        raise SamplingError(
                            f"batch size {self.batch_size} exceeds the {distinct} distinct "
                            f"question/passage texts in language {lang!r} of source {pools.name!r}"
                        )
        if self.alpha < 1:
            if not any(p.cross for p in self._pools):
                langs = sorted({lang for p in self._pools for lang in p.mono})
                have = (
                    f"only the language {langs[0]!r}"
                    if len(langs) == 1
                    else "no item in two languages"
                )
                raise SamplingError(
                    f"{self.sampling.value} sampling needs items in two languages; "
                    f"the data has {have}"
                )
            for pools in self._pools:
                if 0 < len(pools.cross) < self.batch_size:
                    raise SamplingError(
                        f"batch size {self.batch_size} exceeds the {len(pools.cross)} items in two "
                        f"or more languages of source {pools.name!r}"
                    )


def resolve_alpha(sampling: Sampling, alpha: float | None) -> float:
    """The probability of an X-X-mono batch: the one place with hybrid's default and the checks
    (X-X-mono is α = 1 and X-Y α = 0; only hybrid takes an α)."""
    if sampling is not Sampling.HYBRID:
        if alpha is not None:
            raise SamplingError(f"alpha applies to hybrid sampling only, not to {sampling.value}")
        return 1.0 if sampling is Sampling.X_X_MONO else 0.0
    alpha = defaults.HYBRID_ALPHA if alpha is None else alpha
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise SamplingError(f"alpha must be a number in [0, 1], not {alpha!r}")
    return float(alpha)


def _proportions(sizes: list[int]) -> list[float] | None:
    total = sum(sizes)
    return [size / total for size in sizes] if total else None


def _cross_pair(rng: np.random.Generator, item: ParallelItem) -> TrainingPair:
    # A uniform ordered pair of distinct languages: X uniform, then Y uniform over the others.
    langs = item.languages
    x = int(rng.integers(len(langs)))
    y = int(rng.integers(len(langs) - 1))
    y += y >= x
    query, passage = item.by_language[langs[x]], item.by_language[langs[y]]
    return TrainingPair(query.question, langs[x], passage.passage, langs[y], item.id)


def _fill(
    rng: np.random.Generator, pool: Sequence[T], size: int, make: Callable[[T], TrainingPair]
) -> tuple[TrainingPair, ...] | None:
    """``size`` pairs with distinct query and passage texts, from ``pool`` in random order."""
    pairs: list[TrainingPair] = []
    queries: set[str] = set()
    passages: set[str] = set()
    for i in rng.permutation(len(pool)):
        pair = make(pool[i])
        if pair.query_text in queries or pair.passage_text in passages:
            continue
        pairs.append(pair)
        queries.add(pair.query_text)
        passages.add(pair.passage_text)
        if len(pairs) == size:
            return tuple(pairs)
    return None
