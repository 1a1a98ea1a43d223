"""``--save-run``: TREC runs and qrels beside the record, re-scored by an independent library."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from xret.benchmark.runner import BenchConfig, CorpusOptions, run_bench
from xret.results.runs import runs_dir, staged_runs, strictly_decreasing
from xret.testing import toy_miracl, write_lareqa_task

from test_lareqa import PARAGRAPHS

ir_measures = pytest.importorskip(
    "ir_measures", reason="test extra not installed: pip install -e '.[test]'"
)

MODEL = "xret.testing:HashEncoder"
# xret measure name -> ir-measures' (RD has no TREC counterpart).
IR_NAMES = {"MAP": "AP", "MRR": "RR", "nDCG": "nDCG", "R": "R", "Hit": "Success"}


def ir_measure(name: str):
    base, at, cutoff = name.partition("@")
    return ir_measures.parse_measure(IR_NAMES[base] + at + cutoff) if base in IR_NAMES else None


def rescored_difference(record, folder: Path) -> float:
    """Largest |ir-measures on the saved run − the record| over every cell and TREC measure."""
    worst = 0.0
    for cell in (c for c in record.cells if not c.by_candidate_language):  # each with a run
        base = folder / f"{cell.setting}__{cell.query_language}__{cell.pool_language}"
        wanted = {ir_measure(m): m for m in cell.values if ir_measure(m) is not None}
        qrels = list(ir_measures.read_trec_qrels(str(base) + ".qrels"))
        run = list(ir_measures.read_trec_run(str(base) + ".run"))
        found = ir_measures.calc_aggregate(list(wanted), qrels, run)
        assert len({r.query_id for r in run}) == cell.n_queries
        worst = max(worst, *(abs(found[m] - cell.values[name]) for m, name in wanted.items()))
    return worst


def _bench(tmp_path: Path, task: str, **options):
    config = BenchConfig(
        model=MODEL,
        tasks=(task,),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        progress=False,
        **options,
    )
    (outcome,) = run_bench(config, log=lambda _: None)
    return outcome


def _lists(run_file: Path) -> dict[str, list[tuple[str, int, float]]]:
    out = defaultdict(list)
    for line in run_file.read_text().splitlines():
        qid, q0, doc, rank, score, tag = line.split(" ")
        assert q0 == "Q0" and tag == MODEL
        out[qid].append((doc, int(rank), float(score)))
    return out


def test_lareqa_runs_rescore_to_the_record_ties_included(tmp_path):
    # The toy's duplicated English sentence ties its gold with a copy whose docid sorts later;
    # re-scoring agrees only if the run keeps xret's tie order (candidate order).
    task = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    outcome = _bench(tmp_path, task, save_run=True, corpus=CorpusOptions(depth=1))
    folder = runs_dir(outcome.path)
    names = sorted(p.name for p in folder.iterdir())
    assert names[:2] == ["cross__de__en.qrels", "cross__de__en.run"]
    ranked = [c for c in outcome.record.cells if not c.by_candidate_language]
    assert len(list(folder.iterdir())) == 2 * len(ranked)
    assert rescored_difference(outcome.record, folder) <= 1e-6
    # Depth 1, yet every list reaches its last relevant candidate (MAP is exact) and no further.
    qrels = [line.split() for line in (folder / "multi__en__all.qrels").read_text().splitlines()]
    for qid, ranked in _lists(folder / "multi__en__all.run").items():
        assert [r for _, r, _ in ranked] == list(range(1, len(ranked) + 1))
        assert all(a[2] > b[2] for a, b in zip(ranked, ranked[1:]))
        relevant = {doc for q, _, doc, grade in qrels if q == qid and int(grade) > 0}
        assert ranked[-1][0] in relevant and relevant <= {doc for doc, _, _ in ranked}


def test_miracl_runs_rescore_to_the_record(tmp_path):
    task_dir, corpus_dir = toy_miracl(
        tmp_path / "data", languages=("sw", "th"), passages=60, queries=6, duplicates=2
    )
    corpus = CorpusOptions(corpus_dir=corpus_dir, depth=20)
    outcome = _bench(
        tmp_path,
        f"miracl:{task_dir}",
        save_run=True,
        measures=("MAP", "nDCG@10", "R@20"),
        corpus=corpus,
    )
    folder = runs_dir(outcome.path)
    assert {p.name for p in folder.iterdir()} == {
        f"mono__{lang}__{lang}.{ext}" for lang in ("sw", "th") for ext in ("run", "qrels")
    }
    assert all(len(ranked) == 20 for ranked in _lists(folder / "mono__sw__sw.run").values())
    assert rescored_difference(outcome.record, folder) <= 1e-6


def test_runs_are_not_part_of_the_result_key(tmp_path, xret_cli, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    task = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    assert xret_cli("bench", "-m", MODEL, "-t", task, "-q")[0] == 0
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", task, "-q", "--save-run")
    assert code == 0 and "no runs were saved with it; --overwrite --save-run" in err
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", task, "-q", "--save-run", "--overwrite")
    (record,) = (tmp_path / "results").rglob("*.json")
    assert code == 0 and len(list(runs_dir(record).glob("*.run"))) == 6


def test_staged_runs_replace_the_old_ones_only_on_success(tmp_path):
    record = tmp_path / "r" / "task__abc.json"
    with staged_runs(record, "my model", True) as runs:
        assert runs.tag == "mymodel"
        runs.write_cell("mono__en__en", [("q", ["a", "b", "a"], [0.5, 0.5, 0.1])], {"q": {"b": 1}})
    lines = (runs_dir(record) / "mono__en__en.run").read_text().splitlines()
    # The repeated docid keeps its first place.
    assert [line.split()[2] for line in lines] == ["a", "b"]
    with pytest.raises(KeyboardInterrupt), staged_runs(record, "m", True) as runs:
        runs.write_cell("mono__de__de", [], {})
        raise KeyboardInterrupt
    names = sorted(p.name for p in runs_dir(record).iterdir())
    assert names == ["mono__en__en.qrels", "mono__en__en.run"]
    assert [p.name for p in record.parent.iterdir()] == ["task__abc.runs"]  # no staging left
    with staged_runs(record, "m", False) as runs:
        assert runs is None


def test_strictly_decreasing_moves_ties_down_by_one_single_precision_ulp():
    out = strictly_decreasing([0.5, 0.5, 0.5, 0.25])
    assert out[0] == 0.5 > out[1] > out[2] > out[3] == 0.25
    # Still distinct once read back in single precision, as trec_eval stores scores.
    assert len({np.float32(s) for s in out}) == 4 and 0.5 - out[2] < 1e-7


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize(
    ("task", "languages"), [("xquad-r", ("de", "en")), ("mlqa-r", ("ar", "de"))]
)
def test_real_runs_through_beir_rescore_to_the_record(data_dir, tmp_path, task, languages):
    """Two languages each (all three settings): the hash encoder ranks gold deep, so the runs
    reach ~5M lines; every cell and TREC measure agrees with the record to 1e-6."""
    from benchmarks.lareqa_to_beir import convert

    convert(task, tmp_path / task, data_dir=data_dir, cache_dir=tmp_path / "cache")
    outcome = _bench(tmp_path, f"beir:{tmp_path / task}", languages=languages, save_run=True)
    ranked = [c for c in outcome.record.cells if not c.by_candidate_language]
    assert len(ranked) == 6  # and the bias panel's (query, candidate language) cells:
    assert len(outcome.record.cells) == 6 + len(languages) ** 2
    assert rescored_difference(outcome.record, runs_dir(outcome.path)) <= 1e-6


def test_ids_with_whitespace_are_written_as_valid_trec_and_rescore(tmp_path):
    """A query id with a space, a tab or a '%' is one column, percent-encoded reversibly (the
    folder says so); ir-measures reads every line and re-scores the record's numbers."""
    from urllib.parse import unquote

    odd = {
        lang: [
            {**para, "questions": [(f"q {qid}\t%", q, s) for qid, q, s in para["questions"]]}
            for para in paras
        ]
        for lang, paras in PARAGRAPHS.items()
    }
    outcome = _bench(tmp_path, f"lareqa:{write_lareqa_task(tmp_path / 'toy', odd)}", save_run=True)
    folder = runs_dir(outcome.path)
    assert "percent-encoded" in (folder / "README.txt").read_text()
    assert rescored_difference(outcome.record, folder) <= 1e-6
    lines = (folder / "mono__en__en.run").read_text().splitlines()
    assert all(len(line.split()) == 6 for line in lines)
    assert {unquote(line.split()[0]) for line in lines} == {
        "en/q q1\t%",
        "en/q q2\t%",
        "en/q q3\t%",
    }
