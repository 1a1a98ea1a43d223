"""``xret tasks``: families grouped, one-language variants collapsed, own-data forms, and which
data is here (looked up, never downloaded)."""

from __future__ import annotations

import pytest

from xret.tasks import FORMS, TASKS
from xret.tasks.lareqa import custom_task
from xret.tasks.listing import Places, data_status
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS


def _block(out: str, name: str) -> str:
    """The lines of the entry ``name`` (its first line and the indented ones after it)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [name])
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" " * 24)), None)
    return " ".join(" ".join(lines[start:end]).split())


@pytest.fixture
def here(tmp_path, monkeypatch):
    for var in ("XRET_DATA_DIR", "XRET_CORPUS_DIR"):
        monkeypatch.delenv(var, raising=False)
    data, cache, corpus = tmp_path / "data", tmp_path / "cache", tmp_path / "corpus"
    for spec, languages in ((TASKS.get("xquad-r"), None), (TASKS.get("mlqa-r"), ("de", "en"))):
        for path in spec.files_for(languages or spec.languages):
            root = data if path.startswith("xquad-r") else cache / "downloads"
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text("")
    (corpus / "miracl-corpus-v1.0-sw").mkdir(parents=True)
    return ["--data-dir", str(data), "--cache-dir", str(cache)], corpus


def test_tasks_are_grouped_with_forms_and_availability(here, xret_cli):
    options, corpus = here
    code, out, _ = xret_cli("tasks", *options, "--corpus-dir", str(corpus))
    assert code == 0
    assert max(len(line) for line in out.splitlines() if str(corpus.parent) not in line) <= 80
    assert "lareqa family: exhaustive ranking" in out and "miracl family: top-k ranking" in out
    # 18 + 16 one-language MIRACL tasks collapse into two entries.
    assert "miracl/sw/dev" not in out
    assert "18 tasks of one language each: ar bn de" in _block(out, "miracl/<lang>/dev")
    assert "16 tasks of one language each: ar bn en" in _block(out, "miracl/<lang>/train")
    for form, _ in FORMS:
        assert form in out
    data, cache = options[1], options[3]
    assert f"data: here ({data})" in _block(out, "xquad-r")
    assert "data: 2 of 7 files here, the rest downloaded on first use" in _block(out, "mlqa-r")
    miracl = _block(out, "miracl/dev")
    assert "data: not here, downloaded on first use" in miracl
    assert f"corpora: 1 of 18 languages in {corpus}" in miracl
    assert cache not in out  # nothing was downloaded into the cache either


def test_without_a_corpus_dir_the_listing_says_how_to_give_one(here, xret_cli):
    options, _ = here
    code, out, _ = xret_cli("tasks", *options)
    assert code == 0
    assert "corpora: none given (--corpus-dir or XRET_CORPUS_DIR)" in _block(out, "miracl/train")


def test_a_users_own_task_is_looked_up_under_its_folder_only(tmp_path):
    spec = custom_task(write_lareqa_task(tmp_path / "mine", PARAGRAPHS))
    places = Places(tmp_path / "data", tmp_path / "cache", None)
    assert data_status([spec], places) == f"data: here ({tmp_path / 'mine'})"
    (tmp_path / "mine" / "de.json").unlink()
    assert data_status([spec], places) == f"data: 1 of {len(spec.languages)} files missing"


def test_folder_forms_come_from_the_task_file_format_table(tmp_path):
    """``lareqa:``, ``miracl:`` and ``beir:`` are the formats of task files that name a folder
    builder; a name without a folder is one line; ``trec:`` has no folder form."""
    from xret.errors import DataError, UnknownNameError
    from xret.tasks import get_task
    from xret.tasks.taskfile import FORMATS, folder_forms

    assert [form.partition(":")[0] for form, _ in folder_forms()] == ["lareqa", "miracl", "beir"]
    assert {form.partition(":")[0] for form, _ in folder_forms()} < set(FORMATS)
    for kind in ("lareqa", "miracl", "beir"):
        with pytest.raises(DataError, match=f"task '{kind}: ' names no folder: {kind}:DIR"):
            get_task(f"{kind}: ")
    with pytest.raises(UnknownNameError, match="unknown task 'trec:x'"):
        get_task("trec:x")
    assert get_task(f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}").family == "lareqa"
