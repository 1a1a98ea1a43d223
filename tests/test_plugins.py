"""Plugins: the example package under examples/ found through its entry points, run end to end.

Its task (toy-weather) and encoder are built so that every number can be worked out by hand
(examples/xret-plugin-example/README.md): each language has a sentence about the sun and one about
rain; the "sun" question ranks its sentence first, the "snow" question ties with every candidate
and finds its rain sentence second (candidate order breaks ties).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from xret.results.store import load_record

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "xret-plugin-example"


def _entry_points_txt() -> str:
    """The example's entry points, as an installer writes them into entry_points.txt."""
    groups = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]["entry-points"]
    return "".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
        for group, points in groups.items()
    )


def _install_by_hand(site: Path, entry_points: str, name: str = "xret_plugin_example") -> None:
    """What an installer leaves for importlib.metadata: a dist-info with the entry points."""
    info = site / f"{name}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("XRET_TASK_PATH", raising=False)
    _install_by_hand(tmp_path / "site", _entry_points_txt())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    return tmp_path


def check_toy_weather(record) -> None:
    """The hand-computed values (see the module docstring)."""
    assert record.task.name == "toy-weather" and record.model.name == "toy-weather-encoder"
    assert len(record.cells) == 2 + 2 + 2  # mono en, de; cross en→de, de→en; multi en, de
    for cell in record.cells:
        # sun question: AP 1, RR 1; snow question: gold second, AP 1/2, RR 1/2
        assert cell.values["MAP"] == pytest.approx(0.75)
        assert cell.values["MRR"] == pytest.approx(0.75)
        # R@1: the sun question finds 1 of its golds at rank 1 (of 2 in the pooled setting)
        r1 = (0.5 + 0.0) / 2 if cell.setting == "multi" else (1.0 + 0.0) / 2
        assert cell.values["R@1"] == pytest.approx(r1)
    assert record.options.prompts == {"query": "", "document": ""}  # the task's policy: none


def test_example_plugin_runs_end_to_end(plugin, xret_cli):
    code, out, _ = xret_cli("tasks")
    assert code == 0 and "toy-weather" in out
    code, out, _ = xret_cli("models")
    assert code == 0 and "toy-weather-encoder" in out
    code, out, err = xret_cli("bench", "-m", "toy-weather-encoder", "-t", "toy-weather", "-q")
    assert code == 0, err
    (path,) = (plugin / "results").rglob("*.json")
    check_toy_weather(load_record(path))


def test_models_lists_a_plugin_model_with_its_declared_dimension_in_80_columns(plugin, xret_cli):
    code, out, _ = xret_cli("models")
    lines = out.splitlines()
    (entry,) = [line for line in lines if line.startswith("toy-weather-encoder")]
    assert code == 0 and " 4d " in entry  # WeatherEncoder.dim = 4
    assert max(map(len, lines)) <= 80


def test_a_broken_plugin_is_one_line(plugin, xret_cli):
    _install_by_hand(plugin / "site", "[xret.tasks]\nbroken = no_such_module_xyz:tasks\n", "broken")
    code, _, err = xret_cli("tasks")
    assert code == 2 and err.count("\n") == 1
    assert "plugin 'broken' (xret.tasks = 'no_such_module_xyz:tasks') cannot be loaded" in err


def test_a_plugin_model_may_not_shadow_a_registered_one(plugin, xret_cli):
    entry = "[xret.models]\nminilm-en = xret.testing:HashEncoder\n"
    _install_by_hand(plugin / "site", entry, "dup")
    code, _, err = xret_cli("models")
    assert code == 2 and "model 'minilm-en' is defined twice" in err


@pytest.mark.slow
def test_pip_installed_example_plugin(tmp_path):
    """The real thing: pip installs the example (no dependencies, no network) into a folder and a
    fresh ``xret`` process finds its task and model there."""
    target, source = tmp_path / "site", tmp_path / "example"  # a copy: the build writes into it
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    shutil.copytree(EXAMPLE, source, ignore=skip)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), str(root)]),
        "XRET_CACHE_DIR": str(tmp_path / "cache"),
        "XRET_RESULTS_DIR": str(tmp_path / "results"),
    }
    env.pop("XRET_TASK_PATH", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "xret",
            "bench",
            "-m",
            "toy-weather-encoder",
            "-t",
            "toy-weather",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    (path,) = (tmp_path / "results").rglob("*.json")
    check_toy_weather(load_record(path))
