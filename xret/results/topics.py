"""Which queries are one topic: the unit that intervals and paired tests resample."""

from __future__ import annotations

PARALLEL_FAMILIES = frozenset({"lareqa", "beir"})
"""Families whose query ids are ``<language>/<question id>`` with the question id shared by a
question's parallel versions (XQuAD-R, MLQA-R, BEIR folders with shared ids)."""


def topic_ids(query_ids, family: str):
    """The topic of each query id (a pandas Series of str): the question id shared across
    languages in a parallel family, else the query itself (MIRACL's queries are not parallel)."""
    if family in PARALLEL_FAMILIES:
        return query_ids.str.split("/", n=1).str[-1]
    return query_ids
