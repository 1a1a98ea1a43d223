"""The same record in two places of a results tree is one evaluation everywhere."""

from __future__ import annotations

import dataclasses

import pytest

from xret.errors import DataError
from xret.leaderboards.leaderboard import build_leaderboard
from xret.leaderboards.scores import find_records, load_collection
from xret.results.duplicates import distinct
from xret.results.record import ProvenanceSection

from .conftest import store


def _with_copy(root, record, **changes):
    """``record`` under ``root`` and a copy (``changes`` applied) under ``root/reproduction``."""
    first = store(root, record)
    second = store(root / "reproduction", dataclasses.replace(record, **changes))
    return first, second


def test_a_copy_with_other_provenance_counts_once(tmp_path, two_models):
    a, b = two_models
    store(tmp_path, b)
    provenance = ProvenanceSection(created="later", device="none")
    first, _ = _with_copy(tmp_path, a, provenance=provenance)
    (found,) = find_records(tmp_path, "model-a")
    assert found[0] == first
    doc = build_leaderboard(load_collection(tmp_path), published=False)
    assert not [n for n in doc.notes if "combined" in n]
    assert sorted(row[3] for row in doc.tables[0].rows) == ["model-a", "model-b"]


def test_a_copy_with_other_numbers_names_both_files(tmp_path, two_models):
    a, _ = two_models
    cells = (dataclasses.replace(a.cells[0], values={"MAP": 0.123}), *a.cells[1:])
    first, second = _with_copy(tmp_path, a, cells=cells)
    for load in (lambda: load_collection(tmp_path), lambda: find_records(tmp_path, "model-a")):
        with pytest.raises(DataError, match=f"^{first} and {second} are the same evaluation"):
            load()


def test_records_with_different_keys_all_stay(tmp_path, two_models):
    pairs = [(tmp_path / "a.json", two_models[0]), (tmp_path / "b.json", two_models[1])]
    assert distinct(pairs) == pairs
