"""The leaderboard as one self-contained HTML page: inline CSS, a small inline script that sorts a
table when a column header is clicked, figures as base64 PNG. Nothing is fetched when it is
viewed. Every text that comes from records goes through ``html.escape``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape as _html_escape

from xret.leaderboards.table import BEST, LOSS, SECOND, WIN, Document, Table, one_line


def escape(text: str) -> str:
    """HTML-escaped, quotes included, with control characters (invalid in HTML) as spaces."""
    return _html_escape(one_line(text))


@dataclass(frozen=True)
class Figure:
    title: str
    png: bytes


# In _STYLE and _SCRIPT a backslash at a line's end is Python's: it joins the line with the next.
_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; \
color: #222; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { padding: .2em .6em; border-bottom: 1px solid #ddd; white-space: nowrap; }
thead th { background: #f4f4f4; }
thead tr:last-child th { cursor: pointer; user-select: none; }
thead tr:last-child th::after { content: " \\2195"; color: #aaa; font-size: .8em; }
thead th[aria-sort=ascending]::after { content: " \\2191"; color: #222; }
thead th[aria-sort=descending]::after { content: " \\2193"; color: #222; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.group-start td { border-top: 2px solid #999; }
table.sorted tr.group-start td { border-top: none; }
tfoot td { border-top: 2px solid #999; font-style: italic; }
.win { color: #17692b; } .loss { color: #a31515; }
.source { color: #555; margin: 0; }
figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; }
figcaption { font-size: .9em; color: #555; }
"""

# Sorts tbody rows by the clicked column of the last header row; footer rows (tfoot) stay put.
# Numbers sort best first on the first click (data-better), text A-Z; blanks always go last.
_SCRIPT = """
(function () {
  function key(cell, numeric) {
    if (!numeric) { return cell.textContent; }
    var v = cell.getAttribute("data-v");
    return v === null ? null : parseFloat(v);
  }
  function blank(v) { return v === null || v === ""; }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var head = table.tHead.rows[table.tHead.rows.length - 1];
    Array.prototype.forEach.call(head.cells, function (th, col) {
      th.tabIndex = 0;
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); th.click(); }
      });
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "number";
        var first = numeric && th.getAttribute("data-better") !== "lower" ? "descending" : \
"ascending";
        var now = th.getAttribute("aria-sort");
        var dir = now === first ? (first === "ascending" ? "descending" : "ascending") : first;
        Array.prototype.forEach.call(head.cells, function (h) { h.setAttribute("aria-sort", \
"none"); });
        th.setAttribute("aria-sort", dir);
        var sign = dir === "ascending" ? 1 : -1;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
          if (blank(x) || blank(y)) { return blank(x) - blank(y); }
          return sign * (numeric ? x - y : x.localeCompare(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
        table.classList.add("sorted");
      });
    });
  });
})();
"""

_WRAP = {
    BEST: "<strong>{}</strong>",
    SECOND: "<u>{}</u>",
    WIN: '<strong class="win">{}</strong>',
    LOSS: '<strong class="loss">{}</strong>',
}


def _row(table: Table, i: int, section: bool) -> str:
    cells = []
    for j, column in enumerate(table.columns):
        text = escape(table.text(i, j))
        mark = table.mark(i, j)
        shown = _WRAP[mark].format(text) if mark and text else text
        value = table.rows[i][j]
        hint = table.hint(i, j)
        title = f' title="{escape(hint)}"' if hint else ""
        if column.numeric and isinstance(value, (int, float)):
            cells.append(f'<td class="num" data-v="{float(value)!r}"{title}>{shown}</td>')
        else:
            cells.append(f'<td class="num">{shown}</td>' if column.numeric else f"<td>{shown}</td>")
    start = '<tr class="group-start">' if section else "<tr>"
    return f"{start}{''.join(cells)}</tr>"


def _table(table: Table, index: int) -> str:
    out = [f'<section id="table-{index}"><h2>{escape(table.title)}</h2>']
    if table.source:
        out.append(f'<p class="source">Source: {escape(table.source)}</p>')
    out.append('<table class="sortable"><thead>')
    if any(c.group for c in table.columns):
        groups, j = [], 0
        while j < len(table.columns):
            span = 1
            while (
                j + span < len(table.columns)
                and table.columns[j + span].group == table.columns[j].group
            ):
                span += 1
            groups.append(f'<th colspan="{span}">{escape(table.columns[j].group)}</th>')
            j += span
        out.append(f"<tr>{''.join(groups)}</tr>")
    heads = []
    for column in table.columns:
        kind = "number" if column.numeric else "text"
        better = "higher" if column.higher_is_better else "lower"
        heads.append(
            f'<th scope="col" data-type="{kind}" data-better="{better}" aria-sort="none">'
            f"{escape(column.label)}</th>"
        )
    out.append(f"<tr>{''.join(heads)}</tr></thead><tbody>")
    body = len(table.rows) - table.footer
    out += [_row(table, i, i in table.sections) for i in range(body)]
    out.append("</tbody>")
    if table.footer:
        out += [
            "<tfoot>",
            *(_row(table, i, False) for i in range(body, len(table.rows))),
            "</tfoot>",
        ]
    out.append("</table>")
    if table.notes:
        out.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in table.notes) + "</ul>")
    out.append("</section>")
    return "\n".join(out)


def render_html(doc: Document, figures: Sequence[Figure] = ()) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    parts += [_table(table, i) for i, table in enumerate(doc.tables)]
    if figures:
        parts.append('<section id="figures"><h2>Heatmaps and language bias</h2>')
        for figure in figures:
            data = base64.b64encode(figure.png).decode("ascii")
            parts.append(
                f'<figure><img alt="{escape(figure.title)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{escape(figure.title)}</figcaption></figure>"
            )
        parts.append("</section>")
    if doc.notes:
        parts.append('<section id="notes"><h2>Notes</h2><ul>')
        parts += [f"<li>{escape(note)}</li>" for note in doc.notes]
        parts.append("</ul></section>")
    parts += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"
