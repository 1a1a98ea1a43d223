"""The bias panel (xret.measures.bias) against independent oracles: the hand-computed toy pool
of docs/bias.md, the reference PEER (peer_measure 0.0.1), scipy's Spearman, exhaustive
enumeration for E[RD], and direct loops over a full sort; plus properties (relabelled
languages, reordered candidates, bounds) and the bench's records."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xret.measures import bias
from xret.measures.bias import Pooled

# --- the toy pool of docs/bias.md --------------------------------------------------------------
# Nine candidates, three per language (codes: 0 ar, 1 de, 2 en); the English query's relevant
# candidates are en1, de1 and ar1.
TOY_LANGUAGES = ("ar", "de", "en")
TOY_POOL = ("en1", "en2", "en3", "de1", "de2", "de3", "ar1", "ar2", "ar3")
TOY_CODES = np.array([2, 2, 2, 1, 1, 1, 0, 0, 0])
TOY_RELEVANT = ("en1", "de1", "ar1")
TOY_RANKING = ("en1", "en2", "de1", "en3", "de2", "ar2", "ar1", "de3", "ar3")


def pooled_from_rankings(rankings, relevant, pool_codes, query_codes, languages, depth=None):
    """A Pooled built the slow way: positions looked up in each full ranking (lists of pool
    positions, best first)."""
    depth = depth or len(pool_codes)
    width = max(len(r) for r in relevant)
    ranks = np.zeros((len(rankings), width), dtype=np.int64)
    where = np.full((len(rankings), width), -1, dtype=np.int64)
    for row, (ranking, rel) in enumerate(zip(rankings, relevant)):
        for j, candidate in enumerate(rel):
            ranks[row, j] = list(ranking).index(candidate) + 1
            where[row, j] = candidate
    return Pooled(
        ranks=ranks,
        relevant=where,
        top=np.array([list(r)[:depth] for r in rankings], dtype=np.int64),
        pool_language=np.asarray(pool_codes, dtype=np.int64),
        query_language=np.asarray(query_codes, dtype=np.int64),
        languages=languages,
    )


def toy(ranking=TOY_RANKING, query_code=2) -> Pooled:
    position = {c: i for i, c in enumerate(TOY_POOL)}
    return pooled_from_rankings(
        [[position[c] for c in ranking]],
        [[position[c] for c in TOY_RELEVANT]],
        TOY_CODES,
        [query_code],
        3,
    )


def test_toy_pool_by_hand():
    """docs/bias.md's worked example, every number computed by hand there."""
    cell = toy()
    assert bias.rank_distance(cell.ranks)[0] == 6  # ranks 1, 3, 7
    assert bias.rank_distance_ratio(cell)[0] == pytest.approx(6 / (2 * 10 / 4))  # E[RD] = 5
    assert bias.same_language_share(cell, 3)[0] == pytest.approx(2 / 3)  # en1 en2 | de1
    assert bias.same_language_excess(cell, 3)[0] == pytest.approx(2 / 3 - 1 / 3)
    assert [f(cell)[0] for f in (bias.right_same, bias.right_other)] == [1.0, 0.0]
    assert [f(cell)[0] for f in (bias.wrong_same, bias.wrong_other)] == [0.0, 0.0]
    assert bias.first_other_rank(cell)[0] == 3  # de1
    assert bias.hit_minus_recall(cell.ranks, 1)[0] == pytest.approx(1 - 1 / 3)
    assert bias.hit_minus_recall(cell.ranks, 3)[0] == pytest.approx(1 - 2 / 3)
    assert bias.hit_minus_recall(cell.ranks, 7)[0] == 0.0
    assert bias.language_recall(cell, 5)[0].tolist() == [0.0, 1.0, 1.0]  # ar, de, en
    # PEER@5, top 5 = en1 en2 de1 en3 de2. Relevant level: en [1], de [3] and ar1 unretrieved at
    # (2*3 + 1 + 1)/2 = 4: one rank per language, H = N - 1 = 2 with 2 degrees of freedom,
    # p = exp(-1). Non-relevant level: en [2, 4], de [5]: mean 11/3, SSG = 8/3, SSA = 14/3,
    # H = 2 * (8/3) / (14/3) = 8/7 with 1 degree of freedom, p = erfc(sqrt(4/7)).
    expected = 0.5 * math.exp(-1) + 0.5 * math.erfc(math.sqrt(4 / 7))
    assert bias.peer(cell, 5)[0] == pytest.approx(expected, abs=1e-12)
    assert round(expected, 4) == 0.3265  # (0.3679 + 0.2851) / 2


def test_toy_top1_shares_when_the_first_candidate_is_wrong():
    # ar2 first for the English query: wrong and in another language; en2 first: wrong, same.
    assert bias.wrong_other(toy(("ar2", *[c for c in TOY_RANKING if c != "ar2"])))[0] == 1.0
    assert bias.wrong_same(toy(("en2", *[c for c in TOY_RANKING if c != "en2"])))[0] == 1.0
    assert bias.right_other(toy(("de1", *[c for c in TOY_RANKING if c != "de1"])))[0] == 1.0


def test_toy_consistency_by_hand():
    """The English query's top 3 (en1 en2 de1) and its German twin's (de1 en1 en2): the same
    three candidates, ranks (1, 2, 3) against (2, 3, 1): rho = -1/2."""
    position = {c: i for i, c in enumerate(TOY_POOL)}
    top = np.array(
        [[position[c] for c in ("en1", "en2", "de1")], [position[c] for c in ("de1", "en1", "en2")]]
    )
    found = bias.parallel_consistency(
        top, np.array(["q1", "q1"], dtype=object), np.array([2, 1]), 3, 3
    )
    assert found[0].tolist()[1] == pytest.approx(-0.5) and found[1][2] == pytest.approx(-0.5)
    assert np.isnan(found[0][[0, 2]]).all()  # no Arabic twin; never with itself


def test_expected_rank_distance_by_enumeration():
    """E[RD] = (k-1)(N+1)/(k+1): the mean over every placement of k relevant among N."""
    for n, k in ((6, 3), (7, 2), (8, 4)):
        spans = [max(c) - min(c) for c in itertools.combinations(range(1, n + 1), k)]
        assert np.mean(spans) == pytest.approx((k - 1) * (n + 1) / (k + 1))


def test_rank_distance_ratio_is_undefined_for_one_relevant():
    cell = toy()
    single = Pooled(
        cell.ranks[:, :1],
        cell.relevant[:, :1],
        cell.top,
        cell.pool_language,
        cell.query_language,
        3,
    )
    assert np.isnan(bias.rank_distance_ratio(single)).all()


# --- random pools: PEER against peer_measure, everything against direct loops ------------------


def random_pools(seed: int, queries: int = 12, pool: int = 30, languages: int = 4, ties=False):
    """(scores, relevant lists, pool codes, query codes): some queries with relevant candidates
    in one language only, some with none of their own language."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, languages, pool)
    if ties:
        scores = rng.integers(0, 6, (queries, pool)).astype(np.float64)
    else:
        scores = rng.permutation(queries * pool).reshape(queries, pool).astype(np.float64)
    relevant = [
        sorted(rng.choice(pool, int(rng.integers(1, 6)), replace=False).tolist())
        for _ in range(queries)
    ]
    return scores, relevant, codes, rng.integers(0, languages, queries)


def full_rankings(scores):
    """Best first; equal scores in pool order (xret's tie rule)."""
    return [np.argsort(-row, kind="stable").tolist() for row in scores]


def reference_peer(scores, relevant, codes, k, doc_names=None):
    """peer_measure 0.0.1's value per query. Its provider calls ir_measures.util.flatten_measures,
    which ir_measures 0.4.3 no longer has, so its evaluator is driven directly. Every pool
    candidate is judged (0 or 1): the reference has no level for an unjudged candidate."""
    from peer_measure import PEER, PEEREvaluator

    names = doc_names or [f"d{i:04d}" for i in range(scores.shape[1])]
    mapping = {name: f"L{c}" for name, c in zip(names, codes)}
    measure = PEER(cutoff=k, weights=dict(bias.PEER_WEIGHTS), lang_mapping=mapping)
    qrels = {
        f"q{i}": {name: int(j in rel) for j, name in enumerate(names)}
        for i, rel in enumerate(relevant)
    }
    run = {f"q{i}": dict(zip(names, map(float, row))) for i, row in enumerate(scores)}
    evaluator = PEEREvaluator(
        [measure], qrels, {id(mapping): [(k, measure)]}, {id(mapping): mapping}
    )
    found = {m.query_id: m.value for m in evaluator._iter_calc(run)}
    return np.array([found[f"q{i}"] for i in range(len(relevant))])


REFERENCE_DIVIDES_BY_ZERO = "ignore:invalid value encountered in scalar divide:RuntimeWarning"


@pytest.mark.filterwarnings(REFERENCE_DIVIDES_BY_ZERO)
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 10, 40])
def test_peer_equals_peer_measure(seed, k):
    scores, relevant, codes, query_codes = random_pools(seed)
    cell = pooled_from_rankings(full_rankings(scores), relevant, codes, query_codes, 4)
    expected = reference_peer(scores, relevant, codes, k)
    # Where every rank of a level is equal the reference divides 0 by 0 (NaN): the next test.
    defined = ~np.isnan(expected)
    assert defined.sum() >= len(expected) - 1
    np.testing.assert_allclose(bias.peer(cell, k)[defined], expected[defined], rtol=0, atol=1e-9)


@pytest.mark.filterwarnings(REFERENCE_DIVIDES_BY_ZERO)
def test_peer_where_the_reference_divides_zero_by_zero():
    """Two relevant, one at rank 3 and one below the top 3: the reference ranks the latter at
    (2*2 + 1 + 1)/2 = 3 too (its count, not k), so both ranks are equal and it returns NaN."""
    scores, relevant, codes, _ = random_pools(5)
    row = 10
    assert relevant[row] == [13, 17] and codes[13] != codes[17]
    assert np.isnan(reference_peer(scores[row : row + 1], relevant[row : row + 1], codes, 3))[0]
    cell = pooled_from_rankings(
        full_rankings(scores[row : row + 1]), relevant[row : row + 1], codes, [0], 4
    )
    non_relevant = bias.peer(cell, 3)[0] * 2 - 1  # the relevant level's p is 1
    assert 0 <= non_relevant <= 1


def test_peer_ties_follow_candidate_order_where_the_reference_follows_ids():
    """Equal scores: xret ranks the earlier candidate first, peer_measure the smaller id. With
    ids in candidate order the two agree; with ids reversed they may not (docs/bias.md)."""
    scores, relevant, codes, query_codes = random_pools(3, ties=True)
    cell = pooled_from_rankings(full_rankings(scores), relevant, codes, query_codes, 4)
    np.testing.assert_allclose(
        bias.peer(cell, 10), reference_peer(scores, relevant, codes, 10), atol=1e-9
    )
    reversed_ids = [f"d{scores.shape[1] - i:04d}" for i in range(scores.shape[1])]
    differs = reference_peer(scores, relevant, codes, 10, reversed_ids)
    assert not np.allclose(bias.peer(cell, 10), differs)


def direct_values(rankings, relevant, codes, query_codes, k):
    """Each per-query measure by a loop over the full ranking."""
    out = {name: [] for name in ("same", "excess", "first_other", "gap", "top1")}
    for ranking, rel, q in zip(rankings, relevant, query_codes):
        top = ranking[:k]
        same = sum(codes[c] == q for c in top) / len(top)
        out["same"].append(same)
        out["excess"].append(same - np.mean(codes == q))
        other = [ranking.index(c) + 1 for c in rel if codes[c] != q]
        out["first_other"].append(min(other) if other else np.nan)
        found = sum(c in top for c in rel)
        out["gap"].append(float(found > 0) - found / len(rel))
        out["top1"].append((ranking[0] in rel, codes[ranking[0]] == q))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_panel_equals_direct_loops(seed):
    scores, relevant, codes, query_codes = random_pools(seed, ties=True)
    rankings = full_rankings(scores)
    cell = pooled_from_rankings(rankings, relevant, codes, query_codes, 4, depth=10)
    direct = direct_values(rankings, relevant, codes, query_codes, 10)
    np.testing.assert_allclose(bias.same_language_share(cell, 10), direct["same"])
    np.testing.assert_allclose(bias.same_language_excess(cell, 10), direct["excess"])
    np.testing.assert_array_equal(bias.first_other_rank(cell), direct["first_other"])
    np.testing.assert_allclose(bias.hit_minus_recall(cell.ranks, 10), direct["gap"])
    split = np.stack(
        [f(cell) for f in (bias.right_same, bias.right_other, bias.wrong_same, bias.wrong_other)], 1
    )
    for row, (right, same) in zip(split, direct["top1"]):
        assert row.tolist() == [
            right and same,
            right and not same,
            not right and same,
            not right and not same,
        ]
    recall = bias.language_recall(cell, 10)
    for row, (ranking, rel) in enumerate(zip(rankings, relevant)):
        for code in range(4):
            mine = [c for c in rel if codes[c] == code]
            want = np.mean([ranking.index(c) < 10 for c in mine]) if mine else np.nan
            np.testing.assert_equal(recall[row, code], want)


@pytest.mark.parametrize("seed", range(5))
def test_consistency_equals_scipy_spearman(seed):
    from scipy.stats import spearmanr

    rng = np.random.default_rng(seed)
    k, pool = int(rng.integers(2, 12)), int(rng.integers(12, 40))
    a = np.array([rng.permutation(pool)[:k] for _ in range(30)])
    b = np.array([rng.permutation(pool)[:k] for _ in range(30)])
    b[:5] = a[:5]  # equal lists
    b[5:10] = a[5:10, ::-1]  # reversed
    for x, y, rho in zip(a, b, bias.topk_spearman(a, b)):
        union = list(dict.fromkeys([*x, *y]))
        rank_x = [list(x).index(c) + 1 if c in x else k + 1 for c in union]
        rank_y = [list(y).index(c) + 1 if c in y else k + 1 for c in union]
        assert rho == pytest.approx(spearmanr(rank_x, rank_y).statistic, abs=1e-12)


# --- properties --------------------------------------------------------------------------------

PER_QUERY = {
    "nRD": lambda c: bias.rank_distance_ratio(c),
    "Same": lambda c: bias.same_language_share(c, 5),
    "Excess": lambda c: bias.same_language_excess(c, 5),
    "PEER": lambda c: bias.peer(c, 5),
    "FirstOther": bias.first_other_rank,
    "HitGap": lambda c: bias.hit_minus_recall(c.ranks, 5),
    "RightSame": bias.right_same,
    "RightOther": bias.right_other,
    "WrongSame": bias.wrong_same,
    "WrongOther": bias.wrong_other,
    "LangR": lambda c: np.sort(bias.language_recall(c, 5), axis=1),  # columns follow codes
}


@st.composite
def pools(draw):
    languages = draw(st.integers(2, 4))
    pool = draw(st.integers(6, 16))
    queries = draw(st.integers(1, 4))
    codes = draw(st.lists(st.integers(0, languages - 1), min_size=pool, max_size=pool))
    scores = draw(
        st.lists(
            st.lists(st.integers(0, 3), min_size=pool, max_size=pool),
            min_size=queries,
            max_size=queries,
        )
    )
    relevant = [
        sorted(draw(st.sets(st.integers(0, pool - 1), min_size=1, max_size=4)))
        for _ in range(queries)
    ]
    query_codes = draw(st.lists(st.integers(0, languages - 1), min_size=queries, max_size=queries))
    return (
        np.array(scores, dtype=np.float64),
        relevant,
        np.array(codes),
        np.array(query_codes),
        languages,
    )


def _values(scores, relevant, codes, query_codes, languages):
    cell = pooled_from_rankings(
        full_rankings(scores), relevant, codes, query_codes, languages, depth=5
    )
    return {name: f(cell) for name, f in PER_QUERY.items()}


@settings(max_examples=60, deadline=None)
@given(pools(), st.randoms(use_true_random=False))
def test_relabelling_languages_changes_nothing(drawn, random):
    scores, relevant, codes, query_codes, languages = drawn
    relabel = np.array(random.sample(range(languages), languages))
    before = _values(scores, relevant, codes, query_codes, languages)
    after = _values(scores, relevant, relabel[codes], relabel[query_codes], languages)
    for name in before:
        np.testing.assert_allclose(before[name], after[name], atol=1e-12, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(pools(), st.randoms(use_true_random=False))
def test_reordering_tied_alike_candidates_changes_nothing(drawn, random):
    """Candidates with equal scores for every query, the same language and the same relevance
    are interchangeable: moving them around in the pool leaves every measure as it was."""
    scores, relevant, codes, query_codes, languages = drawn
    pool = scores.shape[1]
    kind = [
        (tuple(scores[:, j]), codes[j], tuple(j in rel for rel in relevant)) for j in range(pool)
    ]
    order = list(range(pool))
    for group in {k: [j for j in range(pool) if kind[j] == k] for k in kind}.values():
        shuffled = random.sample(group, len(group))
        for j, to in zip(group, shuffled):
            order[to] = j
    order = np.array(order)  # new position -> old candidate
    new_of_old = np.argsort(order)
    moved = [sorted(new_of_old[r].tolist()) for r in relevant]
    before = _values(scores, relevant, codes, query_codes, languages)
    after = _values(scores[:, order], moved, codes[order], query_codes, languages)
    for name in before:
        np.testing.assert_allclose(before[name], after[name], atol=1e-12, err_msg=name)


@settings(max_examples=80, deadline=None)
@given(pools())
def test_bounds(drawn):
    scores, relevant, codes, query_codes, languages = drawn
    values = _values(scores, relevant, codes, query_codes, languages)
    finite = {k: v[~np.isnan(v)] for k, v in values.items()}
    for name in ("Same", "PEER", "LangR", "RightSame", "RightOther", "WrongSame", "WrongOther"):
        assert ((finite[name] >= 0) & (finite[name] <= 1)).all(), name
    assert ((finite["Excess"] >= -1) & (finite["Excess"] <= 1)).all()
    assert (finite["nRD"] >= 0).all() and (finite["FirstOther"] >= 1).all()
    most = np.array([1 - 1 / len(r) for r in relevant])
    assert ((values["HitGap"] >= 0) & (values["HitGap"] <= most + 1e-12)).all()
    split = sum(values[n] for n in ("RightSame", "RightOther", "WrongSame", "WrongOther"))
    assert (split == 1).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8), st.integers(0, 10_000))
def test_consistency_bounds_and_symmetry(k, seed):
    rng = np.random.default_rng(seed)
    a = np.array([rng.permutation(2 * k + 3)[:k] for _ in range(8)])
    b = np.array([rng.permutation(2 * k + 3)[:k] for _ in range(8)])
    rho = bias.topk_spearman(a, b)
    assert ((rho >= -1 - 1e-12) & (rho <= 1 + 1e-12)).all()
    np.testing.assert_allclose(rho, bias.topk_spearman(b, a), atol=1e-12)
    np.testing.assert_allclose(bias.topk_spearman(a, a), 1.0)


# --- through the exhaustive ranking: cells as the bench records them ---------------------------


def _toy_task(seed: int):
    """Three languages, parallel questions (ids ``<lang>/<n>``), documents sharing small integer
    vectors (ties everywhere)."""
    from xret.benchmark.engine import Embedded
    from xret.tasks.records import Document, Query, TaskData

    rng = np.random.default_rng(seed)
    languages = ("ar", "de", "en")
    documents = tuple(Document(f"{lang}/d{i}", lang, "") for lang in languages for i in range(9))
    queries = tuple(Query(f"{lang}/{n}", lang, "") for lang in languages for n in range(7))
    qrels = {q.id: {f"{lang}/d{int(q.id.split('/')[1])}": 1 for lang in languages} for q in queries}
    data = TaskData(documents, queries, qrels, checksums={})
    docs = Embedded(rng.integers(-1, 3, (len(documents), 4)).astype(np.float32), np.arange(27))
    vectors = Embedded(rng.integers(-1, 3, (len(queries), 4)).astype(np.float32), np.arange(21))
    return data, docs, vectors


@pytest.mark.parametrize("seed", range(3))
def test_measure_task_equals_a_full_sort(seed):
    from scipy.stats import spearmanr

    from xret.benchmark.evaluate import measure_task, task_ranks, top_depth
    from xret.measures.table import BIAS_PANEL_DEFAULT, parse_measures
    from xret.tasks.settings import build_cells
    from xret.tasks.spec import Setting

    data, docs, queries = _toy_task(seed)
    measures = parse_measures(["MAP", "R@10", "RD", *BIAS_PANEL_DEFAULT])
    cells = build_cells(data, ("ar", "de", "en"), tuple(Setting))
    ranked = task_ranks(data, cells, queries, docs, top_depth(measures))
    results = measure_task(data, cells, ranked, measures)
    plain = measure_task(
        data, cells, task_ranks(data, cells, queries, docs), parse_measures(["MAP", "R@10", "RD"])
    )
    # The cells as built come first with the same standard values; then one cell per
    # (query language, candidate language) with the per-candidate-language measures.
    assert [(r.setting, r.query_language, r.pool_language) for r in results[: len(cells)]] == [
        (c.setting, c.query_language, c.pool_language) for c in cells
    ]
    for with_panel, without in zip(results, plain):
        for m, values in without.values.items():
            assert np.array_equal(with_panel.values[m], values)
    extra = results[len(cells) :]
    assert {(r.query_language, r.pool_language) for r in extra} == set(
        itertools.product(("ar", "de", "en"), repeat=2)
    )
    codes = np.array([("ar", "de", "en").index(d.language) for d in data.documents])
    scores = queries.vectors @ docs.vectors.T
    rankings = {
        data.queries[i].id: np.argsort(-scores[i], kind="stable").tolist() for i in range(21)
    }
    by_id = {d.id: i for i, d in enumerate(data.documents)}
    for result in results:
        if result.setting != Setting.MULTI:
            assert not any(m.name in bias.PER_QUERY and m.name != "RD" for m in result.values)
            continue
        for row, qid in enumerate(result.query_ids):
            ranking, q = rankings[qid], ("ar", "de", "en").index(qid.split("/")[0])
            relevant = [by_id[d] for d in data.qrels[qid]]
            if result.pool_language == "all":
                direct = direct_values([ranking], [relevant], codes, [q], 10)
                assert result.values[parse_measures(["Excess@10"])[0]][row] == pytest.approx(
                    direct["excess"][0]
                )
                assert (
                    result.values[parse_measures(["FirstOther"])[0]][row]
                    == direct["first_other"][0]
                )
                continue
            c = ("ar", "de", "en").index(result.pool_language)
            mine = [d for d in relevant if codes[d] == c]
            assert result.values[parse_measures(["LangR@10"])[0]][row] == np.mean(
                [ranking.index(d) < 10 for d in mine]
            )
            consist = result.values.get(parse_measures(["Consist@10"])[0])
            if c == q:
                assert consist is None or np.isnan(consist[row])
                continue
            twin = rankings[f"{result.pool_language}/{qid.split('/')[1]}"][:10]
            top = ranking[:10]
            union = list(dict.fromkeys([*top, *twin]))
            rank_a = [top.index(x) + 1 if x in top else 11 for x in union]
            rank_b = [twin.index(x) + 1 if x in twin else 11 for x in union]
            assert consist[row] == pytest.approx(spearmanr(rank_a, rank_b).statistic, abs=1e-12)


def test_every_bias_measure_of_the_table_has_its_function():
    """The measure table and the functions agree: each hand-written measure is computed per
    query, per candidate language, or from parallel queries, and declares what it reads."""
    from xret.measures.table import BIAS_PANEL, FAMILIES, Needs

    for name, family in FAMILIES.items():
        if family.trec is not None:
            assert name not in bias.PER_QUERY and family.needs is Needs.RANKS
            continue
        assert name in BIAS_PANEL and family.multilingual_only
        if family.needs is Needs.PARALLEL:
            assert family.per_candidate_language and name not in bias.PER_QUERY
        elif family.per_candidate_language:
            assert name in bias.PER_LANGUAGE and name not in bias.PER_QUERY
        else:
            assert name in bias.PER_QUERY
