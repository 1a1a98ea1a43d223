"""trec_eval's rank-based measures computed from relevant ranks equal pytrec_eval's, bit for bit:
on synthetic rankings (shallow, deep, cutoffs beyond the deepest rank) and on every query of every
real XQuAD-R cell."""

from __future__ import annotations

import numpy as np
import pytest

from xret.measures import table as m
from xret.measures.ranks import measure_ranks, padded_trec
from xret.measures.table import parse_measures
from xret.measures.trec_formulas import FORMULAS

EVERY_FAMILY = parse_measures(
    ["MAP", "MRR"]
    + [f"{name}@{k}" for name in ("R", "Hit", "P", "nDCG") for k in (1, 3, 10, 100, 5000)]
)


def _differences(ranks: np.ndarray, measures) -> dict[str, float]:
    """Largest |formula - pytrec_eval| per measure, over all rows."""
    fast, oracle = measure_ranks(ranks, measures), padded_trec(ranks, measures)
    return {str(x): float(np.abs(fast[x] - oracle[x]).max(initial=0.0)) for x in measures}


def _random_ranks(seed: int, rows: int, most_relevant: int, deepest: int) -> np.ndarray:
    """Rows of distinct relevant ranks in random column order, 0-padded, at least one each."""
    rng = np.random.default_rng(seed)
    out = np.zeros((rows, most_relevant), dtype=np.int64)
    for row in out:
        count = int(rng.integers(1, most_relevant + 1))
        depth = int(rng.choice([count, 10, 200, deepest]))
        row[:count] = rng.choice(np.arange(1, max(depth, count) + 1), count, replace=False)
        rng.shuffle(row)
    return out


def test_every_family_has_a_formula():
    assert {f.trec for f in m.FAMILIES.values() if f.trec} == set(FORMULAS)


@pytest.mark.parametrize(
    ("most_relevant", "deepest"), [(1, 20), (1, 13_000), (4, 50), (11, 13_000), (30, 3_000)]
)
def test_formulas_equal_pytrec_eval_on_synthetic_rankings(most_relevant, deepest):
    ranks = _random_ranks(most_relevant * 7 + deepest, 400, most_relevant, deepest)
    assert _differences(ranks, EVERY_FAMILY) == dict.fromkeys(map(str, EVERY_FAMILY), 0.0)


def test_formulas_equal_pytrec_eval_on_worked_patterns():
    ranks = np.array([[1, 0, 0], [3, 1, 6], [0, 2, 0], [10, 11, 9], [1, 2, 3], [5000, 4999, 1]])
    assert _differences(ranks, EVERY_FAMILY) == dict.fromkeys(map(str, EVERY_FAMILY), 0.0)


def test_a_family_without_a_formula_is_scored_by_pytrec_eval(monkeypatch):
    """R-precision (rank-based, no formula here) goes through padded qrels, not silently dropped."""
    monkeypatch.setitem(m.FAMILIES, "Rprec", m.Family("Rprec"))
    measures = [m.Measure("MAP"), m.Measure("Rprec")]
    values = measure_ranks(np.array([[1, 3, 0], [2, 4, 5], [7, 0, 0]]), measures)
    assert values[m.Measure("Rprec")].tolist() == [0.5, 1 / 3, 0.0]
    expected_map = [(1 + 2 / 3) / 2, (1 / 2 + 2 / 4 + 3 / 5) / 3, 1 / 7]
    assert values[m.Measure("MAP")].tolist() == expected_map


@pytest.mark.slow
@pytest.mark.realdata
def test_formulas_equal_pytrec_eval_on_every_real_xquad_r_query(data_dir, tmp_path):
    """All 11 languages, all settings (157k rankings), ranked by the hash encoder, which puts
    relevant candidates anywhere in pools of up to 13,000: deep, varied patterns."""
    from xret.benchmark.engine import Embedded
    from xret.benchmark.evaluate import task_ranks
    from xret.tasks import get_task, load_task
    from xret.tasks.records import candidate_text
    from xret.tasks.settings import build_cells
    from xret.tasks.spec import CandidateText
    from xret.testing import HashEncoder

    task = get_task("xquad-r")
    data = load_task(task, task.languages, data_dir, tmp_path / "cache")
    cells = build_cells(data, task.languages, task.settings)
    texts = [candidate_text(d, CandidateText.SENTENCE) for d in data.documents]

    def embedded(strings: list[str]) -> Embedded:
        vectors = HashEncoder().encode(strings)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return Embedded(vectors=vectors, index=np.arange(len(strings)))

    ranked = task_ranks(data, cells, embedded([q.text for q in data.queries]), embedded(texts))
    ranks = [r.ranks for r in ranked]
    assert sum(len(r) for r in ranks) == 157_080
    worst = {}
    for cell_ranks in ranks:
        for measure, difference in _differences(cell_ranks, EVERY_FAMILY).items():
            worst[measure] = max(worst.get(measure, 0.0), difference)
    assert worst == dict.fromkeys(map(str, EVERY_FAMILY), 0.0)
