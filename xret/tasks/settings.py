"""The evaluation cells of a task: (setting, query language, pool language) -> queries and pool.

Policy (recorded in every result): a cell's queries are those of its query language with at
least one relevant candidate in its pool; the others are counted, not scored. Pools keep
candidate order, which is also the order that breaks score ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xret.errors import XretError
from xret.tasks.records import TaskData
from xret.tasks.spec import ALL_LANGUAGES, Setting


@dataclass(frozen=True, eq=False)
class Cell:
    setting: Setting
    query_language: str
    pool_language: str
    queries: np.ndarray
    """Indices into ``TaskData.queries`` of the scored queries, ascending."""
    pool: np.ndarray
    """Indices into ``TaskData.documents``, ascending."""
    excluded: int
    """Queries of the query language with no relevant candidate in the pool."""

    @property
    def label(self) -> str:
        return f"{self.setting}/{self.query_language}/{self.pool_language}"


def build_cells(
    data: TaskData, languages: tuple[str, ...], settings: tuple[Setting, ...]
) -> list[Cell]:
    doc_language = np.array([d.language for d in data.documents])
    query_language = np.array([q.language for q in data.queries])
    doc_index = {d.id: i for i, d in enumerate(data.documents)}
    relevant_languages = [
        {
            data.documents[doc_index[doc]].language
            for doc, grade in data.qrels.get(q.id, {}).items()
            if grade > 0
        }
        for q in data.queries
    ]
    pools = {lang: np.flatnonzero(doc_language == lang) for lang in languages}
    pools[ALL_LANGUAGES] = np.flatnonzero(np.isin(doc_language, languages))

    def cell(setting: Setting, q_lang: str, p_lang: str) -> Cell:
        mine = np.flatnonzero(query_language == q_lang)
        wanted = set(languages) if p_lang == ALL_LANGUAGES else {p_lang}
        keep = np.array([bool(relevant_languages[i] & wanted) for i in mine], dtype=bool)
        return Cell(setting, q_lang, p_lang, mine[keep], pools[p_lang], int((~keep).sum()))

    cells = []
    for setting in settings:
        for q_lang in languages:
            if setting is Setting.MONO:
                cells.append(cell(setting, q_lang, q_lang))
            elif setting is Setting.CROSS:
                cells.extend(cell(setting, q_lang, p) for p in languages if p != q_lang)
            else:
                cells.append(cell(setting, q_lang, ALL_LANGUAGES))
    if not cells:  # cross alone over one language: nothing to score, not a score of nothing
        raise XretError(
            f"the cross setting needs at least two languages (given: {', '.join(languages)}); "
            "add languages or other settings"
        )
    return cells
