"""``xret compare A B [C …]``: paired significance of every pair of systems from their stored
per-query scores, per setting (the macro average over languages, as in the headline tables) and,
for two systems, per language pair.

Systems are compared only when they share the task's evaluation (version, data, languages,
candidate text, ranking policy) and every cell holds the same queries; otherwise this refuses and
says why. Every pair is tested on the same topics (``uncertainty.topic_ids``); Holm's correction
runs over all the setting tests of the report (pairs × settings) and, separately, over all its
language-pair tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xret.errors import DataError
from xret.leaderboards.scores import check_comparable, collect
from xret.leaderboards.table import LOSS, WIN, Column, Document, Table
from xret.leaderboards.uncertainty import topic_ids
from xret.measures.paired import PairedTest, holm, paired_tests
from xret.measures.table import measure_digits, parse_measure
from xret.results.record import ResultRecord
from xret.results.store import load_per_query
from xret.results.summary import SETTING_LABELS
from xret.tasks.spec import Setting

KEYS = ["setting", "query_language", "pool_language", "query_id"]
MACRO = "all (macro)"


@dataclass(frozen=True)
class PairedRow:
    a: str
    b: str
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
    systems: tuple[str, ...]
    task: str
    measure: str
    test: PairedTest
    alpha: float
    resamples: int
    seed: int
    topics: int
    means: Mapping[str, Mapping[str, float]]
    """system -> setting -> its macro mean."""
    settings: tuple[PairedRow, ...]
    """Every pair of systems (in the order given: A before B) × every setting."""
    pairs: tuple[PairedRow, ...]
    """Per language pair (cell); two systems only: with more, the report would hold
    pairs × cells tests."""


def align(frames: Sequence, measure: str, settings: Sequence[str] | None, names: Sequence[str]):
    """One row per (cell, query) with one score column per system (named as ``names``); refuses
    unequal query sets, naming the first system whose set differs from the first system's."""
    import pandas as pd

    for name, frame in zip(names, frames):
        if measure not in frame.columns:
            raise DataError(f"{name} has no per-query {measure} scores")
    parts = []
    for frame, name in zip(frames, names):
        part = frame[KEYS + [measure]].rename(columns={measure: name})
        part = part[part[name].notna()]
        parts.append(part[part["setting"].isin(settings)] if settings else part)
    merged = parts[0]
    for k in range(1, len(parts)):
        merged = pd.merge(merged, parts[k], on=KEYS, how="outer", indicator=True, sort=True)
        unmatched = merged[merged["_merge"] != "both"]
        if len(unmatched):
            _refuse(unmatched, measure, (names[0], names[k]))
        merged = merged.drop(columns="_merge")
    order = {s.value: i for i, s in enumerate(Setting)}
    merged = merged.assign(_order=merged["setting"].map(order).fillna(len(order)))
    merged = (
        merged.sort_values(["_order", *KEYS], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    if merged.empty:
        raise DataError(
            f"{' and '.join(names)} share no {measure} scores in {', '.join(settings or ())}"
        )
    return merged


def _refuse(unmatched, measure: str, names: tuple[str, str]) -> None:
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


@dataclass(frozen=True)
class _Design:
    """Per test (settings first, then every cell): its label, size, each system's mean, and the
    topic matrices of ``significance``: S (per system: its weighted scores summed per topic; a
    pair's D is the difference of two) and V (the weights)."""

    labels: list[tuple[str, str, str]]
    sizes: list[int]
    means: np.ndarray  # tests × systems
    S: np.ndarray  # systems × topics × tests
    V: np.ndarray  # topics × tests


def _design(aligned, names: Sequence[str], family: str, cells: bool) -> _Design:
    """Topic as ``topic_ids`` says: its translations and its rows in every pool are one unit under
    resampling, for they are not independent."""
    topic = np.unique(topic_ids(aligned["query_id"], family).to_numpy(), return_inverse=True)[1]
    n_topics = int(topic.max()) + 1
    scores = aligned[list(names)].to_numpy(float)
    cell = aligned.groupby(KEYS[:3], sort=False).ngroup().to_numpy()  # cells in order of appearance
    cell_labels = list(aligned[KEYS[:3]].drop_duplicates().itertuples(index=False, name=None))
    cell_size = np.bincount(cell)
    settings = list(dict.fromkeys(aligned["setting"]))
    labels = [(s, MACRO, "") for s in settings] + (cell_labels if cells else [])
    # Each row counts in two tests: its setting's and (with ``cells``) its cell's.
    column = np.zeros(len(aligned), dtype=int)
    weight = np.zeros(len(aligned))
    sizes = []
    for k, setting in enumerate(settings):
        # Macro average: languages weigh equally, a language's cells equally, a cell's queries
        # equally.
        rows = (aligned["setting"] == setting).to_numpy()
        sub = aligned[rows]
        pools = sub.groupby("query_language")["pool_language"].transform("nunique").to_numpy(float)
        column[rows] = k
        weight[rows] = 1.0 / (sub["query_language"].nunique() * pools * cell_size[cell[rows]])
        sizes.append(int(rows.sum()))
    entries = [(column, weight)]
    if cells:
        # A cell holds each topic at most once: its test is that cell's rows, weighted 1/n.
        entries.append((len(settings) + cell, 1.0 / cell_size[cell]))
        sizes += cell_size.tolist()
    S = np.zeros((len(names), n_topics, len(labels)))
    V = np.zeros((n_topics, len(labels)))
    means = np.zeros((len(labels), len(names)))
    for test, w in entries:
        np.add.at(V, (topic, test), w)
        for j in range(len(names)):
            np.add.at(S[j], (topic, test), w * scores[:, j])
            means[:, j] += np.bincount(test, weights=w * scores[:, j], minlength=len(labels))
    return _Design(labels, sizes, means, S, V)


def compare_frames(
    aligned,
    *,
    names: Sequence[str],
    task: str,
    family: str,
    measure: str,
    alpha: float,
    resamples: int,
    seed: int,
    test: PairedTest = PairedTest.RANDOMISATION,
) -> Comparison:
    """Every pair (i < j, in the order of ``names``) on the aligned scores, in one run of the
    tests: a pair's results are those of the two systems alone; only Holm sees them all."""
    design = _design(aligned, names, family, cells=len(names) == 2)
    pairs = list(itertools.combinations(range(len(names)), 2))
    D = np.concatenate([design.S[i] - design.S[j] for i, j in pairs], axis=1)
    V = np.tile(design.V, len(pairs))
    results = paired_tests(D, V, resamples=resamples, seed=seed, confidence=1.0 - alpha, test=test)
    is_setting = np.tile([query == MACRO for _, query, _ in design.labels], len(pairs))
    p_values = np.array([r.p_value for r in results])
    adjusted = np.empty(len(results))
    adjusted[is_setting] = holm(p_values[is_setting])
    adjusted[~is_setting] = holm(p_values[~is_setting])
    higher = parse_measure(measure).higher_is_better
    rows = []
    tests = len(design.labels)
    for (k, (setting, query, pool)), (p, (i, j)) in itertools.product(
        enumerate(design.labels), enumerate(pairs)
    ):
        at = p * tests + k
        result = results[at]
        winner = ""
        if adjusted[at] < alpha and result.delta != 0:
            winner = "A" if (result.delta > 0) == higher else "B"
        rows.append(
            PairedRow(
                names[i],
                names[j],
                setting,
                query,
                pool,
                design.sizes[k],
                float(design.means[k, i]),
                float(design.means[k, j]),
                result.delta,
                result.ci_low,
                result.ci_high,
                result.p_value,
                float(adjusted[at]),
                winner,
            )
        )
    means = {
        name: {
            s: float(design.means[k, j]) for k, (s, q, _) in enumerate(design.labels) if q == MACRO
        }
        for j, name in enumerate(names)
    }
    return Comparison(
        tuple(names),
        task,
        measure,
        test,
        alpha,
        resamples,
        seed,
        topics=design.V.shape[0],
        means=means,
        settings=tuple(r for r in rows if r.query_language == MACRO),
        pairs=tuple(r for r in rows if r.query_language != MACRO),
    )


def compare_records(
    records: Sequence[tuple[Path, ResultRecord]],
    *,
    measure: str,
    settings: Sequence[str] | None,
    alpha: float,
    resamples: int,
    seed: int,
    test: PairedTest = PairedTest.RANDOMISATION,
) -> Comparison:
    """Refuse records of different evaluations, then test every pair on their aligned per-query
    scores."""
    parse_measure(measure)
    if len(records) < 2:
        raise DataError("compare needs two systems or more")
    first = collect([records[0]]).scores[0]
    for other in records[1:]:
        check_comparable(first, collect([other]).scores[0])
    names = [_name(r) for _, r in records]
    if len(set(names)) < len(names):
        names = [f"{name} ({path.name})" for name, (path, _) in zip(names, records)]
    if len(set(names)) < len(names):  # one record given twice: a check that finds nothing
        names = [f"{name} [{i + 1}]" for i, name in enumerate(names)]
    aligned = align([load_per_query(*r) for r in records], measure, settings, names)
    return compare_frames(
        aligned,
        names=names,
        task=records[0][1].task.name,
        family=records[0][1].task.family or "",
        measure=measure,
        alpha=alpha,
        resamples=resamples,
        seed=seed,
        test=test,
    )


def _name(record: ResultRecord) -> str:
    regime = record.model.regime
    return f"{record.model.name} ({regime})" if regime else record.model.name


def comparison_document(c: Comparison) -> Document:
    """Two systems: a table per setting and one per language pair. More: the systems with their
    means, a matrix per setting (difference above the diagonal, Holm p below) and every pair's
    test, systems named by key letters so that the tables stay narrow."""
    if len(c.systems) == 2:
        return _two_systems(c)
    digits = measure_digits(c.measure)
    keys = {name: _key(i) for i, name in enumerate(c.systems)}
    settings = list(dict.fromkeys(r.setting for r in c.settings))
    label = {s: SETTING_LABELS.get(s, s) for s in settings}
    systems = Table(
        f"Systems ({c.measure}, macro average over languages)",
        (Column("key"), Column("system"))
        + tuple(Column(label[s], c.measure, digits) for s in settings),
        tuple((keys[name], name, *(c.means[name].get(s) for s in settings)) for name in c.systems),
    )
    matrices = tuple(_matrix(c, setting, keys, digits) for setting in settings)
    every = _pair_table(
        "Every pair, per setting (A − B)",
        c,
        c.settings,
        lambda r: (label[r.setting], keys[r.a], keys[r.b]),
        (Column("setting"), Column("A"), Column("B")),
    )
    return Document(
        f"{len(c.systems)} systems on {c.task}: {c.measure}",
        (systems, *matrices, every),
        _notes(c, f"{len(c.settings)} tests (pairs × settings)")
        + ("Per language pair: compare two systems at a time.",),
    )


def _key(i: int) -> str:
    """a, b, …, z, then a1, b1, …: short labels for the matrix's columns."""
    letter = chr(ord("a") + i % 26)
    return letter if i < 26 else f"{letter}{i // 26}"


def _matrix(c: Comparison, setting: str, keys: Mapping[str, str], digits: int) -> Table:
    by_pair = {(r.a, r.b): r for r in c.settings if r.setting == setting}
    higher = parse_measure(c.measure).higher_is_better
    rows, marks = [], []
    for row in c.systems:
        cells: list = [keys[row]]
        row_marks = [""]
        for col in c.systems:
            found = by_pair.get((row, col)) or by_pair.get((col, row))
            if found is None:
                cells.append(None)
                row_marks.append("")
            elif found.a == row:  # above the diagonal: row − column, * where Holm says so
                star = "*" if found.winner else ""
                cells.append(f"{found.delta:+.{digits}f}{star}")
                better = (found.delta > 0) == higher
                row_marks.append((WIN if better else LOSS) if found.winner else "")
            else:
                cells.append(f"{found.p_holm:.4f}")
                row_marks.append("")
        rows.append(tuple(cells))
        marks.append(tuple(row_marks))
    label = SETTING_LABELS.get(setting, setting)
    return Table(
        f"{c.measure}, {label}: row − column above the diagonal, p (Holm) below",
        (Column(""),) + tuple(Column(keys[name], digits=digits) for name in c.systems),
        tuple(rows),
        tuple(marks),
    )


def _pair_table(title, c: Comparison, rows: Sequence[PairedRow], lead, lead_columns) -> Table:
    digits = measure_digits(c.measure)
    columns = lead_columns + (
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
    cells, marks = [], []
    for r in rows:
        verdict = {"A": f"{r.a} better", "B": f"{r.b} better"}.get(r.winner, "")
        if len(c.systems) > 2 and r.winner:
            verdict = f"{lead(r)[1 if r.winner == 'A' else 2]} better"
        mark = {"A": WIN, "B": LOSS}.get(r.winner, "")
        cells.append(
            (
                *lead(r),
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
        marks.append(("",) * (len(lead_columns) + 3) + (mark,) + ("",) * 4 + (mark,))
    return Table(title, columns, tuple(cells), tuple(marks))


def _notes(c: Comparison, family: str) -> tuple[str, ...]:
    direction = "higher" if parse_measure(c.measure).higher_is_better else "lower"
    if c.test is PairedTest.STUDENT:
        method = (
            f"Paired Student t-test over topics ({c.topics} topics; cluster-robust standard "
            f"error, topics − 1 degrees of freedom) and {100 * (1 - c.alpha):g}% t intervals."
        )
    else:
        method = (
            f"Paired randomisation test (sign flips of whole topics: {c.topics} topics, "
            f"{c.resamples} resamples, seed {c.seed}) and {100 * (1 - c.alpha):g}% percentile "
            "bootstrap intervals over topics."
        )
    return (
        f"{c.measure}, {direction} is better.",
        method,
        f"Holm's correction over the {family}; a result is named where the adjusted "
        f"p < {c.alpha:g}.",
    )


def _two_systems(c: Comparison) -> Document:
    a, b = c.systems

    def lead(r: PairedRow) -> tuple:
        return (SETTING_LABELS.get(r.setting, r.setting), r.query_language, r.pool_language)

    lead_columns = (Column("setting"), Column("query"), Column("pool"))
    notes = _notes(
        c,
        f"{len(c.settings)} settings and, separately, over the {len(c.pairs)} language pairs",
    )
    return Document(
        f"{a} vs {b} on {c.task}: {c.measure}",
        (
            _pair_table(
                "Per setting (macro average over languages)", c, c.settings, lead, lead_columns
            ),
            _pair_table("Per language pair (query → pool)", c, c.pairs, lead, lead_columns),
        ),
        (f"A = {a}, B = {b}; {notes[0]}",) + notes[1:],
    )
