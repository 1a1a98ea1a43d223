"""The LAReQA loader and the evaluation cells: inline fixtures with hand-computed gold, then
real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xret.errors import DataError, UnknownNameError
from xret.tasks import get_task, load_task
from xret.tasks.settings import build_cells
from xret.tasks.spec import Setting
from xret.testing import write_lareqa_task

PARAGRAPHS = {
    "en": [
        {
            "sentences": ["Paris is the capital.", "It has 2 million people."],
            "questions": [("q1", "What is the capital?", 0), ("q2", "How many people?", 1)],
        },
        {
            "sentences": ["Rome is old.", "Paris is the capital."],
            "questions": [("q3", "Is Rome old?", 0)],
        },
    ],
    "de": [
        {
            "sentences": ["Paris ist die Hauptstadt.", "Es hat 2 Millionen Einwohner."],
            "questions": [("q1", "Was ist die Hauptstadt?", 0), ("q2", "Wie viele Einwohner?", 1)],
        },
    ],
}


@pytest.fixture
def task(tmp_path):
    return get_task(f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}")


def test_candidates_gold_and_duplicates(task, cache_dir):
    data = load_task(task, task.languages, None, cache_dir)
    assert [d.id for d in data.documents] == [
        "de/0/0",
        "de/0/1",
        "en/0/0",
        "en/0/1",
        "en/1/0",
        "en/1/1",
    ]
    # The duplicated English sentence stays two candidates.
    assert [d.text for d in data.documents].count("Paris is the capital.") == 2
    assert data.qrels["en/q1"] == {"en/0/0": 1, "de/0/0": 1}
    assert data.qrels["de/q2"] == {"en/0/1": 1, "de/0/1": 1}
    assert data.qrels["en/q3"] == {"en/1/0": 1}  # q3 exists only in English
    assert set(data.checksums) == {"de.json", "en.json"}


def test_cells_keep_only_queries_with_gold_in_the_pool(task, cache_dir):
    data = load_task(task, task.languages, None, cache_dir)
    cells = {c.label: c for c in build_cells(data, task.languages, task.settings)}
    assert set(cells) == {
        "mono/de/de",
        "mono/en/en",
        "cross/de/en",
        "cross/en/de",
        "multi/de/all",
        "multi/en/all",
    }
    assert len(cells["cross/en/de"].queries) == 2 and cells["cross/en/de"].excluded == 1
    assert len(cells["multi/en/all"].pool) == 6
    assert len(cells["mono/en/en"].pool) == 4


def test_language_selection(task, cache_dir):
    assert task.check_languages(("en",)) == ("en",)
    with pytest.raises(UnknownNameError, match="did you mean 'en'"):
        task.check_languages(("eng",))


def _corrupt(root: Path, edit) -> None:
    doc = json.loads((root / "en.json").read_text())
    edit(doc)
    (root / "en.json").write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][0]["answers"][0].update(
                answer_start=10_000
            ),
            "lies in no sentence",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][0].pop("sentence_breaks"),
            r"data\[0\]\.paragraphs\[0\]: missing 'sentence_breaks'",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][1]["qas"].append(
                d["data"][0]["paragraphs"][0]["qas"][0]
            ),
            "occurs twice",
        ),
    ],
)
def test_bad_files_fail_with_one_line(tmp_path, cache_dir, edit, message):
    root = write_lareqa_task(tmp_path / "bad", PARAGRAPHS)
    _corrupt(root, edit)
    task = get_task(f"lareqa:{root}")
    with pytest.raises(DataError, match=message) as info:
        load_task(task, task.languages, None, cache_dir)
    assert "en.json" in str(info.value) and "\n" not in str(info.value)


def test_unreadable_json(tmp_path, cache_dir):
    root = write_lareqa_task(tmp_path / "bad", PARAGRAPHS)
    (root / "de.json").write_text("{not json")
    task = get_task(f"lareqa:{root}")
    with pytest.raises(DataError, match="de.json: cannot read LAReQA JSON"):
        load_task(task, task.languages, None, cache_dir)


@pytest.mark.realdata
def test_xquad_r_counts(data_dir, cache_dir):
    task = get_task("xquad-r")
    data = load_task(
        task, task.languages, data_dir, cache_dir
    )  # the loader asserts every pinned count
    assert (len(data.queries), len(data.documents)) == (13090, 13014)
    assert len({d.text for d in data.documents}) == 13000
    cells = build_cells(data, task.languages, task.settings)
    assert [sum(c.setting is s for c in cells) for s in Setting] == [11, 110, 11]
    assert all(len(c.queries) == 1190 and c.excluded == 0 for c in cells)


@pytest.mark.realdata
def test_mlqa_r_pair_matrix(data_dir, cache_dir):
    task = get_task("mlqa-r")
    data = load_task(task, task.languages, data_dir, cache_dir)
    assert (len(data.queries), len(data.documents)) == (4199, 20534)
    cells = build_cells(data, task.languages, task.settings)
    found = {
        (c.query_language, c.pool_language): len(c.queries)
        for c in cells
        if c.setting is not Setting.MULTI
    }
    assert found == dict(
        task.expected.pair_queries
    )  # protocol.md §2.1, zh row = MTEB's 188/190/504/161/189/184
    multi = {c.query_language: len(c.queries) for c in cells if c.setting is Setting.MULTI}
    assert multi == dict(task.expected.queries)


@pytest.mark.realdata
def test_language_subset_loads_only_its_files(data_dir, cache_dir):
    task = get_task("mlqa-r")
    data = load_task(task, ("de", "zh"), data_dir, cache_dir)
    assert set(data.checksums) == {"mlqa-r/de.json", "mlqa-r/zh.json"}
    assert len(data.queries) == 512 + 504
