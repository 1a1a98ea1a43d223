"""Every ``xret`` command in the README works on a fresh clone, against the committed results/
and in a temporary working directory.

Not run here: ``xret bench``, ``xret train`` and ``xret study`` (they run a model on the evaluation
or training data, or report on a study's records: the real-data, baseline and study tests cover
them), ``xret score`` (it reads the user's own run: tests/test_score.py), ``make`` (installs) and
``python -m benchmarks.…`` (timing harnesses of many minutes).

The Python API session runs too, as written, with two stand-ins: ``me5-small-q4`` is replaced by
xret's hashing test encoder (the real model takes minutes) and ``./my-finetuned-model`` is a tiny
random SentenceTransformer.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEEDS_A_MODEL = {"bench", "train", "study"}
NEEDS_USER_FILES = {"score"}
SLOW = {"heatmap", "compare", "export"}  # 10-20 s each on the committed records


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [
        line.split("#")[0].strip()
        for block in re.findall(r"```bash\n(.*?)```", text, re.S)
        for line in block.replace("\\\n", " ").splitlines()
    ]
    inline = [" ".join(code.split()) for code in re.findall(r"`(xret [^`]+)`", text)]
    return list(dict.fromkeys(c for c in lines + inline if c.startswith("xret ")))


COMMANDS = [
    c for c in readme_commands() if shlex.split(c)[1] not in NEEDS_A_MODEL | NEEDS_USER_FILES
]


def test_the_readme_has_the_commands_this_test_runs():
    assert {shlex.split(c)[1] for c in COMMANDS} >= {
        "tasks",
        "models",
        "leaderboard",
        "heatmap",
        "compare",
        "export",
        "show",
    }


@pytest.mark.parametrize(
    "command",
    [pytest.param(c, marks=pytest.mark.slow) if shlex.split(c)[1] in SLOW else c for c in COMMANDS],
)
def test_a_readme_command_runs(command, tmp_path, monkeypatch, xret_cli):
    args = shlex.split(command)[1:]
    if args[0] == "export" and importlib.util.find_spec("mteb") is None:
        pytest.skip("xret export --format mteb needs the optional mteb extra")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "xret-results"))
    (tmp_path / "results").symlink_to(ROOT / "results")
    (tmp_path / "docs" / "reference").mkdir(parents=True)
    code, out, err = xret_cli(*args)
    assert code == 0, err
    assert out or err


def test_what_readme_commands_write_into_the_repository_is_git_ignored():
    """``--out``/``-o`` of a README command run from the repository root (heatmaps, a model)."""
    import subprocess

    outs = {
        shlex.split(c)[i + 1]
        for c in readme_commands()
        for i, a in enumerate(shlex.split(c))
        if a in ("--out", "-o") and i + 1 < len(shlex.split(c))
    }
    outs = {o for o in outs if not o.startswith(("docs/", "benchmarks/"))}
    assert {"heatmaps", "mteb-results", "models/me5-hybrid"} <= outs
    probe = [f"{o}/probe.png" for o in sorted(outs)]
    found = subprocess.run(
        ["git", "check-ignore", *probe], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert sorted(found) == probe


def api_session() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.realdata
@pytest.mark.slow
def test_the_readme_python_session_runs(data_dir, tmp_path, monkeypatch):
    import warnings

    from xret.api import ReferenceStoreWarning
    from xret.testing import tiny_sentence_transformer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_DATA_DIR", str(data_dir))
    tiny_sentence_transformer(tmp_path / "build").rename(tmp_path / "my-finetuned-model")
    session = api_session()
    assert session.count('"me5-small-q4"') == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReferenceStoreWarning)
        exec(session.replace('"me5-small-q4"', '"xret.testing:HashEncoder"'), {})
    assert sorted(p.name for p in (tmp_path / "heatmaps").iterdir())
    assert len(list((tmp_path / "my-results").rglob("xquad-r__*.json"))) == 2


def test_a_bench_into_the_committed_store_warns(tmp_path, monkeypatch):
    """``results_dir="results"`` run from the repository root: the committed store says what it
    is, and a bench into it warns (the API) or prints a warning line (the CLI)."""
    import xret
    from xret.api import ReferenceStoreWarning
    from xret.paths import REFERENCE_MARKER

    assert (ROOT / "results" / REFERENCE_MARKER).is_file()
    store = tmp_path / "results"
    store.mkdir()
    (store / REFERENCE_MARKER).write_text((ROOT / "results" / REFERENCE_MARKER).read_text())
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.warns(ReferenceStoreWarning, match="committed reference store"):
        xret.bench(
            "xret.testing:HashEncoder", ["lareqa:" + str(_toy_task(tmp_path))], results_dir=store
        )
    assert list(store.rglob("*.json"))  # warned, not refused: adding reference records is allowed


def _toy_task(tmp_path: Path) -> Path:
    from xret.testing import write_lareqa_task

    from test_lareqa import PARAGRAPHS

    return write_lareqa_task(tmp_path / "toy", PARAGRAPHS)
