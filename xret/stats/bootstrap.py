"""A percentile cluster bootstrap of statistics built from cell means, as records aggregate them.

A *cell* is a set of per-query scores whose mean is one number of a record (one query language
against one pool, for one system and measure). A *topic* is the unit that is resampled: the
question shared by a question's parallel versions (all its rows, in every language and pool,
are drawn together), or the query itself where queries are not parallel. A *statistic* is a
weighted sum of cell means — the macro average over languages of the per-language means of
cells — or the median of several such sums.

Resampling ``topics`` topics with replacement gives each topic a count ``k``; a cell's mean is
then ``(k @ sums) / (k @ sizes)`` over its topics. Cells that hold the same topics share their
denominator, so a statistic reduces to ``sum_g (k @ Z_g) / (k @ n_g)`` over the groups ``g`` of
cells with one topic set: a few matrix products for every resample at once, however many cells.
Indices are drawn as ``scipy.stats.bootstrap`` draws them (``rng.integers(0, n, (B, n))``), so
the two give the same resamples for the same seed.

Seeds (independent training runs of one system) are a second, crossed level: each resample also
draws the seeds with replacement, and the statistic is the mean over the drawn seeds of each
seed's statistic on the same drawn topics.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

BATCH_ELEMENTS = 4_000_000
"""Topic draws held at once (resamples × topics): bounds memory; the draws do not depend on it
while the resamples fit one batch (up to 3,361 for XQuAD-R's 1,190 topics)."""


@dataclass(frozen=True)
class CellSums:
    """Per topic and cell: the sum of the cell's scores and how many scores that is."""

    sums: np.ndarray
    """topics × cells."""
    sizes: np.ndarray
    """topics × cells."""

    @classmethod
    def of(cls, topic: np.ndarray, cell: np.ndarray, values: np.ndarray, topics: int, cells: int):
        """From one row per score: its topic index, cell index and value (NaN: no score)."""
        scored = ~np.isnan(values)
        at = topic[scored] * cells + cell[scored]
        sums = np.bincount(at, weights=values[scored], minlength=topics * cells)
        sizes = np.bincount(at, minlength=topics * cells).astype(float)
        return cls(sums.reshape(topics, cells), sizes.reshape(topics, cells))

    @property
    def topics(self) -> int:
        return self.sums.shape[0]


@dataclass(frozen=True)
class Statistic:
    """The mean or the median of linear outputs (columns of the cell-weight matrix, each a
    weighted sum of cell means, e.g. one language's mean over its cells)."""

    parts: tuple[int, ...]
    median: bool = False


def topic_counts(topics: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Batches (resamples × topics) of how often each topic is drawn."""
    batch = max(1, BATCH_ELEMENTS // max(1, topics))
    for start in range(0, resamples, batch):
        size = min(batch, resamples - start)
        drawn = rng.integers(0, topics, (size, topics)) + topics * np.arange(size)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * topics)
        yield counts.reshape(size, topics).astype(float)


class _Linear:
    """Weighted sums of cell means (weights: cells × outputs), for any topic counts: one column
    per (topic set, output) pair that has weight, so the work grows with the outputs, not with
    the cells."""

    def __init__(self, data: CellSums, weights: np.ndarray):
        from scipy import sparse

        sets, group = np.unique(data.sizes.T, axis=0, return_inverse=True)
        self.sizes = sets.T  # topics × topic sets
        columns, self.group, outputs = [], [], []
        for g in range(len(sets)):
            members = group == g
            part = sparse.csr_array(weights[members])
            used = np.flatnonzero(abs(part).sum(axis=0) > 0)
            columns.append((data.sums[:, members] @ part)[:, used])
            self.group += [g] * len(used)
            outputs += used.tolist()
        self.Z = np.hstack(columns) if columns else np.zeros((data.topics, 0))
        self.gather = sparse.csr_array(
            (np.ones(len(outputs)), (np.arange(len(outputs)), outputs)),
            shape=(len(outputs), weights.shape[1]),
        )  # (topic set, output) columns -> outputs

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        n = (counts @ self.sizes)[:, self.group]
        with np.errstate(invalid="ignore", divide="ignore"):
            parts = (counts @ self.Z) / n  # a topic set none of whose topics was drawn: NaN
        return np.asarray((self.gather.T @ parts.T).T)


def _statistics(linear: np.ndarray, statistics: Sequence[Statistic]) -> np.ndarray:
    out = np.empty((linear.shape[0], len(statistics)))
    for j, s in enumerate(statistics):  # a loop over statistics, never over resamples
        values = linear[:, list(s.parts)]
        out[:, j] = np.median(values, axis=1) if s.median else values.mean(axis=1)
    return out


@dataclass(frozen=True)
class Design:
    """What to bootstrap: the cell sums of every run (a system, or one training seed of it) on
    one set of topics, and the outputs to compute from them.

    ``weights`` (cells × linear outputs) turns cell means into linear outputs (per-language
    means); ``statistics`` aggregate those (mean or median over languages), one per run and
    output. ``output_of`` says which output each statistic is a seed of: an output is the mean
    of its seeds' statistics, and each resample draws those seeds with replacement.
    """

    data: CellSums
    weights: np.ndarray
    statistics: tuple[Statistic, ...]
    output_of: np.ndarray
    """Per statistic: the output it is one seed of (0 … outputs − 1)."""

    @classmethod
    def unseeded(cls, data: CellSums, weights: np.ndarray, statistics: Sequence[Statistic]):
        """One output per statistic."""
        return cls(data, weights, tuple(statistics), np.arange(len(statistics)))

    @property
    def outputs(self) -> int:
        return int(self.output_of.max()) + 1 if len(self.output_of) else 0

    def point(self) -> np.ndarray:
        """The outputs on the sample itself (every topic and seed once)."""
        linear = _Linear(self.data, self.weights)
        return self._seed_mean(
            _statistics(linear(np.ones((1, self.data.topics))), self.statistics)
        )[0]

    def draws(self, resamples: int, seed: int) -> np.ndarray:
        """resamples × outputs: each output on each resample, seeded and reproducible."""
        linear = _Linear(self.data, self.weights)
        topic_rng = np.random.default_rng([seed, 0])
        seed_rng = np.random.default_rng([seed, 1])
        out = []
        for counts in topic_counts(self.data.topics, resamples, topic_rng):
            seeds = _statistics(linear(counts), self.statistics)
            out.append(self._seed_mean(seeds, seed_rng))
        return np.concatenate(out)

    def _seed_mean(self, seeds: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Each output's mean over its seeds; with ``rng``, over seeds drawn with replacement."""
        size = seeds.shape[0]
        out = np.empty((size, self.outputs))
        for output in range(self.outputs):  # a loop over outputs, never over resamples
            members = np.flatnonzero(self.output_of == output)
            n = len(members)
            if rng is None or n == 1:
                out[:, output] = seeds[:, members].mean(axis=1)
                continue
            drawn = rng.integers(0, n, (size, n)) + n * np.arange(size)[:, None]
            times = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)
            out[:, output] = (times * seeds[:, members]).sum(axis=1) / n
        return out


def percentile_interval(
    draws: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the (1 − confidence)/2 and (1 + confidence)/2 quantiles of the draws (linear
    interpolation, as ``scipy.stats.bootstrap(method="percentile")``); NaN draws are left out."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(draws, [tail, 1.0 - tail], axis=0)
    return low, high
