"""A user's ``module:attr`` encoder (``-m``): found as ``python -m`` finds a module (the working
directory first), and whatever is wrong with it is one line, exit 2, never a traceback or a
silent exit 0."""

from __future__ import annotations

import sys
import textwrap

import pytest

from xret.results.store import load_record
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

ENCODER = """
import numpy as np


class MyEncoder:
    dim = 4

    def encode(self, texts, role):
        return np.array([[len(t), t.count("a") + 1, 1.0, 2.0] for t in texts], dtype=np.float32)
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working directory with a toy task; sys.path and the test's modules restored after."""
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.chdir(tmp_path)
    write_lareqa_task(tmp_path / "toy", PARAGRAPHS)
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] in ("mypackage", "brokenpkg")]:
        del sys.modules[name]


def _package(root, name: str, body: str) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text("")
    (root / name / "encoders.py").write_text(textwrap.dedent(body))


def test_a_package_in_the_working_directory_is_found(here, xret_cli):
    _package(here, "mypackage", ENCODER)
    code, _, err = xret_cli("bench", "-m", "mypackage.encoders:MyEncoder", "-t", "lareqa:toy", "-q")
    assert code == 0, err
    (path,) = (here / "results").rglob("*.json")
    assert load_record(path).model.source == "mypackage.encoders:MyEncoder"


@pytest.mark.parametrize(
    "body, attr, message",
    [
        ("def broken(:\n    pass\n", "MyEncoder", "encoders.py:1: syntax error"),
        ("raise RuntimeError('no GPU here')\n", "MyEncoder", "raised RuntimeError: no GPU here"),
        ("import sys\nsys.exit(0)\n", "MyEncoder", "called sys.exit(0)"),
        (ENCODER, "MyEncodr", "did you mean 'MyEncoder'"),
    ],
    ids=["syntax-error", "raises-at-import", "exits-at-import", "misspelt-attribute"],
)
def test_a_broken_target_is_one_line(here, xret_cli, body, attr, message):
    _package(here, "brokenpkg", body)
    code, out, err = xret_cli("bench", "-m", f"brokenpkg.encoders:{attr}", "-t", "lareqa:toy")
    assert code == 2 and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (here / "results").exists()


def test_an_unknown_device_with_a_target_is_one_line(here, xret_cli):
    _package(here, "mypackage", ENCODER)
    args = ("bench", "-m", "mypackage.encoders:MyEncoder", "-t", "lareqa:toy", "--device", "tpu")
    code, _, err = xret_cli(*args)
    assert code == 2, err
    assert err.splitlines()[-1] == "xret: error: --device tpu: expected auto, cpu, cuda or cuda:N"
    assert "Traceback" not in err
