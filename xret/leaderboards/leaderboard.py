"""The leaderboard as a document of tables, a pure function of scores.

Headline tables in the shape of the paper's Table 1 (mAP per setting, macro average over
languages) and Table 2 (mean rank distance), plus MIRACL's mean and median when measured; then
per-language tables in the shape of Tables 3–8 and 12–13 (xret.leaderboards.per_language). The
paper's numbers come as reference rows (headline) and as reference tables (per language),
labelled with their source; best and second best are marked among measured rows and,
separately, among reference rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from xret.leaderboards.per_language import paper_table, per_language_tables
from xret.leaderboards.published import (
    BACKBONES,
    REGIMES,
    SOURCE,
    TABLE_1_DIGITS,
    TABLE_2_DIGITS,
    paper_tables,
    published_scores,
    reference_for,
    reference_task,
)
from xret.leaderboards.scores import (
    Collection,
    Scores,
    System,
    language_statistics,
    system_order,
)
from xret.leaderboards.table import Column, Document, Table, best_marks, csv_text
from xret.measures.table import BIAS_PANEL, parse_measure
from xret.results.summary import SETTING_LABELS

_TASK_ORDER = ("xquad-r", "mlqa-r")
_TEXT_COLUMNS = (Column("source"), Column("base model"), Column("regime"), Column("model"))
LEGEND = (
    "Bold = best, underlined (Markdown: italic) = second best: within each headline column among "
    "measured rows and, separately, among published rows; in per-language tables among the "
    "columns of one setting (or one base model) in a row. Ties at the shown precision share a mark."
)
BLANK = "A blank cell was not evaluated (missing language, setting or measure), never a zero."


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a task (task + signature): the unit a column group stands for."""

    task: str
    family: str
    signature: tuple
    label: str
    languages: tuple[str, ...]
    comparable_with_published: bool

    @property
    def key(self) -> tuple:
        return (self.task, self.signature)

    @property
    def reference(self) -> tuple[Scores, ...]:
        """The paper's scores for this task, where the evaluation covers all the paper's
        languages."""
        paper = reference_for(self.task, self.family)
        return paper if paper and set(paper[0].languages) <= set(self.languages) else ()

    @property
    def headline_languages(self) -> tuple[str, ...]:
        """Headline means run over the paper's languages where it has the task (MIRACL: 15 of
        18)."""
        return self.reference[0].languages if self.reference else self.languages


def _evaluations(scores: Sequence[Scores]) -> list[Evaluation]:
    found: dict[tuple, Evaluation] = {}
    for s in scores:
        key = (s.task, s.signature)
        comparable = s.comparable_with_published and (
            key not in found or found[key].comparable_with_published
        )
        found[key] = Evaluation(
            s.task, s.family, s.signature, s.task_label, s.languages, comparable
        )

    def order(e: Evaluation) -> tuple:
        known = _TASK_ORDER.index(e.task) if e.task in _TASK_ORDER else len(_TASK_ORDER)
        return (e.family == "miracl", known, e.task, e.label)

    return sorted(found.values(), key=order)


@dataclass(frozen=True)
class _Spec:
    """A headline column: which value of which evaluation, and how it is shown."""

    evaluation: Evaluation
    setting: str
    measure: str
    statistic: str
    column: Column


def _headline(title: str, specs: Sequence[_Spec], lookup: dict) -> Table:
    systems = sorted(
        {system for system, key in lookup if any(key == spec.evaluation.key for spec in specs)},
        key=lambda s: (system_order(s), _published_index(s)),
    )
    rows, sections, previous = [], set(), None
    for system in systems:
        values = [
            _headline_value(lookup.get((system, spec.evaluation.key)), spec) for spec in specs
        ]
        group = (system.source, system.base_model)
        if rows and group != previous:
            sections.add(len(rows))
        previous = group
        rows.append((system.source, system.base_model, system.regime_label, system.model, *values))
    columns = (*_TEXT_COLUMNS, *(spec.column for spec in specs))
    by_source: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for i, row in enumerate(rows):
        for j in range(len(_TEXT_COLUMNS), len(columns)):
            by_source.setdefault((j, row[0]), []).append((i, j))
    return Table(
        title=title,
        columns=columns,
        rows=tuple(rows),
        marks=best_marks(rows, columns, by_source.values()),
        sections=frozenset(sections),
    )


def _headline_value(scores: Scores | None, spec: _Spec) -> float | None:
    if scores is None:
        return None
    if not scores.system.measured:  # as printed: Table 1/2, or the mean / median rows
        if spec.statistic == "mean":
            return scores.headline_value(spec.setting, spec.measure)
        return scores.statistic(spec.statistic, spec.setting, spec.measure)
    statistics = language_statistics(scores.by_language, spec.evaluation.headline_languages)
    return statistics.get(spec.statistic, {}).get(spec.setting, {}).get(spec.measure)


def _group(e: Evaluation) -> str:
    if e.headline_languages == e.languages:
        return e.label
    return f"{e.label}, the paper's {len(e.headline_languages)} languages"


def _published_index(system: System) -> int:
    """The paper's row order for reference rows (backbone, then regime)."""
    if system.measured:
        return 0
    return BACKBONES.index(system.base_model) * len(REGIMES) + REGIMES.index(system.regime)


def _panel(e: Evaluation, measured: Sequence[Scores]) -> list[str]:
    """The bias measures some record of ``e`` holds (beyond RD), in the table's order."""
    held = {
        m
        for s in measured
        if (s.task, s.signature) == e.key
        for m in s.by_language.get("multi", {})
    }
    return sorted(
        (m for m in held if m != "RD" and parse_measure(m).name in BIAS_PANEL),
        key=lambda m: (BIAS_PANEL.index(parse_measure(m).name), m),
    )


def _bias_table(e: Evaluation, measured: Sequence[Scores], lookup: dict) -> Table:
    """The bias panel of one evaluation (docs/bias.md), measured rows only: the paper has RD."""
    specs = [
        _Spec(e, "multi", m, "mean", Column.of_measure(m, "", m))
        for m in ("RD", *_panel(e, measured))
    ]
    mine = {k: v for k, v in lookup.items() if k[0].measured}
    title = f"Language bias panel, {_group(e)}: Mul., macro average over languages"
    return _headline(title, specs, mine)


def build_leaderboard(collection: Collection, published: bool = True) -> Document:
    """Headline tables, then per task: measured per-language tables and the paper's own."""
    measured = collection.scores
    evaluations = _evaluations(measured)
    lookup: dict[tuple[System, tuple], Scores] = {
        (s.system, (s.task, s.signature)): s for s in measured
    }
    notes = list(collection.notes)
    if (
        published
    ):  # reference rows where an evaluation covers the paper's languages, as the paper did
        for e in evaluations:
            if e.comparable_with_published:
                for ref in e.reference:
                    lookup[(ref.system, e.key)] = ref
    lareqa = [e for e in evaluations if e.family == "lareqa"]
    miracl = [e for e in evaluations if e.family == "miracl"]
    notes += [
        f"{e.task}: no leaderboard layout for task family {e.family!r}"
        for e in evaluations
        if e.family not in ("lareqa", "miracl")
    ]
    tables = []
    if lareqa:
        specs = [
            _Spec(
                e,
                setting,
                "MAP",
                "mean",
                Column.of_measure(SETTING_LABELS[setting], _group(e), "MAP", TABLE_1_DIGITS),
            )
            for e in lareqa
            for setting in ("mono", "cross", "multi")
        ]
        tables.append(
            _headline(
                "mAP, macro average over languages (shape of the paper's Table 1)", specs, lookup
            )
        )
        specs = [
            _Spec(e, "multi", "RD", "mean", Column.of_measure(_group(e), "", "RD", TABLE_2_DIGITS))
            for e in lareqa
        ]
        tables.append(
            _headline(
                "Language bias: mean rank distance, Mul., lower is better (shape of Table 2)",
                specs,
                lookup,
            )
        )
        tables += [_bias_table(e, measured, lookup) for e in lareqa if _panel(e, measured)]
    if miracl:
        specs = [
            _Spec(
                e, "mono", measure, stat, Column.of_measure(f"{measure} {stat}", _group(e), measure)
            )
            for e in miracl
            for measure in ("nDCG@10", "R@100")
            for stat in ("mean", "median")
        ]
        tables.append(_headline("MIRACL dev: mean and median over languages", specs, lookup))
    shown_reference: set[str] = set()
    for e in lareqa + miracl:
        members = [s for s in measured if (s.task, s.signature) == e.key]
        tables += per_language_tables(e.label, e.family, members)
        paper_task = reference_task(e.task, e.family)
        if published and paper_task not in shown_reference:
            shown_reference.add(paper_task)
            tables += [paper_table(t) for t in paper_tables(paper_task)]
    if published:
        notes.append(
            f"Rows and tables marked '{SOURCE}' are the paper's numbers as printed "
            "(arXiv 2408.10536); they are reference values, not measured here, and Tables 1-2 "
            "keep the paper's rounding."
        )
    notes += [LEGEND, BLANK]
    return Document("xret leaderboard", tuple(tables), tuple(notes))


def leaderboard_csv(collection: Collection, published: bool = True) -> str:
    """Every number behind the leaderboard, one per line: per language, then mean and median."""
    scores = list(collection.scores)
    if published:
        tasks = sorted({reference_task(s.task, s.family) for s in scores})
        scores += [ref for ref in published_scores() if ref.task in tasks]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "source",
            "base_model",
            "regime",
            "model",
            "revision",
            "task",
            "evaluation",
            "setting",
            "measure",
            "language",
            "value",
        ]
    )
    for s in scores:
        system = s.system
        head = [
            csv_text(v)
            for v in (
                system.source,
                system.base_model,
                system.regime,
                system.model,
                system.revision,
                s.task,
                s.evaluation,
            )
        ]
        for setting in sorted(s.by_language):
            for measure in sorted(s.by_language[setting]):
                values = s.by_language[setting][measure]
                for lang in s.languages:
                    if lang in values:
                        writer.writerow([*head, setting, measure, lang, repr(values[lang])])
                for stat in ("mean", "median"):
                    value = s.statistic(stat, setting, measure)
                    if value is not None:
                        writer.writerow([*head, setting, measure, stat, repr(value)])
    return buffer.getvalue()
