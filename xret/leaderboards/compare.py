"""``xret compare A B``: paired significance of two systems from their stored per-query scores,
per setting (the macro average over languages, as in the headline tables) and per language pair.

Two records are compared only when they share the task's evaluation (version, data, languages,
candidate text, ranking policy) and every cell holds the same queries; otherwise this refuses and
says why. Holm's correction runs over the settings tested and, separately, over the pairs tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xret.errors import DataError
from xret.leaderboards.scores import check_comparable, collect
from xret.leaderboards.table import LOSS, WIN, Column, Document, Table
from xret.measures.paired import holm, paired_tests
from xret.measures.table import measure_digits, parse_measure
from xret.results.record import ResultRecord
from xret.results.store import load_per_query
from xret.results.summary import SETTING_LABELS
from xret.tasks.spec import Setting

KEYS = ["setting", "query_language", "pool_language", "query_id"]
MACRO = "all (macro)"


@dataclass(frozen=True)
class PairedRow:
    setting: str
    query_language: str
    pool_language: str
    n: int
    mean_a: float
    mean_b: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    winner: str
    """"A" or "B" when significant at alpha after Holm (in the measure's direction), else ""."""


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    task: str
    measure: str
    alpha: float
    resamples: int
    seed: int
    topics: int
    settings: tuple[PairedRow, ...]
    pairs: tuple[PairedRow, ...]


def align(frame_a, frame_b, measure: str, settings: Sequence[str] | None, names: tuple[str, str]):
    """One row per (cell, query) with columns ``a`` and ``b``; refuses unequal query sets."""
    import pandas as pd

    for name, frame in zip(names, (frame_a, frame_b)):
        if measure not in frame.columns:
            raise DataError(f"{name} has no per-query {measure} scores")
    frames = []
    for frame, side in ((frame_a, "a"), (frame_b, "b")):
        part = frame[KEYS + [measure]].rename(columns={measure: side})
        part = part[part[side].notna()]
        frames.append(part[part["setting"].isin(settings)] if settings else part)
    merged = pd.merge(frames[0], frames[1], on=KEYS, how="outer", indicator=True, sort=True)
    unmatched = merged[merged["_merge"] != "both"]
    if len(unmatched):
        (setting, query, pool), rows = next(iter(unmatched.groupby(KEYS[:3], sort=True)))
        only = {
            side: rows[rows["_merge"] == f"{side}_only"]["query_id"].tolist()
            for side in ("left", "right")
        }
        detail = "; ".join(
            f"{len(ids)} {measure} scores only in {name} (e.g. {ids[0]})"
            for name, ids in zip(names, (only["left"], only["right"]))
            if ids
        )
        raise DataError(
            f"{names[0]} and {names[1]} were evaluated on different query sets: {len(unmatched)} "
            f"(cell, query) rows differ, first in {setting} {query}→{pool}: {detail}"
        )
    order = {s.value: i for i, s in enumerate(Setting)}
    merged = merged.assign(_order=merged["setting"].map(order).fillna(len(order)))
    merged = (
        merged.sort_values(["_order", *KEYS], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    if merged.empty:
        raise DataError(
            f"{names[0]} and {names[1]} share no {measure} scores in {', '.join(settings or ())}"
        )
    return merged.drop(columns="_merge")


@dataclass(frozen=True)
class _Design:
    """Per test (settings first, then every cell): its label, size, the means of A and B, and the
    topic matrices D (weighted differences) and V (weights) of ``significance``."""

    labels: list[tuple[str, str, str]]
    sizes: list[int]
    means: np.ndarray  # tests × 2
    D: np.ndarray
    V: np.ndarray


def _design(aligned) -> _Design:
    """Topic = the question id (the part of a query id after ``<language>/``): its translations
    and its rows in every pool are one unit under resampling, for they are not independent."""
    topic = np.unique(
        aligned["query_id"].str.split("/", n=1).str[-1].to_numpy(), return_inverse=True
    )[1]
    n_topics = int(topic.max()) + 1
    scores = aligned[["a", "b"]].to_numpy(float)
    diff = scores[:, 0] - scores[:, 1]
    cell = aligned.groupby(KEYS[:3], sort=False).ngroup().to_numpy()  # cells in order of appearance
    cell_labels = list(aligned[KEYS[:3]].drop_duplicates().itertuples(index=False, name=None))
    cell_size = np.bincount(cell)
    settings = list(dict.fromkeys(aligned["setting"]))
    labels = [(s, MACRO, "") for s in settings] + cell_labels
    D = np.zeros((n_topics, len(labels)))
    V = np.zeros((n_topics, len(labels)))
    means = np.zeros((len(labels), 2))
    sizes = []
    for k, setting in enumerate(settings):
        # Macro average: languages weigh equally, a language's cells equally, a cell's queries
        # equally.
        rows = (aligned["setting"] == setting).to_numpy()
        sub = aligned[rows]
        pools = sub.groupby("query_language")["pool_language"].transform("nunique").to_numpy(float)
        w = np.zeros(len(aligned))
        w[rows] = 1.0 / (sub["query_language"].nunique() * pools * cell_size[cell[rows]])
        D[:, k] = np.bincount(topic, weights=w * diff, minlength=n_topics)
        V[:, k] = np.bincount(topic, weights=w, minlength=n_topics)
        means[k] = w @ scores
        sizes.append(int(rows.sum()))
    # A cell holds each topic at most once: its test's column is that cell's rows, weighted 1/n.
    w = 1.0 / cell_size[cell]
    column = len(settings) + cell
    np.add.at(D, (topic, column), w * diff)
    np.add.at(V, (topic, column), w)
    for j in range(2):
        means[len(settings) :, j] = np.bincount(cell, weights=scores[:, j]) / cell_size
    return _Design(labels, sizes + cell_size.tolist(), means, D, V)


def compare_frames(
    aligned,
    *,
    names: tuple[str, str],
    task: str,
    measure: str,
    alpha: float,
    resamples: int,
    seed: int,
) -> Comparison:
    design = _design(aligned)
    results = paired_tests(
        design.D, design.V, resamples=resamples, seed=seed, confidence=1.0 - alpha
    )
    is_setting = np.array([query == MACRO for _, query, _ in design.labels])
    p_values = np.array([r.p_value for r in results])
    adjusted = np.empty(len(results))
    adjusted[is_setting] = holm(p_values[is_setting])
    adjusted[~is_setting] = holm(p_values[~is_setting])
    higher = parse_measure(measure).higher_is_better
    rows = []
    for k, ((setting, query, pool), result) in enumerate(zip(design.labels, results)):
        winner = ""
        if adjusted[k] < alpha and result.delta != 0:
            winner = "A" if (result.delta > 0) == higher else "B"
        rows.append(
            PairedRow(
                setting,
                query,
                pool,
                design.sizes[k],
                float(design.means[k, 0]),
                float(design.means[k, 1]),
                result.delta,
                result.ci_low,
                result.ci_high,
                result.p_value,
                float(adjusted[k]),
                winner,
            )
        )
    return Comparison(
        names[0],
        names[1],
        task,
        measure,
        alpha,
        resamples,
        seed,
        topics=design.D.shape[0],
        settings=tuple(r for r in rows if r.query_language == MACRO),
        pairs=tuple(r for r in rows if r.query_language != MACRO),
    )


def compare_records(
    a: tuple[Path, ResultRecord],
    b: tuple[Path, ResultRecord],
    *,
    measure: str,
    settings: Sequence[str] | None,
    alpha: float,
    resamples: int,
    seed: int,
) -> Comparison:
    """Refuse records of different evaluations, then test on their aligned per-query scores."""
    parse_measure(measure)
    check_comparable(collect([a]).scores[0], collect([b]).scores[0])
    names = (_name(a[1]), _name(b[1]))
    if names[0] == names[1]:
        names = (f"{names[0]} ({a[0].name})", f"{names[1]} ({b[0].name})")
    aligned = align(load_per_query(*a), load_per_query(*b), measure, settings, names)
    return compare_frames(
        aligned,
        names=names,
        task=a[1].task.name,
        measure=measure,
        alpha=alpha,
        resamples=resamples,
        seed=seed,
    )


def _name(record: ResultRecord) -> str:
    regime = record.model.regime
    return f"{record.model.name} ({regime})" if regime else record.model.name


def comparison_document(c: Comparison) -> Document:
    digits = measure_digits(c.measure)
    columns = (
        Column("setting"),
        Column("query"),
        Column("pool"),
        Column("n", digits=0),
        Column("A", c.measure, digits),
        Column("B", c.measure, digits),
        Column("A − B", c.measure, digits),
        Column("low", "CI", digits),
        Column("high", "CI", digits),
        Column("p", digits=4),
        Column("p (Holm)", digits=4),
        Column("result"),
    )

    def table(title: str, rows: Sequence[PairedRow]) -> Table:
        cells, marks = [], []
        for r in rows:
            verdict = {"A": f"{c.a} better", "B": f"{c.b} better"}.get(r.winner, "")
            mark = {"A": WIN, "B": LOSS}.get(r.winner, "")
            cells.append(
                (
                    SETTING_LABELS.get(r.setting, r.setting),
                    r.query_language,
                    r.pool_language,
                    r.n,
                    r.mean_a,
                    r.mean_b,
                    r.delta,
                    r.ci_low,
                    r.ci_high,
                    r.p_value,
                    r.p_holm,
                    verdict,
                )
            )
            marks.append(("",) * 6 + (mark,) + ("",) * 4 + (mark,))
        return Table(title, columns, tuple(cells), tuple(marks))

    direction = "higher" if parse_measure(c.measure).higher_is_better else "lower"
    notes = (
        f"A = {c.a}, B = {c.b}; {c.measure}, {direction} is better.",
        f"Paired randomisation test (sign flips of whole topics: {c.topics} question ids, "
        f"{c.resamples} resamples, seed {c.seed}) and {100 * (1 - c.alpha):g}% percentile "
        "bootstrap intervals over topics.",
        f"Holm's correction over the {len(c.settings)} settings and, separately, over the "
        f"{len(c.pairs)} language pairs; a result is named where the adjusted p < {c.alpha:g}.",
    )
    return Document(
        f"{c.a} vs {c.b} on {c.task}: {c.measure}",
        (
            table("Per setting (macro average over languages)", c.settings),
            table("Per language pair (query → pool)", c.pairs),
        ),
        notes,
    )
