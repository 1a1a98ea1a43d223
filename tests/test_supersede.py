"""A stored record gains measures (the bias panel) without any of its numbers moving."""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import replace

import pytest

from xret.benchmark.runner import BenchConfig, run_bench
from xret.errors import DataError
from xret.results.store import PER_QUERY_KEYS, load_record
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

OLD = ("MAP", "R@10", "RD")


def _numbers(data: dict):
    """Every number of a record's JSON, by where it is."""
    for cell in data["cells"]:
        where = f"{cell['setting']}/{cell['query_language']}/{cell['pool_language']}"
        for measure, value in cell["values"].items():
            yield f"cell {where} {measure}", json.dumps(value)
    for section in ("by_language", "summary"):
        for a, inner in data[section].items():
            for b, values in inner.items():
                for c, value in values.items():
                    yield f"{section} {a}/{b}/{c}", json.dumps(value)


def _rows(path):
    """Per-query rows as written (text), by their keys."""
    text = gzip.decompress(path.read_bytes()).decode()
    return {tuple(r[k] for k in PER_QUERY_KEYS): r for r in csv.DictReader(io.StringIO(text))}


@pytest.fixture
def config(tmp_path):
    task = write_lareqa_task(tmp_path / "toy", PARAGRAPHS)
    return BenchConfig(
        model="xret.testing:HashEncoder",
        tasks=(f"lareqa:{task}",),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        measures=OLD,
        progress=False,
    )


def test_a_record_gains_the_panel_and_keeps_every_number(config):
    old = run_bench(config, log=lambda _: None)[0]
    old_text, old_rows = old.path.read_text(), _rows(old.path.parent / old.record.per_query)
    lines: list[str] = []
    new = run_bench(replace(config, measures=None), log=lines.append)[0]
    assert not old.path.exists() and new.path != old.path  # replaced: one record per evaluation
    assert any("replaces" in line and "reproduced exactly" in line for line in lines)
    before, after = (
        dict(_numbers(json.loads(old_text))),
        dict(_numbers(json.loads(new.path.read_text()))),
    )
    assert {k: after[k] for k in before} == before  # the same JSON text for every old number
    assert any("PEER@10" in k for k in after) and any("LangR@10" in k for k in after)
    assert new.record.provenance.extras["supersedes"]["key"] == old.record.key
    assert new.record.provenance.extras["supersedes"]["measures"] == list(OLD)
    # The per-query file: the old columns' text unchanged, row by row.
    new_rows = _rows(new.path.parent / new.record.per_query)
    for key, row in old_rows.items():
        assert {c: new_rows[key][c] for c in row} == row
    # Asked again: nothing left to extend, the record is simply there.
    again = run_bench(replace(config, measures=None), log=lambda _: None)[0]
    assert again.skipped and again.path == new.path


def test_a_number_that_moved_replaces_nothing(config):
    old = run_bench(config, log=lambda _: None)[0]
    data = json.loads(old.path.read_text())
    data["cells"][0]["values"]["MAP"] += 1e-9  # as if the stored vectors had been others
    old.path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="is kept"):
        run_bench(replace(config, measures=None), log=lambda _: None)
    assert load_record(old.path).cells[0].values["MAP"] == data["cells"][0]["values"]["MAP"]
    assert len(list(old.path.parent.glob("*.json"))) == 1


def test_fewer_measures_do_not_replace(config):
    """A bench with other measures (not a superset) writes its own record beside."""
    old = run_bench(config, log=lambda _: None)[0]
    other = run_bench(replace(config, measures=("MAP",)), log=lambda _: None)[0]
    assert old.path.exists() and other.path.exists() and other.path != old.path


def _nudge(path, by: float) -> dict:
    """Move one stored cell's MAP and one per-query value, as vectors encoded again would."""
    data = json.loads(path.read_text())
    data["cells"][0]["values"]["MAP"] += by
    path.write_text(json.dumps(data))
    return data


def test_a_moved_number_names_its_largest_move_and_the_way_out(config):
    old = run_bench(config, log=lambda _: None)[0]
    _nudge(old.path, 2e-4)
    with pytest.raises(DataError, match=r"largest move is 0.0002 \(cell .*MAP\): .*--accept-drift"):
        run_bench(replace(config, measures=None), log=lambda _: None)
    with pytest.raises(DataError, match=r"0.0002 at cell .*MAP, exceeds --accept-drift 0.0001"):
        run_bench(replace(config, measures=None, accept_drift=1e-4), log=lambda _: None)
    assert len(list(old.path.parent.glob("*.json"))) == 1  # nothing replaced either time


def test_within_accept_drift_the_stored_numbers_are_kept_byte_for_byte(config):
    old = run_bench(config, log=lambda _: None)[0]
    data = _nudge(old.path, 2e-4)
    # A per-query value that moved too (a near-tie that swapped when encoded again).
    per_query = old.path.parent / old.record.per_query
    text = gzip.decompress(per_query.read_bytes()).decode().splitlines()
    header = text[0].split(",")
    first = text[1].split(",")
    column = header.index("MAP")
    first[column] = "0.123457"
    text[1] = ",".join(first)
    per_query.write_bytes(gzip.compress(("\n".join(text) + "\n").encode()))
    stored_rows = _rows(per_query)
    lines: list[str] = []
    new = run_bench(replace(config, measures=None, accept_drift=1e-3), log=lines.append)[0]
    assert not old.path.exists()
    after = dict(_numbers(json.loads(new.path.read_text())))
    assert {k: after[k] for k in dict(_numbers(data))} == dict(_numbers(data))
    assert any("PEER@10" in k for k in after)
    new_rows = _rows(new.path.parent / new.record.per_query)
    for key, row in stored_rows.items():
        assert {c: new_rows[key][c] for c in row} == row  # 0.123457 included
    kept = new.record.provenance.extras["kept_numbers"]
    assert kept["moved"] == 1 and kept["per_query_moved"] == 1
    assert kept["largest_move"] == pytest.approx(2e-4, rel=1e-3)  # relative above 1
    assert any("kept as stored" in line and "at most 0.0002" in line for line in lines)


def test_a_rank_distance_moves_relative_to_its_size(config):
    """RD is in ranks: a move of 0.05 on a stored 50 is a relative move of 1e-3."""
    old = run_bench(config, log=lambda _: None)[0]
    data = json.loads(old.path.read_text())
    cell = next(c for c in data["cells"] if "RD" in c["values"] and c["values"]["RD"] >= 1)
    cell["values"]["RD"] += cell["values"]["RD"] * 1e-3
    old.path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"largest move is 0.001 \(cell .* RD\)"):
        run_bench(replace(config, measures=None), log=lambda _: None)


def test_the_python_api_takes_accept_drift(config):
    import xret
    from xret.errors import XretError

    old = run_bench(config, log=lambda _: None)[0]
    _nudge(old.path, 2e-4)
    kwargs = {"results_dir": config.results_dir, "cache_dir": config.cache_dir}
    with pytest.raises(XretError, match=r"accept_drift must lie in \[0, 1\]"):
        xret.bench(config.model, config.tasks, accept_drift=2.0, **kwargs)
    with pytest.raises(DataError, match="--accept-drift"):
        xret.bench(config.model, config.tasks, **kwargs)
    (done,) = xret.bench(config.model, config.tasks, accept_drift=1e-3, **kwargs)
    assert not old.path.exists() and done.path.exists()
    assert done.record.provenance.extras["kept_numbers"]["moved"] == 1
