"""The Python API: xret.bench on in-memory models and task files, load_results, leaderboard,
compare; identities of in-memory models."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import xret
from xret.benchmark.strategies import IgnoredOptionWarning
from xret.errors import ModelError, XretError
from xret.models.providers.objects import UnversionedModelWarning, content_hash, object_spec
from xret.results.store import load_record
from xret.testing import HashEncoder, toy_miracl, write_lareqa_task

from test_lareqa import PARAGRAPHS


class Unversioned(HashEncoder):
    """HashEncoder without a declared revision, with a tunable attribute."""

    revision = None

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def encode(self, texts, role=None):
        return self.scale * super().encode(texts, role)


class TextsOnly:
    """An ``encode(texts)`` model of another library: xret prepends the prompts itself."""

    revision = "texts-only-1"

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, batch_size=32):
        self.seen.extend(texts)
        return HashEncoder().encode(texts)


@pytest.fixture
def toy(tmp_path):
    return f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"


def _bench(model, toy, tmp_path, **kwargs):
    return xret.bench(
        model, [toy], results_dir=tmp_path / "results", cache_dir=tmp_path / "cache", **kwargs
    )


def test_bench_an_in_memory_model_returns_typed_results(toy, tmp_path):
    with pytest.warns(UnversionedModelWarning, match="declares no revision"):
        results = _bench(Unversioned(), toy, tmp_path, name="mine")
    (result,) = results
    assert results["lareqa:toy"] is result and not result.skipped
    assert result.path.is_file() and result.record.model.name == "mine"
    assert result.record.model.provider == "object"
    assert result.record.model.revision == content_hash(Unversioned())
    summary = result.summary.set_index(["aggregate", "setting", "measure"])["value"]
    assert summary[("macro", "mono", "MAP")] == result.record.summary["macro"]["mono"]["MAP"]
    assert len(results.summary) == len(summary) and set(results.summary.task) == {"lareqa:toy"}
    # The same content is the same model: the rerun is skipped.
    with pytest.warns(UnversionedModelWarning):
        again = _bench(Unversioned(), toy, tmp_path, name="mine")
    assert again["lareqa:toy"].skipped and again["lareqa:toy"].path == result.path


def test_an_option_no_task_reads_is_refused_as_in_the_cli(toy, tmp_path):
    """``corpus_dir`` is MIRACL's: on a LAReQA task alone it is an error, beside a MIRACL task a
    warning; ``candidate_text`` on a MIRACL task likewise."""
    task_dir, corpus_dir = toy_miracl(tmp_path / "miracl", ("sw",), passages=12, queries=2)
    miracl = f"miracl:{task_dir}"
    lareqa = "lareqa:toy (lareqa family, exhaustive ranking)"
    with pytest.raises(XretError, match=re.escape(f"corpus_dir does not apply to {lareqa}")):
        _bench(HashEncoder(), toy, tmp_path, corpus_dir=corpus_dir)
    with pytest.raises(XretError, match="candidate_text does not apply to miracl:task"):
        _bench(HashEncoder(), miracl, tmp_path, candidate_text="sentence+context")
    with pytest.warns(
        IgnoredOptionWarning, match=f"corpus_dir does not apply to {re.escape(lareqa)}"
    ):
        results = xret.bench(
            HashEncoder(),
            [toy, miracl],
            results_dir=tmp_path / "results",
            cache_dir=tmp_path / "cache",
            corpus_dir=corpus_dir,
            measures=["nDCG@10"],
        )
    assert [r.task for r in results] == ["lareqa:toy", "miracl:task"]


def test_the_same_model_name_or_path_as_the_cli(toy, tmp_path, xret_cli, monkeypatch):
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    assert xret_cli("bench", "-m", "xret.testing:HashEncoder", "-t", toy, "-q")[0] == 0
    (result,) = _bench("xret.testing:HashEncoder", toy, tmp_path)
    (cli_record,) = xret.load_results(tmp_path / "cli").record.unique()
    assert result.record.cells == load_record(Path(cli_record)).cells


def test_content_hash_follows_the_content():
    assert content_hash(Unversioned(1.0)) == content_hash(Unversioned(1.0))
    assert content_hash(Unversioned(1.0)) != content_hash(Unversioned(2.0))

    class Unpicklable(Unversioned):  # a local class cannot be pickled: attributes identify it
        pass

    assert content_hash(Unpicklable(1.0)) != content_hash(Unpicklable(2.0))


@pytest.mark.slow
def test_content_hash_of_a_torch_module_is_its_state_dict():
    import torch

    torch.manual_seed(0)
    a = torch.nn.Linear(4, 2)
    b = torch.nn.Linear(4, 2)
    b.load_state_dict(a.state_dict())
    assert content_hash(a) == content_hash(b)
    with torch.no_grad():
        b.bias[0] += 1e-3
    assert content_hash(a) != content_hash(b)


def test_an_encode_without_role_gets_the_prompts_prepended(toy, tmp_path):
    model = TextsOnly()
    _bench(model, toy, tmp_path, query_prompt="query: ", document_prompt="passage: ")
    assert "query: What is the capital?" in model.seen
    assert "passage: Rome is old." in model.seen


def test_an_object_without_encode_is_a_model_error():
    with pytest.raises(ModelError, match="has no encode method"):
        object_spec(object())


def test_load_results_is_tidy_and_matches_the_records(toy, tmp_path):
    (result,) = _bench(HashEncoder(), toy, tmp_path, name="hash")
    frame = xret.load_results(tmp_path / "results")
    assert list(frame.columns) == list(xret.api.TIDY_COLUMNS)
    assert len(frame) == sum(len(c.values) for c in result.record.cells)
    cell = result.record.cell("cross", "en", "de")
    row = frame[
        (frame.setting == "cross")
        & (frame.query_language == "en")
        & (frame.pool_language == "de")
        & (frame.measure == "MAP")
    ]
    assert row.value.item() == cell.values["MAP"] and set(frame.model) == {"hash"}


def test_leaderboard_and_compare_from_python(toy, tmp_path):
    _bench(HashEncoder(), toy, tmp_path, name="hash")
    other = Unversioned(1.0)
    other.revision = "scaled-1"
    other.encode = lambda texts, role=None: HashEncoder().encode(texts[::-1], role)[::-1] + 0.5
    _bench(other, toy, tmp_path, name="shifted")
    board = xret.leaderboard(tmp_path / "results", "markdown", published=False)
    assert "hash" in board and "shifted" in board
    comparison = xret.compare(["hash", "shifted"], tmp_path / "results", resamples=200)
    assert (comparison.systems, comparison.measure) == (("hash", "shifted"), "MAP")
    assert {row.setting for row in comparison.settings} == {"mono", "cross", "multi"}


def test_import_xret_stays_light():
    code = (
        "import sys, json, xret; assert callable(xret.bench); print(json.dumps(sorted("
        "m for m in ('torch', 'pandas', 'faiss') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    with pytest.raises(AttributeError):
        xret.no_such_function  # noqa: B018


@pytest.mark.slow
def test_an_in_memory_sentence_transformer_scores_as_its_saved_folder(toy, tmp_path):
    """Same weights and prompts, in memory or from disk: the same numbers; the in-memory one is
    identified by its state_dict, and a changed weight is a new identity."""
    import torch
    from sentence_transformers import SentenceTransformer

    from xret.testing import tiny_sentence_transformer

    folder = tiny_sentence_transformer(tmp_path)
    model = SentenceTransformer(str(folder), device="cpu")

    (from_disk,) = _bench(str(folder), toy, tmp_path)
    with pytest.warns(UnversionedModelWarning):
        (in_memory,) = _bench(model, toy, tmp_path, name="tiny-in-memory")
    assert in_memory.record.model.prompts == {"query": "query: ", "document": "passage: "}
    for a, b in zip(from_disk.record.cells, in_memory.record.cells):
        assert (a.setting, a.query_language, a.pool_language) == (
            b.setting,
            b.query_language,
            b.pool_language,
        )
        assert a.values == pytest.approx(b.values, abs=1e-6)
    revision = in_memory.record.model.revision
    with torch.no_grad():
        next(model.parameters())[0, 0] += 1.0
    with pytest.warns(UnversionedModelWarning):
        assert object_spec(model).revision != revision


@pytest.mark.slow
def test_heatmap_from_python(toy, tmp_path):
    _bench(HashEncoder(), toy, tmp_path, name="hash")
    written = xret.heatmap(["hash"], tmp_path / "results", out=tmp_path / "maps")
    assert {p.suffix for p in written} == {".png", ".svg"} and all(p.is_file() for p in written)


def test_an_in_memory_model_is_not_kept_alive_by_xret():
    """A notebook that drops a large model frees it: xret holds it weakly (one that cannot be
    referenced weakly, such as a SimpleNamespace, stays held)."""
    import gc
    import types
    import weakref

    from xret.models.providers.objects import ObjectProvider

    model = HashEncoder()
    spec = object_spec(model, "dropped")
    gone = weakref.ref(model)
    assert ObjectProvider().status(spec, Path()) == "installed"
    del model
    gc.collect()
    assert gone() is None
    assert ObjectProvider().status(spec, Path()) == "not in this process"
    plain = types.SimpleNamespace(encode=HashEncoder().encode, revision="1")
    kept = object_spec(plain, "plain")
    del plain
    gc.collect()
    assert ObjectProvider().status(kept, Path()) == "installed"


def test_in_memory_revisions_are_whole_strings_and_claims_are_checked(toy, tmp_path):
    """Revisions sharing their first 16 characters are two models; two different objects that
    declare one name and revision are refused; a revision that is not a string is refused."""
    first, second = Unversioned(1.0), Unversioned(-1.0)
    first.revision = "release-2024-01-01-a"
    second.revision = "release-2024-01-01-b"
    (a,) = _bench(first, toy, tmp_path, name="same-name")
    (b,) = _bench(second, toy, tmp_path, name="same-name")
    assert not b.skipped and a.path != b.path
    impostor = Unversioned(2.0)
    impostor.revision = "release-2024-01-01-a"
    with pytest.raises(ModelError, match="two different in-memory models are named same-name"):
        _bench(impostor, toy, tmp_path, name="same-name")
    twin = Unversioned(1.0)  # equal content under the same claim: the same model
    twin.revision = "release-2024-01-01-a"
    (again,) = _bench(twin, toy, tmp_path, name="same-name")
    assert again.skipped
    for revision in (3, "", ["v1"]):
        odd = Unversioned()
        odd.revision = revision
        with pytest.raises(ModelError, match="a revision is a non-empty string"):
            object_spec(odd, "odd")


def test_one_string_is_one_name_not_its_characters(toy, tmp_path):
    """``languages="en"`` is English (it used to be read as 'e' and 'n'); a string holds names
    as the CLI's option does; an empty name is refused."""
    (result,) = _bench(HashEncoder(), toy, tmp_path, languages="en", settings="mono")
    assert {(c.setting, c.query_language) for c in result.record.cells} == {("mono", "en")}
    (both,) = _bench(HashEncoder(), toy, tmp_path, languages="de,en", measures="MAP,R@1")
    assert set(both.record.cells[0].values) == {"MAP", "R@1"}
    with pytest.raises(XretError, match="expected names"):
        _bench(HashEncoder(), toy, tmp_path, languages="en,")


def test_intervals_from_python(toy, tmp_path):
    (result,) = _bench(HashEncoder(), toy, tmp_path, name="hash")
    summary = result.summary_ci(resamples=300, seed=1)
    assert list(summary.columns) == [
        "aggregate",
        "setting",
        "measure",
        "value",
        "ci_low",
        "ci_high",
    ]
    assert summary.equals(result.summary_ci(resamples=300, seed=1))  # seeded
    scored = summary.dropna()  # per-query scores are stored to 6 significant digits: 1e-6
    assert len(scored) == len(result.summary)
    assert ((scored.ci_low <= scored.value + 1e-6) & (scored.value <= scored.ci_high + 1e-6)).all()
    assert (summary.ci_low < summary.ci_high).any()
    frame = xret.load_results(tmp_path / "results", ci=True, resamples=300)
    assert {"ci_low", "ci_high"} <= set(frame.columns) and frame.ci_low.notna().all()
    # Per-query scores keep 6 significant digits: a value above 1 (nRD) moves by up to 5e-6.
    slack = 5e-6 * frame.value.abs().clip(lower=1)
    assert (frame.ci_low <= frame.value + slack).all() and (
        frame.value <= frame.ci_high + slack
    ).all()
    board = xret.leaderboard(tmp_path / "results", "markdown", published=False, ci=True)
    assert "intervals and ranks" in board and "| hash | 1 |" in board
    with pytest.raises(XretError, match="resamples must be positive"):
        result.summary_ci(resamples=0)
