"""From cell means to per-source-language values and summaries (protocol.md §3.1).

Per source language: Mo. is its monolingual cell, Cr. the mean over its target languages, Mul.
its multilingual cell. Summaries (e.g. the macro average) are statistics over languages, never
query-weighted.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

from xret.results.record import CellScores
from xret.tasks.spec import Aggregate

_STATISTICS = {"mean": statistics.fmean, "median": statistics.median}


def by_language(cells: Sequence[CellScores]) -> dict[str, dict[str, dict[str, float]]]:
    """setting -> measure -> source language -> value (mean over that language's cells)."""
    grouped: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for c in cells:
        for measure, value in c.values.items():
            grouped[(c.setting, measure, c.query_language)].append(value)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (setting, measure, language), values in sorted(grouped.items()):
        out.setdefault(setting, {}).setdefault(measure, {})[language] = statistics.fmean(values)
    return out


def summarise(
    per_language: dict[str, dict[str, dict[str, float]]], aggregates: Sequence[Aggregate]
) -> dict[str, dict[str, dict[str, float]]]:
    """aggregate name -> setting -> measure -> statistic over the aggregate's languages present
    (all of them, for an aggregate marked ``complete``; otherwise it is left out)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for agg in aggregates:
        for setting, measures in per_language.items():
            for measure, values in measures.items():
                present = [values[lang] for lang in agg.languages if lang in values]
                if agg.complete and len(present) < len(agg.languages):
                    continue
                if present:
                    value = _STATISTICS[agg.statistic](present)
                    out.setdefault(agg.name, {}).setdefault(setting, {})[measure] = value
    return out
