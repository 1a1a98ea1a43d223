"""Shared fixtures. Tests never reach a model hub; real-data tests skip visibly without data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")


def _real_data_dir() -> Path | None:
    value = os.environ.get("XRET_DATA_DIR")
    if value and (Path(value) / "xquad-r").is_dir():
        return Path(value)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real evaluation data (``$XRET_DATA_DIR``); skips the test when it is absent."""
    found = _real_data_dir()
    if found is None:
        pytest.skip("real data absent: set XRET_DATA_DIR to a copy of shared/data to run this test")
    return found


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def xret_cli(monkeypatch, capsys):
    """Run the ``xret`` entry point in-process: ``(exit code, stdout, stderr)``."""
    from xret.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["xret", *args])
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
