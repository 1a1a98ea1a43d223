"""The short table ``xret bench`` prints at the end: the paper's headline numbers per record."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from xret import defaults
from xret.measures.table import measure_digits, parse_measure
from xret.results.record import ResultRecord

# (setting, measure) columns in the paper's order: mAP per setting, R@1 / R@10, rank distance.
HEADLINE = (
    ("mono", "MAP"),
    ("cross", "MAP"),
    ("multi", "MAP"),
    ("mono", "R@1"),
    ("cross", "R@1"),
    ("multi", "R@10"),
    ("multi", "RD"),
)
SETTING_LABELS = {"mono": "Mo.", "cross": "Cr.", "multi": "Mul."}
BIAS_HEADLINE = ("RD", "nRD", "Excess@10", "PEER@10", "WrongSame", "Consist@10")
"""The bias panel's columns in the summary's second table (multilingual pool; docs/bias.md)."""


def _fmt(measure: str, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.{measure_digits(measure)}f}"


def headline_rows(records: Sequence[ResultRecord], aggregate: str = "macro") -> list[list[str]]:
    rows = []
    for r in records:
        summary = r.summary.get(aggregate, {})
        rows.append([r.model.name] + [_fmt(m, summary.get(s, {}).get(m)) for s, m in HEADLINE])
    return rows


def headline_header() -> list[str]:
    """Two short lines per column (measure over setting): with one table per task and no task
    column, a 24-character model name and the seven numbers fit 80 columns."""
    return ["model"] + [f"{m}\n{SETTING_LABELS[s]}" for s, m in HEADLINE]


def bias_rows(records: Sequence[ResultRecord], aggregate: str = "macro") -> list[list[str]]:
    return [
        [r.model.name]
        + [_fmt(m, r.summary.get(aggregate, {}).get("multi", {}).get(m)) for m in BIAS_HEADLINE]
        for r in records
    ]


def bias_header() -> list[str]:
    """Cutoffs on a second line, as the headline's settings: a 24-character model name and the
    six numbers fit 80 columns."""
    return ["model", *(m.replace("@", "\n@") for m in BIAS_HEADLINE)]


LEGEND = (
    "Mo. monolingual, Cr. cross-lingual, Mul. multilingual pool; "
    "RD rank distance (lower: less language bias)"
)
BIAS_LEGEND = (
    "nRD RD over its random-ranking value; Excess same-language share of the top 10 over the "
    "pool's; PEER language fairness p (higher: fairer); WrongSame top-1 wrong and in the "
    "query's language; Consist "
    "Spearman of parallel queries' top 10 (docs/bias.md)"
)

POOLED_LEGEND = (
    "Same share of the top 10 in the query's language; Excess Same over that language's share of "
    "the pooled passages (> 0: prefers it); PEER language fairness p (higher: fairer); WrongSame, "
    "WrongOther top-1 passage not relevant, in the query's language or another (docs/bias.md)"
)


def coverage_notes(records: Sequence[ResultRecord]) -> list[str]:
    notes = []
    for r in records:
        uncovered = r.coverage.uncovered_languages
        if uncovered:
            notes.append(
                f"{r.model.name} on {r.task.name}: does not cover {', '.join(uncovered)} "
                "(scored anyway; those languages are marked uncovered)"
            )
    return notes


def is_corpus_record(record: ResultRecord) -> bool:
    """Top-k corpus tasks (MIRACL): monolingual cells summarised by mean and median."""
    return record.options.ranking == "top-k"


def corpus_header(records: Sequence[ResultRecord]) -> list[str]:
    """The records' trec_eval measures (a pooled corpus task's bias panel has its own table)."""
    measures = dict.fromkeys(
        m for r in records for m in r.options.measures if parse_measure(m).is_trec
    )
    return ["task", "model", "over", *measures]


def corpus_rows(records: Sequence[ResultRecord]) -> list[list[str]]:
    """One row per summary (mean-15, median-15, …), or per language when there is none."""
    measures = corpus_header(records)[3:]
    return [
        [_marked(r), r.model.name, name, *(_fmt(m, values.get(m)) for m in measures)]
        for r in records
        for name, values in _corpus_groups(r, measures).items()
    ]


def _marked(r: ResultRecord) -> str:
    comparable = r.extra.get("comparable_with_published", True)
    return r.task.name if comparable else f"{r.task.name} (*)"


def _corpus_groups(r: ResultRecord, measures: Sequence[str]) -> dict[str, dict[str, float]]:
    """Summary name (or language, when there is no summary) -> measure -> value, in the
    record's setting (mono, or multi: a pooled corpus task)."""
    setting = "multi" if is_pooled_corpus(r) else "mono"
    groups = {name: values.get(setting, {}) for name, values in r.summary.items()}
    if groups:
        return groups
    cells = r.by_language.get(setting, {})
    languages = sorted({lang for values in cells.values() for lang in values})
    return {lang: {m: cells.get(m, {}).get(lang) for m in measures} for lang in languages}


POOLED_BIAS_HEADLINE = ("Same@10", "Excess@10", "PEER@10", "WrongSame", "WrongOther")
"""A pooled corpus task's bias columns (RightOther is 0 there: only the query language's passages
are judged; RightSame is 1 minus the two wrong shares)."""


def pooled_bias_header() -> list[str]:
    """One table per task (its name in the title): a 24-character model name, the summary and
    the five numbers fit 80 columns."""
    return ["model", "over", *(m.replace("@", "\n@") for m in POOLED_BIAS_HEADLINE)]


def pooled_bias_rows(records: Sequence[ResultRecord]) -> list[list[str]]:
    return [
        [r.model.name, name, *(_fmt(m, values.get(m)) for m in POOLED_BIAS_HEADLINE)]
        for r in records
        for name, values in _corpus_groups(r, POOLED_BIAS_HEADLINE).items()
    ]


def is_pooled_corpus(record: ResultRecord) -> bool:
    """A corpus task pooled with other languages' corpora (multilingual cells, top-k)."""
    return is_corpus_record(record) and "multi" in record.options.settings


def undefined_notes(records: Sequence[ResultRecord]) -> list[str]:
    """Per pooled corpus record, the panel measures it leaves blank: one line per reason."""
    notes = []
    for r in records:
        blank: dict[str, list[str]] = {}
        for measure, why in r.extra.get("panel_undefined", {}).items():
            blank.setdefault(why, []).append(measure)
        notes += [f"{r.task.name}: {', '.join(ms)} blank: each {why}" for why, ms in blank.items()]
    return notes


def comparability_notes(records: Sequence[ResultRecord]) -> list[str]:
    return [
        f"(*) {r.task.name}: not comparable with published numbers: "
        + "; ".join(r.extra.get("not_comparable_because", []))
        for r in records
        if r.extra.get("comparable_with_published") is False
    ]


def _filled(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Without the columns no row has a value for (settings that were not run)."""
    keep = [j for j in range(len(header)) if j == 0 or any(row[j] for row in rows)]
    return [header[j] for j in keep], [[row[j] for j in keep] for row in rows]


Bounds = Mapping[tuple[str, str, str], tuple[float, float]]
"""(aggregate, setting, measure) -> an interval of a summary value."""


def interval_rows(records: Sequence[ResultRecord], intervals: Sequence[Bounds]) -> list[list[str]]:
    """One row per headline value and bias column (corpus tasks: per summary value) with its
    interval."""
    rows = []
    for r, bounds in zip(records, intervals):
        if is_corpus_record(r):
            keys = [(name, s, m) for name, v in r.summary.items() for s in v for m in v[s]]
        else:
            bias = [("multi", m) for m in BIAS_HEADLINE if ("multi", m) not in HEADLINE]
            keys = [("macro", s, m) for s, m in (*HEADLINE, *bias)]
        for name, setting, measure in keys:
            value = r.summary.get(name, {}).get(setting, {}).get(measure)
            if value is None or (name, setting, measure) not in bounds:
                continue
            low, high = bounds[(name, setting, measure)]
            over = SETTING_LABELS.get(setting, setting) if name == "macro" else f"{name} {setting}"
            rows.append(
                [r.task.name, r.model.name, f"{measure} {over}"]
                + [_fmt(measure, v) for v in (value, low, high)]
            )
    return rows


def print_summary(
    records: Sequence[ResultRecord], intervals: Sequence[Bounds] | None = None
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    # A log file or pipe gets the 80 columns any reader has; a terminal its own width.
    console = Console(width=None if sys.stdout.isatty() else 80)
    pooled = [r for r in records if not is_corpus_record(r)]
    corpus = [r for r in records if is_corpus_record(r)]
    tables = []
    for task in dict.fromkeys(r.task.name for r in pooled):
        rows = headline_rows([r for r in pooled if r.task.name == task])
        header, rows = _filled(headline_header(), rows)
        tables.append((f"{task}: macro average over languages", header, rows, None))
        header, rows = _filled(bias_header(), bias_rows([r for r in pooled if r.task.name == task]))
        if len(header) > 2:  # more than RD, already in the table above
            tables.append((f"{task}: language bias, multilingual pool", header, rows, None))
    if tables:
        tables[-1] = (*tables[-1][:3], LEGEND)
        if any(title.endswith("multilingual pool") for title, *_ in tables):
            tables[-1] = (*tables[-1][:3], f"{LEGEND}\n{BIAS_LEGEND}")
    mono = [r for r in corpus if not is_pooled_corpus(r)]
    pooled_corpus = [r for r in corpus if is_pooled_corpus(r)]
    if mono:
        header, rows = corpus_header(mono), corpus_rows(mono)
        tables.append(("monolingual corpus retrieval", header, rows, None))
    if pooled_corpus:
        header, rows = corpus_header(pooled_corpus), corpus_rows(pooled_corpus)
        tables.append(
            ("pooled corpus retrieval: each language's queries, one pool", header, rows, None)
        )
        for task in dict.fromkeys(r.task.name for r in pooled_corpus):
            mine = [r for r in pooled_corpus if r.task.name == task]
            header, rows = _filled(pooled_bias_header(), pooled_bias_rows(mine))
            if len(header) > 2:
                tables.append((f"{task}: language bias, one pool", header, rows, POOLED_LEGEND))
    if intervals is not None:
        level = f"{100 * defaults.CONFIDENCE:g} %"
        header = ["task", "model", "value", "mean", f"{level} low", f"{level} high"]
        tables.append(
            (
                f"{level} intervals: percentile bootstrap over topics of the per-query scores",
                header,
                interval_rows(records, intervals),
                None,
            )
        )
    for title, header, rows, legend in tables:
        # No column rules, collapsed padding (two spaces between columns); long names wrap.
        table = Table(box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False, show_edge=False)
        for column in header:
            text = column in ("task", "model", "over", "value")
            table.add_column(
                column, justify="left" if text else "right", no_wrap=not text, overflow="fold"
            )
        for row in rows:
            table.add_row(*row)
        console.print(f"[bold]{title}[/bold]")  # a title of its own: a narrow table would wrap it
        console.print(table)
        if legend:
            console.print(legend)
    notes = coverage_notes(records) + comparability_notes(corpus) + undefined_notes(corpus)
    for note in notes:
        console.print(f"[yellow]note:[/yellow] {note}")
