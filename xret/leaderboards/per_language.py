"""Per-language tables in the shape of the paper's Tables 3-8 and 12-13: measured ones (rows =
source languages, then mean/median; one column per model and setting or measure) and the paper's
own, as printed. Best and second best are marked among the columns of one group in a row.
"""

from __future__ import annotations

from collections.abc import Sequence

from xret.leaderboards.published import (
    MAP_BLOCKS,
    MIRACL_BLOCKS,
    RECALL_BLOCKS,
    SOURCE,
    PaperTable,
    reference_for,
)
from xret.leaderboards.scores import MEASURED, Scores, system_order
from xret.leaderboards.table import Column, Table, best_marks
from xret.results.summary import POOLED_BIAS_HEADLINE, SETTING_LABELS

_FOOTER_LABELS = {"mean": "Mean", "median": "Median"}


def _block_label(blocks: Sequence[tuple[str, str]], setting: str, measure: str) -> str:
    parts = []
    if len({s for s, _ in blocks}) > 1:
        parts.append(SETTING_LABELS.get(setting, setting))
    if len({m for _, m in blocks}) > 1:
        parts.append(measure)
    return " ".join(parts) or f"{SETTING_LABELS.get(setting, setting)} {measure}"


def _member_label(scores: Scores, peers: Sequence[Scores]) -> str:
    """The regime where it tells the peers apart, else the model name."""
    system = scores.system
    if system.regime and [p.system.regime for p in peers].count(system.regime) == 1:
        return system.regime_label
    return f"{system.model} ({system.regime_label})" if system.regime else system.model


def _language_table(
    title: str,
    source: str,
    columns: Sequence[tuple[Scores, str, str, Column]],
    footers: Sequence[str],
) -> Table:
    """Rows = source languages then footer statistics; one column per (scores, setting, measure)."""
    languages = list(dict.fromkeys(lang for scores, *_ in columns for lang in scores.languages))
    rows = [
        (lang, *(scores.value(setting, measure, lang) for scores, setting, measure, _ in columns))
        for lang in languages
    ]
    rows += [
        (
            _FOOTER_LABELS[stat],
            *(scores.statistic(stat, setting, measure) for scores, setting, measure, _ in columns),
        )
        for stat in footers
    ]
    header = (Column("language"), *(column for *_, column in columns))
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for i in range(len(rows)):
        for j, column in enumerate(header[1:], start=1):
            groups.setdefault((i, column.group), []).append((i, j))
    return Table(
        title=title,
        columns=header,
        rows=tuple(rows),
        marks=best_marks(rows, header, groups.values()),
        footer=len(footers),
        source=source,
    )


def _block_table(title: str, members: Sequence[Scores], blocks, footers) -> Table:
    columns = [
        (
            m,
            setting,
            measure,
            Column.of_measure(
                _member_label(m, members), _block_label(blocks, setting, measure), measure
            ),
        )
        for setting, measure in blocks
        for m in members
    ]
    return _language_table(title, MEASURED, columns, footers)


def _rank_distance_table(title: str, groups: Sequence[Sequence[Scores]]) -> Table:
    columns = [
        (
            m,
            "multi",
            "RD",
            Column.of_measure(_member_label(m, group), m.system.base_model, "RD"),
        )
        for group in groups
        for m in group
    ]
    return _language_table(title, MEASURED, columns, ("mean",))


def paper_table(table: PaperTable) -> Table:
    """One of the paper's per-language tables, as printed."""
    published = {(s.system.base_model, s.system.regime): s for s in reference_for(table.task, "")}
    columns = []
    for setting, measure, backbone, regime in table.columns:
        scores = published[(backbone, regime)]
        group = (
            backbone if len(table.backbones) > 1 else _block_label(table.blocks, setting, measure)
        )
        columns.append(
            (
                scores,
                setting,
                measure,
                Column.of_measure(scores.system.regime_label, group, measure),
            )
        )
    footers = ("mean", "median") if table.task == "miracl" else ("mean",)
    return _language_table(table.title, SOURCE, columns, footers)


def _by_base_model(members: Sequence[Scores]) -> list[list[Scores]]:
    groups: dict[str, list[Scores]] = {}
    for m in sorted(members, key=lambda s: system_order(s.system)):
        groups.setdefault(m.system.base_model, []).append(m)
    return list(groups.values())


def corpus_setting(scores: Scores) -> str:
    """The setting of a MIRACL-format task's values: multi for a pooled task, else mono."""
    return "multi" if scores.family == "miracl" and "multi" in scores.by_language else "mono"


def per_language_tables(label: str, family: str, members: Sequence[Scores]) -> list[Table]:
    """The measured per-language tables of one evaluation (``label``) of a task ``family``; a
    pooled MIRACL-format task's bias panel after its nDCG@10 and R@100."""
    tables = []
    groups = _by_base_model(members)
    if family == "miracl":
        setting = corpus_setting(members[0])
        blocks = tuple((setting, measure) for _, measure in MIRACL_BLOCKS)
        panel = tuple(
            ("multi", m)
            for m in POOLED_BIAS_HEADLINE
            if any(m in s.by_language.get("multi", {}) for s in members)
        )
        for group in groups:
            base = group[0].system.base_model
            title = f"{base} on {label}, nDCG@10 and R@100 (measured)"
            tables.append(_block_table(title, group, blocks, ("mean", "median")))
            if panel:
                title = f"{base} on {label}, language bias in one pool (measured)"
                tables.append(_block_table(title, group, panel, ("mean", "median")))
        return tables
    for group in groups:
        base = group[0].system.base_model
        tables.append(
            _block_table(f"{base} on {label}, MAP (measured)", group, MAP_BLOCKS, ("mean",))
        )
        tables.append(
            _block_table(
                f"{base} on {label}, R@1 (Mo./Cr.), R@10 (Mul.) (measured)",
                group,
                RECALL_BLOCKS,
                ("mean",),
            )
        )
    title = f"Average rank distance, {label} (multilingual setting, lower is better; measured)"
    tables.append(_rank_distance_table(title, groups))
    return tables
