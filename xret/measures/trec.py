"""The one module that talks to pytrec_eval: per-query values of the standard measures of a run,
with what trec_eval would abort on or score silently wrong refused first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xret.errors import DataError
from xret.measures.table import Measure

MAX_GRADE = 2**31 - 1
"""Relevance grades beyond a C int make pytrec_eval fail inside C."""


def _request(measures: Sequence[Measure]) -> set[str]:
    """pytrec_eval's request strings, e.g. {'map', 'recall.1,10'}."""
    cutoffs: dict[str, set[int]] = {}
    for m in measures:
        family = m.family.trec
        cutoffs.setdefault(family, set())
        if m.cutoff is not None:
            cutoffs[family].add(m.cutoff)
    return {f if not c else f"{f}.{','.join(map(str, sorted(c)))}" for f, c in cutoffs.items()}


def evaluate(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    measures: Sequence[Measure],
) -> dict[str, dict[Measure, float]]:
    """Per-query values of the standard ``measures`` for every query in ``qrels``.

    A query with no entry in ``run`` scores 0 on every measure (pytrec_eval would drop it).
    """
    import pytrec_eval

    trec = [m for m in measures if m.is_trec]
    if not trec:
        return {qid: {} for qid in qrels}
    _check_trec_input(qrels, run)
    evaluator = pytrec_eval.RelevanceEvaluator(dict(qrels), _request(trec))
    found = evaluator.evaluate(dict(run))
    return {qid: {m: found.get(qid, {}).get(m.trec_key, 0.0) for m in trec} for qid in qrels}


def _check_trec_input(
    qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Mapping[str, float]]
) -> None:
    """What pytrec_eval would abort on (ids equal up to a NUL, in C) or score silently wrong
    (NaN scores, grades beyond a C int): a DataError instead. The loaders refuse such ids with
    their file and line; this is the last guard."""
    for table in (qrels, run):
        if "\0" in "".join(table) or any("\0" in "".join(docs) for docs in table.values()):
            raise DataError("a query or document id holds a NUL character, where trec_eval cuts it")
    if any(not 0 <= grade <= MAX_GRADE for docs in qrels.values() for grade in docs.values()):
        raise DataError(f"a relevance grade lies outside 0..{MAX_GRADE}")
    import numpy as np

    for qid, docs in run.items():
        if not np.isfinite(np.fromiter(docs.values(), dtype=np.float64, count=len(docs))).all():
            raise DataError(f"query {qid!r} has non-finite retrieval scores")
