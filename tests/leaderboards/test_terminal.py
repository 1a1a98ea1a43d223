"""The terminal never cuts a number: at 80, 120 and 200 columns every value the Markdown shows
is printed whole (tables split by column group, labels wrapped or folded, else one block per
row), and no line is wider than the console."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest

from xret.leaderboards.leaderboard import build_leaderboard
from xret.leaderboards.scores import collect, load_collection
from xret.leaderboards.table import Column, Document, Table, print_document, render_markdown

from .conftest import make_record

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"^-?\d[\d.]*$")


def _markdown_values(doc: Document) -> Counter:
    values = Counter()
    for line in render_markdown(doc).splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            for cell in line.strip("|").split(" | "):
                cell = cell.strip().strip("*_")
                if NUMBER.match(cell):
                    values[cell] += 1
    return values


def _terminal(doc: Document, width: int) -> str:
    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True)
    print_document(doc, console)
    return console.export_text()


def _check(doc: Document, width: int) -> None:
    text = _terminal(doc, width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    shown = Counter(token for token in text.split() if NUMBER.match(token))
    missing = {v: n - shown[v] for v, n in _markdown_values(doc).items() if shown[v] < n}
    assert not missing, f"values cut or lost at {width} columns: {missing}"


@pytest.mark.parametrize("width", [80, 120, 200])
def test_committed_leaderboard_keeps_every_number(width):
    if not (ROOT / "results").is_dir():
        pytest.skip("no committed results in this checkout")
    _check(build_leaderboard(load_collection(ROOT / "results")), width)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_long_labels_wrap_and_wide_tables_split(width):
    name = "a-model-with-a-very-long-name-and-no-spaces__x-x-mono__seed0"
    cells = {
        (s, q, p): {"MAP": 0.123456 + i / 1000, "RD": 1234.5}
        for i, (s, q, p) in enumerate(
            [("mono", "de", "de"), ("mono", "en", "en"), ("cross", "de", "en")]
            + [("cross", "en", "de"), ("multi", "de", "all"), ("multi", "en", "all")]
        )
    }
    records = [
        (Path(f"{k}.json"), make_record(f"{name}{k}", cells, regime="x-x-mono", base_model="b"))
        for k in range(3)
    ]
    _check(build_leaderboard(collect(records, by_seed=True), published=False), width)


def test_a_table_too_wide_for_any_split_is_printed_row_by_row():
    columns = (Column("label"), *(Column(f"c{j}", digits=4) for j in range(3)))
    table = Table("t", columns, (("x" * 50, 123456789.1234, 2.5, 3.25),))
    doc = Document("d", (table,))
    text = _terminal(doc, 20)  # the label folded to 10 characters and one number: 26
    assert "c0: 123456789.1234" in text and "c2: 3.2500" in text


@pytest.mark.parametrize("width", [80, 120, 200])
def test_compare_keeps_every_number(width):
    from xret.leaderboards.compare import MACRO, Comparison, PairedRow, comparison_document
    from xret.measures.paired import PairedTest

    a, b = "me5-small-q4__hybrid-a0.5__seed0", "me5-small-q4__x-x-mono__seed0"

    def row(setting, query, pool, k):
        return PairedRow(
            a,
            b,
            setting,
            query,
            pool,
            1190,
            0.71234 + k,
            0.69876,
            0.01358 + k,
            0.00412,
            0.02317,
            0.00049995,
            0.0014999,
            "A",
        )

    comparison = Comparison(
        (a, b),
        "xquad-r",
        "MAP",
        PairedTest.RANDOMISATION,
        0.05,
        10_000,
        0,
        1190,
        {a: {"mono": 0.71234, "cross": 0.81234}, b: {"mono": 0.69876, "cross": 0.69876}},
        settings=tuple(row(s, MACRO, "", k / 10) for k, s in enumerate(["mono", "cross"])),
        pairs=tuple(row("cross", q, p, 0.0) for q, p in [("ar", "de"), ("de", "ar")]),
    )
    _check(comparison_document(comparison), width)
