"""``--ray`` mistakes are one line; nothing imports Ray unless a run asks (no runtime here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ray_helpers import toy_lareqa

MODEL = "xret.testing:HashEncoder"


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    return f"lareqa:{toy_lareqa(tmp_path / 'toy')}"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ray-workers", "2"], "--ray-workers and --ray-cpus apply with --ray only"),
        (["--ray", "--ray-workers", "0"], "--ray-workers and --ray-cpus must be positive"),
        (["--ray", "auto", "--ray-cpus", "0"], "--ray-workers and --ray-cpus must be positive"),
    ],
)
def test_ray_mistakes_give_one_line(toy, xret_cli, args, message):
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q", *args)
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_ray_is_one_line_before_any_work(toy, tmp_path, monkeypatch, xret_cli):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q", "--ray")
    assert code == 2 and err == "xret: error: --ray needs Ray: pip install 'xret[ray]'\n"
    assert not (tmp_path / "cache" / "embeddings").exists()


def test_help_does_not_import_ray():
    code = (
        "import sys; from xret.cli import cli; "
        "cli.main(['bench', '--help'], standalone_mode=False); "
        "print(json.dumps('ray' in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False


class _FakeRay:
    """What ray.init of Ray 2.60 does at a local start: warn that token authentication is on."""

    def __init__(self):
        self.started = False

    def is_initialized(self):
        return self.started

    def init(self, **kwargs):
        import logging

        from xret.cluster.runtime import TOKEN_AUTH_LOGGER

        logging.getLogger(TOKEN_AUTH_LOGGER).warning("Token authentication is enabled for ...")
        self.started = True

    def cluster_resources(self):
        return {"CPU": 2.0}


@pytest.mark.parametrize("address, shown", [("local", False), ("ray://head:10001", True)])
def test_the_token_auth_notice_is_left_out_of_a_local_start(monkeypatch, caplog, address, shown):
    from xret.cluster.runtime import ClusterOptions, connect

    monkeypatch.setitem(sys.modules, "ray", _FakeRay())
    with caplog.at_level("INFO"):
        connect(ClusterOptions(address=address))
    assert ("Token authentication" in caplog.text) == shown  # a cluster's own security: shown
