"""One table value, several renderers: Markdown, LaTeX (booktabs), CSV and rich (HTML: ``html``).

A ``Table`` holds unformatted cells (text or numbers, ``None`` = blank) plus marks that
its builder computed (best / second best, win / loss); renderers only decide how they look. Every
renderer is a pure function of the table, so the same records give byte-identical output.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xret.measures.table import parse_measure

Cell = str | float | None

BEST, SECOND, WIN, LOSS = "best", "second", "win", "loss"


@dataclass(frozen=True)
class Column:
    label: str
    group: str = ""
    """Spanning header above ``label`` (e.g. the task or the setting)."""
    digits: int | None = None
    """Decimals shown; None for a text column."""
    higher_is_better: bool = True

    @classmethod
    def of_measure(cls, label: str, group: str, measure: str, digits: int | None = None) -> Column:
        """A column of ``measure``'s values: direction and decimals from the measure table, the
        decimals unless a table prints them otherwise (the paper's Tables 1 and 2)."""
        found = parse_measure(measure)
        return cls(label, group, found.digits if digits is None else digits, found.higher_is_better)

    @property
    def numeric(self) -> bool:
        return self.digits is not None

    @property
    def heading(self) -> str:
        """Group and label in one line, for formats with a single header row."""
        return f"{self.group} {self.label}".strip()


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    marks: tuple[tuple[str, ...], ...] = ()
    """Per cell: "", BEST, SECOND, WIN or LOSS (empty tuple: no marks)."""
    sections: frozenset[int] = frozenset()
    """Indexes of rows that start a new group of rows (drawn with a rule)."""
    footer: int = 0
    """The last ``footer`` rows summarise the others (Mean, Median) and stay last when sorting."""
    notes: tuple[str, ...] = ()
    source: str = ""
    """Where the numbers come from, e.g. "measured" or the citation of published numbers."""

    def text(self, i: int, j: int) -> str:
        value, column = self.rows[i][j], self.columns[j]
        if value is None:
            return ""
        if column.numeric and not isinstance(value, str):
            return f"{value:.{column.digits}f}"
        return str(value)

    def mark(self, i: int, j: int) -> str:
        return self.marks[i][j] if self.marks else ""


@dataclass(frozen=True)
class Document:
    """Tables in reading order, with notes that concern them all."""

    title: str
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()


def best_marks(
    rows: Sequence[Sequence[Cell]],
    columns: Sequence[Column],
    groups: Iterable[Sequence[tuple[int, int]]],
) -> tuple[tuple[str, ...], ...]:
    """Mark best and second best within each group of (row, column) cells.

    Values are compared as shown (rounded to the column's digits), so equal-looking numbers get
    the same mark; a group needs two values or more to mark anything.
    """
    marks = [["" for _ in columns] for _ in rows]
    for group in groups:
        shown = {}
        for i, j in group:
            value = rows[i][j]
            if isinstance(value, (int, float)):
                sign = 1 if columns[j].higher_is_better else -1
                shown[(i, j)] = sign * round(value, columns[j].digits or 0)
        if len(shown) < 2:
            continue
        ranked = sorted(set(shown.values()), reverse=True)
        for cell, value in shown.items():
            if value == ranked[0]:
                marks[cell[0]][cell[1]] = BEST
            elif len(ranked) > 1 and value == ranked[1]:
                marks[cell[0]][cell[1]] = SECOND
    return tuple(tuple(row) for row in marks)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Control characters (newlines, carriage returns, terminal escapes) as spaces: a name from a
    record stays text on its line and cannot start a heading, a LaTeX line or a table row."""
    return _CONTROL.sub(" ", text)


# --- Markdown -----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$&])")
_MD_MARK = {BEST: "**{}**", SECOND: "_{}_", WIN: "**{}**", LOSS: "_{}_"}


def md_escape(text: str) -> str:
    """Backslash-escape Markdown punctuation, so a name like ``<script>`` or ``50%_{x}`` stays
    text."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def render_markdown(doc: Document) -> str:
    out = [f"# {md_escape(doc.title)}", ""]
    for table in doc.tables:
        out += [f"## {md_escape(table.title)}", ""]
        if table.source:
            out += [f"Source: {md_escape(table.source)}.", ""]
        out.append("| " + " | ".join(md_escape(c.heading) for c in table.columns) + " |")
        out.append("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|")
        for i in range(len(table.rows)):
            cells = []
            for j in range(len(table.columns)):
                text = md_escape(table.text(i, j))
                mark = table.mark(i, j)
                cells.append(_MD_MARK[mark].format(text) if mark and text else text)
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out += [f"- {md_escape(note)}" for note in table.notes]
        if table.notes:
            out.append("")
    out += [f"- {md_escape(note)}" for note in doc.notes]
    return "\n".join(out).rstrip() + "\n"


# --- LaTeX (booktabs) ---------------------------------------------------------------------------

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_TEX_MARK = {
    BEST: r"\textbf{{{}}}",
    SECOND: r"\underline{{{}}}",
    WIN: r"\textbf{{{}}}",
    LOSS: r"\textit{{{}}}",
}


def tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in one_line(text))


def _spans(columns: Sequence[Column]) -> list[tuple[str, int, int]]:
    """Runs of equal non-empty groups: (group, first column, last column), 1-based."""
    spans: list[tuple[str, int, int]] = []
    for j, column in enumerate(columns, start=1):
        if spans and column.group and spans[-1][0] == column.group and spans[-1][2] == j - 1:
            spans[-1] = (column.group, spans[-1][1], j)
        elif column.group:
            spans.append((column.group, j, j))
    return spans


def _latex_table(table: Table) -> list[str]:
    align = "".join("r" if c.numeric else "l" for c in table.columns)
    out = [r"\begin{table}[t]", r"\centering", rf"\caption{{{tex_escape(table.title)}}}"]
    out += [rf"\begin{{tabular}}{{{align}}}", r"\toprule"]
    spans = _spans(table.columns)
    if spans:
        cells, position = [], 1
        for group, first, last in spans:
            cells += [""] * (first - position)
            cells.append(rf"\multicolumn{{{last - first + 1}}}{{c}}{{{tex_escape(group)}}}")
            position = last + 1
        cells += [""] * (len(table.columns) + 1 - position)
        out.append(" & ".join(cells) + r" \\")
        out.append(" ".join(rf"\cmidrule(lr){{{first}-{last}}}" for _, first, last in spans))
    out.append(" & ".join(tex_escape(c.label) for c in table.columns) + r" \\")
    out.append(r"\midrule")
    for i in range(len(table.rows)):
        if i and (i in table.sections or i == len(table.rows) - table.footer):
            out.append(r"\midrule")
        cells = []
        for j in range(len(table.columns)):
            text = tex_escape(table.text(i, j))
            mark = table.mark(i, j)
            cells.append(_TEX_MARK[mark].format(text) if mark and text else text)
        out.append(" & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    notes = ([f"Source: {table.source}."] if table.source else []) + list(table.notes)
    if notes:
        out.append(r"\par\smallskip{\footnotesize " + tex_escape(" ".join(notes)) + "}")
    out.append(r"\end{table}")
    return out


def render_latex(doc: Document) -> str:
    """Tables for a document that loads booktabs; best = bold, second best = underlined."""
    out = [f"% {tex_escape(doc.title)} -- needs \\usepackage{{booktabs}}"]
    for note in doc.notes:
        out.append(f"% {tex_escape(note)}")
    for table in doc.tables:
        out += [""] + _latex_table(table)
    return "\n".join(out) + "\n"


# --- CSV ----------------------------------------------------------------------------------------


_FORMULA_START = ("=", "+", "-", "@")


def csv_text(text: str) -> str:
    """A text cell on one line that a spreadsheet shows rather than runs: a leading ``=``, ``+``,
    ``-`` or ``@`` gets a ``'`` before it (numbers are written as numbers, never through here)."""
    text = one_line(text)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, (int, float)) else csv_text(str(value))


def render_csv(table: Table) -> str:
    """Header row, then the rows with full-precision numbers (marks are presentation, left out)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_text(c.heading) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue()


# --- terminal (rich) ----------------------------------------------------------------------------

_RICH_STYLE = {BEST: "bold", SECOND: "underline", WIN: "bold green", LOSS: "bold red"}


def rich_table(table: Table):
    from rich.table import Table as RichTable
    from rich.text import Text

    # Text objects throughout: names from records must never be read as rich markup.
    caption = Text(one_line(table.source)) if table.source else None
    out = RichTable(title=Text(one_line(table.title)), caption=caption)
    for column in table.columns:
        label = one_line(column.label)
        header = Text(f"{one_line(column.group)}\n{label}" if column.group else label)
        out.add_column(
            header, justify="right" if column.numeric else "left", no_wrap=not column.numeric
        )
    for i in range(len(table.rows)):
        cells = [
            Text(one_line(table.text(i, j)), style=_RICH_STYLE.get(table.mark(i, j), ""))
            for j in range(len(table.columns))
        ]
        last = i + 1 in table.sections or i + 1 == len(table.rows) - table.footer
        out.add_row(*cells, end_section=last and i + 1 < len(table.rows))
    return out


def print_document(doc: Document, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    for table in doc.tables:
        console.print(rich_table(table))
        for note in table.notes:
            console.print(f"  {one_line(note)}", markup=False, highlight=False)
    for note in doc.notes:
        console.print(f"note: {one_line(note)}", markup=False, highlight=False)
