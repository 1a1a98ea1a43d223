"""Synthetic result records with hand-picked numbers: small enough to compute every cell by hand."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from xret.results.aggregate import by_language, summarise
from xret.results.record import (
    CellScores,
    CoverageSection,
    ModelSection,
    OptionsSection,
    ProvenanceSection,
    ResultRecord,
    TaskSection,
)
from xret.results.store import ResultStore, result_key
from xret.tasks.spec import Aggregate


def make_record(
    model: str,
    cells: Mapping[tuple[str, str, str], Mapping[str, float]],
    *,
    task: str = "xquad-r",
    task_languages: tuple[str, ...] = ("de", "en"),
    languages: tuple[str, ...] | None = None,
    regime: str | None = None,
    base_model: str | None = None,
    revision: str = "r1",
    version: str = "1",
    data: str = "d1",
    candidate_text: str = "sentence",
    family: str = "lareqa",
    n_queries: int = 2,
    extra: dict | None = None,
) -> ResultRecord:
    """A record whose cells hold the given means; by_language and summary follow as in bench."""
    languages = languages or task_languages
    options = {
        "task_version": version,
        "languages": list(languages),
        "settings": ["mono", "cross", "multi"],
        "measures": sorted({m for v in cells.values() for m in v}),
        "candidate_text": candidate_text,
        "prompts": {"query": "", "document": ""},
        "ties": "candidate order",
        "ranking": "exhaustive",
    }
    cell_scores = tuple(
        CellScores(s, q, p, n_queries, 0, dict(values))
        for (s, q, p), values in sorted(cells.items())
    )
    per_language = by_language(cell_scores)
    return ResultRecord(
        key=result_key(task, model, revision, options),
        model=ModelSection(
            name=model, display_name=model, revision=revision, regime=regime, base_model=base_model
        ),
        task=TaskSection(
            name=task,
            family=family,
            version=version,
            languages=task_languages,
            data={f"{lang}.json": f"{data}-{lang}" for lang in task_languages},
        ),
        options=OptionsSection.from_dict(options, "options"),
        coverage=CoverageSection(declared=False),
        cells=cell_scores,
        by_language=per_language,
        summary=summarise(per_language, (Aggregate("macro", tuple(languages)),)),
        provenance=ProvenanceSection(),
        per_query=f"{result_key(task, model, revision, options).rsplit('/', 1)[-1]}.queries.csv.gz",
        extra=extra or {},
    )


XQUAD_R = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")


def uniform_cells(languages, mono: float, cross: float, multi: float, rd: float):
    """Every cell of a LAReQA task over ``languages``, one value per setting."""
    return lareqa_cells(
        dict.fromkeys(languages, mono),
        {(q, p): cross for q in languages for p in languages if q != p},
        dict.fromkeys(languages, multi),
        rd=dict.fromkeys(languages, rd),
    )


def lareqa_cells(
    mono: Mapping[str, float],
    cross: Mapping[tuple[str, str], float],
    multi: Mapping[str, float],
    rd: Mapping[str, float] | None = None,
    recall: float | None = None,
):
    """Cells of a two-language LAReQA task from MAP values (R@1/R@10 = ``recall`` when given)."""
    cells: dict[tuple[str, str, str], dict[str, float]] = {}
    for lang, value in mono.items():
        cells[("mono", lang, lang)] = {"MAP": value}
    for (q, p), value in cross.items():
        cells[("cross", q, p)] = {"MAP": value}
    for lang, value in multi.items():
        cells[("multi", lang, "all")] = {"MAP": value, **({"RD": rd[lang]} if rd else {})}
    if recall is not None:
        for (setting, _, _), values in cells.items():
            values["R@10" if setting == "multi" else "R@1"] = recall
    return cells


def store(root: Path, record: ResultRecord, per_query=None) -> Path:
    """Write a record (and per-query scores, a DataFrame) as ``xret bench`` does."""
    import pandas as pd

    frame = (
        per_query
        if per_query is not None
        else pd.DataFrame(
            columns=[
                "setting",
                "query_language",
                "pool_language",
                "query_id",
                *record.options.measures,
            ]
        )
    )
    return ResultStore(root).write(record, frame)


@pytest.fixture
def two_models():
    """Two systems on a two-language XQuAD-R-like task, numbers picked to check by hand."""
    a = make_record(
        "model-a",
        lareqa_cells(
            {"de": 0.6, "en": 0.8},
            {("de", "en"): 0.5, ("en", "de"): 0.3},
            {"de": 0.4, "en": 0.6},
            rd={"de": 10.0, "en": 20.0},
            recall=0.5,
        ),
        regime="x-y",
        base_model="base",
    )
    b = make_record(
        "model-b",
        lareqa_cells(
            {"de": 0.7, "en": 0.9},
            {("de", "en"): 0.2, ("en", "de"): 0.2},
            {"de": 0.5},
            rd={"de": 30.0},
        ),
        regime="hybrid",
        base_model="base",
    )
    return a, b
