"""``xret export --format mteb``: mteb's layout, round trip through mteb's ResultCache, and the
same names and keys as an mteb run of the adapted task."""

from __future__ import annotations

import json
import sys

import pytest

mteb = pytest.importorskip("mteb", reason="mteb is an optional extra: pip install 'xret[mteb]'")

from xret.benchmark.runner import BenchConfig, run_bench  # noqa: E402
from xret.cli import main  # noqa: E402
from xret.interop.mteb.export import export_results  # noqa: E402
from xret.interop.mteb.models import XretMtebEncoder  # noqa: E402
from xret.interop.mteb.naming import SPLIT, score_key  # noqa: E402
from xret.interop.mteb.tasks import mteb_tasks  # noqa: E402
from xret.testing import write_lareqa_task  # noqa: E402

from test_lareqa import PARAGRAPHS  # noqa: E402

MODEL = "xret.testing:HashEncoder"
FILES = "results/xret__xret.testing-HashEncoder/hash-encoder-1"


@pytest.fixture
def toy(tmp_path):
    return f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"


def _bench(tmp_path, toy, **options):
    config = BenchConfig(
        model=MODEL,
        tasks=(toy,),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        progress=False,
        **options,
    )
    (outcome,) = run_bench(config, log=lambda _: None)
    return outcome.record


def test_export_round_trips_through_mtebs_result_cache(tmp_path, toy):
    record = _bench(tmp_path, toy)
    report = export_results(tmp_path / "results", tmp_path / "out")
    names = sorted(f.name for f in (tmp_path / "out" / FILES).iterdir())
    assert names == [
        "model_meta.json",
        "run_settings.jsonl",
        "xret-lareqa-toy-cross.json",
        "xret-lareqa-toy-mono.json",
        "xret-lareqa-toy-multi.json",
    ]
    assert len(report.files) == 3 and not report.notes
    loaded = mteb.ResultCache(tmp_path / "out").load_results(include_remote=False)
    (model_result,) = loaded.model_results
    assert (model_result.model_name, model_result.model_revision) == (
        "xret/xret.testing-HashEncoder",
        "hash-encoder-1",
    )
    by_task = {
        t.task_name: {s["hf_subset"]: s for s in t.scores[SPLIT]} for t in model_result.task_results
    }
    for cell in (c for c in record.cells if not c.by_candidate_language):
        scores = by_task[f"xret-lareqa-toy-{cell.setting}"][
            f"{cell.query_language}-{cell.pool_language}"
        ]
        for measure, value in cell.values.items():
            assert scores[score_key(measure)] == pytest.approx(value, abs=1e-6)
    multi = by_task["xret-lareqa-toy-multi"]["en-all"]
    assert multi["main_score"] == multi["recall_at_10"] and "rank_distance" in multi
    assert {"xret_peer_at_10", "xret_nrd", "xret_wrongsame"} <= set(multi)  # the bias panel
    assert set(by_task["xret-lareqa-toy-multi"]) == {"de-all", "en-all"}
    mono = by_task["xret-lareqa-toy-mono"]["en-en"]
    assert mono["main_score"] == mono["map"] and mono["languages"] == ["eng-Latn"]
    meta = json.loads((tmp_path / "out" / FILES / "model_meta.json").read_text())
    assert meta["embed_dim"] == 64 and meta["similarity_fn_name"] == "cosine"


def test_export_and_an_mteb_run_share_task_names_revisions_and_keys(tmp_path, toy):
    """So exported xret results sit beside (and compare with) mteb runs of the adapted tasks."""
    _bench(tmp_path, toy)
    export_results(tmp_path / "results", tmp_path / "out")
    exported = {
        t.task_name: t
        for t in mteb.ResultCache(tmp_path / "out")
        .load_results(include_remote=False)
        .model_results[0]
        .task_results
    }
    tasks = mteb_tasks(toy, cache_dir=tmp_path / "cache")
    ran = mteb.evaluate(
        XretMtebEncoder(MODEL, cache_dir=tmp_path / "cache"),
        tasks,
        cache=None,
        show_progress_bar=False,
        co2_tracker=False,
    )
    for result in ran.task_results:
        twin = exported[result.task_name]
        assert twin.dataset_revision == result.dataset_revision
        theirs = {s["hf_subset"]: s for s in twin.scores[SPLIT]}
        for scores in result.scores[SPLIT]:
            other = theirs[scores["hf_subset"]]
            shared = {k for k in other if isinstance(other[k], float)} & set(scores)
            assert {"main_score", "ndcg_at_10", "recall_at_1"} <= shared
            for key in shared:
                assert other[key] == pytest.approx(scores[key], abs=1e-5), (result.task_name, key)


def test_cli_export_and_merging_of_records(tmp_path, toy, monkeypatch, capsys):
    _bench(tmp_path, toy)
    _bench(tmp_path, toy, languages=("en",))  # other files read: a different dataset revision
    _bench(tmp_path, toy, measures=("R@1",))  # no MAP: mono/cross cannot be exported
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "xret",
            "export",
            "--format",
            "mteb",
            str(tmp_path / "results"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    main()
    out, err = capsys.readouterr()
    assert out.count(".json") == 4  # mono, cross, multi over de+en, multi over en only
    assert "xret-lareqa-toy-multi.en.json" in out
    assert "main score 'map' was not computed" in err
    assert "xret-lareqa-toy-mono not merged: other data files" in err
    assert "read back with mteb's ResultCache" in err


def test_cli_export_of_a_missing_directory_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        sys,
        "argv",
        ["xret", "export", "--format", "mteb", str(tmp_path / "nope"), "-o", str(tmp_path)],
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    assert "no such results directory" in capsys.readouterr().err
