"""``xret show RECORD``: a record in words, checked against the record file itself."""

from __future__ import annotations

from pathlib import Path

from xret.results.store import load_record

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "results" / "me5-small-q4" / "20eca9c7604e" / "xquad-r__5be32ebabe.json"


def test_a_committed_record_in_words(xret_cli):
    record = load_record(RECORD)
    code, out, err = xret_cli("show", str(RECORD))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "me5-small-q4 on xquad-r"
    assert all(len(line) <= 80 for line in lines if not line.startswith("record: "))
    text = " ".join(out.split())  # wrapped lines joined
    assert f"revision {record.model.revision}" in text  # whole: it names the weights
    assert "xquad-r, version 1, lareqa format" in text and "13,090 queries" in text
    assert "ranking exhaustive" in text and "candidate text: sentence" in text
    assert f"git {record.provenance.git_commit[:12]}" in text
    assert f"beside the record: {record.per_query}" in text
    assert "no saved TREC runs" in text
    # the per-language table: each language's row holds its values, as the record has them
    (en,) = [line for line in lines if line.startswith("en ")]
    for setting, measure in (("mono", "MAP"), ("cross", "MAP"), ("multi", "RD")):
        value = record.by_language[setting][measure]["en"]
        assert f"{value:.{1 if measure == 'RD' else 4}f}" in en.split()
    mono_map = f"{record.summary['macro']['mono']['MAP']:.4f}"
    assert any(line.startswith("Mo. ") and mono_map in line.split() for line in lines)


def test_a_model_name_finds_its_record_and_two_records_are_one_line(xret_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = xret_cli("show", "minilm-en", "--results-dir", "results", "-t", "mlqa-r")
    assert code == 0 and out.startswith("minilm-en on mlqa-r\n")
    code, _, err = xret_cli("show", "minilm-en", "--results-dir", "results")
    assert code == 2 and err.count("\n") == 1 and "has 2 records" in err and "--task" in err


def test_a_corpus_record_in_words(tmp_path, xret_cli):
    from test_runs import _bench

    from xret.benchmark.runner import CorpusOptions
    from xret.testing import toy_miracl

    task, corpus = toy_miracl(tmp_path / "data", languages=("sw", "th"), passages=30, queries=4)
    outcome = _bench(tmp_path, f"miracl:{task}", corpus=CorpusOptions(corpus_dir=corpus))
    code, out, _ = xret_cli("show", str(outcome.path))
    lines = out.splitlines()
    assert code == 0 and all(len(line) <= 80 for line in lines if not line.startswith("record: "))
    text = " ".join(out.split())
    assert "corpus sw: miracl-corpus-v1.0-sw, 30 passages in 3 shards" in text
    assert "index: kind flat" in text and "{" not in out  # options in words, not JSON
    header = next(line for line in lines if line.startswith("language "))
    assert header.split()[1:] == ["nDCG@10", "R@100"]  # the record's order of measures
    assert "cross: the mean" not in out  # no cross-lingual setting to explain
