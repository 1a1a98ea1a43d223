"""BEIR-format tasks (``beir:DIR``): loading, validation, and equality with the LAReQA path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.lareqa_to_beir import convert
from xret.benchmark.runner import BenchConfig, run_bench
from xret.errors import DataError
from xret.tasks import get_task, load_task
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"


@pytest.fixture
def toy(tmp_path) -> tuple[Path, Path]:
    """The LAReQA toy task (duplicate candidates, a question only in English) and its BEIR copy."""
    lareqa = write_lareqa_task(tmp_path / "toy", PARAGRAPHS)
    convert(f"lareqa:{lareqa}", tmp_path / "beir", cache_dir=tmp_path / "cache")
    return lareqa, tmp_path / "beir"


def _cells(record) -> dict:
    return {(c.setting, c.query_language, c.pool_language): c for c in record.cells}


def assert_same_cells(a, b) -> None:
    """Every cell of two records: same queries scored and excluded, values within 1e-6."""
    cells_a, cells_b = _cells(a), _cells(b)
    assert cells_a.keys() == cells_b.keys()
    for key, cell in cells_a.items():
        other = cells_b[key]
        assert (cell.n_queries, cell.excluded) == (other.n_queries, other.excluded), key
        assert cell.values.keys() == other.values.keys()
        for measure, value in cell.values.items():
            expected = pytest.approx(value, abs=1e-6, nan_ok=True)
            assert other.values[measure] == expected, (key, measure)


def _bench(tmp_path: Path, *tasks: str, **options):
    config = BenchConfig(
        model=MODEL,
        tasks=tasks,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        progress=False,
        **options,
    )
    return [o.record for o in run_bench(config, log=lambda _: None)]


def test_loads_languages_shared_query_ids_and_every_file(toy, tmp_path):
    _, beir = toy
    task = get_task(f"beir:{beir}")
    assert task.languages == ("de", "en") and task.name == "beir:beir"
    data = load_task(task, task.languages, None, tmp_path / "cache")
    assert [d.id for d in data.documents] == [
        "de/0/0",
        "de/0/1",
        "en/0/0",
        "en/0/1",
        "en/1/0",
        "en/1/1",
    ]
    assert data.qrels["en/q1"] == {"en/0/0": 1, "de/0/0": 1}  # gold in German via the shared id
    assert data.qrels["en/q3"] == {"en/1/0": 1}
    assert set(data.checksums) == {
        f"{lang}/{name}"
        for lang in ("de", "en")
        for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv")
    }


def test_same_values_as_the_lareqa_path(toy, tmp_path):
    lareqa, beir = toy
    via_lareqa, via_beir = _bench(tmp_path, f"lareqa:{lareqa}", f"beir:{beir}")
    assert via_beir.options.extras["passage_text"] == "title+text"
    assert {c.setting for c in via_beir.cells} == {"mono", "cross", "multi"}
    assert_same_cells(via_lareqa, via_beir)


def test_without_shared_query_ids_cross_cells_score_nothing(toy, tmp_path):
    _, beir = toy
    for name in ("queries.jsonl", "qrels/test.tsv"):
        path = beir / "de" / name
        path.write_text(path.read_text().replace("q1", "x1").replace("q2", "x2"))
    (record,) = _bench(tmp_path, f"beir:{beir}")
    cells = _cells(record)
    assert (
        cells[("cross", "de", "en")].n_queries == 0 and cells[("cross", "de", "en")].excluded == 2
    )
    assert cells[("cross", "en", "de")].excluded == 3
    assert cells[("multi", "de", "all")].n_queries == 2


def test_title_is_encoded_unless_no_title(toy, tmp_path):
    _, beir = toy
    rows = [json.loads(line) for line in (beir / "en" / "corpus.jsonl").read_text().splitlines()]
    # A title that names the other sentence's subject moves the English mono ranking.
    rows[0]["title"] = "2 million people"
    (beir / "en" / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    titled, plain = (
        _bench(tmp_path, f"beir:{beir}")[0],
        _bench(tmp_path, f"beir:{beir}", corpus=_no_title())[0],
    )
    assert plain.options.extras["passage_text"] == "text" and titled.key != plain.key
    assert _cells(titled)[("mono", "en", "en")].values != _cells(plain)[("mono", "en", "en")].values


def _no_title():
    from xret.benchmark.runner import CorpusOptions

    return CorpusOptions(title=False)


def test_split_suffix_reads_that_qrels_file(toy, tmp_path):
    _, beir = toy
    for lang in ("de", "en"):
        qrels = beir / lang / "qrels"
        first = (qrels / "test.tsv").read_text().splitlines()[:2]  # the header and one judgement
        (qrels / "dev.tsv").write_text("\n".join(first) + "\n")
    task = get_task(f"beir:{beir}@dev")
    assert task.name == "beir:beir@dev" and task.files_for(("en",))[-1] == "en/qrels/dev.tsv"
    queries = load_task(task, task.languages, None, tmp_path / "cache").queries
    assert len(queries) == 2  # the one judged query of dev.tsv, in each language


_CORPUS, _QRELS = "en/corpus.jsonl", "en/qrels/test.tsv"


@pytest.mark.parametrize(
    ("path", "edit", "message"),
    [
        (_CORPUS, lambda t: t + "{\n", r"en/corpus.jsonl:5: not JSON"),
        (_CORPUS, lambda t: t + '{"_id": "x"}\n', r"en/corpus.jsonl:5: field 'text' is missing"),
        (_CORPUS, lambda t: t + '{"_id": "a b", "text": ""}\n', r":5: field '_id' is 'a b'"),
        (_CORPUS, lambda t: t + '{"_id": "0/0", "text": ""}\n', r":5: _id '0/0' occurs twice"),
        ("en/queries.jsonl", lambda t: t + "[]\n", r"en/queries.jsonl:4: not a JSON object"),
        (_QRELS, lambda t: t.split("\n", 1)[1], r"test.tsv:1: expected the header"),
        (_QRELS, lambda t: t + "q1\t0/0\n", r"test.tsv:5: expected query-id<TAB>corpus-id<TAB>int"),
        (_QRELS, lambda t: t + "q9\t0/0\t1\n", r"test.tsv:5: query-id 'q9' is not in queries"),
        (_QRELS, lambda t: t + "q1\tz\t1\n", r"test.tsv:5: corpus-id 'z' is not in corpus.jsonl"),
        (_QRELS, lambda t: t + "q1\t0/1\t2\n", r"test.tsv:5: score 2: only 0 and 1 are supported"),
        (_QRELS, lambda t: t + "q1\t0/0\t0\n", r"test.tsv:5: \(q1, 0/0\) judged twice"),
        (_CORPUS, lambda t: "", r"en/corpus.jsonl: no documents \(an empty file\)"),
        ("en/queries.jsonl", lambda t: "\n", r"en/queries.jsonl: no queries"),
        (_QRELS, lambda t: t.split("\n", 1)[0] + "\n", r"test.tsv: no judgements, so no query"),
        (_CORPUS, lambda t: t + '{"_id": true, "text": ""}\n', r":5: field '_id' is True"),
        (_CORPUS, lambda t: t + '{"_id": 1.5, "text": ""}\n', r":5: field '_id' is 1.5"),
    ],
)
def test_malformed_files_name_file_and_line(toy, tmp_path, path, edit, message):
    _, beir = toy
    target = beir / path
    target.write_text(edit(target.read_text()))
    task = get_task(f"beir:{beir}")
    with pytest.raises(DataError, match=message):
        load_task(task, task.languages, None, tmp_path / "cache")


def test_integer_ids_are_their_decimal_text(tmp_path, cache_dir):
    """BEIR files written by other tools may hold ``"_id": 7``; the qrels file says ``7``."""
    folder = tmp_path / "ints" / "en"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text('{"_id": 1, "text": "sun"}\n{"_id": 2, "text": "rain"}\n')
    (folder / "queries.jsonl").write_text('{"_id": 7, "text": "sun?"}\n')
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n7\t1\t1\n")
    task = get_task(f"beir:{tmp_path / 'ints'}")
    data = load_task(task, task.languages, None, cache_dir)
    assert data.qrels == {"en/7": {"en/1": 1}}
    assert [d.id for d in data.documents] == ["en/1", "en/2"]


def test_missing_folders_and_files_are_one_line_errors(toy, tmp_path, xret_cli):
    _, beir = toy
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", f"beir:{tmp_path / 'nowhere'}", "-q")
    assert code != 0 and err.startswith("xret: error: ") and err.count("\n") == 1
    (beir / "de" / "qrels" / "test.tsv").unlink()
    with pytest.raises(DataError, match=r"de: no qrels/test.tsv"):
        get_task(f"beir:{beir}")
    with pytest.raises(DataError, match="no <language>/corpus.jsonl"):
        get_task(f"beir:{beir / 'de' / 'qrels'}")


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize(
    ("task", "languages"), [("xquad-r", ("ar", "en", "th", "zh")), ("mlqa-r", None)]
)
def test_real_tasks_give_the_same_values_through_beir(data_dir, tmp_path, task, languages):
    """XQuAD-R on four languages (scripts: Arabic, Latin, Thai, Han) and all of MLQA-R, whose
    questions exist in only some languages: every cell of both records agrees to 1e-6."""
    convert(task, tmp_path / task, data_dir=data_dir, cache_dir=tmp_path / "cache")
    via_lareqa, via_beir = _bench(
        tmp_path, task, f"beir:{tmp_path / task}", data_dir=data_dir, languages=languages
    )
    ranked = [c for c in via_beir.cells if not c.by_candidate_language]
    assert len(ranked) == (20 if languages else 56)
    # The bias panel's (query, candidate language) cells too: parallel queries through BEIR
    # are the same question ids in every folder, as in LAReQA.
    assert len(via_beir.cells) == len(via_lareqa.cells) > len(ranked)
    assert_same_cells(via_lareqa, via_beir)
