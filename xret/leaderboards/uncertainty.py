"""Intervals, seed spread, ranks and tied groups for leaderboard columns, from the stored
per-query scores of the rows of one evaluation (the statistics are ``xret.stats``').

A column is a statistic over languages (mean or median) of one setting's per-language values of
one measure, exactly as records aggregate (cell mean → mean per query language → statistic). All
rows of one evaluation are resampled on one topic draw, so that their ranks can be counted on
every resample; a row of several training seeds also resamples its seeds (``xret.stats.bootstrap``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xret.benchmark.measures import parse_measure
from xret.errors import XretError
from xret.leaderboards.scores import Scores, language_statistics, training_seed
from xret.results.store import load_per_query
from xret.stats.bootstrap import CellSums, Design, Statistic, percentile_interval
from xret.stats.ranks import bootstrap_p_values, competition_ranks, rank_intervals, tied_groups

PARALLEL_FAMILIES = frozenset({"lareqa", "beir"})
"""Families whose query ids are ``<language>/<question id>`` with the question id shared by a
question's parallel versions (XQuAD-R, MLQA-R, BEIR folders with shared ids)."""


def topic_ids(query_ids, family: str):
    """The topic of each query id (a pandas Series of str): the question id shared across
    languages in a parallel family, else the query itself (MIRACL's queries are not parallel)."""
    if family in PARALLEL_FAMILIES:
        return query_ids.str.split("/", n=1).str[-1]
    return query_ids


@dataclass(frozen=True)
class Options:
    resamples: int = 2000
    """Bootstrap resamples (intervals, rank intervals, the tests of tied groups): a two-sided p
    is at least 2 / (resamples + 1), which Holm multiplies by up to the number of pairs."""
    seed: int = 0
    confidence: float = 0.95
    alpha: float = 0.05
    """Level of the paired tests (Holm-adjusted over a column's pairs) that split tied groups."""

    def __post_init__(self) -> None:
        if self.resamples < 1 or not 0 < self.confidence < 1 or not 0 < self.alpha < 1:
            raise XretError(
                "resamples must be positive, confidence and alpha between 0 and 1 "
                f"(got {self.resamples}, {self.confidence}, {self.alpha})"
            )


@dataclass(frozen=True)
class Target:
    """A leaderboard column: ``statistic`` over ``languages`` of a setting's measure."""

    setting: str
    measure: str
    statistic: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Estimate:
    """One row's value in one column with its uncertainty."""

    value: float
    """As the records give it (the mean over seeds for a row of several)."""
    seeds: int
    sd: float | None
    """Over seeds (None: one run)."""
    low: float
    high: float
    rank: int
    rank_low: int
    rank_high: int
    group: str
    """Tied-group letters: rows sharing a letter are not separable (paired bootstrap tests on the
    joint draws, Holm-adjusted over the column's pairs)."""


def estimates(
    rows: Sequence[Scores], targets: Sequence[Target], options: Options
) -> dict[tuple[int, Target], Estimate]:
    """(row index, target) -> Estimate for every row with a value in the target's column; all
    rows share one evaluation (task, signature)."""
    built = _build(rows, targets)
    if built is None:
        return {}
    design, outputs = built
    draws = design.draws(options.resamples, options.seed)
    low, high = percentile_interval(draws, options.confidence)
    out = {}
    for target in targets:
        members = [(i, k) for (i, t), k in outputs.items() if t == target]
        if not members:
            continue
        index = [i for i, _ in members]
        columns = [k for _, k in members]
        values = np.array([_value(rows[i], target) for i in index])
        higher = parse_measure(target.measure).higher_is_better
        ranks = competition_ranks(values, higher)
        rank_low, rank_high = rank_intervals(draws[:, columns], higher, options.confidence)
        p = bootstrap_p_values(draws[:, columns])
        groups = tied_groups(values, p, options.alpha, higher)
        for n, (i, k) in enumerate(members):
            scores = rows[i]
            out[(i, target)] = Estimate(
                value=float(values[n]),
                seeds=max(1, len(scores.seeds)),
                sd=scores.sd(target.statistic, target.setting, target.measure, target.languages),
                low=float(low[k]),
                high=float(high[k]),
                rank=int(ranks[n]),
                rank_low=int(rank_low[n]),
                rank_high=int(rank_high[n]),
                group=groups[n],
            )
    return out


def _value(scores: Scores, target: Target) -> float:
    statistics = language_statistics(scores.by_language, target.languages)
    return statistics[target.statistic][target.setting][target.measure]


def _build(rows: Sequence[Scores], targets: Sequence[Target]):
    """The bootstrap design of every (row, seed) × target, and which output each (row, target)
    is."""
    import pandas as pd

    measures = sorted({t.measure for t in targets})
    blocks = sorted({(t.setting, t.measure) for t in targets})
    runs = []  # (row, seed index, frame)
    for i, scores in enumerate(rows):
        if not any(_has(scores, t) for t in targets):
            continue
        by_seed: dict[int | None, list] = defaultdict(list)
        for path, record in scores.records:
            seed = training_seed(record) if scores.seeds else None
            by_seed[seed].append(load_per_query(path, record, measures))
        for k, frames in enumerate(by_seed.values()):
            runs.append((i, k, pd.concat(frames, ignore_index=True)))
    if not runs:
        return None
    # Topics of each run's distinct query ids (a query id has a row per cell), then one index.
    queries = [pd.factorize(f["query_id"]) for _, _, f in runs]
    family = rows[0].family
    topic_codes, topic_names = pd.factorize(
        pd.concat([topic_ids(pd.Series(ids), family) for _, ids in queries], ignore_index=True)
    )
    topic_parts, cell_parts, value_parts = [], [], []
    cell_language: list[str] = []
    linear: dict[tuple[int, str, str, str], int] = {}  # (run, setting, measure, language)
    weight_rows, weight_cols, weight_values = [], [], []
    offset = 0
    for r, ((_, _, frame), (codes, ids)) in enumerate(zip(runs, queries)):
        topics = topic_codes[offset : offset + len(ids)][codes]
        offset += len(ids)
        for setting, measure in blocks:
            if measure not in frame.columns:
                continue
            rows_in = (frame["setting"] == setting).to_numpy()
            values = frame[measure].to_numpy(float)[rows_in]
            scored = ~np.isnan(values)
            if not scored.any():
                continue
            sub = frame[rows_in][scored]
            cells, labels = pd.factorize(
                pd.MultiIndex.from_arrays([sub["query_language"], sub["pool_language"]])
            )
            base = len(cell_language)
            topic_parts.append(topics[rows_in][scored])
            cell_parts.append(cells + base)
            value_parts.append(values[scored])
            languages = [q for q, _ in labels]
            cell_language += languages
            per_language = defaultdict(int)
            for q in languages:
                per_language[q] += 1
            for c, q in enumerate(languages):
                key = (r, setting, measure, q)
                column = linear.setdefault(key, len(linear))
                weight_rows.append(base + c)
                weight_cols.append(column)
                weight_values.append(1.0 / per_language[q])
    if not cell_language:
        return None
    data = CellSums.of(
        np.concatenate(topic_parts),
        np.concatenate(cell_parts),
        np.concatenate(value_parts),
        len(topic_names),
        len(cell_language),
    )
    weights = np.zeros((len(cell_language), len(linear)))
    weights[weight_rows, weight_cols] = weight_values
    statistics, output_of, outputs = [], [], {}
    for r, (i, _, _) in enumerate(runs):
        for target in targets:
            parts = [linear.get((r, target.setting, target.measure, q)) for q in target.languages]
            if None in parts or not _has(rows[i], target):
                continue
            statistics.append(Statistic(tuple(parts), median=target.statistic == "median"))
            output_of.append(outputs.setdefault((i, target), len(outputs)))
    design = Design(data, weights, tuple(statistics), np.array(output_of))
    return design, outputs


def _has(scores: Scores, target: Target) -> bool:
    return scores.system.measured and bool(scores.records) and _known(scores, target)


def _known(scores: Scores, target: Target) -> bool:
    values = scores.by_language.get(target.setting, {}).get(target.measure, {})
    return all(lang in values for lang in target.languages)
