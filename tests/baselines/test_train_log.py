"""``xret train`` into a log file: a line per logging step, neither the trainer's bar nor the
libraries' bars nor the trainer's loss dicts (a fresh process: the libraries read their switches
when imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_train import one_thread, tiny_base, world  # noqa: F401  (fixtures)


@pytest.mark.slow
def test_training_logged_to_a_file_has_step_lines_and_no_bar(
    tiny_base,  # noqa: F811
    world,  # noqa: F811
    tmp_path,
):
    env = {**os.environ, "XRET_CACHE_DIR": str(world["cache"])}
    args = [
        "train", "--base", str(tiny_base), "--sampling", "x-y", "--data", str(world["data"]),
        "--exclude", world["eval"], "--steps", "2", "--batch-size", "4", "--device", "cpu",
        "-o", str(tmp_path / "x-y"),
    ]  # fmt: skip
    with open(tmp_path / "log", "w") as log:
        done = subprocess.run(
            [sys.executable, "-m", "xret", *args],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).parents[2],
        )  # fmt: skip
    text = (tmp_path / "log").read_text()
    assert done.returncode == 0, text
    assert "step 2/2, loss" in text and "\r" not in text and "{'loss'" not in text
