"""The bias panel (docs/bias.md) of a TREC run made elsewhere, computed by the panel's own
functions (xret.measures.bias) on the run read as one pooled ranking per query.

The pool is every document the run retrieves for a scored query, plus the relevant documents
of those queries: for a run that lists the whole pool (a bench's saved multilingual run), the
bench's pool; for a run cut at a depth, the documents it names (nRD's N and Excess@k's pool
shares are then those of that set, not of the corpus). A relevant document the run lacks ranks
below every cutoff: not found in any top k, and the query is left out of RD, nRD and, when no
relevant document in another language is retrieved, FirstOther (their values need its rank). A
measure over the top k leaves out the queries whose run lists fewer than k documents (fewer
than the pool's size). Queries the run lacks have no ranking: left out of every panel measure.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from xret.errors import XretError
from xret.measures.bias import BEYOND, PER_LANGUAGE, PER_QUERY, Pooled, parallel_consistency
from xret.measures.table import (
    BIAS_PANEL_DEFAULT,
    Measure,
    Needs,
    Truncation,
    parse_measures,
)

NO_QUERY_LANGUAGE = "needs the queries' languages (--query-lang)"
NO_PARALLEL = "needs parallel queries: ids '<lang>/<question>' shared across query languages"


def panel_measures(
    asked: Sequence[Measure] | None, query_languages: Mapping[str, str] | None, parallel: bool
) -> tuple[tuple[Measure, ...], dict[str, str]]:
    """The panel measures to compute and the skipped ones with why: of ``asked`` (a measure
    the run cannot give is then an XretError), or of RD and the bench's default panel."""
    wanted = parse_measures(["RD", *BIAS_PANEL_DEFAULT]) if asked is None else asked
    kept, skipped = [], {}
    for m in wanted:
        why = _missing(m, query_languages, parallel)
        if why and asked is not None:
            raise XretError(f"{m} {why}")
        if why:
            skipped[str(m)] = why
        else:
            kept.append(m)
    return tuple(kept), skipped


def _missing(m: Measure, query_languages, parallel: bool) -> str | None:
    if m.family.reads_query_language and query_languages is None:
        return NO_QUERY_LANGUAGE
    if m.family.needs is Needs.PARALLEL and not parallel:
        return NO_PARALLEL
    return None


def questions(query_languages: Mapping[str, str]) -> dict[str, str]:
    """Query id -> the question it asks, for ids ``<its language>/<question>``."""
    return {
        q: q.split("/", 1)[1] for q, lang in query_languages.items() if q.startswith(lang + "/")
    }


def has_parallel(queries: Sequence[str], query_languages: Mapping[str, str] | None) -> bool:
    """Whether some question is asked in two query languages (Consist@k is then defined)."""
    if query_languages is None:
        return False
    asked = questions({q: query_languages[q] for q in queries})
    languages: dict[str, set[str]] = {}
    for q, question in asked.items():
        languages.setdefault(question, set()).add(query_languages[q])
    return any(len(v) > 1 for v in languages.values())


def panel_values(
    rankings: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Sequence[str]],
    measures: Sequence[Measure],
    doc_languages: Mapping[str, str],
    query_languages: Mapping[str, str] | None,
) -> dict[str, dict[str, float]]:
    """Query -> measure -> value of the panel's ``measures`` (undefined values left out), for
    the queries of ``rankings`` (documents best first) with their ``relevant`` documents."""
    queries = list(rankings)
    pool = sorted({d for q in queries for d in (*rankings[q], *relevant[q])})
    position = {d: i for i, d in enumerate(pool)}
    codes = sorted({doc_languages[d] for d in pool} | set((query_languages or {}).values()))
    code = {lang: i for i, lang in enumerate(codes)}
    width = max(len(relevant[q]) for q in queries)
    ranks = np.zeros((len(queries), width), np.int64)
    where = np.full((len(queries), width), -1, np.int64)
    for row, q in enumerate(queries):
        rank = {d: i for i, d in enumerate(rankings[q], 1)}
        for j, d in enumerate(relevant[q]):
            ranks[row, j], where[row, j] = rank.get(d, BEYOND), position[d]
    pool_language = np.array([code[doc_languages[d]] for d in pool], np.int64)
    # without query languages no measure that reads them is asked (panel_measures): 0 stands in
    query_language = np.array(
        [code[query_languages[q]] if query_languages else 0 for q in queries], np.int64
    )
    depth = np.array([len(rankings[q]) for q in queries])
    out: dict[str, dict[str, float]] = {q: {} for q in queries}
    for m in measures:
        need = min(m.depth, len(pool))
        rows = np.flatnonzero(depth >= need)
        if not len(rows):  # every run shorter than the measure's cutoff
            continue
        top = np.array([[position[d] for d in rankings[queries[r]][:need]] for r in rows], np.int64)
        cell = Pooled(
            ranks=ranks[rows],
            relevant=where[rows],
            top=top.reshape(len(rows), need),
            pool_language=pool_language,
            query_language=query_language[rows],
            languages=len(codes),
        )
        values = _values(m, cell, [queries[r] for r in rows], query_languages)
        values[~_defined(m.family.truncation, cell, values, depth[rows])] = np.nan
        for r, value in zip(rows, values):
            if not np.isnan(value):
                out[queries[r]][str(m)] = float(value)
    return out


def _values(m: Measure, cell: Pooled, queries: Sequence[str], query_languages) -> np.ndarray:
    """One value per query: LangR@k and Consist@k (one per candidate language) as the mean
    over the candidate languages where the query has one."""
    if m.name in PER_QUERY:
        return PER_QUERY[m.name](cell, m.cutoff)
    if m.family.needs is Needs.PARALLEL:
        asked = questions({q: query_languages[q] for q in queries})
        question = np.array([asked.get(q, "\0" + q) for q in queries], dtype=object)
        split = parallel_consistency(
            cell.top, question, cell.query_language, cell.languages, m.cutoff
        )
    else:
        split = PER_LANGUAGE[m.name](cell, m.cutoff)
    with warnings.catch_warnings():  # a query with no value in any language: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(split, axis=1) if split.size else np.full(len(queries), np.nan)


def _defined(
    truncation: Truncation, cell: Pooled, values: np.ndarray, depth: np.ndarray
) -> np.ndarray:
    """Where a value does not depend on the rank of a document the run lacks, as the measure
    declares (``Truncation``)."""
    if truncation is Truncation.ALL_RANKED:
        present = cell.ranks > 0
        languages = np.where(present, cell.relevant_language, -1)
        spread = np.array([len(set(row[row >= 0])) > 1 for row in languages], dtype=bool)
        return spread & ~(cell.ranks == BEYOND).any(axis=1)
    if truncation is Truncation.RANK_RETRIEVED:
        with np.errstate(invalid="ignore"):
            return ~(values > depth)
    return np.ones(len(cell.ranks), dtype=bool)
