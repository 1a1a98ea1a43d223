"""The cluster bootstrap against scipy (unclustered data: the same resamples, the same interval),
against a slow direct implementation (clustered cells, medians, seeds), and by the coverage of
its intervals on simulated tasks whose true value is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from xret.measures.bootstrap import (
    CellSums,
    Design,
    Statistic,
    distinct_rows,
    percentile_interval,
)


def _mean_design(values: np.ndarray) -> Design:
    """One cell, each value its own topic: the plain mean."""
    n = len(values)
    data = CellSums.of(np.arange(n), np.zeros(n, int), values, n, 1)
    return Design.unseeded(data, np.ones((1, 1)), [Statistic((0,))])


@pytest.mark.parametrize("seed", [0, 5])
def test_unclustered_interval_equals_scipy(seed):
    x = np.random.default_rng(seed).gamma(2.0, 0.1, 57)
    design = _mean_design(x)
    low, high = percentile_interval(design.draws(1999, seed), 0.95)
    ci = scipy.stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=1999,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng([seed, 0]),  # the topic stream of Design.draws
    ).confidence_interval
    assert low[0] == pytest.approx(ci.low, abs=1e-12)
    assert high[0] == pytest.approx(ci.high, abs=1e-12)
    assert design.point()[0] == pytest.approx(x.mean(), abs=1e-12)


def _frame(rng, topics=30, languages=("a", "b", "c"), drop=0.15) -> pd.DataFrame:
    """Mono and cross cells of a parallel task; some questions lack some languages (MLQA-R)."""
    present = rng.random((topics, len(languages))) > drop
    rows = []
    for t in range(topics):
        for i, q in enumerate(languages):
            for j, p in enumerate(languages):
                if present[t, i] and present[t, j]:
                    rows.append((t, q, p, rng.random()))
    return pd.DataFrame(rows, columns=["topic", "query", "pool", "value"])


def _macro(frame: pd.DataFrame, median: bool) -> float:
    """Directly: cell means, then each query language's mean over its cells, then mean/median."""
    cells = frame.groupby(["query", "pool"])["value"].mean()
    per_language = cells.groupby(level="query").mean()
    return float(per_language.median() if median else per_language.mean())


def _design(frames: list[pd.DataFrame], topics: int, outputs: list[int]) -> Design:
    """Runs' frames side by side as one design; statistics mean and median per run."""
    keys = sorted({(q, p) for f in frames for q, p in zip(f["query"], f["pool"])})
    languages = sorted({q for q, _ in keys})
    cell_of = {k: i for i, k in enumerate(keys)}
    topic, cell, value = [], [], []
    for r, f in enumerate(frames):
        topic.append(f["topic"].to_numpy())
        cell.append(np.array([cell_of[k] for k in zip(f["query"], f["pool"])]) + r * len(keys))
        value.append(f["value"].to_numpy())
    data = CellSums.of(
        np.concatenate(topic),
        np.concatenate(cell),
        np.concatenate(value),
        topics,
        len(keys) * len(frames),
    )
    weights = np.zeros((len(keys) * len(frames), len(languages) * len(frames)))
    for r in range(len(frames)):
        for k, (q, _) in enumerate(keys):
            n_cells = sum(1 for qq, _ in keys if qq == q)
            weights[r * len(keys) + k, r * len(languages) + languages.index(q)] = 1 / n_cells
    parts = [
        tuple(r * len(languages) + i for i in range(len(languages))) for r in range(len(frames))
    ]
    statistics = [Statistic(p) for p in parts] + [Statistic(p, median=True) for p in parts]
    return Design(
        data,
        weights,
        tuple(statistics),
        np.array(outputs + [o + max(outputs) + 1 for o in outputs]),
    )


def test_clustered_draws_equal_a_slow_direct_bootstrap():
    rng = np.random.default_rng(3)
    topics = 30
    frame = _frame(rng, topics)
    design = _design([frame], topics, [0])
    resamples = 40
    fast = design.draws(resamples, seed=11)
    indices = np.random.default_rng([11, 0]).integers(0, topics, (resamples, topics))
    for b in range(resamples):
        # Every row of each drawn topic, once per draw: the topic is the unit.
        drawn = pd.concat([frame[frame["topic"] == t] for t in indices[b]])
        assert fast[b, 0] == pytest.approx(_macro(drawn, median=False), abs=1e-12)
        assert fast[b, 1] == pytest.approx(_macro(drawn, median=True), abs=1e-12)
    assert design.point() == pytest.approx([_macro(frame, False), _macro(frame, True)], abs=1e-12)


def test_seeds_add_a_t_spread_to_the_mean_on_the_same_topics():
    """Three seeds of one system: each resample is the mean of the seeds' macros on the same
    drawn topics plus sd / sqrt(3) times a Student t (2 degrees of freedom) draw."""
    rng = np.random.default_rng(4)
    topics = 25
    base = _frame(rng, topics, drop=0.0)
    seeds = [base.assign(value=rng.random(len(base))) for _ in range(3)]
    design = _design(seeds, topics, [0, 0, 0])
    resamples = 30
    fast = design.draws(resamples, seed=2)
    indices = np.random.default_rng([2, 0]).integers(0, topics, (resamples, topics))
    t = np.random.default_rng([2, 1]).standard_t(2, size=(resamples, 2))  # mean, median
    for output, median in ((0, False), (1, True)):
        sd = np.std([_macro(s, median) for s in seeds], ddof=1)
        for b in range(resamples):
            drawn = [pd.concat([s[s["topic"] == k] for k in indices[b]]) for s in seeds]
            expected = np.mean([_macro(d, median) for d in drawn]) + t[b, output] * sd / np.sqrt(3)
            assert fast[b, output] == pytest.approx(expected, abs=1e-12)
    assert design.point()[0] == pytest.approx(np.mean([_macro(s, False) for s in seeds]))


def test_seed_intervals_cover_the_truth():
    """Three training seeds, each with its own effect on every score, on 60 shared topics: the
    truth is the mean over the population of seeds and topics; at least 93 % of 400 intervals
    must cover it."""
    rng = np.random.default_rng(7)
    topics, runs = 60, 3
    topic = np.tile(np.arange(topics), runs)
    cell = np.repeat(np.arange(runs), topics)  # one cell per seed
    weights = np.eye(runs)
    statistics = [Statistic((k,)) for k in range(runs)]
    covered = 0
    for s in range(400):
        shared = rng.standard_normal(topics) * 0.1
        seed_effect = rng.standard_normal(runs)[:, None] * 0.02
        values = (0.5 + shared[None] + seed_effect + rng.normal(0, 0.05, (runs, topics))).ravel()
        data = CellSums.of(topic, cell, values, topics, runs)
        design = Design(data, weights, tuple(statistics), np.zeros(runs, int))
        low, high = percentile_interval(design.draws(500, seed=s))
        covered += bool(low[0] <= 0.5 <= high[0])
    assert covered / 400 >= 0.93


def test_seeded_and_reproducible():
    design = _design([_frame(np.random.default_rng(1))], 30, [0])
    assert np.array_equal(design.draws(100, seed=7), design.draws(100, seed=7))
    assert not np.array_equal(design.draws(100, seed=7), design.draws(100, seed=8))


def test_intervals_cover_the_truth():
    """A simulated parallel task: score = cell effect + topic effect (shared by all languages)
    + topic-language effect + noise. The macro's truth is the mean of the cell effects; 95 %
    intervals must cover it in at least 93 % of 400 simulations."""
    rng = np.random.default_rng(2024)
    topics, languages = 120, 3
    q, p = np.meshgrid(np.arange(languages), np.arange(languages), indexing="ij")
    effect = 0.5 + 0.1 * rng.standard_normal((languages, languages))
    truth = effect.mean()  # mean over each language's cells, then over languages
    topic = np.repeat(np.arange(topics), languages * languages)
    cell = np.tile((q * languages + p).ravel(), topics)
    weights = np.zeros((languages * languages, languages))
    weights[(q * languages + p).ravel(), q.ravel()] = 1 / languages
    statistic = [Statistic(tuple(range(languages)))]
    covered = 0
    simulations = 400
    for s in range(simulations):
        shared = rng.standard_normal(topics)[:, None, None] * 0.2
        by_language = rng.standard_normal((topics, languages, 1)) * 0.1
        noise = rng.standard_normal((topics, languages, languages)) * 0.2
        values = (effect[None] + shared + by_language + noise).ravel()
        data = CellSums.of(topic, cell, values, topics, languages * languages)
        draws = Design.unseeded(data, weights, statistic).draws(1000, seed=s)
        low, high = percentile_interval(draws)
        covered += bool(low[0] <= truth <= high[0])
    assert covered / simulations >= 0.93


@pytest.mark.parametrize("shape", [(0, 4), (5, 0), (1, 3), (40, 6), (300, 2)])
def test_distinct_rows_equal_numpy_unique(shape):
    """Rows of counts, many repeated: the same distinct rows, order and inverse as np.unique."""
    rng = np.random.default_rng(shape[0])
    pool = rng.integers(0, 3, (4, shape[1])).astype(float)
    matrix = pool[rng.integers(0, len(pool), shape[0])]
    expected, inverse = np.unique(matrix, axis=0, return_inverse=True)
    distinct, labels = distinct_rows(matrix)
    assert np.array_equal(distinct, expected) and np.array_equal(labels, inverse.reshape(-1))
