"""``xret score RUN QRELS`` / ``xret.score``: a run made elsewhere, scored with xret's measures,
checked against ir-measures (an independent implementation), hand-computed rank distances and
the record of a bench whose run was saved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_runs import _bench

import xret
from xret.leaderboards.external import ranked, score_run
from xret.tasks.spec import ALL_LANGUAGES
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

ir_measures = pytest.importorskip(
    "ir_measures", reason="test extra not installed: pip install -e '.[test]'"
)
MEASURES = ("MAP", "MRR", "nDCG@10", "R@1", "R@10", "R@100", "Hit@1", "P@5")
IR_NAMES = {"MAP": "AP", "MRR": "RR", "nDCG": "nDCG", "R": "R", "Hit": "Success", "P": "P"}


def ir_measure(name: str):
    base, at, cutoff = name.partition("@")
    return ir_measures.parse_measure(IR_NAMES[base] + at + cutoff)


def _random_case(seed: int, queries: int = 60, docs: int = 40):
    """Graded qrels and a run with tied scores (rounded to a tenth), every query in the run."""
    rng = np.random.default_rng(seed)
    qrels, run = {}, {}
    for q in range(queries):
        judged = rng.choice(docs, size=rng.integers(1, 8), replace=False)
        qrels[f"q{q}"] = {f"d{d}": int(rng.integers(0, 3)) for d in judged}
        qrels[f"q{q}"][f"d{judged[0]}"] = 1 + int(rng.integers(0, 2))  # at least one relevant
        retrieved = rng.choice(docs, size=rng.integers(1, docs), replace=False)
        run[f"q{q}"] = {f"d{d}": float(np.round(rng.random(), 1)) for d in retrieved}
    return run, qrels


def _write(path: Path, rows) -> Path:
    path.write_text("".join(" ".join(map(str, row)) + "\n" for row in rows))
    return path


def _run_rows(run):
    return [
        (q, "Q0", d, rank, run[q][d], "sys")
        for q in run
        for rank, d in enumerate(ranked(run[q]), 1)
    ]


def _qrels_rows(qrels):
    return [(q, 0, d, g) for q in qrels for d, g in qrels[q].items()]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_standard_measures_equal_ir_measures(seed, tmp_path):
    run, qrels = _random_case(seed)
    run_file = _write(tmp_path / "a.run", _run_rows(run))
    qrels_file = _write(tmp_path / "a.qrels", _qrels_rows(qrels))
    scores = xret.score(run_file, qrels_file, MEASURES)
    wanted = {ir_measure(m): m for m in MEASURES}
    ir_qrels = list(ir_measures.read_trec_qrels(str(qrels_file)))
    ir_run = list(ir_measures.read_trec_run(str(run_file)))
    aggregate = ir_measures.calc_aggregate(list(wanted), ir_qrels, ir_run)
    for measure, name in wanted.items():
        assert scores.overall[name].value == pytest.approx(aggregate[measure], abs=1e-12)
    for item in ir_measures.iter_calc(list(wanted), ir_qrels, ir_run):
        assert scores.per_query[item.query_id][wanted[item.measure]] == pytest.approx(
            item.value, abs=1e-12
        )
    assert scores.queries == len(qrels) and scores.absent == 0


def test_queries_absent_count_zero_unjudged_and_unanswerable_are_counted():
    run = {"q1": {"a": 2.0, "b": 1.0}, "q9": {"a": 1.0}}  # q9 is not judged
    qrels = {"q1": {"b": 1}, "q2": {"c": 1}, "q3": {"a": 0}}  # q2 not in the run; q3 no relevant
    scores = score_run(run, qrels, ["MAP", "MRR"])
    assert (scores.queries, scores.absent, scores.unjudged, scores.no_relevant) == (2, 1, 1, 1)
    assert scores.overall["MAP"].value == pytest.approx((1 / 2 + 0) / 2)
    assert scores.per_query["q2"] == {"MAP": 0.0, "MRR": 0.0}


def test_rank_distance_of_the_protocol_worked_example_and_ties_in_trec_order():
    # protocol.md §4: relevant en1, de1, ar1 at ranks 1, 3 and 6 of 9 -> RD = 5
    order = ["en/1", "xx/1", "de/1", "xx/2", "xx/3", "ar/1", "xx/4", "xx/5", "xx/6"]
    run = {"en/q": {d: float(9 - i) for i, d in enumerate(order)}}
    # a second query: its relevant pair ties with two others; trec_eval puts higher ids first,
    # so the order is zz/9, zz/8, en/2, de/2 -> ranks 3 and 4, RD 1
    run["de/q"] = {"en/2": 1.0, "de/2": 1.0, "zz/9": 1.0, "zz/8": 1.0}
    qrels = {
        "en/q": {"en/1": 1, "de/1": 1, "ar/1": 1},
        "de/q": {"en/2": 1, "de/2": 1},
        "el/q": {"el/3": 1, "el/4": 1},  # one language: no language bias to measure
    }
    scores = xret.score(run, qrels, ["MAP"], doc_lang="prefix", query_lang="prefix")
    assert scores.per_query["en/q"]["RD"] == 5 and scores.per_query["de/q"]["RD"] == 1
    assert "RD" not in scores.per_query["el/q"] and scores.rd_left_out == 1
    assert scores.overall["RD"].value == pytest.approx(3.0)
    assert scores.by_language["en"]["RD"].value == 5 and scores.macro["RD"].value == 3.0
    one_language = score_run(
        run, {"el/q": qrels["el/q"]}, ["RD"], doc_languages={"el/3": "el", "el/4": "el"}
    )
    assert one_language.overall == {} and one_language.rd_left_out == 1  # no RD, no error
    assert scores.macro["MAP"].value == pytest.approx(
        np.mean([scores.by_language[lang]["MAP"].value for lang in ("de", "el", "en")])
    )


def test_intervals_are_scipys_percentile_bootstrap_over_queries():
    """The same draws as scipy.stats.bootstrap for the same seed (xret.measures.bootstrap)."""
    from scipy.stats import bootstrap

    from xret.leaderboards.external import OPTIONS

    run, qrels = _random_case(5)
    scores = score_run(run, qrels, ["MAP", "MRR"], seed=3)
    for measure in ("MAP", "MRR"):
        x = np.array([scores.per_query[q][measure] for q in qrels])
        oracle = bootstrap(
            (x,),
            np.mean,
            n_resamples=OPTIONS.resamples,
            confidence_level=OPTIONS.confidence,
            method="percentile",
            random_state=np.random.default_rng([3, 0]),
        ).confidence_interval
        e = scores.overall[measure]
        assert (e.low, e.high) == pytest.approx((oracle.low, oracle.high), abs=1e-12)


def test_intervals_hold_the_mean_and_come_from_resampled_queries():
    run, qrels = _random_case(3, queries=200)
    scores = score_run(run, qrels, ["MAP"])
    e = scores.overall["MAP"]
    values = [scores.per_query[q]["MAP"] for q in qrels]
    sd = np.std(values, ddof=1) / np.sqrt(len(values))
    assert e.low < e.value < e.high
    # a percentile bootstrap of a mean of 200 values: about mean ± 1.96 standard errors
    assert (e.high - e.low) == pytest.approx(2 * 1.96 * sd, rel=0.1)


def test_a_saved_run_scores_to_its_record(tmp_path):
    data = write_lareqa_task(tmp_path / "data", PARAGRAPHS)
    outcome = _bench(tmp_path, f"lareqa:{data}", save_run=True, settings=None)
    folder = outcome.path.with_suffix(".runs")
    for cell in outcome.record.cells:
        if cell.setting == "multi" and cell.pool_language != ALL_LANGUAGES:
            continue  # a candidate language's share of the pooled cell (LangR@k): no run of its own
        base = folder / f"{cell.setting}__{cell.query_language}__{cell.pool_language}"
        scores = xret.score(Path(f"{base}.run"), Path(f"{base}.qrels"), ["MAP", "MRR", "R@1"])
        for measure in ("MAP", "MRR", "R@1"):
            assert scores.overall[measure].value == pytest.approx(cell.values[measure], abs=1e-6)


def test_the_command_prints_80_columns_and_bad_input_is_one_line(tmp_path, xret_cli):
    run, qrels = _random_case(4)
    run = {f"{'en' if i % 2 else 'de'}/{q}": docs for i, (q, docs) in enumerate(run.items())}
    qrels = {f"{'en' if i % 2 else 'de'}/{q}": docs for i, (q, docs) in enumerate(qrels.items())}
    run_file = _write(tmp_path / "a.run", _run_rows(run))
    qrels_file = _write(tmp_path / "a.qrels", _qrels_rows(qrels))
    code, out, err = xret_cli("score", str(run_file), str(qrels_file), "--query-lang", "prefix")
    assert code == 0, err
    assert max(map(len, out.splitlines())) <= 80
    assert "MAP" in out and "macro" in out and "\nde " in out and "\nen " in out
    code, _, err = xret_cli("score", str(run_file), str(qrels_file), "--measures", "RD")
    assert code == 2 and "needs the documents' languages" in err and err.count("\n") == 1
    bad = _write(tmp_path / "bad.run", [("q1", "Q0", "d1", 1, "high", "sys")])
    code, _, err = xret_cli("score", str(bad), str(qrels_file))
    assert code == 2 and "bad.run:1: expected 'qid Q0 docid rank score tag'" in err
    code, _, err = xret_cli("score", str(run_file), str(qrels_file), "--doc-lang", "prefix")
    assert code == 2 and "without a language: 'd" in err


def test_show_names_the_saved_runs_of_a_record(tmp_path, xret_cli):
    data = write_lareqa_task(tmp_path / "data", PARAGRAPHS)
    outcome = _bench(tmp_path, f"lareqa:{data}", save_run=True, settings=None)
    code, out, _ = xret_cli("show", str(outcome.path))
    cells = sum(  # a candidate language's share of the pooled cell has no run of its own
        c.setting != "multi" or c.pool_language == ALL_LANGUAGES for c in outcome.record.cells
    )
    text = " ".join(out.split())
    assert code == 0 and f"beside the record: {outcome.path.stem}.runs/ ({cells} cells)" in text
