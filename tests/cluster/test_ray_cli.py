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


def test_an_address_where_nothing_listens_fails_fast(toy, xret_cli):
    """Ray retries for minutes against a dead address: xret answers within seconds."""
    import socket
    import time

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q", "--ray", f"127.0.0.1:{port}")
    assert time.monotonic() - start < 30
    assert code == 2 and f"--ray 127.0.0.1:{port}: nothing answers there" in err
    assert err.count("\n") == 1 and "Traceback" not in err
