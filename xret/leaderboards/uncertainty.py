"""Intervals, seed spread, ranks and tied groups for leaderboard columns, from the stored
per-query scores of the rows of one evaluation (the statistics are ``xret.measures``').

A column is a statistic over languages (mean or median) of one setting's per-language values of
one measure, exactly as records aggregate (cell mean → mean per query language → statistic). All
rows of one evaluation are resampled on one topic draw, so that their ranks can be counted on
every resample; a row of several training seeds adds its seed level (``xret.measures.bootstrap``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xret import defaults
from xret.errors import XretError
from xret.leaderboards.scores import Scores, SeedCount, language_statistics, training_seed
from xret.measures.bootstrap import CellSums, Design, Statistic, percentile_interval
from xret.measures.standings import (
    bootstrap_p_values,
    competition_ranks,
    rank_intervals,
    tied_groups,
)
from xret.measures.table import parse_measure
from xret.results.store import load_per_query
from xret.results.topics import topic_ids


@dataclass(frozen=True)
class Options:
    resamples: int = defaults.CI_RESAMPLES
    """Bootstrap resamples (intervals, rank intervals, the tests of tied groups): a two-sided p
    is at least 2 / (resamples + 1), which Holm multiplies by up to the number of pairs."""
    seed: int = defaults.SEED
    confidence: float = defaults.CONFIDENCE
    alpha: float = defaults.ALPHA
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
    seeds: SeedCount
    """The seeds the value, its sd and its interval's seed term are over: those whose records
    hold the measure."""
    sd: float | None
    """Over those seeds (None: one)."""
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
                seeds=scores.seed_count(*_statistic(target)),
                sd=scores.sd(*_statistic(target)),
                low=float(low[k]),
                high=float(high[k]),
                rank=int(ranks[n]),
                rank_low=int(rank_low[n]),
                rank_high=int(rank_high[n]),
                group=groups[n],
            )
    return out


def _statistic(target: Target) -> tuple[str, str, str, tuple[str, ...]]:
    return target.statistic, target.setting, target.measure, target.languages


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
    data, cells = _cell_sums([f for _, _, f in runs], rows[0].family, blocks)
    if not cells:
        return None
    linear: dict[tuple[int, str, str, str], int] = {}  # (run, setting, measure, language)
    per_language = defaultdict(int)
    for r, setting, measure, q, _ in cells:
        per_language[(r, setting, measure, q)] += 1
    weights = np.zeros((len(cells), len(per_language)))
    for c, (r, setting, measure, q, _) in enumerate(cells):
        key = (r, setting, measure, q)
        weights[c, linear.setdefault(key, len(linear))] = 1.0 / per_language[key]
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


def _cell_sums(frames: Sequence, family: str, blocks: Sequence[tuple[str, str]]):
    """The CellSums of the frames' (setting, measure) blocks on one topic index, and each cell's
    (frame, setting, measure, query language, pool language)."""
    import pandas as pd

    # Topics of each frame's distinct query ids (a query id has a row per cell), then one index.
    queries = [pd.factorize(f["query_id"]) for f in frames]
    topic_codes, topic_names = pd.factorize(
        pd.concat([topic_ids(pd.Series(ids), family) for _, ids in queries], ignore_index=True)
    )
    topic_parts, cell_parts, value_parts = [], [], []
    cells: list[tuple[int, str, str, str, str]] = []
    offset = 0
    for r, (frame, (codes, ids)) in enumerate(zip(frames, queries)):
        topics = topic_codes[offset : offset + len(ids)][codes]
        offset += len(ids)
        # Integer codes of the key columns once per frame: string columns are slow to mask.
        setting_codes, setting_names = pd.factorize(frame["setting"])
        query_codes, query_names = pd.factorize(frame["query_language"])
        pool_codes, pool_names = pd.factorize(frame["pool_language"])
        pair_codes = query_codes * len(pool_names) + pool_codes
        for setting, measure in blocks:
            if measure not in frame.columns or setting not in setting_names:
                continue
            values = frame[measure].to_numpy(float)
            keep = (setting_codes == setting_names.get_loc(setting)) & ~np.isnan(values)
            if not keep.any():
                continue
            codes_in, pairs = pd.factorize(pair_codes[keep])
            topic_parts.append(topics[keep])
            cell_parts.append(codes_in + len(cells))
            value_parts.append(values[keep])
            cells += [
                (
                    r,
                    setting,
                    measure,
                    query_names[k // len(pool_names)],
                    pool_names[k % len(pool_names)],
                )
                for k in pairs
            ]
    if not cells:
        return None, []
    data = CellSums.of(
        np.concatenate(topic_parts),
        np.concatenate(cell_parts),
        np.concatenate(value_parts),
        len(topic_names),
        len(cells),
    )
    return data, cells


def cell_intervals(
    path, record, options: Options
) -> dict[tuple[str, str, str, str], tuple[float, float]]:
    """(setting, query language, pool language, measure) -> the interval of each cell's mean
    of one record, resampling its topics."""
    frame = load_per_query(path, record)
    blocks = [(s, m) for s in record.options.settings for m in record.options.measures]
    data, cells = _cell_sums([frame], record.task.family or "", blocks)
    if not cells:
        return {}
    design = Design.unseeded(data, np.eye(len(cells)), [Statistic((c,)) for c in range(len(cells))])
    low, high = percentile_interval(
        design.draws(options.resamples, options.seed), options.confidence
    )
    return {
        (setting, q, p, measure): (float(lo), float(hi))
        for (_, setting, measure, q, p), lo, hi in zip(cells, low, high)
    }


def _has(scores: Scores, target: Target) -> bool:
    return scores.system.measured and bool(scores.records) and _known(scores, target)


def _known(scores: Scores, target: Target) -> bool:
    values = scores.by_language.get(target.setting, {}).get(target.measure, {})
    return all(lang in values for lang in target.languages)


def summary_intervals(
    path, record, options: Options
) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(aggregate, setting, measure) -> the interval of each value of a record's ``summary``,
    aggregated as the task's aggregates define it (the evaluated languages present)."""
    from xret.leaderboards.scores import collect

    (scores,) = collect([(path, record)]).scores
    targets = {}
    for aggregate in _aggregates(record):
        for setting, measures in record.summary.get(aggregate.name, {}).items():
            for measure in measures:
                present = scores.by_language.get(setting, {}).get(measure, {})
                languages = tuple(lang for lang in aggregate.languages if lang in present)
                target = Target(setting, measure, aggregate.statistic, languages)
                targets[(aggregate.name, setting, measure)] = target
    found = estimates([scores], list(dict.fromkeys(targets.values())), options)
    return {
        key: (found[(0, target)].low, found[(0, target)].high)
        for key, target in targets.items()
        if (0, target) in found
    }


def _aggregates(record):
    """The aggregates ``xret bench`` summarised the record with: the task's, or (a task no
    longer at hand) the macro mean over the evaluated languages."""
    from xret.tasks import get_task
    from xret.tasks.spec import Aggregate

    try:
        return get_task(record.task.name).aggregates
    except XretError:
        return (Aggregate("macro", tuple(record.options.languages or record.task.languages)),)
