"""SIGTERM during a ``--ray`` run ends as every run does: one line, exit 143, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from xret.testing import write_lareqa_task

from ray_helpers import toy_lareqa

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]
SLOW = """
    import os, pathlib, time
    from xret.testing import HashEncoder

    class Encoder(HashEncoder):
        def encode(self, texts, role=None):
            if any("SLOW" in t for t in texts):
                pathlib.Path(os.environ["XRET_TEST_MARKER"]).touch()
                time.sleep(120)
            return super().encode(texts, role)
    """


def test_sigterm_during_a_ray_run_is_one_line_and_keeps_finished_work(tmp_path):
    pytest.importorskip("ray")
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "slow_ray.py").write_text(textwrap.dedent(SLOW))
    slow = write_lareqa_task(
        tmp_path / "slow",
        {"en": [{"sentences": ["SLOW one.", "SLOW two."], "questions": [("s1", "SLOW?", 0)]}]},
    )
    marker = tmp_path / "slow-started"
    environ = {
        **os.environ,
        "XRET_CACHE_DIR": str(tmp_path / "cache"),
        "XRET_RESULTS_DIR": str(tmp_path / "results"),
        "XRET_TEST_MARKER": str(marker),
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "mods"), str(ROOT)]),
    }
    tasks = ["-t", f"lareqa:{toy_lareqa(tmp_path / 'toy')}", "-t", f"lareqa:{slow}"]
    process = subprocess.Popen(
        [sys.executable, "-c", "from xret.cli import main; main()", "bench", "-m"]
        + ["slow_ray:Encoder", *tasks, "-q", "--ray"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        deadline = time.monotonic() + 180
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert marker.exists(), process.stderr.read() if process.poll() is not None else ""
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert "Traceback" not in err and "SIGTERM" in err.strip().splitlines()[-1]
    assert err.strip().splitlines()[-1].startswith("xret: interrupted (SIGTERM)")
    assert len(list((tmp_path / "results").rglob("*.json"))) == 1  # the finished task
