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
from xret.measures.table import parse_measure
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


PANEL = ["RD", "nRD", "Same@3", "Excess@3", "RightSame", "WrongSame", "FirstOther", "HitGap@3"]
PANEL += ["LangR@5", "PEER@5", "Consist@3"]


def _toy_panel_run():
    """docs/bias.md's worked example (en/q1) with its German twin (de/q1), an Arabic query whose
    run stops after 5 documents without its German answer (ar/q2), and a query the run lacks."""
    order = {
        "en/q1": "en/1 en/2 de/1 en/3 de/2 ar/2 ar/1 de/3 ar/3",
        "de/q1": "de/1 en/1 en/2 de/2 en/3 ar/1 ar/2 de/3 ar/3",
        "ar/q2": "ar/2 ar/1 en/1 de/1 en/2",
    }
    run = {q: {d: 10.0 - i for i, d in enumerate(docs.split())} for q, docs in order.items()}
    qrels = {
        "en/q1": {"en/1": 1, "de/1": 1, "ar/1": 1},
        "de/q1": {"en/1": 1, "de/1": 1, "ar/1": 1},
        "ar/q2": {"ar/1": 1, "de/3": 1},
        "en/q9": {"en/3": 1},
    }
    return run, qrels


def test_the_panel_of_a_run_by_hand():
    from math import erfc, exp, sqrt

    run, qrels = _toy_panel_run()
    scores = xret.score(run, qrels, ["MAP", *PANEL], doc_lang="prefix", query_lang="prefix")
    en, de, ar = (scores.per_query[q] for q in ("en/q1", "de/q1", "ar/q2"))
    # en/q1: relevant at 1, 3, 7 of 9 (E[RD] = 2·10/4 = 5); top 3 en en de, the pool 1/3 English
    assert (en["RD"], en["nRD"], en["FirstOther"]) == (6, pytest.approx(6 / 5), 3)
    assert (en["Same@3"], en["Excess@3"]) == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert (en["RightSame"], en["WrongSame"], en["HitGap@3"]) == (1, 0, pytest.approx(1 / 3))
    assert en["LangR@5"] == pytest.approx((0 + 1 + 1) / 3)  # ar1 at 7
    # PEER@5 of docs/bias.md: (e^-1 + erfc(sqrt(4/7))) / 2
    assert en["PEER@5"] == pytest.approx((exp(-1) + erfc(sqrt(4 / 7))) / 2)
    # the twins' top 3 hold the same documents ranked (1, 2, 3) and (3, 1, 2): rho = -0.5
    assert en["Consist@3"] == de["Consist@3"] == pytest.approx(-0.5)
    # de/q1: relevant at 1, 2, 6 -> RD 5 = E[RD]; top 3 de en en; first English answer at 2
    assert (de["RD"], de["nRD"], de["FirstOther"]) == (5, pytest.approx(1.0), 2)
    assert (de["Same@3"], de["Excess@3"]) == (pytest.approx(1 / 3), pytest.approx(0.0))
    assert de["HitGap@3"] == pytest.approx(1 / 3) and de["LangR@5"] == pytest.approx(2 / 3)
    # PEER@5: relevant de [1], en [2], ar1 below the cut at (2·3+1+1)/2 = 4, one rank a
    # language: H = 2, p = e^-1; non-relevant en [3, 5], de [4]: every group mean 4, H = 0, p = 1
    assert de["PEER@5"] == pytest.approx((exp(-1) + 1) / 2)
    # ar/q2: de/3 is not in its run: no RD, nRD, FirstOther (they need its rank); it counts
    # as not found in any top k; no parallel query: no Consist
    assert not {"RD", "nRD", "FirstOther", "Consist@3"} & set(ar)
    assert (ar["Same@3"], ar["Excess@3"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3 - 3 / 9))
    assert (ar["WrongSame"], ar["RightSame"], ar["HitGap@3"]) == (1, 0, 1 / 2)
    assert ar["LangR@5"] == pytest.approx((1 + 0) / 2)
    # PEER@5, top 5 = the whole run. Relevant: ar [2], de3 below the cut at (2·2+1+1)/2 = 3:
    # H = 1 with 1 degree of freedom, p = erfc(sqrt(1/2)). Non-relevant: ar [1], en [3, 5],
    # de [4]; mean 13/4, SSG = 81/16 + 2·9/16 + 9/16 = 27/4, SSA = 81/16 + 1/16 + 9/16 + 49/16
    # = 35/4, H = 3·(27/4)/(35/4) = 81/35 with 2 degrees of freedom, p = e^(-H/2)
    assert ar["PEER@5"] == pytest.approx((erfc(sqrt(1 / 2)) + exp(-81 / 70)) / 2)
    assert set(scores.per_query["en/q9"]) == {"MAP"}  # not in the run: no ranking, no panel
    assert scores.overall["nRD"].value == pytest.approx((6 / 5 + 1) / 2)
    assert scores.overall["nRD"].queries == 2 and scores.rd_left_out == 2
    assert scores.by_language["ar"]["WrongSame"].value == 1 and scores.skipped == {}


def test_the_default_panel_skips_what_the_languages_cannot_give(tmp_path, xret_cli):
    run, qrels = _toy_panel_run()
    run_file = _write(tmp_path / "a.run", _run_rows(run))
    qrels_file = _write(tmp_path / "a.qrels", _qrels_rows(qrels))
    code, out, err = xret_cli("score", str(run_file), str(qrels_file), "--doc-lang", "prefix")
    assert code == 0, err
    assert max(map(len, out.splitlines())) <= 80
    text = " ".join(out.split())
    assert "\nnRD " in out and "\nPEER@10 " in out and "\nLangR@10 " in out
    assert (
        "Skipped, as each needs the queries' languages (--query-lang): Excess@10, FirstOther"
        in text
    )
    assert "RightSame, RightOther, WrongSame, WrongOther, Consist@10" in text
    assert "\nSame@10   " not in out
    code, out, err = xret_cli(
        "score", str(run_file), str(qrels_file), "--doc-lang", "prefix", "--query-lang", "prefix"
    )
    assert code == 0 and "Skipped" not in out and max(map(len, out.splitlines())) <= 80
    assert "\nConsist@10 " in out and "\nWrongOther " in out
    # asked for by name, a measure the languages cannot give is refused
    code, _, err = xret_cli(
        "score", str(run_file), str(qrels_file), "--doc-lang", "prefix", "--measures", "Same@10"
    )
    assert code == 2 and "Same@10 needs the queries' languages" in err and err.count("\n") == 1
    # a retrieved document without a language is refused, not silently dropped from the pool
    languages = _write(
        tmp_path / "lang.txt",
        [
            (d, d[:2])
            for d in sorted({d for docs in run.values() for d in docs} | {"de/3", "en/3"})
            if d != "ar/3"
        ],
    )
    code, _, err = xret_cli("score", str(run_file), str(qrels_file), "--doc-lang", str(languages))
    assert code == 2 and "without a language: 'ar/3' is not in" in err and err.count("\n") == 1


def test_a_saved_multilingual_run_gives_the_records_panel(tmp_path):
    from xret.results.store import load_per_query

    data = write_lareqa_task(tmp_path / "data", PARAGRAPHS)
    outcome = _bench(tmp_path, f"lareqa:{data}", save_run=True, settings=("multi",))
    folder = outcome.path.with_suffix(".runs")
    # the multilingual cells (one per query language) share one pool: one run of them all
    for ext in ("run", "qrels"):
        text = "".join(p.read_text() for p in sorted(folder.glob(f"multi__*__all.{ext}")))
        (tmp_path / f"multi.{ext}").write_text(text)
    measures = [m for m in outcome.record.options.measures if not parse_measure(m).is_trec]
    assert {"nRD", "PEER@10", "LangR@10", "Consist@10", "WrongSame"} <= set(measures)
    scores = xret.score(
        tmp_path / "multi.run",
        tmp_path / "multi.qrels",
        measures,
        doc_lang="prefix",
        query_lang="prefix",
    )
    table = load_per_query(outcome.path, outcome.record)
    table = table[table.setting == "multi"]
    pooled = table[table.pool_language == ALL_LANGUAGES].set_index("query_id")
    # LangR@k and Consist@k: the record's candidate-language cells, meaned per query
    split = table[table.pool_language != ALL_LANGUAGES].groupby("query_id").mean(numeric_only=True)
    for m in measures:
        source = split if parse_measure(m).family.per_candidate_language else pooled
        recorded = source[m].dropna()
        mine = {q: row[m] for q, row in scores.per_query.items() if m in row}
        if m not in ("RD", "nRD"):  # xret score leaves out one-language queries of RD, nRD
            assert set(mine) == set(recorded.index), m
        # the per-query file keeps 6 significant digits
        assert mine and all(mine[q] == pytest.approx(recorded[q], rel=1e-5) for q in mine), m


def test_a_new_panel_measure_is_one_declaration(monkeypatch):
    """How deep a measure reads and when a truncated run defines it come from its declaration:
    a new one needs no edit of xret score's code."""
    from xret.leaderboards.run_bias import panel_values
    from xret.measures import bias, table

    first = table.Family(None, needs=table.Needs.POOLED, top=table.Top.FIRST)
    last = table.Family(None, truncation=table.Truncation.RANK_RETRIEVED)
    monkeypatch.setitem(table.FAMILIES, "FirstLang", first)
    monkeypatch.setitem(table.FAMILIES, "LastRank", last)
    monkeypatch.setitem(bias.PER_QUERY, "FirstLang", lambda cell, k: cell.top_language[:, 0] * 1.0)
    monkeypatch.setitem(bias.PER_QUERY, "LastRank", lambda cell, k: cell.ranks.max(axis=1) * 1.0)
    rankings = {"q1": ["a1", "b1", "a2"], "q2": ["b3", "a3"], "q3": []}
    relevant = {"q1": ["a1", "b2"], "q2": ["a3"], "q3": ["a1"]}
    languages = {d: {"a": "de", "b": "en"}[d[0]] for d in ("a1", "a2", "a3", "b1", "b2", "b3")}
    measures = [parse_measure("FirstLang"), parse_measure("LastRank")]
    values = panel_values(rankings, relevant, measures, languages, None)
    # q1's b2 is not in its run: its last relevant rank is unknown; q3 has no first document
    assert values == {"q1": {"FirstLang": 0.0}, "q2": {"FirstLang": 1.0, "LastRank": 2.0}, "q3": {}}


def test_depth_is_what_the_measure_declares_it_reads():
    from xret.benchmark.evaluate import top_depth

    depths = {m: parse_measure(m).depth for m in ("MAP", "RD", "FirstOther", "LangR@10")}
    assert set(depths.values()) == {0}
    reads = [parse_measure(m).depth for m in ("WrongSame", "Same@7", "PEER@5", "Consist@3")]
    assert reads == [1, 7, 5, 3]
    assert top_depth([parse_measure(m) for m in ("RD", "LangR@20", "RightSame")]) == 1
