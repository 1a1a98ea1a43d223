"""The short table ``xret bench`` prints at the end: the paper's headline numbers per record."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from xret.results.record import ResultRecord

# (setting, measure) columns in the paper's order: mAP per setting, R@1 / R@10, rank distance.
HEADLINE = (
    ("mono", "MAP"), ("cross", "MAP"), ("multi", "MAP"),
    ("mono", "R@1"), ("cross", "R@1"), ("multi", "R@10"),
    ("multi", "RD"),
)
SETTING_LABELS = {"mono": "Mo.", "cross": "Cr.", "multi": "Mul."}


def _fmt(measure: str, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if measure == "RD" else f"{value:.4f}"


def headline_rows(records: Sequence[ResultRecord], aggregate: str = "macro") -> list[list[str]]:
    rows = []
    for r in records:
        summary = r.summary.get(aggregate, {})
        rows.append(
            [r.task["name"], r.model["name"]]
            + [_fmt(m, summary.get(s, {}).get(m)) for s, m in HEADLINE]
        )
    return rows


def headline_header() -> list[str]:
    return ["task", "model"] + [f"{SETTING_LABELS[s]} {m}" for s, m in HEADLINE]


def coverage_notes(records: Sequence[ResultRecord]) -> list[str]:
    notes = []
    for r in records:
        uncovered = r.coverage.get("uncovered_languages") or []
        if uncovered:
            notes.append(
                f"{r.model['name']} on {r.task['name']}: does not cover {', '.join(uncovered)} "
                "(scored anyway; those languages are marked uncovered)"
            )
    return notes


def print_summary(records: Sequence[ResultRecord]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="macro average over languages")
    for column in headline_header():
        table.add_column(column, justify="left" if column in ("task", "model") else "right", no_wrap=True)
    for row in headline_rows(records):
        table.add_row(*row)
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    for note in coverage_notes(records):
        console.print(f"[yellow]note:[/yellow] {note}")
