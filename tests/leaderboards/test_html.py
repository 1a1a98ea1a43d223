"""The self-contained HTML page: statically, and opened in headless Chromium (shows the tables,
sorts on a real click on a header). Chromium tests skip visibly where it is not installed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from xret.leaderboards.html import Figure, render_html
from xret.leaderboards.leaderboard import build_leaderboard
from xret.leaderboards.scores import collect

from .conftest import XQUAD_R, make_record, uniform_cells

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def page() -> str:
    records = [
        (
            Path(f"{name}.json"),
            make_record(name, uniform_cells(XQUAD_R, mono, 0.3, 0.2, 6.0), task_languages=XQUAD_R),
        )
        for name, mono in [
            ("mid", 0.5),
            ("<script>alert(1)</script>", 0.9),
            ("low", 0.1),
            ("50%_{x}", 0.3),
        ]
    ]
    doc = build_leaderboard(collect(records), published=True)
    return render_html(doc, [Figure("a <b>figure</b>", b"\x89PNG fake")])


def test_page_is_self_contained_and_escaped(page):
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page) and "<link" not in page
    assert page.count("<script>") == 1  # the sorter; the model named <script> is text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<td>50%_{x}</td>" in page
    assert 'alt="a &lt;b&gt;figure&lt;/b&gt;"' in page and "data:image/png;base64," in page
    assert page.count('<table class="sortable">') >= 3
    assert "published (Elmahdy et al. 2024)" in page and '<td class="num" data-v="0.9">' in page


def _chromium(html: str, tmp_path: Path) -> str:
    if not CHROMIUM.exists():
        pytest.skip(
            "headless Chromium not installed (/usr/bin/chromium; .ci/run installs Debian's"
            " chromium)"
        )
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        path.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _body_result(dom: str) -> str:
    match = re.search(r'<body[^>]*\sdata-result="([^"]*)"', dom)
    assert match, dom[:2000]
    return match.group(1)


def test_chromium_shows_the_tables(page, tmp_path):
    dom = _chromium(page, tmp_path)
    assert "mAP, macro average over languages" in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count("<table") == page.count("<table")


# Injected after the page's own script: a real click() on a header, then the resulting order.
_CLICK = """<script>
function order() {
  return Array.prototype.map.call(document.querySelectorAll("#table-0 tbody tr"), function (r) {
    return r.cells[3].textContent + "=" + r.cells[4].textContent; }).join("|");
}
var th = document.querySelector("#table-0 thead tr:last-child th:nth-child(5)");
var before = order();
th.click();
var first = order() + "/" + th.getAttribute("aria-sort");
th.click();
var second = order() + "/" + th.getAttribute("aria-sort");
document.querySelector("#table-0 thead tr:last-child th:nth-child(4)").click();
var byName = order();
document.body.setAttribute("data-result", [before, first, second, byName].join(" ;; "));
</script></body>"""


def test_chromium_sorts_on_click(page, tmp_path):
    dom = _chromium(page.replace("</body>", _CLICK), tmp_path)
    before, first, second, by_name = _body_result(dom).split(" ;; ")
    script = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # Measured rows first, by model name, then the paper's rows.
    assert before.split("|")[:5] == [
        "50%_{x}=0.300",
        f"{script}=0.900",
        "low=0.100",
        "mid=0.500",
        "XLM-R=0.792",
    ]
    first_rows, first_dir = first.rsplit("/", 1)
    # First click on a higher-is-better column: best first; blanks (none here) would go last.
    assert first_dir == "descending"
    values = [float(row.rsplit("=", 1)[1]) for row in first_rows.split("|")]
    assert values == sorted(values, reverse=True) and values[0] == 0.9
    second_rows, second_dir = second.rsplit("/", 1)
    assert second_dir == "ascending" and second_rows.split("|")[0] == "low=0.100"
    # A text column sorts A-Z in the browser's locale order (case-insensitive).
    assert [row.split("=")[0] for row in by_name.split("|")] == [
        script,
        "50%_{x}",
        "LaBSE",
        "LaBSE",
        "LaBSE",
        "low",
        "mid",
        "XLM-R",
        "XLM-R",
        "XLM-R",
    ]
