"""Tasks defined as TOML files: parsing, pins, discovery through $XRET_TASK_PATH, --task-file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from xret.errors import DataError
from xret.results.store import load_record
from xret.tasks import get_task, load_task
from xret.tasks.taskfile import read_task_file
from xret.testing import write_lareqa_task, write_miracl_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_task_file(
    root: Path, name: str = "toy-file", *, pin: bool = True, counts: bool = True, extra: str = ""
) -> Path:
    """A task file for the PARAGRAPHS toy task (en: 3 queries, 4 candidates; de: 2 and 2)."""
    data = write_lareqa_task(root / "data", PARAGRAPHS)
    pinned = {"en": (3, 4), "de": (2, 2)}
    lines = [f'name = "{name}"', 'format = "lareqa"', extra]
    for lang in ("de", "en"):
        sha = f', sha256 = "{_sha(data / f"{lang}.json")}"' if pin else ""
        lines += [f"[languages.{lang}]", f'file = {{ path = "data/{lang}.json"{sha} }}']
        if counts:
            queries, candidates = pinned[lang]
            lines.append(f"counts = {{ queries = {queries}, candidates = {candidates} }}")
    if counts:
        lines += ["[expected]", "relevant_per_query = { 1 = 1, 2 = 4 }"]
    path = root / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("XRET_TASK_PATH", raising=False)
    return tmp_path


def test_task_file_gives_the_same_numbers_as_the_directory_task(dirs, xret_cli):
    path = write_task_file(dirs / "tasks")
    assert xret_cli("bench", "-m", MODEL, "--task-file", str(path), "-q")[0] == 0
    assert xret_cli("bench", "-m", MODEL, "-t", f"lareqa:{dirs / 'tasks' / 'data'}", "-q")[0] == 0
    by_task = {r.task.name: r for r in map(load_record, (dirs / "results").rglob("*.json"))}
    from_file, from_dir = by_task["toy-file"], by_task["lareqa:data"]
    assert from_file.cells == from_dir.cells and from_file.summary == from_dir.summary
    assert set(from_file.task.data.values()) == {
        _sha(dirs / "tasks" / "data" / f"{lang}.json") for lang in ("en", "de")
    }


def test_pins_and_counts_are_verified(dirs, cache_dir, xret_cli):
    path = write_task_file(dirs / "tasks")
    spec = read_task_file(path)
    assert spec.languages == ("de", "en") and spec.expected.queries == {"de": 2, "en": 3}
    en = dirs / "tasks" / "data" / "en.json"
    pinned_sha = _sha(en)
    en.write_text(en.read_text().replace("Rome", "Roma"))
    code, _, err = xret_cli("bench", "-m", MODEL, "--task-file", str(path), "-q")
    # both hashes whole: a pin to compare or copy, never two prefixes that may agree
    assert code == 2 and f"en.json: sha256 {_sha(en)} differs from the pinned {pinned_sha}" in err
    assert err.count("\n") == 1
    unpinned = write_task_file(dirs / "other", pin=False)
    text = unpinned.read_text().replace("queries = 3", "queries = 4")
    unpinned.write_text(text)
    with pytest.raises(DataError, match="toy-file/en.json: 3 queries found, the task pins 4$"):
        load_task(read_task_file(unpinned), ("de", "en"), None, cache_dir)


@pytest.mark.parametrize(
    "extra, message",
    [
        ('format = "csv"', "unknown task format"),
        ('settings = ["mono", "both"]', "unknown setting 'both'"),
        ('prompts = "sometimes"', "prompts = 'sometimes'"),
    ],
)
def test_mistakes_in_a_task_file_are_one_line(dirs, xret_cli, extra, message):
    path = write_task_file(dirs / "tasks")
    text = path.read_text()
    changed = text.replace('format = "lareqa"', extra) if "format" in extra else f"{extra}\n{text}"
    path.write_text(changed)
    code, _, err = xret_cli("bench", "-m", MODEL, "--task-file", str(path), "-q")
    assert code == 2 and message in err and str(path) in err and err.count("\n") == 1


def test_counts_for_some_languages_only_are_refused(dirs):
    path = write_task_file(dirs / "tasks")
    path.write_text(path.read_text().replace("counts = { queries = 2, candidates = 2 }\n", ""))
    with pytest.raises(DataError, match=r"counts pinned for some languages only \(missing: de\)"):
        read_task_file(path)


def test_formats_not_available_here_are_refused_clearly(dirs, monkeypatch):
    monkeypatch.setattr("xret.tasks.taskfile.BEIR_LOADER", "xret.tasks.no_such_beir:load_beir")
    path = write_task_file(dirs / "tasks", counts=False)
    for kind, message in (
        ("trek", "unknown task format 'trek'"),
        ("beir", "needs xret.tasks.no_such_beir:load_beir"),
    ):
        path.write_text(path.read_text().replace('format = "lareqa"', f'format = "{kind}"'))
        with pytest.raises(DataError, match=message):
            read_task_file(path)
        path.write_text(path.read_text().replace(f'format = "{kind}"', 'format = "lareqa"'))


def test_task_path_directories_are_listed_and_duplicates_fail(dirs, monkeypatch, xret_cli):
    write_task_file(dirs / "tasks", name="toy-file")
    monkeypatch.setenv("XRET_TASK_PATH", str(dirs / "tasks"))
    code, out, _ = xret_cli("tasks")
    assert code == 0 and "toy-file" in out and "xquad-r" in out
    assert get_task("toy-file").root == (dirs / "tasks").resolve()
    write_task_file(dirs / "tasks", name="xquad-r")
    code, _, err = xret_cli("tasks")
    assert code == 2 and "task 'xquad-r' is defined twice: by xret (built-in) and by" in err


def test_prompts_policy_sets_the_recorded_prompts(dirs, xret_cli):
    path = write_task_file(dirs / "tasks", extra='prompts = { query = "Q: " }')
    assert xret_cli("bench", "-m", MODEL, "--task-file", str(path), "-q")[0] == 0
    assert (
        xret_cli(
            "bench", "-m", MODEL, "--task-file", str(path), "-q", "--query-prompt", "question: "
        )[0]
        == 0
    )
    prompts = sorted(
        load_record(p).options.prompts["query"] for p in (dirs / "results").rglob("*.json")
    )
    assert prompts == ["Q: ", "question: "]  # the user's override wins over the task's policy


def test_miracl_format_task_file(tmp_path, cache_dir):
    qrels = {"sw": {"1": {"d1": 1, "d2": 0}}}
    root = write_miracl_task(tmp_path / "m", {"sw": {"1": "mji ?"}}, qrels)
    (tmp_path / "m" / "task.toml").write_text(
        'name = "my-miracl"\nformat = "miracl"\n[languages.sw]\n'
        'topics = "topics/topics.miracl-v1.0-sw-dev.tsv"\n'
        'qrels = "qrels/qrels.miracl-v1.0-sw-dev.tsv"\n'
        "counts = { topics = 1, judgements = 2, relevant = 1, passages = 2 }\n"
    )
    spec = read_task_file(root / "task.toml")
    assert spec.ranking == "top-k" and spec.settings == ("mono",)
    data = load_task(spec, ("sw",), None, cache_dir)
    assert data.qrels == {"sw/1": {"d1": 1, "d2": 0}}


def test_builtin_lareqa_tasks_are_task_files_of_pinned_data():
    from xret.tasks.artifacts import pinned

    for name, queries in (("xquad-r", 13_090), ("mlqa-r", 4_199)):
        spec = get_task(name)
        assert spec.root is None and spec.pins == {}
        assert sum(spec.expected.queries.values()) == queries  # the README's counts
        assert all(pinned(path).sha256 for path in spec.files_for(spec.languages))


def test_pinned_data_takes_no_sha256_in_the_file(dirs):
    path = write_task_file(dirs / "tasks", extra='data = "pinned"')
    with pytest.raises(DataError, match="pinned in downloads.json, not in the task file"):
        read_task_file(path)


def test_beir_format_task_file_loads_like_the_folder_task(tmp_path, cache_dir):
    beir = pytest.importorskip("xret.tasks.beir", reason="the BEIR loader is not on this branch")
    for lang in ("en", "de"):
        folder = tmp_path / "b" / lang
        (folder / "qrels").mkdir(parents=True)
        (folder / "corpus.jsonl").write_text(
            '{"_id": "d1", "title": "", "text": "sun"}\n'
            '{"_id": "d2", "title": "", "text": "rain"}\n'
        )
        (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "sun?"}\n')
        (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    text = 'name = "my-beir"\nformat = "beir"\n'
    for lang in ("en", "de"):
        text += (
            f'[languages.{lang}]\ncorpus = "b/{lang}/corpus.jsonl"\n'
            f'queries = "b/{lang}/queries.jsonl"\nqrels = "b/{lang}/qrels/test.tsv"\n'
        )
    (tmp_path / "t.toml").write_text(text)
    from_file = load_task(read_task_file(tmp_path / "t.toml"), ("en", "de"), None, cache_dir)
    from_folder = load_task(beir.custom_task(str(tmp_path / "b")), ("en", "de"), None, cache_dir)
    assert from_file.qrels == from_folder.qrels and from_file.queries == from_folder.queries
    assert from_file.documents == from_folder.documents


def _trec_task_file(root: Path, task_dir: Path, corpus_dir: Path, languages=("sw", "ru")) -> Path:
    lines = ['name = "toy-trec"', 'format = "trec"']
    for lang in languages:
        lines += [
            f"[languages.{lang}]",
            f'topics = "{task_dir}/topics/topics.miracl-v1.0-{lang}-dev.tsv"',
            f'qrels = "{task_dir}/qrels/qrels.miracl-v1.0-{lang}-dev.tsv"',
            f'corpus = "{corpus_dir}/miracl-corpus-v1.0-{lang}"',
        ]
    path = root / "toy-trec.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_trec_format_task_file_names_its_own_corpus(dirs, xret_cli):
    """TREC topics, qrels and a corpus folder per language, searched top-k: the same numbers as
    the same files read as a MIRACL-format task with --corpus-dir."""
    from xret.testing import toy_miracl

    task_dir, corpus_dir = toy_miracl(dirs / "toy", languages=("sw", "ru"), passages=30, queries=4)
    path = _trec_task_file(dirs, task_dir, corpus_dir)
    code, _, err = xret_cli("bench", "-m", MODEL, "--task-file", str(path), "-q", "--no-title")
    assert code == 0, err
    code, _, err = xret_cli(
        "bench",
        "-m",
        MODEL,
        "-t",
        f"miracl:{task_dir}",
        "--corpus-dir",
        str(corpus_dir),
        "-q",
        "--no-title",
    )
    assert code == 0, err
    by_task = {r.task.name: r for r in map(load_record, (dirs / "results").rglob("*.json"))}
    trec, miracl = by_task["toy-trec"], by_task["miracl:task"]
    cells = {(c.setting, c.query_language): c.values for c in trec.cells}
    assert cells == {(c.setting, c.query_language): c.values for c in miracl.cells}
    assert len(cells) == 2 and all(v["nDCG@10"] > 0 for v in cells.values())
    assert set(trec.task.extras["corpus"]) == {"sw", "ru"}
    # the corpus is the task file's: --corpus-dir does not apply to it
    code, _, err = xret_cli(
        "bench", "-m", MODEL, "--task-file", str(path), "--corpus-dir", str(corpus_dir)
    )
    assert code == 2 and "--corpus-dir does not apply to toy-trec" in err


def test_a_trec_corpus_edited_in_place_is_a_new_result(dirs, xret_cli):
    from xret.testing import toy_miracl

    task_dir, corpus_dir = toy_miracl(dirs / "toy", languages=("sw",), passages=30, queries=4)
    path = _trec_task_file(dirs, task_dir, corpus_dir, languages=("sw",))
    assert xret_cli("bench", "-m", MODEL, "--task-file", str(path), "-q")[0] == 0
    shard = sorted((corpus_dir / "miracl-corpus-v1.0-sw").iterdir())[-1]
    import gzip

    lines = gzip.decompress(shard.read_bytes()).decode().splitlines()
    shard.write_bytes(gzip.compress(("\n".join(lines[:-1]) + "\n").encode(), mtime=0))
    code, _, err = xret_cli("bench", "-m", MODEL, "--task-file", str(path), "-q")
    assert code == 0 and "already done" not in err, err
    assert len(list((dirs / "results").rglob("*.json"))) == 2
