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

Seeds (independent training runs of one system) are a second level. On each resample an output
is the mean over its n seeds of each seed's statistic on the same drawn topics, plus
``s / sqrt(n) · T`` with ``T`` a Student t draw of n − 1 degrees of freedom and ``s`` the sd of the
seeds' statistics on the sample: the spread of a mean of n runs whose sd is itself estimated from
n runs. (Resampling 3 seeds instead would allow only 10 distinct seed sets and shrink their
variance by a third, making a 3-seed difference look far surer than a t interval says.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from xret import defaults

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


def distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(matrix, axis=0, return_inverse=True)`` for rows of counts (no NaN, no -0.0,
    so equal rows are equal bytes): hashing long rows first, then sorting only the distinct ones,
    instead of sorting every row, which takes a second for a few thousand cells."""
    rows = np.ascontiguousarray(matrix)
    seen: dict[bytes, int] = {}
    labels = np.array([seen.setdefault(row.tobytes(), len(seen)) for row in rows], dtype=np.intp)
    firsts = np.unique(labels, return_index=True)[1]  # each label's first row, in label order
    distinct, order = np.unique(rows[firsts], axis=0, return_inverse=True)
    return distinct, order.reshape(-1)[labels]


class _Linear:
    """Weighted sums of cell means (weights: cells × outputs), for any topic counts: one column
    per (topic set, output) pair that has weight, so the work grows with the outputs, not with
    the cells."""

    def __init__(self, data: CellSums, weights: np.ndarray):
        from scipy import sparse

        sets, group = distinct_rows(data.sizes.T)
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
    of its seeds' statistics.
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
        """The outputs on the sample itself (every topic once; the mean over seeds)."""
        return self._seed_means(self._on_sample())[0]

    def draws(self, resamples: int, seed: int) -> np.ndarray:
        """resamples × outputs: each output on each resample, seeded and reproducible."""
        linear = _Linear(self.data, self.weights)
        spread = self._seed_spread()
        topic_rng = np.random.default_rng([seed, 0])
        seed_rng = np.random.default_rng([seed, 1])
        out = []
        for counts in topic_counts(self.data.topics, resamples, topic_rng):
            means = self._seed_means(_statistics(linear(counts), self.statistics))
            n = np.bincount(self.output_of, minlength=self.outputs)
            several = np.flatnonzero(n > 1)
            # The seed level: a mean of n runs whose sd is estimated from those n runs.
            t = seed_rng.standard_t(np.maximum(n[several] - 1, 1), size=(len(means), len(several)))
            means[:, several] += t * spread[several] / np.sqrt(n[several])
            out.append(means)
        return np.concatenate(out)

    def _on_sample(self) -> np.ndarray:
        linear = _Linear(self.data, self.weights)
        return _statistics(linear(np.ones((1, self.data.topics))), self.statistics)

    def _seed_means(self, seeds: np.ndarray) -> np.ndarray:
        """Each output's mean over its seeds' statistics."""
        n = np.bincount(self.output_of, minlength=self.outputs)
        out = np.zeros((seeds.shape[0], self.outputs))
        np.add.at(out.T, self.output_of, seeds.T)
        return out / n

    def _seed_spread(self) -> np.ndarray:
        """Each output's sd over its seeds on the sample (0 for one seed)."""
        seeds = self._on_sample()[0]
        out = np.zeros(self.outputs)
        for output in np.unique(self.output_of):  # a loop over outputs, never over resamples
            members = seeds[self.output_of == output]
            if len(members) > 1:
                out[output] = members.std(ddof=1)
        return out


def percentile_interval(
    draws: np.ndarray, confidence: float = defaults.CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the (1 − confidence)/2 and (1 + confidence)/2 quantiles of the draws (linear
    interpolation, as ``scipy.stats.bootstrap(method="percentile")``); NaN draws are left out."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(draws, [tail, 1.0 - tail], axis=0)
    return low, high
