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
    hints: tuple[tuple[str, ...], ...] = ()
    """Per cell: a note on the value (e.g. its interval), shown where a format can (HTML: on
    hover); empty tuple: none."""

    def text(self, i: int, j: int) -> str:
        value, column = self.rows[i][j], self.columns[j]
        if value is None:
            return ""
        if column.numeric and not isinstance(value, str):
            return f"{value:.{column.digits}f}"
        return str(value)

    def mark(self, i: int, j: int) -> str:
        return self.marks[i][j] if self.marks else ""

    def hint(self, i: int, j: int) -> str:
        return self.hints[i][j] if self.hints else ""


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
_FOLDS = (None, 16, 10)
"""Longest unbroken piece of a label tried, in turn, to make a table fit the terminal."""


def _fold(text: str, width: int | None) -> str:
    """Words longer than ``width`` cut into pieces (after ``_ - / .`` where one is near) so that
    the terminal can wrap a label; numbers are never passed here."""
    if width is None:
        return text
    pieces = []
    for word in text.split(" "):
        while len(word) > width:
            cut = max(word.rfind(ch, 1, width) for ch in "_-/.")
            cut = cut + 1 if cut > 0 else width
            pieces.append(word[:cut])
            word = word[cut:]
        pieces.append(word)
    return " ".join(pieces)


def _header(table: Table, j: int, fold: int | None) -> str:
    column = table.columns[j]
    label = _fold(one_line(column.label), fold)
    return f"{_fold(one_line(column.group), fold)}\n{label}" if column.group else label


def _least_width(table: Table, j: int, fold: int | None) -> int:
    """The narrowest a column can be: its longest number (never broken), or its longest word
    of a label."""
    from rich.cells import cell_len

    numeric = table.columns[j].numeric
    words = _header(table, j, fold).split()
    for i in range(len(table.rows)):
        text = one_line(table.text(i, j))
        words += [text] if numeric else _fold(text, fold).split()
    return max((cell_len(w) for w in words), default=1)


def _widths(table: Table, fold: int | None, width: int | None) -> list[int | None]:
    """Every column's width: numeric ones their least, label columns from their least up to
    their natural width, the widest shortfall served first; None (rich decides) without a
    console width."""
    from rich.cells import cell_len

    if width is None:
        return [None] * len(table.columns)
    least = [_least_width(table, j, fold) for j in range(len(table.columns))]
    natural = [
        max(
            cell_len(line)
            for text in [_header(table, j, fold)]
            + [_fold(one_line(table.text(i, j)), fold) for i in range(len(table.rows))]
            for line in text.split("\n")
        )
        if not column.numeric
        else least[j]
        for j, column in enumerate(table.columns)
    ]
    widths = list(least)
    spare = width - 2 * (len(widths) - 1) - sum(widths)
    while spare > 0:
        short = max(range(len(widths)), key=lambda j: natural[j] - widths[j])
        if natural[short] <= widths[short]:
            break
        widths[short] += 1
        spare -= 1
    return widths


def rich_table(table: Table, fold: int | None = None, width: int | None = None):
    """A rich table that wraps labels but never numbers: every column at least as wide as its
    longest number or word (see ``_fits``), within ``width`` characters when given."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    # Text objects throughout: names from records must never be read as rich markup.
    caption = Text(one_line(table.source)) if table.source else None
    out = RichTable(
        title=Text(one_line(table.title)),
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for j, (column, size) in enumerate(zip(table.columns, _widths(table, fold, width))):
        out.add_column(
            Text(_header(table, j, fold)),
            justify="right" if column.numeric else "left",
            width=size,
            overflow="fold",
        )
    for i in range(len(table.rows)):
        cells = [
            Text(
                one_line(table.text(i, j))
                if column.numeric
                else _fold(one_line(table.text(i, j)), fold),
                style=_RICH_STYLE.get(table.mark(i, j), ""),
            )
            for j, column in enumerate(table.columns)
        ]
        last = i + 1 in table.sections or i + 1 == len(table.rows) - table.footer
        out.add_row(*cells, end_section=last and i + 1 < len(table.rows))
    return out


def _columns(table: Table, keep: Sequence[int], part: str) -> Table:
    """The table with only the columns ``keep`` (indexes, in order); ``part`` ends its title."""
    return Table(
        title=f"{table.title} {part}".rstrip(),
        columns=tuple(table.columns[j] for j in keep),
        rows=tuple(tuple(row[j] for j in keep) for row in table.rows),
        marks=tuple(tuple(row[j] for j in keep) for row in table.marks),
        hints=tuple(tuple(row[j] for j in keep) for row in table.hints),
        sections=table.sections,
        footer=table.footer,
        notes=table.notes,
        source=table.source,
    )


def _fits(table: Table, fold: int | None, console) -> bool:
    """Whether ``rich_table(table, fold)`` fits the console without cutting a word: its columns
    at their least widths, two characters between columns (a blank rule and one of padding)."""
    least = sum(_least_width(table, j, fold) for j in range(len(table.columns)))
    return least + 2 * (len(table.columns) - 1) <= console.width


def _parts(table: Table, fold: int | None, console) -> list[Table] | None:
    """The table split into parts that each fit the console, every part with all the text
    columns and a run of the numeric ones (whole column groups where they fit); None if a single
    numeric column does not fit."""
    text = [j for j, c in enumerate(table.columns) if not c.numeric]
    numeric = [j for j, c in enumerate(table.columns) if c.numeric]
    groups: list[list[int]] = []
    for j in numeric:
        if groups and table.columns[groups[-1][-1]].group == table.columns[j].group:
            groups[-1].append(j)
        else:
            groups.append([j])
    chunks: list[list[int]] = []
    for group in groups:
        for j in group:
            trial = (chunks[-1] if chunks else []) + [j]
            start_group = j == group[0] and chunks
            if (
                chunks
                and not start_group
                and _fits(_columns(table, text + trial, ""), fold, console)
            ):
                chunks[-1] = trial
            elif start_group and _fits(
                _columns(table, text + chunks[-1] + group, ""), fold, console
            ):
                chunks[-1] = chunks[-1] + [j]
            elif _fits(_columns(table, text + [j], ""), fold, console):
                chunks.append([j])
            else:
                return None
    return [
        _columns(table, sorted(text + chunk), f"({k}/{len(chunks)})" if len(chunks) > 1 else "")
        for k, chunk in enumerate(chunks, start=1)
    ]


def _long(table: Table, console) -> None:
    """The last resort for a narrow terminal: one block per row, every value with its heading."""
    from rich.text import Text

    console.print(Text(one_line(table.title), style="bold"))
    for i in range(len(table.rows)):
        labels = [table.text(i, j) for j, c in enumerate(table.columns) if not c.numeric]
        console.print(Text(one_line(" · ".join(label for label in labels if label))))
        for j, column in enumerate(table.columns):
            if column.numeric and table.text(i, j):
                console.print(Text(f"  {one_line(column.heading)}: {table.text(i, j)}"))


def print_table(table: Table, console) -> None:
    """Whole if it fits; else in the fewest parts that fit (split at column groups where they
    fit), folding long labels only where that saves a part; else one block per row. A number is
    never cut."""
    for fold in _FOLDS:
        if _fits(table, fold, console):
            console.print(rich_table(table, fold, console.width))
            return
    options = [(fold, _parts(table, fold, console)) for fold in _FOLDS]
    options = [(fold, parts) for fold, parts in options if parts is not None]
    if not options:
        _long(table, console)
        return
    fold, parts = min(options, key=lambda option: len(option[1]))  # the first of the fewest
    for part in parts:
        console.print(rich_table(part, fold, console.width))


def print_document(doc: Document, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    for table in doc.tables:
        print_table(table, console)
        for note in table.notes:
            console.print(f"  {one_line(note)}", markup=False, highlight=False)
    for note in doc.notes:
        console.print(f"note: {one_line(note)}", markup=False, highlight=False)
