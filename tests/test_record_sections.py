"""Typed record sections: every committed record reads into them and writes back byte for byte;
records of an older xret (fields added since absent) still load and stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xret.results.record import (
    CoverageSection,
    ModelSection,
    OptionsSection,
    ProvenanceSection,
    ResultRecord,
    TaskSection,
)
from xret.results.store import load_record

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = sorted(p for p in (ROOT / "results").rglob("*.json") if "__" in p.name)


def test_the_committed_records_are_found():
    assert len(COMMITTED) >= 10


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_committed_record_round_trips_byte_for_byte(path):
    record = load_record(path)
    assert isinstance(record.model, ModelSection) and isinstance(record.task, TaskSection)
    assert record.to_json().encode("utf-8") == path.read_bytes()


def test_fields_an_older_xret_did_not_write_read_as_none_and_stay_absent(tmp_path):
    # An older xret wrote neither model.max_seq_length nor provenance.dtype.
    data = json.loads(COMMITTED[0].read_text())
    del data["model"]["max_seq_length"], data["provenance"]["dtype"]
    old = tmp_path / COMMITTED[0].name
    old.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    record = load_record(old)
    assert record.model.max_seq_length is None and "max_seq_length" in record.model.absent
    assert record.provenance.dtype is None and "dtype" not in record.to_dict()["provenance"]
    assert json.loads(record.to_json()) == data
    assert record.model.name and record.task.languages and record.options.measures


def test_sections_read_as_attributes_and_keep_a_familys_fields_apart():
    data = json.loads(COMMITTED[0].read_text())
    data["options"] |= {"pool": {"kind": "full"}, "depth": 100}
    data["task"]["corpus"] = {"sw": {"name": "c"}}
    record = ResultRecord.from_dict(data)
    assert record.options.extras == {
        "candidate_text": data["options"]["candidate_text"],
        "pool": {"kind": "full"},
        "depth": 100,
    }
    assert record.task.extras == {"corpus": {"sw": {"name": "c"}}}
    assert record.options.languages == tuple(data["options"]["languages"])
    assert record.coverage == CoverageSection(
        declared=data["coverage"]["declared"],
        uncovered_languages=tuple(data["coverage"]["uncovered_languages"]),
    )
    assert json.loads(record.to_json()) == data


@pytest.mark.parametrize("section", ["model", "coverage"])
def test_a_fixed_section_refuses_a_field_it_does_not_know(section):
    data = json.loads(COMMITTED[0].read_text())
    data[section]["surprise"] = 1
    with pytest.raises(ValueError, match=f"{section}: unknown fields \\['surprise'\\]"):
        ResultRecord.from_dict(data)


def test_an_open_sections_extras_never_shadow_its_typed_fields():
    with pytest.raises(ValueError, match="extras may not repeat"):
        OptionsSection(ranking="top-k", extras={"ranking": "exhaustive"})
    assert ProvenanceSection(timings={"encode": 1.0}).to_dict()["timings"] == {"encode": 1.0}
