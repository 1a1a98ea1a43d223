"""What a *topic* is: the unit that significance tests and intervals resample.

A question's translations are one topic: XQuAD-R, MLQA-R and BEIR folders with shared ids ask
the same question in every language (query id ``<language>/<question id>``), so its rows in every
language and pool are not independent and flip or are drawn together. Where queries are not
parallel (MIRACL: each language has its own questions) every query is its own topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

PARALLEL_FAMILIES = frozenset({"lareqa", "beir"})
"""Task families whose query ids are shared by a question's translations."""


def topics(query_ids: pd.Series, family: str) -> pd.Series:
    """The topic of each query id (``<language>/<id>``) of a task of ``family``."""
    if family in PARALLEL_FAMILIES:
        return query_ids.str.split("/", n=1).str[-1]
    return query_ids.copy()
