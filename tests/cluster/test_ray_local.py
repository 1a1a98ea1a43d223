"""``--ray`` on a local Ray runtime: the same numbers as in-process, resumable, fault tolerant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace

import numpy as np
import pytest

from xret.benchmark import corpus_search
from xret.benchmark.corpus_store import encode_corpus
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
from xret.benchmark.search import exact_scores
from xret.cluster import ClusterOptions
from xret.cluster.encode import ray_engine, release
from xret.cluster.search import distributed_exact
from xret.errors import ModelError
from xret.models.spec import Role
from xret.results.store import load_record
from xret.runtime.device import CPU
from xret.tasks.corpus import Corpus
from xret.testing import HashEncoder, toy_miracl, write_lareqa_subset

from ray_helpers import assert_same_numbers, corpus_of, hash_engine, toy_lareqa

pytestmark = pytest.mark.ray
MODEL = "xret.testing:HashEncoder"


def bench(xret_cli, monkeypatch, root, *args):
    """One bench with its own cache and results: the Ray run must encode, not reuse."""
    monkeypatch.setenv("XRET_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(root / "results"))
    code, out, err = xret_cli("bench", "-q", *args)
    assert code == 0, err
    (path,) = (root / "results").rglob("*.json")
    return path


def test_lareqa_same_numbers_on_ray(ray_runtime, tmp_path, monkeypatch, xret_cli):
    task = f"lareqa:{toy_lareqa(tmp_path / 'toy')}"
    alone = bench(xret_cli, monkeypatch, tmp_path / "alone", "-m", MODEL, "-t", task)
    spread = bench(
        xret_cli,
        monkeypatch,
        tmp_path / "ray",
        "-m",
        MODEL,
        "-t",
        task,
        "--ray",
        "--ray-workers",
        "2",
        "--batch-size",
        "3",
    )
    assert_same_numbers(spread, alone)
    ray_record, local = load_record(spread).provenance, load_record(alone).provenance
    assert (ray_record.engine, ray_record.workers) == ("ray", 2)
    assert ray_record.dtype == local.dtype  # the one decision, shared by driver and actors
    # host:device of each actor that encoded (a module:attr encoder manages its own device)
    assert all(d.endswith(f":{local.device}") for d in ray_record.device.split(", "))
    assert (local.engine, local.workers) == ("in-process", 1)
    assert ray_record.encode["encoded"] == local.encode["encoded"] > 0


def test_miracl_same_ranks_on_ray_ties_included(ray_runtime, tmp_path, monkeypatch, xret_cli):
    task_dir, corpus_dir = toy_miracl(tmp_path / "toy", passages=40, queries=4, duplicates=2)
    args = (
        "-m",
        MODEL,
        "-t",
        f"miracl:{task_dir}",
        "--corpus-dir",
        str(corpus_dir),
        "--depth",
        "30",
        "--measures",
        "nDCG@10,R@30",
    )
    monkeypatch.setattr(
        corpus_search, "SEARCH_BLOCK", 7
    )  # many parts per shard, merged on the driver
    alone = bench(xret_cli, monkeypatch, tmp_path / "alone", *args)
    spread = bench(xret_cli, monkeypatch, tmp_path / "ray", *args, "--ray", "--ray-workers", "2")
    assert_same_numbers(spread, alone)


def test_distributed_exact_search_equals_local_ties_included(ray_runtime, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    # Few distinct values: many exact ties, also across parts and at the k-th hit.
    vectors = rng.integers(-2, 3, size=(90, 8)).astype(np.float32)
    queries = rng.integers(-2, 3, size=(12, 8)).astype(np.float32)
    source = corpus_search.InMemory(vectors)
    monkeypatch.setattr(corpus_search, "SEARCH_BLOCK", 13)
    engine = hash_engine(tmp_path, workers=2)
    spread = distributed_exact(engine.encoding.pool(), source, queries, 10)
    local = corpus_search.local_exact(source, queries, 10)
    np.testing.assert_array_equal(spread.ids, local.ids)
    np.testing.assert_array_equal(spread.scores, local.scores)
    # Against the oracle: score descending, then the lower id.
    scores = exact_scores(queries, vectors)
    oracle = np.lexsort((np.broadcast_to(np.arange(90), scores.shape), -scores), axis=1)[:, :10]
    np.testing.assert_array_equal(spread.ids, oracle)


def _corpus(tmp_path, shards: int = 3) -> Corpus:
    _, corpus_dir = toy_miracl(tmp_path / "toy", languages=("sw",), passages=36, shards=shards)
    return corpus_of(corpus_dir / "miracl-corpus-v1.0-sw")


def _in_process(tmp_path):
    from xret.models import model_spec

    return EmbeddingEngine(model_spec(MODEL), HashEncoder, None, progress=False)


def test_actor_killed_mid_shard_finishes_with_the_same_vectors(ray_runtime, kill_switch, tmp_path):
    corpus = _corpus(tmp_path)
    engine = hash_engine(tmp_path, workers=2, model="xret.testing:KilledOnceHashEncoder")
    (kill_switch / "armed").touch()
    store = encode_corpus(corpus, engine, tmp_path / "ray-store", True, log=lambda _: None)
    assert (kill_switch / "fired").exists(), "no actor was killed"
    expected = encode_corpus(
        corpus, _in_process(tmp_path), tmp_path / "local", True, log=lambda _: None
    )
    assert store.rows == expected.rows == 36
    for shard in range(3):
        np.testing.assert_allclose(store.vectors(shard), expected.vectors(shard), atol=1e-6)
    assert engine.stats.encoded == 36


DRIVER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from ray_helpers import corpus_of, hash_engine
    from xret.benchmark.corpus_store import encode_corpus
    from xret.cluster import ClusterOptions
    from xret.cluster.runtime import connect

    corpus_dir, root, address = sys.argv[1:]
    connect(ClusterOptions(address=address))
    engine = hash_engine(Path(root).parent, workers=1)

    def log(message):
        if "encoded docs-1" in message:  # dies with shard 1 encoded, before its commit
            os.kill(os.getpid(), signal.SIGKILL)

    encode_corpus(corpus_of(Path(corpus_dir)), engine, Path(root), True, log=log)
    """
)


def test_killed_driver_resumes_from_finished_shards(ray_runtime, tmp_path):
    corpus = _corpus(tmp_path, shards=4)
    root = tmp_path / "cache" / "store"
    address = ray_runtime.get_runtime_context().gcs_address
    release()  # the driver below needs a CPU for its actor
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), *sys.path])}
    run = subprocess.run(
        [sys.executable, "-c", DRIVER, str(corpus.shards[0].parent), str(root), address],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    messages = []
    engine = hash_engine(tmp_path / "cache", workers=1)
    store = encode_corpus(corpus, engine, root, True, log=messages.append)
    assert messages[0] == f"{corpus.name}: 1 of 4 shards already encoded in {root}"
    assert engine.stats.encoded == sum(r.rows for r in store.shards[1:])  # shard 0 not again
    expected = encode_corpus(
        corpus, _in_process(tmp_path), tmp_path / "local", True, log=lambda _: None
    )
    for shard in range(4):
        np.testing.assert_allclose(store.vectors(shard), expected.vectors(shard), atol=1e-6)
    assert list(store.docids(3)) == list(expected.docids(3))


def test_text_cache_filled_by_ray_serves_an_in_process_rerun(ray_runtime, tmp_path):
    texts = [f"text number {i}" for i in range(25)]
    engine = hash_engine(tmp_path, workers=2)
    spread = engine.embed(texts, Role.QUERY)
    local = EmbeddingEngine(engine.spec, HashEncoder, engine.cache, progress=False)
    again = local.embed(texts, Role.QUERY)
    assert local.stats.cached == 25 and local.stats.encoded == 0
    np.testing.assert_array_equal(again.vectors[again.index], spread.vectors[spread.index])


@pytest.mark.realdata
@pytest.mark.parametrize("task", ["xquad-r", "mlqa-r"])
def test_real_tasks_same_numbers_on_ray(
    ray_runtime, task, data_dir, tmp_path, monkeypatch, xret_cli
):
    """Paragraphs 0-29 of every language of the real task, all settings, all measures."""
    languages = sorted(p.stem for p in (data_dir / task).glob("*.json"))
    subset = write_lareqa_subset(data_dir / task, languages, slice(0, 30), tmp_path / task)
    args = ("-m", MODEL, "-t", f"lareqa:{subset}")
    alone = bench(xret_cli, monkeypatch, tmp_path / "alone", *args)
    spread = bench(xret_cli, monkeypatch, tmp_path / "ray", *args, "--ray", "--ray-workers", "2")
    assert_same_numbers(spread, alone)


def test_an_actors_model_error_is_one_line_on_the_driver(ray_runtime, tmp_path):
    engine = hash_engine(tmp_path, workers=1)
    wrong = ray_engine(
        replace(engine.spec, dim=65),
        ClusterOptions(workers=1),
        CPU,
        tmp_path,
        BatchPolicy(),
        None,
        progress=False,
    )
    with pytest.raises(ModelError) as caught:
        wrong.embed(["a text"], Role.QUERY)
    assert (
        str(caught.value)
        == "model xret.testing:HashEncoder returned 64-dimensional vectors, its spec says 65"
    )
