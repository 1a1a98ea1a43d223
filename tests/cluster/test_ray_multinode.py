"""``--ray ADDRESS`` on a simulated multi-node cluster (ray.cluster_utils.Cluster on this machine):
a head without CPUs and two one-CPU nodes, so the two actors run on two different nodes."""

from __future__ import annotations

import pytest

from xret.benchmark import corpus_search
from xret.cluster.encode import release
from xret.results.store import load_record
from xret.testing import toy_miracl

from ray_helpers import assert_same_numbers, toy_lareqa

pytestmark = pytest.mark.ray
MODEL = "xret.testing:HashEncoder"


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    nodes = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    for _ in range(2):
        nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    yield nodes
    release()
    ray.shutdown()
    nodes.shutdown()


def bench(xret_cli, monkeypatch, root, *args):
    monkeypatch.setenv("XRET_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(root / "results"))
    code, out, err = xret_cli("bench", "-q", *args)
    assert code == 0, err
    return sorted((root / "results").rglob("*.json"))


def test_two_nodes_give_the_same_numbers(cluster, tmp_path, monkeypatch, xret_cli):
    task_dir, corpus_dir = toy_miracl(
        tmp_path / "toy", languages=("sw", "ru"), passages=30, duplicates=1
    )
    lareqa = f"lareqa:{toy_lareqa(tmp_path / 'lareqa')}"
    args = (
        "-m",
        MODEL,
        "-t",
        lareqa,
        "-t",
        f"miracl:{task_dir}",
        "--corpus-dir",
        str(corpus_dir),
        "--depth",
        "25",
        "--measures",
        "nDCG@10,R@20",
    )
    monkeypatch.setattr(corpus_search, "SEARCH_BLOCK", 8)
    alone = bench(xret_cli, monkeypatch, tmp_path / "alone", *args)
    # The same command with the cluster's address; the driver (this process) joins it.
    spread = bench(xret_cli, monkeypatch, tmp_path / "ray", *args, "--ray", cluster.address)
    assert len(spread) == 2
    by_task = {load_record(p).task.name: p for p in spread}
    for path in alone:
        assert_same_numbers(by_task[load_record(path).task.name], path)
    provenance = load_record(spread[0]).provenance
    assert (provenance.engine, provenance.workers) == ("ray", 2)  # one per one-CPU node
