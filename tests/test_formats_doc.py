"""docs/formats.md: its minimal LAReQA task loads to exactly what the page says it is."""

from __future__ import annotations

import json
import re
from pathlib import Path

from xret.tasks.lareqa import custom_task, load_lareqa

ROOT = Path(__file__).resolve().parents[1]


def _example_files(folder: Path) -> Path:
    text = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    for lang in ("en", "de"):
        body = re.search(rf"`DIR/{lang}\.json`\n\n```json\n(.*?)```", text, re.S).group(1)
        (folder / f"{lang}.json").write_text(json.dumps(json.loads(body)), encoding="utf-8")
    return folder


def test_the_minimal_lareqa_task_of_the_formats_page(tmp_path):
    root = _example_files(tmp_path)
    spec = custom_task(root)
    data = load_lareqa(spec, {f: root / f for f in ("de.json", "en.json")}, ("de", "en"))
    assert sorted(q.id for q in data.queries) == ["de/q1", "en/q1", "en/q2"]
    assert [d.id for d in data.documents] == ["de/0/0", "de/0/1", "en/0/0", "en/0/1"]
    assert data.qrels == {
        "en/q1": {"en/0/0": 1, "de/0/0": 1},
        "en/q2": {"en/0/1": 1},  # no German gold: excluded from the en→de cell
        "de/q1": {"en/0/0": 1, "de/0/0": 1},
    }


def test_the_readme_links_the_formats_page():
    assert "(docs/formats.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
