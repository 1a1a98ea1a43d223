"""Measures through pytrec_eval fed exact ranks, checked against protocol.md's worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xret.errors import UnknownNameError
from xret.measures.bias import rank_distance
from xret.measures.ranks import measure_ranks
from xret.measures.table import Measure, parse_measure, parse_measures
from xret.measures.trec import evaluate

ALL = parse_measures(["MAP", "MRR", "R@1", "R@10", "Hit@1", "Hit@10", "nDCG@10", "P@10"])


def by_query(ranks_by_query: dict[str, list[int]]) -> dict[str, dict[Measure, float]]:
    width = max(len(r) for r in ranks_by_query.values())
    ranks = np.zeros((len(ranks_by_query), width), dtype=np.int64)
    for row, r in enumerate(ranks_by_query.values()):
        ranks[row, : len(r)] = r
    values = measure_ranks(ranks, ALL)
    return {q: {m: values[m][row] for m in ALL} for row, q in enumerate(ranks_by_query)}


def test_worked_example_of_protocol():
    # One query, 3 relevant candidates at ranks 1, 3 and 6 (protocol.md §3.2).
    values = by_query({"q": [1, 3, 6]})["q"]
    assert values[Measure("MAP")] == pytest.approx((1 / 1 + 2 / 3 + 3 / 6) / 3)
    assert round(values[Measure("MAP")], 4) == 0.7222
    assert values[Measure("R", 1)] == pytest.approx(1 / 3)
    assert values[Measure("Hit", 1)] == 1.0
    assert values[Measure("R", 10)] == 1.0
    assert rank_distance(np.array([[1, 3, 6]]))[0] == 5


def test_single_relevant_map_is_reciprocal_rank():
    for rank in (1, 2, 7, 100, 1180):
        values = by_query({"q": [rank]})["q"]
        assert values[Measure("MAP")] == pytest.approx(1 / rank)
        assert values[Measure("MRR")] == pytest.approx(1 / rank)
        assert values[Measure("Hit", 10)] == (1.0 if rank <= 10 else 0.0)


def test_random_ranking_expectation_single_relevant():
    # Uniformly random rank of one relevant in a pool of N: E[AP] = H_N / N
    # (0.006484 for N = 1,180).
    n = 1180
    values = by_query({f"q{r}": [r] for r in range(1, n + 1)})
    mean_ap = np.mean([v[Measure("MAP")] for v in values.values()])
    assert mean_ap == pytest.approx(sum(1 / k for k in range(1, n + 1)) / n)
    assert round(mean_ap, 6) == 0.006484


def test_perfect_ranker():
    values = by_query({"q": list(range(1, 12))})["q"]
    assert values[Measure("MAP")] == 1.0
    assert values[Measure("nDCG", 10)] == pytest.approx(1.0)
    assert values[Measure("R", 10)] == pytest.approx(
        10 / 11
    )  # standard recall: at most 10/11 on XQuAD-R
    assert rank_distance(np.arange(1, 12)[None, :])[0] == 10  # minimum is |R| - 1


def test_query_missing_from_run_counts_zero():
    out = evaluate({"a": {"d": 1}, "b": {"d": 1}}, {"a": {"d": 1.0}}, ALL)
    assert out["a"][Measure("MAP")] == 1.0
    assert all(v == 0.0 for v in out["b"].values())


def test_ndcg_at_10_against_formula():
    values = by_query({"q": [2, 5]})["q"]
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 + 1 / math.log2(3)
    assert values[Measure("nDCG", 10)] == pytest.approx(dcg / idcg)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("MAP", Measure("MAP")),
        ("map", Measure("MAP")),
        ("R@10", Measure("R", 10)),
        ("nDCG@10", Measure("nDCG", 10)),
        ("hit@1", Measure("Hit", 1)),
        ("RD", Measure("RD")),
    ],
)
def test_parse(text, expected):
    assert parse_measure(text) == expected
    assert parse_measure(str(expected)) == expected


@pytest.mark.parametrize("text", ["MAPP", "R", "MAP@10", "nDCG", "R@x", ""])
def test_parse_rejects(text):
    with pytest.raises(UnknownNameError):
        parse_measure(text)


def test_rank_distance_worked_example():
    # Pool of 9: q_en's relevant {en1, de1, ar1} at ranks 1, 3, 6 -> RD 5; another en query RD 1.
    rd = rank_distance(np.array([[1, 3, 6], [2, 3, 0]]))
    assert rd.tolist() == [5.0, 1.0]
    assert rd.mean() == 3.0


def test_rank_distance_random_expectation_exact():
    # E[RD] = (k-1)(N+1)/(k+1) for k relevant placed uniformly among N: enumerate all placements.
    from itertools import combinations

    n, k = 7, 3
    spreads = [max(c) - min(c) for c in combinations(range(1, n + 1), k)]
    assert np.mean(spreads) == pytest.approx((k - 1) * (n + 1) / (k + 1))
    assert rank_distance(np.array(list(combinations(range(1, n + 1), k)))).mean() == pytest.approx(
        np.mean(spreads)
    )


def test_padded_qrels_refuse_a_measure_that_needs_the_whole_run(monkeypatch):
    """bpref, infAP or graded nDCG depend on more than where relevant documents rank: scoring
    them through placeholder documents would be wrong, so the exhaustive path refuses them."""
    import numpy as np

    from xret.measures import table as m
    from xret.measures.ranks import measure_ranks

    monkeypatch.setitem(m.FAMILIES, "bpref", m.Family("bpref", rank_based=False))
    with pytest.raises(ValueError, match="bpref depend on more than the ranks"):
        measure_ranks(np.array([[1, 3]]), [m.Measure("MAP"), m.Measure("bpref")])
    assert measure_ranks(np.array([[1, 3]]), [m.Measure("MAP")])[m.Measure("MAP")] == pytest.approx(
        [(1 + 2 / 3) / 2]
    )


def test_a_family_declares_its_display_and_direction():
    from xret.measures.table import measure_digits, parse_measure

    assert (measure_digits("RD"), measure_digits("nDCG@10")) == (1, 4)
    assert not parse_measure("RD").higher_is_better and parse_measure("R@5").higher_is_better
    assert (
        parse_measure("RD").family.multilingual_only
        and not parse_measure("MAP").family.multilingual_only
    )


def test_the_bias_panel_as_docs_bias_lists_it():
    """Each panel measure's direction, decimals and what it reads, listed here by hand in the
    tables' order: the table's shared declarations must give exactly this."""
    from xret.measures.table import FAMILIES, Needs, Top, Truncation

    P, Q, X = Needs.POOLED, Needs.PARALLEL, Needs.RANKS
    # name: (higher is better, digits, @k, reads query language, needs, top, truncated run)
    expected = {
        "RD": (False, 1, False, False, X, Top.NONE, Truncation.ALL_RANKED),
        "nRD": (False, 3, False, False, X, Top.NONE, Truncation.ALL_RANKED),
        "HitGap": (False, 3, True, False, X, Top.NONE, Truncation.ALWAYS),
        "FirstOther": (False, 1, False, True, P, Top.NONE, Truncation.RANK_RETRIEVED),
        "Same": (False, 3, True, True, P, Top.CUTOFF, Truncation.ALWAYS),
        "Excess": (False, 3, True, True, P, Top.CUTOFF, Truncation.ALWAYS),
        "PEER": (True, 3, True, False, P, Top.CUTOFF, Truncation.ALWAYS),
        "RightSame": (True, 3, False, True, P, Top.FIRST, Truncation.ALWAYS),
        "RightOther": (True, 3, False, True, P, Top.FIRST, Truncation.ALWAYS),
        "WrongSame": (False, 3, False, True, P, Top.FIRST, Truncation.ALWAYS),
        "WrongOther": (False, 3, False, True, P, Top.FIRST, Truncation.ALWAYS),
        "LangR": (True, 4, True, False, P, Top.NONE, Truncation.ALWAYS),
        "Consist": (True, 3, True, True, Q, Top.CUTOFF, Truncation.ALWAYS),
    }
    declared = {
        name: (
            f.higher_is_better,
            f.digits,
            f.cutoff,
            f.reads_query_language,
            f.needs,
            f.top,
            f.truncation,
        )
        for name, f in FAMILIES.items()
        if f.multilingual_only
    }
    assert list(declared.items()) == list(expected.items())
    assert {n for n, f in FAMILIES.items() if f.per_candidate_language} == {"LangR", "Consist"}
    assert [n for n, f in FAMILIES.items() if f.min_cutoff != 1] == ["Consist"]
    assert [n for n, f in FAMILIES.items() if f.rank_scale] == ["RD", "nRD", "FirstOther"]
    cross_judged = ["RD", "nRD", "HitGap", "FirstOther", "LangR"]
    assert [n for n, f in FAMILIES.items() if f.cross_judged] == cross_judged
    assert FAMILIES["WrongSame"].about == "top-1 candidate not relevant, in the query's language"
