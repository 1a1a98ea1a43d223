"""A pooled MIRACL-format task on real multilingual text: XQuAD written in MIRACL's format
(benchmarks/xquad_as_miracl.py), its panel recomputed by hand from the saved TREC run."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from benchmarks.xquad_as_miracl import convert


def test_the_pooled_panel_equals_a_count_over_the_saved_run(data_dir, tmp_path, xret_cli):
    task = tmp_path / "xquad-miracl"
    convert(task, ("de", "en"), data_dir)
    code, out, err = xret_cli(
        "bench", "-m", "xret.testing:HashEncoder", "-t", f"miracl:{task}+en", "-l", "de",
        "--corpus-dir", str(task / "corpus"), "--results-dir", str(tmp_path / "r"),
        "--save-run", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    [record_path] = (tmp_path / "r").glob("*/*/*.json")
    record = json.loads(record_path.read_text())
    # 240 paragraphs per language, the same docids in both: the pool namespaces them.
    assert record["extra"]["pool"]["passages"] == {"de": 240, "en": 240}
    runs = record_path.with_suffix(".runs")
    ranked = defaultdict(list)
    for line in (runs / "multi__de__all.run").read_text().splitlines():
        query, _, doc, rank, *_ = line.split()
        ranked[query].append((int(rank), doc))
    relevant = defaultdict(set)
    for line in (runs / "multi__de__all.qrels").read_text().splitlines():
        query, _, doc, grade = line.split()
        if int(grade) > 0:
            relevant[query].add(doc)
    assert len(ranked) == 1190 and all(d.startswith("de/") for r in relevant.values() for d in r)
    same, right_same, wrong_same = [], [], []
    for query, docs in ranked.items():
        top = [doc for _, doc in sorted(docs)[:10]]
        same.append(sum(doc.startswith("de/") for doc in top) / 10)
        first_same, first_right = top[0].startswith("de/"), top[0] in relevant[query]
        right_same.append(first_same and first_right)
        wrong_same.append(first_same and not first_right)
    values = record["cells"][0]["values"]
    n = len(same)
    assert values["Same@10"] == pytest.approx(sum(same) / n, abs=1e-12)
    assert values["Excess@10"] == pytest.approx(sum(same) / n - 0.5, abs=1e-12)
    assert values["RightSame"] == pytest.approx(sum(right_same) / n, abs=1e-12)
    assert values["WrongSame"] == pytest.approx(sum(wrong_same) / n, abs=1e-12)
    assert values["RightOther"] == 0.0  # only German passages are judged
    assert "RD" not in values and "Consist@10" not in values
