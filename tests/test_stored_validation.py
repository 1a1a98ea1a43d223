"""Stored files read back: result records, per-query scores, corpus docids and manifests, model
folder configs. A corrupt one is one ``xret: error:`` line naming the file, never a traceback or
a table built from it."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from miracl.test_corpus_store import RecordingEncoder, engine, make_corpus

from xret.benchmark.corpus_store import encode_corpus
from xret.errors import DataError, ModelError
from xret.models import model_spec
from xret.results.store import load_per_query, load_record
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """One finished bench on the toy task: (record path, its JSON, per-query bytes)."""
    import sys

    from xret.cli import main

    root = tmp_path_factory.mktemp("stored")
    task = write_lareqa_task(root / "toy", PARAGRAPHS)
    argv = sys.argv
    sys.argv = [
        "xret",
        "bench",
        "-m",
        MODEL,
        "-t",
        f"lareqa:{task}",
        "-q",
        "--cache-dir",
        str(root / "c"),
        "--results-dir",
        str(root / "r"),
    ]
    try:
        main()
    finally:
        sys.argv = argv
    (path,) = (root / "r").rglob("*.json")
    record = json.loads(path.read_text())
    return path, record, (path.parent / record["per_query"]).read_bytes()


@pytest.fixture
def results(tmp_path, stored):
    path, record, per_query = stored
    out = tmp_path / "r" / path.name
    out.parent.mkdir()
    out.write_text(json.dumps(record))
    (out.parent / record["per_query"]).write_bytes(per_query)
    return out, json.loads(json.dumps(record))


def _set(record, dotted, value):
    *parents, last = dotted.split(".")
    node = record
    for step in parents:
        node = node[int(step)] if step.isdigit() else node[step]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("cells.0.values.MAP", "x", "cells[0].values.MAP: expected a finite number"),
        ("cells.1.n_queries", -1, "cells[1].n_queries: negative"),
        ("cells.0.setting", None, "cells[0].setting: expected str"),
        ("summary.macro", 3, "summary.macro: expected an object"),
        ("by_language.mono.MAP.en", True, "by_language.mono.MAP.en: expected a finite number"),
        ("model.name", KeyError, "model.name: expected str"),
        ("cells", {}, "cells: expected list"),
        ("cells.0.extra_field", 1, "cells[0]: expected an object with"),
    ],
)
def test_mistyped_record_is_one_line(results, xret_cli, field, value, message):
    path, record = results
    _set(record, field, value)
    path.write_text(json.dumps(record))
    for args in (("leaderboard", str(path.parent)), ("compare", str(path), str(path))):
        code, out, err = xret_cli(*args)
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith(f"xret: error: {path}: not a readable xret result record")
        assert message in err


def test_deeply_nested_record_is_one_line(results):
    path, _ = results
    path.write_text('{"schema_version": 1, "cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(DataError, match="nested too deeply"):
        load_record(path)


def _rewrite_per_query(path, record, edit):
    table = path.parent / record["per_query"]
    lines = gzip.decompress(table.read_bytes()).decode().splitlines(keepends=True)
    table.write_bytes(gzip.compress("".join(edit(lines)).encode()))


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda lines: [lines[0], "mono,en,en,,0.5" + "," * (lines[0].count(",") - 4) + "\n"],
            "blank keys",
        ),
        (
            lambda lines: [lines[0].replace("query_id", "qid"), *lines[1:]],
            "lack the columns ['query_id']",
        ),
        (
            lambda lines: [
                lines[0],
                lines[1].replace(",", ",oops,", 1).rsplit(",", 1)[0] + "\n",
                *lines[2:],
            ],
            "holds values that are not scores",
        ),
    ],
)
def test_bad_per_query_table_is_one_line(results, edit, message):
    path, record = results
    _rewrite_per_query(path, record, edit)
    with pytest.raises(DataError, match="queries.csv.gz: ") as info:
        load_per_query(path, load_record(path))
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda lines: [*lines, lines[1]], "has more than one row (1 repeated rows)"),
        (lambda lines: [lines[0], *lines[2:]], "the record says"),
        (
            lambda lines: [*lines, "mono,xx,xx,q9" + ",0.5" * (lines[0].count(",") - 3) + "\n"],
            "a cell the record lacks",
        ),
    ],
)
def test_per_query_rows_must_match_the_record(results, xret_cli, edit, message):
    """`xret compare` on a table with a duplicated, missing or foreign row: one line, never a
    test over the wrong number of queries."""
    path, record = results
    _rewrite_per_query(path, record, edit)
    code, _, err = xret_cli("compare", str(path), str(path))
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_torn_per_query_gzip_is_one_line(results, xret_cli):
    path, record = results
    table = path.parent / record["per_query"]
    table.write_bytes(table.read_bytes()[:-30])
    code, _, err = xret_cli("compare", str(path), str(path))
    assert code == 2 and err.count("\n") == 1 and "cannot read per-query scores" in err
    assert str(table) in err


@pytest.mark.parametrize("cut", ["torn", "short", "long"])
def test_torn_corpus_docids_are_a_data_error(tmp_path, cut):
    corpus = make_corpus(tmp_path, shards=2, per_shard=5)
    store = encode_corpus(
        corpus, engine(RecordingEncoder()), tmp_path / "s", True, log=lambda m: None
    )
    ids = tmp_path / "s" / "shard-0001.ids"
    text = ids.read_text()
    cuts = {"torn": text[:-3], "short": text.split("\n", 1)[1], "long": text + "extra\n"}
    ids.write_text(cuts[cut])
    assert len(list(store.docids(0))) == 5
    with pytest.raises(DataError, match="shard-0001.ids: docids do not match the 5 stored vectors"):
        store.docids_of(np.array([[9]]))  # the last row of shard 1


def test_missing_docids_are_refused_on_resume(tmp_path):
    corpus = make_corpus(tmp_path, shards=2, per_shard=5)
    encode_corpus(corpus, engine(RecordingEncoder()), tmp_path / "s", True, log=lambda m: None)
    (tmp_path / "s" / "shard-0000.ids").unlink()
    with pytest.raises(DataError, match="shard-0000.ids: missing docids"):
        encode_corpus(corpus, engine(RecordingEncoder()), tmp_path / "s", True, log=lambda m: None)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.update(finished=[{"source": "docs-0.jsonl.gz"}]),
        lambda m: m.update(dim="64"),
        lambda m: m.update(layout=None),
        lambda m: m["finished"][0].update(source="../elsewhere"),
    ],
)
def test_malformed_corpus_manifest_is_a_data_error(tmp_path, edit):
    corpus = make_corpus(tmp_path, shards=2, per_shard=5)
    encode_corpus(corpus, engine(RecordingEncoder()), tmp_path / "s", True, log=lambda m: None)
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    edit(manifest)
    (tmp_path / "s" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="manifest.json: unreadable"):
        encode_corpus(corpus, engine(RecordingEncoder()), tmp_path / "s", True, log=lambda m: None)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "unreadable"),
        ("[1]", "'prompts' maps names to strings"),
        ('{"prompts": ["query: "]}', "'prompts' maps names to strings"),
        ('{"prompts": {"query": 3}}', "'prompts' maps names to strings"),
    ],
)
def test_invalid_sentence_transformers_config_is_one_line(tmp_path, xret_cli, content, message):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config_sentence_transformers.json").write_text(content)
    with pytest.raises(ModelError, match=message):
        model_spec(str(folder))
    code, _, err = xret_cli("bench", "-m", str(folder), "-t", "xquad-r", "-q")
    assert code == 2 and err.count("\n") == 1 and "config_sentence_transformers.json: " in err


def test_valid_config_prompts_are_read(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    config = {"prompts": {"query": "q: ", "passage": "p: "}}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
    spec = model_spec(str(folder))
    assert (spec.query_prompt, spec.document_prompt) == ("q: ", "p: ")


def test_a_bug_while_reading_a_record_is_not_blamed_on_the_file(tmp_path, monkeypatch):
    """Only a record's own shape is reported as a bad file; a programming error keeps its
    traceback (the store used to turn any KeyError or TypeError into 'not a readable record')."""
    from xret.results import store
    from xret.results.record import ResultRecord

    path = tmp_path / "r.json"
    path.write_text("{}")
    with pytest.raises(DataError, match="not a readable xret result record"):
        store.load_record(path)

    def broken(data):
        raise KeyError("a bug")

    monkeypatch.setattr(ResultRecord, "from_dict", staticmethod(broken))
    with pytest.raises(KeyError, match="a bug"):
        store.load_record(path)
