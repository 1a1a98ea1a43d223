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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from xret.leaderboards.per_language import corpus_setting, paper_table, per_language_tables
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
    MEASURED,
    Collection,
    Scores,
    SeedCount,
    System,
    language_statistics,
    system_order,
)
from xret.leaderboards.table import Column, Document, Table, best_marks, csv_text
from xret.leaderboards.uncertainty import Estimate, Options, Target, estimates
from xret.measures.table import BIAS_PANEL, PANEL_BEYOND_PAPER, parse_measure
from xret.results.summary import SETTING_LABELS

_TASK_ORDER = ("xquad-r", "mlqa-r")
_TEXT_COLUMNS = (Column("source"), Column("base model"), Column("regime"), Column("model"))
LEGEND = (
    "Bold = best, underlined (Markdown: italic) = second best: within each headline column among "
    "measured rows and, separately, among published rows; in per-language tables among the "
    "columns of one setting (or one base model) in a row. Ties at the shown precision share a mark."
)
BLANK = "A blank cell was not evaluated (missing language, setting or measure), never a zero."
SEEDS = (
    "A model with several training seeds ('__seed<N>' records of a study) is one row: its values "
    "are means over the seeds ('(n seeds)'), each over those whose records hold it ('(k of n "
    "seeds)': a seed recorded before a measure existed has none); --ci adds their sd, --by-seed "
    "shows each seed."
)


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a task (task + signature): the unit a column group stands for."""

    task: str
    family: str
    signature: tuple
    label: str
    languages: tuple[str, ...]
    comparable_with_published: bool
    setting: str = "mono"
    """A MIRACL-format evaluation's setting: mono, or multi for a pooled task (one pool of
    several languages' corpora)."""

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
            s.task, s.family, s.signature, s.task_label, s.languages, comparable, corpus_setting(s)
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


def _headline(
    title: str, specs: Sequence[_Spec], lookup: dict, found: Mapping | None = None
) -> Table:
    """A headline table; with ``found`` (spec -> ranked estimates), each measured value's
    interval, rank and group as a hint (the HTML page shows it on hover)."""
    estimated = {
        (scores.system, spec): e for spec, ranked in (found or {}).items() for e, scores in ranked
    }
    systems = sorted(
        {system for system, key in lookup if any(key == spec.evaluation.key for spec in specs)},
        key=lambda s: (system_order(s), _published_index(s)),
    )
    rows, hints, sections, previous = [], [], set(), None
    uneven: dict[str, list[str]] = {}  # how a row's columns split over its seeds -> its models
    for system in systems:
        values = [
            _headline_value(lookup.get((system, spec.evaluation.key)), spec) for spec in specs
        ]
        group = (system.source, system.base_model)
        if rows and group != previous:
            sections.add(len(rows))
        previous = group
        counts = {
            spec: _seed_count(lookup[(system, spec.evaluation.key)], spec)
            for spec, value in zip(specs, values)
            if value is not None and system.measured
        }
        model = f"{system.model} {_seed_label(counts.values())}".rstrip()
        if len(set(counts.values())) > 1:
            uneven.setdefault(_seed_split(counts), []).append(system.model)
        rows.append((system.source, system.base_model, system.regime_label, model, *values))
        hints.append(
            ("",) * len(_TEXT_COLUMNS)
            + tuple(_hint(estimated.get((system, spec)), spec) for spec in specs)
        )
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
        notes=tuple(f"{', '.join(models)}: {split}." for split, models in uneven.items()),
        hints=tuple(hints) if estimated else (),
    )


def _seed_count(scores: Scores, spec: _Spec) -> SeedCount:
    return scores.seed_count(
        spec.statistic, spec.setting, spec.measure, spec.evaluation.headline_languages
    )


def _seed_label(counts: Iterable[SeedCount]) -> str:
    """'(n seeds)' after a model of several seeds; '(k of n seeds)' where its values are means
    over only k of them; a range of k where its columns differ (the table's notes say which)."""
    counts = set(counts)
    if not counts or max(c.of for c in counts) == 1:
        return ""
    if len(counts) == 1:
        return f"({counts.pop()})"
    low, high = min(c.held for c in counts), max(c.held for c in counts)
    totals = {c.of for c in counts}
    return f"({low}–{high}{f' of {totals.pop()}' if len(totals) == 1 else ''} seeds)"


def _seed_split(counts: Mapping[_Spec, SeedCount]) -> str:
    """Which of a row's columns are means over how many of its seeds."""
    by_count: dict[SeedCount, list[str]] = {}
    for spec, count in counts.items():
        by_count.setdefault(count, []).append(spec.column.heading)
    return "; ".join(f"{', '.join(headings)} over {count}" for count, headings in by_count.items())


def _hint(e: Estimate | None, spec: _Spec) -> str:
    if e is None:
        return ""
    digits = spec.column.digits
    seeds = f"; sd {e.sd:.{digits}f} over {e.seeds}" if e.sd is not None else ""
    return (
        f"95 % interval {e.low:.{digits}f}–{e.high:.{digits}f}{seeds}; rank {e.rank} "
        f"({e.rank_low}–{e.rank_high}); group {e.group}"
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
        (m for m in held if parse_measure(m).name in PANEL_BEYOND_PAPER),
        key=lambda m: (BIAS_PANEL.index(parse_measure(m).name), m),
    )


def _bias_specs(e: Evaluation, measured: Sequence[Scores]) -> list[_Spec]:
    """The bias panel's columns of one evaluation (docs/bias.md): RD, then the panel."""
    held = ("RD",) if e.family == "lareqa" else ()  # a pooled corpus has no RD
    return [
        _Spec(e, "multi", m, "mean", Column.of_measure(m, "", m))
        for m in (*held, *_panel(e, measured))
    ]


def _bias_table(
    e: Evaluation, measured: Sequence[Scores], lookup: dict, found: Mapping | None = None
) -> Table:
    """The bias panel of one evaluation, measured rows only: the paper has RD."""
    mine = {k: v for k, v in lookup.items() if k[0].measured}
    title = f"Language bias panel, {_group(e)}: Mul., macro average over languages"
    return _headline(title, _bias_specs(e, measured), mine, found)


def _bias_uncertainty_table(
    e: Evaluation, specs: Sequence[_Spec], found: Mapping, options: Options
) -> Table:
    """The bias panel's intervals, ranks and groups: a row per model and measure (thirteen
    measures do not fit as columns), each number to its measure's decimals."""
    level = f"{100 * options.confidence:g} %"
    rows = []
    for spec in specs:
        digits = spec.column.digits
        for est, scores in found.get(spec, ()):
            numbers = (est.value, est.sd, est.low, est.high)
            rows.append(
                (
                    scores.system.model,
                    spec.measure,
                    est.seeds.held if est.seeds.held == est.seeds.of else str(est.seeds),
                    *("" if v is None else f"{v:.{digits}f}" for v in numbers),
                    est.rank,
                    est.rank_low,
                    est.rank_high,
                    est.group,
                )
            )
    columns = (
        Column("model"),
        Column("measure"),
        Column("seeds", digits=0),
        Column("value"),
        Column("sd"),
        Column("low", f"{level} CI"),
        Column("high", f"{level} CI"),
        Column("rank", digits=0),
        Column("low", f"rank {level}", 0),
        Column("high", f"rank {level}", 0),
        Column("group"),
    )
    title = f"{_group(e)}, Mul.: the bias panel's intervals and ranks"
    return Table(title=title, columns=columns, rows=tuple(rows), source=MEASURED)


def _estimated(
    specs: Sequence[_Spec], measured: Sequence[Scores], options: Options
) -> dict[_Spec, list[tuple[Estimate, Scores]]]:
    """Per headline column with measured values: [(Estimate, Scores)], best first. Each
    evaluation's per-query scores are read, and resampled, once for all its columns."""
    out = {}
    for evaluation in dict.fromkeys(spec.evaluation for spec in specs):
        own = [spec for spec in specs if spec.evaluation == evaluation]
        rows = [s for s in measured if (s.task, s.signature) == evaluation.key]
        targets = {
            spec: Target(spec.setting, spec.measure, spec.statistic, evaluation.headline_languages)
            for spec in own
        }
        found = estimates(rows, list(targets.values()), options)
        for spec in own:
            ranked = sorted(
                ((e, rows[i]) for (i, target), e in found.items() if target == targets[spec]),
                key=lambda item: (item[0].rank, system_order(item[1].system)),
            )
            if ranked:
                out[spec] = ranked
    return out


def _uncertainty_table(spec: _Spec, ranked, options: Options) -> Table:
    digits = spec.column.digits
    level = f"{100 * options.confidence:g} %"
    columns = (
        Column("model"),
        Column("seeds", digits=0),
        Column(
            spec.measure if spec.statistic == "mean" else f"{spec.measure} {spec.statistic}",
            digits=digits,
        ),
        Column("sd", digits=digits),
        Column("low", f"{level} CI", digits),
        Column("high", f"{level} CI", digits),
        Column("rank", digits=0),
        Column("low", f"rank {level}", 0),
        Column("high", f"rank {level}", 0),
        Column("group"),
    )
    rows = tuple(
        (
            scores.system.model,
            e.seeds.held if e.seeds.held == e.seeds.of else str(e.seeds),
            e.value,
            e.sd,
            e.low,
            e.high,
            e.rank,
            e.rank_low,
            e.rank_high,
            e.group,
        )
        for e, scores in ranked
    )
    setting = SETTING_LABELS.get(spec.setting, spec.setting)
    statistic = "" if spec.statistic == "mean" else f" {spec.statistic}"
    title = f"{_group(spec.evaluation)}, {setting} {spec.measure}{statistic}: intervals and ranks"
    return Table(title=title, columns=columns, rows=rows, source=MEASURED)


def uncertainty_notes(options: Options) -> tuple[str, ...]:
    level = f"{100 * options.confidence:g} %"
    return (
        f"Intervals and ranks: {level} percentile bootstrap over topics ({options.resamples} "
        f"resamples, seed {options.seed}), aggregated as the records are (cell mean, mean per "
        "query language, statistic over languages); a topic is a question with all its parallel "
        "versions (each query where queries are not parallel). A row of several training seeds "
        "shows their mean and sd over the seeds whose records hold the measure, and each resample "
        "adds the spread of a mean of those seeds (a Student t draw with one degree of freedom "
        "fewer than seeds).",
        f"Rank interval: the central {level} of each row's rank over the same resamples of all "
        "rows. Group: rows sharing a letter are not separable by paired bootstrap tests, Holm-"
        f"adjusted over the column's pairs at {options.alpha:g}.",
    )


def _headline_specs(
    lareqa: Sequence[Evaluation], miracl: Sequence[Evaluation]
) -> list[tuple[str, list[_Spec]]]:
    """The headline tables' titles and columns."""
    out = []
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
        out.append(("mAP, macro average over languages (shape of the paper's Table 1)", specs))
        specs = [
            _Spec(e, "multi", "RD", "mean", Column.of_measure(_group(e), "", "RD", TABLE_2_DIGITS))
            for e in lareqa
        ]
        title = "Language bias: mean rank distance, Mul., lower is better (shape of Table 2)"
        out.append((title, specs))
    if miracl:
        specs = [
            _Spec(
                e,
                e.setting,
                measure,
                stat,
                Column.of_measure(f"{measure} {stat}", _group(e), measure),
            )
            for e in miracl
            for measure in ("nDCG@10", "R@100")
            for stat in ("mean", "median")
        ]
        out.append(("MIRACL dev: mean and median over languages", specs))
    return out


def _laid_out(scores: Sequence[Scores]) -> tuple[list[Evaluation], list[Evaluation]]:
    """The evaluations the leaderboard lays out: LAReQA-family, MIRACL-family."""
    evaluations = _evaluations(scores)
    return (
        [e for e in evaluations if e.family == "lareqa"],
        [e for e in evaluations if e.family == "miracl"],
    )


def headline_estimates(
    collection: Collection, options: Options
) -> dict[_Spec, list[tuple[Estimate, Scores]]]:
    """Every headline column's measured rows with their uncertainty, best first."""
    specs = [spec for _, specs in _headline_specs(*_laid_out(collection.scores)) for spec in specs]
    return _estimated(specs, collection.scores, options)


def uncertainty_csv(collection: Collection, options: Options) -> str:
    """One line per measured row and headline or bias-panel column: the value with its
    interval, sd over seeds, rank with its interval and tied group (full precision)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "task",
            "evaluation",
            "setting",
            "measure",
            "statistic",
            "languages",
            "source",
            "base_model",
            "regime",
            "model",
            "seeds",
            "value",
            "sd",
            "ci_low",
            "ci_high",
            "rank",
            "rank_low",
            "rank_high",
            "group",
        ]
    )
    lareqa, miracl = _laid_out(collection.scores)
    specs = [spec for _, specs in _headline_specs(lareqa, miracl) for spec in specs]
    specs += [spec for e in lareqa + miracl for spec in _bias_specs(e, collection.scores)]
    once: dict[tuple, _Spec] = {}  # RD is a headline column and the panel's first
    for spec in specs:
        once.setdefault((spec.evaluation, spec.setting, spec.measure, spec.statistic), spec)
    for spec, ranked in _estimated(list(once.values()), collection.scores, options).items():
        e = spec.evaluation
        for est, scores in ranked:
            system = scores.system
            writer.writerow(
                [
                    *(csv_text(v) for v in (e.task, scores.evaluation, spec.setting)),
                    *(csv_text(v) for v in (spec.measure, spec.statistic)),
                    " ".join(e.headline_languages),
                    *(csv_text(v) for v in (system.source, system.base_model)),
                    *(csv_text(v) for v in (system.regime, system.model)),
                    est.seeds.held,
                    repr(est.value),
                    "" if est.sd is None else repr(est.sd),
                    repr(est.low),
                    repr(est.high),
                    est.rank,
                    est.rank_low,
                    est.rank_high,
                    est.group,
                ]
            )
    return buffer.getvalue()


def build_leaderboard(
    collection: Collection, published: bool = True, uncertainty: Options | None = None
) -> Document:
    """Headline tables, then per task: measured per-language tables and the paper's own; with
    ``uncertainty``, a table of intervals and ranks per headline column after its table, and
    one for the whole bias panel after the panel's."""
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
    headline = _headline_specs(lareqa, miracl)
    panels = {e: _bias_specs(e, measured) for e in lareqa + miracl if _panel(e, measured)}
    found = {}
    if uncertainty:  # one pass over each evaluation's per-query scores for every column
        every = [spec for _, specs in headline for spec in specs]
        found = _estimated(
            [*every, *(s for specs in panels.values() for s in specs)], measured, uncertainty
        )
    for title, specs in headline:
        tables.append(_headline(title, specs, lookup, found))
        tables += [
            _uncertainty_table(spec, found[spec], uncertainty) for spec in specs if spec in found
        ]
    for e, specs in panels.items():
        tables.append(_bias_table(e, measured, lookup, found))
        if uncertainty and any(spec in found for spec in specs):
            tables.append(_bias_uncertainty_table(e, specs, found, uncertainty))
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
    if any(s.seeds for s in measured):
        notes.append(SEEDS)
    notes += [LEGEND, BLANK]
    if uncertainty:
        notes += uncertainty_notes(uncertainty)
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
