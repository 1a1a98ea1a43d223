"""Language-bias measures written by hand (trec_eval has none): the bias panel, docs/bias.md.

Every function reads one multilingual cell as a ``Pooled`` value (relevant ranks, the top of the
pooled ranking, each candidate's language as a code) and returns one value per query, NaN where
the measure is undefined for that query; ``language_recall`` and ``parallel_consistency`` return
one value per query and candidate language (the query-language x candidate-language matrix). All
of them are vectorised over queries: the Python loops run over languages or relevance levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xret.measures.table import MAX_CUTOFF

BEYOND = MAX_CUTOFF + 1
"""``Pooled.ranks`` of a relevant candidate a truncated ranking lacks: below every cutoff."""
PEER_WEIGHTS = {0: 0.5, 1: 0.5}
"""PEER's weight per relevance level: non-relevant (judged 0 or unjudged) and relevant, equal."""


@dataclass(frozen=True, eq=False)
class Pooled:
    """One multilingual cell's ranking as the panel needs it (positions index the pool)."""

    ranks: np.ndarray
    """(queries, m) 1-based ranks of each query's relevant candidates, 0 for padding."""
    relevant: np.ndarray
    """(queries, m) pool positions of those candidates, aligned with ``ranks``, -1 for padding."""
    top: np.ndarray
    """(queries, depth) pool positions of the best-ranked candidates, best first."""
    pool_language: np.ndarray
    """(pool,) language code (0..languages-1) of every pool candidate."""
    query_language: np.ndarray
    """(queries,) language code of each query."""
    languages: int
    """How many language codes there are."""
    pool_counts: np.ndarray | None = None
    """(languages,) candidates of each language in the whole pool, where ``pool_language`` lists
    only the candidates the ranking names (a pool of corpora too large to list: relevant ranks
    and top then index that list); None: ``pool_language`` is the whole pool."""

    @property
    def size(self) -> int:
        """Candidates in the whole pool."""
        return len(self.pool_language) if self.pool_counts is None else int(self.pool_counts.sum())

    @property
    def language_share(self) -> np.ndarray:
        """(languages,) each language's share of the whole pool."""
        counts = self.pool_counts
        if counts is None:
            counts = np.bincount(self.pool_language, minlength=self.languages)
        return counts / self.size

    @property
    def relevant_language(self) -> np.ndarray:
        """(queries, m) language code of each relevant candidate, -1 for padding."""
        return np.where(self.relevant >= 0, self.pool_language[self.relevant], -1)

    @property
    def top_language(self) -> np.ndarray:
        return self.pool_language[self.top]

    @property
    def top_relevant(self) -> np.ndarray:
        """(queries, depth) whether each top candidate is relevant."""
        return (self.top[:, :, None] == self.relevant[:, None, :]).any(axis=2)

    def head(self, k: int) -> np.ndarray:
        if self.top.shape[1] < min(k, self.size):
            raise ValueError(f"the cell keeps the top {self.top.shape[1]}, not the top {k}")
        return self.top[:, :k]


def rank_distance(ranks: np.ndarray) -> np.ndarray:
    """Per query: last minus first rank of its relevant candidates in the multilingual pool.

    ranks: (queries, m) 1-based ranks, 0 for padding. Lower is less language bias; the minimum
    is (number of relevant - 1) when they are ranked consecutively.
    """
    present = ranks > 0
    if not present.any(axis=1).all():
        raise ValueError("every query needs at least one ranked relevant candidate")
    last = np.where(present, ranks, 0).max(axis=1)
    first = np.where(present, ranks, np.iinfo(np.int64).max).min(axis=1)
    return (last - first).astype(np.float64)


def rank_distance_ratio(cell: Pooled) -> np.ndarray:
    """RD / E[RD], E[RD] = (k-1)(N+1)/(k+1) for k relevant placed at random among N candidates
    (the expected range of k uniform draws without replacement): 1 is a random ranking, NaN for
    a query with one relevant candidate (its RD is always 0)."""
    k = (cell.ranks > 0).sum(axis=1).astype(np.float64)
    n = float(cell.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = (k - 1) * (n + 1) / (k + 1)
        return np.where(k > 1, rank_distance(cell.ranks) / expected, np.nan)


def same_language_share(cell: Pooled, k: int) -> np.ndarray:
    """Share of the top k in the query's language."""
    top = cell.pool_language[cell.head(k)]
    return (top == cell.query_language[:, None]).mean(axis=1)


def same_language_excess(cell: Pooled, k: int) -> np.ndarray:
    """Same-language share@k minus the pool's share of the query's language: 0 when the top k
    holds the query's language as often as the pool does, positive when it prefers it."""
    return same_language_share(cell, k) - cell.language_share[cell.query_language]


def _top1(cell: Pooled) -> tuple[np.ndarray, np.ndarray]:
    """(is the first candidate relevant, is it in the query's language), per query."""
    first = cell.head(1)[:, 0]
    right = (cell.relevant == first[:, None]).any(axis=1)
    return right, cell.pool_language[first] == cell.query_language


def right_same(cell: Pooled) -> np.ndarray:
    right, same = _top1(cell)
    return (right & same).astype(np.float64)


def right_other(cell: Pooled) -> np.ndarray:
    right, same = _top1(cell)
    return (right & ~same).astype(np.float64)


def wrong_same(cell: Pooled) -> np.ndarray:
    right, same = _top1(cell)
    return (~right & same).astype(np.float64)


def wrong_other(cell: Pooled) -> np.ndarray:
    right, same = _top1(cell)
    return (~right & ~same).astype(np.float64)


def first_other_rank(cell: Pooled) -> np.ndarray:
    """Rank of the best-ranked relevant candidate in another language than the query's; NaN for
    a query whose relevant candidates are all in its own language."""
    other = (cell.ranks > 0) & (cell.relevant_language != cell.query_language[:, None])
    best = np.where(other, cell.ranks, np.iinfo(np.int64).max).min(axis=1)
    return np.where(other.any(axis=1), best, np.nan).astype(np.float64)


def hit_minus_recall(ranks: np.ndarray, k: int) -> np.ndarray:
    """Hit@k - R@k: how far finding one relevant candidate in the top k falls short of finding
    them all (0 when none or all are found)."""
    present = ranks > 0
    found = (present & (ranks <= k)).sum(axis=1)
    return (found > 0) - found / present.sum(axis=1)


def language_recall(cell: Pooled, k: int) -> np.ndarray:
    """(queries, languages): R@k of the query's relevant candidates of each candidate language,
    in the one pooled ranking; NaN where the query has none in that language."""
    languages = np.arange(cell.languages)
    of = cell.relevant_language[:, :, None] == languages  # (queries, m, languages)
    found = (of & ((cell.ranks > 0) & (cell.ranks <= k))[:, :, None]).sum(axis=1)
    total = of.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, found / total, np.nan)


def peer(cell: Pooled, k: int, weights: dict[int, float] = PEER_WEIGHTS) -> np.ndarray:
    """PEER@k (Yang et al., SIGIR 2024) as peer_measure 0.0.1 computes it: per relevance level,
    the Kruskal-Wallis p-value of the ranks grouped by candidate language, weighted over levels.

    Level 0 holds the non-relevant candidates of the top k (unjudged ones included: xret's
    reading of a LAReQA pool; the reference needs them judged 0), level 1 the relevant ones. A
    relevant candidate below k takes the reference's rank (2n + u + 1)/2 for n relevant of which
    u are below k (its comment means "after the top k"; its n is the level's size, not k). A level
    with fewer than two languages, or with nothing retrieved, has p = 1 (the reference's rule);
    so has a level whose ranks are all equal, where the reference divides 0 by 0 (NaN).
    """
    top = cell.head(k)
    shape = cell.ranks.shape
    present = cell.ranks > 0
    unretrieved = present & (cell.ranks > top.shape[1])
    tail = (2 * present.sum(axis=1) + unretrieved.sum(axis=1) + 1) / 2
    values = np.concatenate(
        [
            np.broadcast_to(np.arange(1.0, top.shape[1] + 1), top.shape),
            np.broadcast_to(tail[:, None], shape),
        ],
        axis=1,
    )
    language = np.concatenate([cell.pool_language[top], cell.relevant_language], axis=1)
    level = np.concatenate([cell.top_relevant[:, : top.shape[1]], present], axis=1)
    kept = np.concatenate([np.ones(top.shape, dtype=bool), unretrieved], axis=1)
    retrieved = np.zeros(kept.shape, dtype=bool)
    retrieved[:, : top.shape[1]] = True
    total = np.zeros(len(top))
    for grade, weight in weights.items():
        mine = kept & (level == bool(grade))
        p = _kruskal_p(values, language, mine, cell.languages)
        total += weight * np.where((mine & retrieved).any(axis=1), p, 1.0)
    return total


def _kruskal_p(values, language, mine, languages: int) -> np.ndarray:
    """Per row, the Kruskal-Wallis p-value (chi-squared approximation) of ``values`` where
    ``mine``, grouped by ``language``; 1 with fewer than two non-empty groups or no spread."""
    from scipy.stats import chi2

    onehot = (language[:, :, None] == np.arange(languages)) & mine[:, :, None]
    n = onehot.sum(axis=1).astype(np.float64)  # (rows, languages)
    sums = np.einsum("rj,rjg->rg", values, onehot)
    total_n = n.sum(axis=1)
    groups = (n > 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums.sum(axis=1) / total_n
        group_mean = np.where(n > 0, sums / n, 0.0)
        ssg = (n * (group_mean - mean[:, None]) ** 2).sum(axis=1)
        ssa = (np.where(mine, values - mean[:, None], 0.0) ** 2).sum(axis=1)
        h = (total_n - 1) * ssg / ssa
        p = chi2.sf(h, np.maximum(groups - 1, 1))
    return np.where((groups >= 2) & (ssa > 0), p, 1.0)


def topk_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, Spearman's rho between two top-k lists of candidate ids (rows of ``a`` and
    ``b``, best first) over their union: a candidate missing from one list shares that list's
    ranks below k (average rank), as scipy.stats.spearmanr ranks ties. 1 for equal lists."""
    k = a.shape[1]
    match = a[:, :, None] == b[:, None, :]  # (pairs, k, k)
    in_b, in_a = match.any(axis=2), match.any(axis=1)
    common = in_b.sum(axis=1)
    union = 2 * k - common
    missing = k + (k - common + 1) / 2  # mean of the ranks k+1 .. union
    position = np.arange(1.0, k + 1)
    b_rank_of_a = np.where(in_b, (match * position).sum(axis=2), missing[:, None])
    total = k * (k + 1) / 2 + (k - common) * missing  # the same for both lists
    squares = (position**2).sum() + (k - common) * missing**2
    cross = (position * b_rank_of_a).sum(axis=1) + missing * (position * ~in_a).sum(axis=1)
    mean = total / union
    return (cross / union - mean**2) / (squares / union - mean**2)


def parallel_consistency(
    top: np.ndarray, question: np.ndarray, language: np.ndarray, languages: int, k: int
) -> np.ndarray:
    """(queries, languages): Spearman's rho between the top-k ranking of a query and that of its
    parallel query (same ``question``) in each other language, over one shared pool; NaN where
    there is none. ``top``: (queries, >= k) pool positions, best first."""
    out = np.full((len(top), languages), np.nan)
    rows = [np.flatnonzero(language == code) for code in range(languages)]
    for a in range(languages):
        for b in range(a + 1, languages):
            _, x, y = np.intersect1d(
                question[rows[a]], question[rows[b]], assume_unique=True, return_indices=True
            )
            if len(x):
                rho = topk_spearman(top[rows[a][x], :k], top[rows[b][y], :k])
                out[rows[a][x], b] = rho
                out[rows[b][y], a] = rho
    return out


PER_QUERY = {
    "RD": lambda cell, k: rank_distance(cell.ranks),
    "nRD": lambda cell, k: rank_distance_ratio(cell),
    "HitGap": lambda cell, k: hit_minus_recall(cell.ranks, k),
    "FirstOther": lambda cell, k: first_other_rank(cell),
    "Same": same_language_share,
    "Excess": same_language_excess,
    "PEER": peer,
    "RightSame": lambda cell, k: right_same(cell),
    "RightOther": lambda cell, k: right_other(cell),
    "WrongSame": lambda cell, k: wrong_same(cell),
    "WrongOther": lambda cell, k: wrong_other(cell),
}
"""Measures trec_eval lacks (xret.measures.table.FAMILIES with ``trec=None``): name ->
function of a multilingual cell and the cutoff, one value per query."""
PER_LANGUAGE = {"LangR": language_recall}
"""Name -> function of a multilingual cell and the cutoff, (queries, languages). ``Consist``
reads several cells (parallel queries): ``parallel_consistency``."""
