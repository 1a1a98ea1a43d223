"""Bad and unusual inputs, given as a new user would give them (docs/bad-inputs.md).

Every case ends in exactly one of two ways:
- refused: exit code ≠ 0, one ``xret: error:`` (or click ``Error:``) line on stderr, no traceback;
- accepted: exit code 0 and the right numbers (equal to a run from a clean state).
In both, finished records and cached vectors that existed before are still there afterwards.
Cases that could abort or hang the interpreter run in a subprocess with a timeout.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from xret.testing import write_lareqa_task

ROOT = Path(__file__).resolve().parents[1]
MODEL = "xret.testing:HashEncoder"
PARAGRAPHS = {
    "en": [
        {
            "sentences": ["The cat sat on the mat.", "Dogs bark at night."],
            "questions": [("q1", "Where did the cat sit?", 0), ("q2", "When do dogs bark?", 1)],
        },
        {
            "sentences": ["Paris is in France.", "Rome is in Italy."],
            "questions": [("q3", "Where is Paris?", 0)],
        },
    ],
    "de": [
        {
            "sentences": ["Die Katze sass auf der Matte.", "Hunde bellen nachts."],
            "questions": [("q1", "Wo sass die Katze?", 0), ("q2", "Wann bellen Hunde?", 1)],
        },
        {
            "sentences": ["Paris liegt in Frankreich.", "Rom liegt in Italien."],
            "questions": [("q3", "Wo liegt Paris?", 0)],
        },
    ],
}


@dataclass(frozen=True)
class Env:
    tmp: Path
    task: Path
    results: Path
    cache: Path

    def bench(self, *extra: str, model: str = MODEL, task: str | None = None) -> list[str]:
        return ["bench", "-m", model, "-t", task or f"lareqa:{self.task}", "-q", *extra]


def _values(results: Path) -> dict[str, dict]:
    """Every record under ``results``: its relative path -> {cell: values}."""
    out = {}
    for path in sorted(results.rglob("*.json")):
        record = json.loads(path.read_text())
        cells = {
            f"{c['setting']}/{c['query_language']}/{c['pool_language']}": c["values"]
            for c in record["cells"]
        }
        out[str(path.relative_to(results))] = cells
    return out


def _only_values(results: Path) -> dict:
    (values,) = _values(results).values()
    return values


def _module(env: Env, name: str, source: str) -> str:
    (env.tmp / "mods").mkdir(exist_ok=True)
    (env.tmp / "mods" / f"{name}.py").write_text(textwrap.dedent(source))
    return name


_EMPTY = "class Encoder:\n    pass\n"
_BAD_ENCODE = """
    import numpy as np
    from xret.testing import HashEncoder

    class Encoder(HashEncoder):
        revision = None
        def encode(self, texts, role=None):
            good = super().encode(texts, role)
            return {body}
    """


def _encoder(body: str) -> Callable[[Env], list[str]]:
    def setup(env: Env) -> list[str]:
        name = f"bad_{abs(hash(body)) % 10**8}"
        _module(env, name, _BAD_ENCODE.format(body=body))
        return env.bench(model=f"{name}:Encoder")

    return setup


def _lengths(body: str) -> Callable[[Env], list[str]]:
    def setup(env: Env) -> list[str]:
        name = f"len_{abs(hash(body)) % 10**8}"
        _module(
            env,
            name,
            f"""
            import numpy as np
            from xret.testing import HashEncoder

            class Encoder(HashEncoder):
                revision = None
                def token_lengths(self, texts, role=None):
                    return {body}
            """,
        )
        return env.bench(model=f"{name}:Encoder")

    return setup


def _lareqa(mutate: Callable[[dict], object]) -> Callable[[Env], list[str]]:
    """The toy task with its German file replaced by ``mutate(parsed de.json)``; a str result is
    written verbatim."""

    def setup(env: Env) -> list[str]:
        path = env.task / "de.json"
        changed = mutate(json.loads(path.read_text()))
        if isinstance(changed, bytes):
            path.write_bytes(changed)
        else:
            path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
        return env.bench()

    return setup


def _paragraph(doc: dict) -> dict:
    return doc["data"][0]["paragraphs"][0]


def _set(target: Callable[[dict], dict], key, value) -> Callable[[dict], dict]:
    def mutate(doc: dict) -> dict:
        target(doc)[key] = value
        return doc

    return mutate


def _no_questions(doc: dict) -> dict:
    for paragraph in doc["data"][0]["paragraphs"]:
        paragraph["qas"] = []
    return doc


def _args(*extra: str) -> Callable[[Env], list[str]]:
    return lambda env: env.bench(*extra)


def _st_folder(config: str) -> Callable[[Env], list[str]]:
    def setup(env: Env) -> list[str]:
        folder = env.tmp / "st-model"
        folder.mkdir()
        (folder / "config_sentence_transformers.json").write_text(config)
        (folder / "modules.json").write_text("[]")
        return env.bench(model=str(folder))

    return setup


def _results_dir_is_a_file(env: Env) -> list[str]:
    target = env.tmp / "a-file"
    target.write_text("x")
    return env.bench("--results-dir", str(target))


def _results_dir_under_a_file(env: Env) -> list[str]:
    target = env.tmp / "a-file"
    target.write_text("x")
    return env.bench("--results-dir", str(target / "results"))


def _results_dir_cannot_be_made(env: Env) -> list[str]:
    return env.bench("--results-dir", "/proc/xret-cannot-write-here")


def _cache_dir_is_a_file(env: Env) -> list[str]:
    target = env.tmp / "a-file"
    target.write_text("x")
    return env.bench("--cache-dir", str(target))


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Env], list[str]]
    accept: bool = False
    """True: must succeed with the numbers of a clean run; False: must be refused in one line."""


CASES = [
    # user encoders (module:attr)
    Case(
        "encoder-not-callable",
        lambda env: env.bench(model=f"{_module(env, 'notcall', 'Encoder = 42')}:Encoder"),
    ),
    Case(
        "encoder-no-encode", lambda env: env.bench(model=f"{_module(env, 'noenc', _EMPTY)}:Encoder")
    ),
    Case("encode-returns-none", _encoder("None")),
    Case("encode-returns-strings", _encoder("[str(t) for t in texts]")),
    Case("encode-wrong-row-count", _encoder("good[:-1]")),
    Case("encode-1d", _encoder("good[:, 0]")),
    Case("encode-3d", _encoder("good[:, None, :]")),
    Case("encode-varying-width", _encoder("good[:, : 32 + len(texts) % 2]")),
    Case("encode-nan", _encoder("good * np.nan")),
    Case("encode-integers", _encoder("np.ones_like(good, dtype=np.int64)")),
    Case("encode-complex", _encoder("good.astype(np.complex64)")),
    Case("encode-raises", _encoder("1 / 0")),
    Case("token-lengths-too-short", _lengths("np.ones(len(texts) - 1, dtype=np.int64)")),
    Case("token-lengths-negative", _lengths("-np.ones(len(texts), dtype=np.int64)")),
    Case("token-lengths-strings", _lengths("['x'] * len(texts)")),
    Case("token-lengths-zero", _lengths("np.zeros(len(texts), dtype=np.int64)"), accept=True),
    Case(
        "token-lengths-huge", _lengths("np.full(len(texts), 10**12, dtype=np.int64)"), accept=True
    ),
    # LAReQA files
    Case("lareqa-invalid-json", _lareqa(lambda doc: "{")),
    Case("lareqa-empty-file", _lareqa(lambda doc: "")),
    Case("lareqa-not-utf8", _lareqa(lambda doc: b'{"data": "\xff\xfe"}')),
    Case("lareqa-top-level-list", _lareqa(lambda doc: [doc])),
    Case("lareqa-data-string", _lareqa(lambda doc: {"data": "x"})),
    Case("lareqa-paragraphs-null", _lareqa(_set(lambda d: d["data"][0], "paragraphs", None))),
    Case("lareqa-short-breaks", _lareqa(_set(_paragraph, "sentence_breaks", [[0, 5]]))),
    Case("lareqa-break-not-pair", _lareqa(_set(_paragraph, "sentence_breaks", [[0], [1]]))),
    Case(
        "lareqa-break-strings",
        _lareqa(_set(_paragraph, "sentence_breaks", [["a", "b"], ["c", "d"]])),
    ),
    Case("lareqa-sentence-int", _lareqa(_set(_paragraph, "sentences", [1, 2]))),
    Case(
        "lareqa-question-null", _lareqa(_set(lambda d: _paragraph(d)["qas"][0], "question", None))
    ),
    Case("lareqa-question-int", _lareqa(_set(lambda d: _paragraph(d)["qas"][0], "question", 7))),
    Case("lareqa-id-int", _lareqa(_set(lambda d: _paragraph(d)["qas"][0], "id", 7))),
    Case("lareqa-no-answers", _lareqa(_set(lambda d: _paragraph(d)["qas"][0], "answers", []))),
    Case(
        "lareqa-answer-start-string",
        _lareqa(_set(lambda d: _paragraph(d)["qas"][0]["answers"][0], "answer_start", "0")),
    ),
    Case(
        "lareqa-answer-outside",
        _lareqa(_set(lambda d: _paragraph(d)["qas"][0]["answers"][0], "answer_start", 10**6)),
    ),
    Case("lareqa-deep-json", _lareqa(lambda doc: "[" * 200_000 + "]" * 200_000)),
    Case("lareqa-language-without-questions", _lareqa(_no_questions)),
    # measures and settings
    Case("measure-zero-cutoff", _args("--measures", "R@0")),
    Case("measure-huge-cutoff", _args("--measures", "nDCG@99999999999999999999")),
    Case("measure-negative-cutoff", _args("--measures", "R@-1")),
    Case("measure-unknown", _args("--measures", "FOO")),
    Case("measure-empty", _args("--measures", ",")),  # a name left out, not "the defaults"
    Case("languages-empty", _args("-l", ",")),
    Case("task-empty", lambda env: ["bench", "-m", MODEL, "-t", "", "-q"]),
    Case("task-folder-empty", lambda env: env.bench(task="lareqa:")),
    Case("rank-distance-without-multi", _args("--measures", "RD", "-s", "mono")),
    Case("measure-big-cutoff", _args("--measures", "R@1000"), accept=True),
    Case("cross-with-one-language", _args("-l", "en", "-s", "cross")),
    Case("multi-with-one-language", _args("-l", "en", "-s", "multi"), accept=True),
    Case("batch-size-zero", _args("--batch-size", "0")),
    # model folders
    Case("st-config-invalid-json", _st_folder("{")),
    Case("st-config-not-object", _st_folder("[1, 2]")),
    Case("st-config-prompts-not-object", _st_folder('{"prompts": 3}')),
    # where outputs go
    Case("results-dir-is-a-file", _results_dir_is_a_file),
    Case("results-dir-under-a-file", _results_dir_under_a_file),
    Case("results-dir-cannot-be-made", _results_dir_cannot_be_made),
    Case("cache-dir-is-a-file", _cache_dir_is_a_file),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Env:
    env = Env(
        tmp_path,
        write_lareqa_task(tmp_path / "task", PARAGRAPHS),
        tmp_path / "results",
        tmp_path / "cache",
    )
    monkeypatch.setenv("XRET_CACHE_DIR", str(env.cache))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(env.results))
    # The folder exists before it goes on sys.path: a missing one is cached as "no modules here".
    (tmp_path / "mods").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    return env


def assert_refused(code, err: str) -> None:
    assert code not in (0, None), err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith(("xret: error:", "Error:"))]
    assert len(lines) == 1, err


def _run(args: list[str], env: Env, timeout: float = 120, **popen) -> subprocess.CompletedProcess:
    """The CLI in a fresh interpreter: a C abort or a hang cannot take the test run with it."""
    environ = {
        **os.environ,
        "XRET_CACHE_DIR": str(env.cache),
        "XRET_RESULTS_DIR": str(env.results),
        "PYTHONPATH": os.pathsep.join([str(env.tmp / "mods"), str(ROOT)]),
    }
    command = [sys.executable, "-c", "from xret.cli import main; main()", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=environ, **popen
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, env: Env, xret_cli):
    # A finished record (of another task) must survive whatever happens.
    keep = write_lareqa_task(env.tmp / "keep", PARAGRAPHS)
    assert xret_cli(*env.bench(task=f"lareqa:{keep}"))[0] == 0
    before = _values(env.results)
    args = case.setup(env)
    if any(a.startswith(("R@0", "nDCG@9999")) for a in args) or case.id.startswith("token-lengths"):
        done = _run(args, env, timeout=60)
        code, err = done.returncode, done.stderr
    else:
        code, _, err = xret_cli(*args)
    if case.accept:
        assert code == 0, err
        assert "Traceback" not in err
    else:
        assert_refused(code, err)
    after = _values(env.results)
    assert {k: after[k] for k in before} == before  # nothing finished is lost or changed


# ---- identities: no vectors or results handed to the wrong model or the wrong data ----------


def test_two_encoders_in_one_module_never_share_vectors(env: Env, xret_cli):
    _module(
        env,
        "pair",
        """
        import numpy as np
        from xret.testing import HashEncoder

        class A(HashEncoder):
            revision = None

        class B(HashEncoder):
            revision = None
            def encode(self, texts, role=None):
                shift = np.arange(self.dim, dtype=np.float32) / 10
                return super().encode(texts, role)[:, ::-1] + shift
        """,
    )
    assert xret_cli(*env.bench(model="pair:A"))[0] == 0
    code, _, err = xret_cli(*env.bench("--results-dir", str(env.tmp / "b"), model="pair:B"))
    assert code == 0, err
    fresh = env.tmp / "fresh"
    assert (
        xret_cli(
            *env.bench(
                "--cache-dir", str(fresh / "c"), "--results-dir", str(fresh / "r"), model="pair:B"
            )
        )[0]
        == 0
    )
    assert _only_values(env.tmp / "b") == _only_values(fresh / "r")
    assert _only_values(env.tmp / "b") != _only_values(env.results)


def test_two_datasets_with_one_basename_never_share_a_record(env: Env, xret_cli):
    first = write_lareqa_task(env.tmp / "a" / "v1" / "data", PARAGRAPHS)
    other = {lang: [paras[1], paras[0]] for lang, paras in PARAGRAPHS.items()}
    other["en"][0] = {**other["en"][0], "sentences": ["Paris is in France.", "Lyon is too."]}
    second = write_lareqa_task(env.tmp / "b" / "v2" / "data", other)
    assert xret_cli(*env.bench(task=f"lareqa:{first}"))[0] == 0
    code, _, err = xret_cli(*env.bench(task=f"lareqa:{second}"))
    assert code == 0 and "already done" not in err
    fresh = env.tmp / "fresh"
    assert xret_cli(*env.bench("--results-dir", str(fresh), task=f"lareqa:{second}"))[0] == 0
    assert _only_values(fresh) in _values(env.results).values()
    assert len(_values(env.results)) == 2


def test_data_edited_in_place_is_a_new_result(env: Env, xret_cli):
    assert xret_cli(*env.bench())[0] == 0
    path = env.task / "en.json"
    path.write_text(path.read_text().replace("Dogs bark at night.", "Cats purr at night."))
    code, _, err = xret_cli(*env.bench())
    assert code == 0 and "already done" not in err
    fresh = env.tmp / "fresh"
    assert xret_cli(*env.bench("--results-dir", str(fresh)))[0] == 0
    assert _only_values(fresh) in _values(env.results).values()


# ---- stored files written by an earlier run --------------------------------------------------


def _cache_shards(env: Env) -> list[Path]:
    return sorted(env.cache.rglob("part-*.npz"))


@pytest.mark.parametrize("damage", ["torn", "keys-rows-differ", "nan", "width"])
def test_a_bad_cache_file_is_set_aside_and_reencoded(damage, env: Env, xret_cli):
    import numpy as np

    assert xret_cli(*env.bench())[0] == 0
    expected = _only_values(env.results)
    shard = _cache_shards(env)[0]
    if damage == "torn":
        shard.write_bytes(shard.read_bytes()[:100])
    else:
        with np.load(shard) as data:
            keys, vectors = data["keys"], data["vectors"]
        if damage == "keys-rows-differ":
            keys = keys[:-1]
        elif damage == "nan":
            vectors = vectors * np.nan
        else:
            vectors = vectors[:, :-1]
        np.savez(shard.with_suffix(""), keys=keys, vectors=vectors)
    code, _, err = xret_cli(*env.bench("--overwrite"))
    assert code == 0, err
    assert "Traceback" not in err and "cache" in err.lower()  # a visible warning
    assert _only_values(env.results) == expected


def test_orphan_cache_temp_files_are_cleaned(env: Env, xret_cli):
    assert xret_cli(*env.bench())[0] == 0
    folder = _cache_shards(env)[0].parent
    orphan = folder / ".part-00000000000000000001-4194305.tmp.npz"  # above pid_max: no such process
    orphan.write_bytes(b"partial")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    assert xret_cli(*env.bench("--overwrite"))[0] == 0
    assert not orphan.exists()


def _two_records(env: Env, xret_cli) -> Path:
    _module(
        env,
        "other",
        """
        from xret.testing import HashEncoder

        class Encoder(HashEncoder):
            revision = "other-1"
            def encode(self, texts, role=None):
                return super().encode(texts, role)[:, ::-1].copy()
        """,
    )
    assert xret_cli(*env.bench())[0] == 0
    assert xret_cli(*env.bench(model="other:Encoder"))[0] == 0
    return env.results


@pytest.mark.parametrize("damage", ["no-fields", "not-json", "cells-not-list"])
def test_a_damaged_record_is_named_in_one_line(damage, env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    path = sorted(results.rglob("*.json"))[0]
    record = json.loads(path.read_text())
    text = {
        "no-fields": json.dumps({"schema_version": record["schema_version"]}),
        "not-json": path.read_text()[:50],
        "cells-not-list": json.dumps({**record, "cells": 3}),
    }[damage]
    path.write_text(text)
    code, _, err = xret_cli("leaderboard", str(results))
    assert_refused(code, err)
    assert path.name in err


def test_a_torn_per_query_file_is_named_in_one_line(env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    table = sorted(results.rglob("*.queries.csv.gz"))[0]
    table.write_bytes(table.read_bytes()[:40])
    code, _, err = xret_cli(
        "compare", MODEL, "other:Encoder", "--results-dir", str(results), "--resamples", "100"
    )
    assert_refused(code, err)
    assert table.name in err


def test_a_per_query_file_with_missing_rows_is_refused(env: Env, xret_cli):
    import pandas as pd

    results = _two_records(env, xret_cli)
    table = sorted(results.rglob("*.queries.csv.gz"))[0]
    pd.read_csv(table).iloc[:-2].to_csv(table, index=False, compression="gzip")
    code, _, err = xret_cli(
        "compare", MODEL, "other:Encoder", "--results-dir", str(results), "--resamples", "100"
    )
    assert_refused(code, err)


# ---- writers: one line, no partial files --------------------------------------------------


def test_disk_full_while_writing_a_record_leaves_no_partial_file(env: Env, xret_cli, monkeypatch):
    write_bytes = Path.write_bytes

    def full(self, data):  # the disk fills up in the first file written under the results
        if env.results.resolve() not in self.resolve().parents:
            return write_bytes(self, data)
        write_bytes(self, b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, err = xret_cli(*env.bench())
    assert_refused(code, err)
    assert "no space left" in err.lower()
    leftovers = [p for p in env.results.rglob("*") if p.is_file()] if env.results.exists() else []
    assert leftovers == []
    assert _cache_shards(env)  # the vectors it encoded are kept


def test_leaderboard_output_that_is_a_directory(env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    code, _, err = xret_cli("leaderboard", str(results), "-f", "markdown", "-o", str(env.tmp))
    assert_refused(code, err)


def test_heatmap_out_under_a_file(env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    blocker = env.tmp / "blocker"
    blocker.write_text("x")
    code, _, err = xret_cli("heatmap", str(results), "-m", MODEL, "--out", str(blocker / "maps"))
    assert_refused(code, err)


# ---- renderers escape what they are given ---------------------------------------------------


def _rename_models(results: Path, name: str) -> None:
    for path in results.rglob("*.json"):
        record = json.loads(path.read_text())
        label = name + record["model"]["name"][-3:]
        record["model"]["name"] = record["model"]["display_name"] = label
        path.write_text(json.dumps(record))


def test_markdown_and_latex_escape_control_characters(env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    _rename_models(results, "evil\r\n## injected | cell\\")
    code, out, err = xret_cli("leaderboard", str(results), "-f", "markdown", "--no-published")
    assert code == 0, err
    assert "\r" not in out and not any(line.startswith("## injected") for line in out.splitlines())
    code, out, err = xret_cli("leaderboard", str(results), "-f", "latex", "--no-published")
    assert code == 0, err
    assert "\r" not in out and "## injected" not in out.replace("\\#\\# injected", "")


def test_csv_neutralises_formulas(env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    _rename_models(results, '=HYPERLINK("http://x")')
    code, out, err = xret_cli("leaderboard", str(results), "-f", "csv", "--no-published")
    assert code == 0, err
    import csv
    import io

    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert any("HYPERLINK" in c for c in cells)
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells if not _is_number(c))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# ---- duplicates: one evaluation stored twice -------------------------------------------------


def _duplicate(results: Path) -> None:
    copy = results / "copies"
    for path in list(results.rglob("*")):
        if path.is_file() and "copies" not in path.parts:
            target = copy / path.relative_to(results)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def test_duplicate_records_count_once(env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    _duplicate(results)
    code, out, err = xret_cli(
        "heatmap", str(results), "-m", MODEL, "-m", "other:Encoder", "--out", str(env.tmp / "maps")
    )
    assert code == 0, err
    code, out, err = xret_cli(
        "compare", MODEL, "other:Encoder", "--results-dir", str(results), "--resamples", "100"
    )
    assert code == 0, err
    code, once, err = xret_cli("leaderboard", str(results), "-f", "csv", "--no-published")
    assert code == 0, err
    shutil.rmtree(results / "copies")
    assert xret_cli("leaderboard", str(results), "-f", "csv", "--no-published")[1] == once


def test_conflicting_duplicates_are_named(env: Env, xret_cli):
    results = _two_records(env, xret_cli)
    _duplicate(results)
    copy = next((results / "copies").rglob("*.json"))
    record = json.loads(copy.read_text())
    record["cells"][0]["values"]["MAP"] = 0.123456
    copy.write_text(json.dumps(record))
    code, _, err = xret_cli(
        "heatmap", str(results), "-m", record["model"]["name"], "--out", str(env.tmp / "maps")
    )
    assert_refused(code, err)
    assert copy.name in err


# ---- export stays under --out ---------------------------------------------------------------


@pytest.mark.parametrize("revision", ["../../escaped", "{tmp}/escaped-abs", "a/../../../b"])
def test_export_stays_under_out(revision, env: Env, xret_cli):
    pytest.importorskip("mteb", reason="the mteb extra is not installed")
    results = _two_records(env, xret_cli)
    revision = revision.format(tmp=env.tmp)
    for path in results.rglob("*.json"):
        record = json.loads(path.read_text())
        record["model"]["revision"] = revision
        path.write_text(json.dumps(record))
    out = env.tmp / "deep" / "out"
    before = {p for p in env.tmp.rglob("*")}
    code, _, err = xret_cli("export", str(results), "--format", "mteb", "--out", str(out))
    written = {p for p in env.tmp.rglob("*") if p.is_file()} - before
    assert all(out in p.parents for p in written), written
    assert not (env.tmp / "escaped-abs").exists()
    assert code == 0 or "Traceback" not in err


# ---- interruptions: what is finished is kept, and said so ----------------------------------


@pytest.mark.parametrize("sig, codes", [(signal.SIGINT, (130,)), (signal.SIGTERM, (143, 130))])
def test_interruption_keeps_finished_work(sig, codes, env: Env):
    _module(
        env,
        "slow",
        """
        import time
        from xret.testing import HashEncoder

        class Encoder(HashEncoder):
            def encode(self, texts, role=None):
                if any("SLOW" in t for t in texts):
                    print("slow-started", flush=True)
                    time.sleep(60)
                return super().encode(texts, role)
        """,
    )
    slow = write_lareqa_task(
        env.tmp / "slow",
        {"en": [{"sentences": ["SLOW one.", "SLOW two."], "questions": [("s1", "SLOW?", 0)]}]},
    )
    environ = {
        **os.environ,
        "XRET_CACHE_DIR": str(env.cache),
        "XRET_RESULTS_DIR": str(env.results),
        "PYTHONPATH": os.pathsep.join([str(env.tmp / "mods"), str(ROOT)]),
    }
    args = ["bench", "-m", "slow:Encoder", "-t", f"lareqa:{env.task}", "-t", f"lareqa:{slow}", "-q"]
    process = subprocess.Popen(
        [sys.executable, "-c", "from xret.cli import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        assert process.stdout.readline().strip() == "slow-started"
        process.send_signal(sig)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode in codes, err
    assert "Traceback" not in err and "aborted" not in err
    assert "interrupted" in err and "kept" in err
    assert len(list(env.results.rglob("*.json"))) == 1  # the finished task


def test_all_zero_vectors_are_warned_about(env: Env, xret_cli):
    """A model that returns zeros scores every candidate 0: the ranking is ties, said so."""
    args = _encoder("np.zeros_like(good)")(env)
    code, _, err = xret_cli(*args)
    assert code == 0 and "Traceback" not in err
    assert "all-zero vectors; they score 0 against everything" in err
    code, _, err = xret_cli(*env.bench())
    assert code == 0 and "all-zero" not in err


@pytest.mark.parametrize(
    "where, err_no, reason",
    [("write", errno.ENOSPC, "no space left on device"), ("mkdir", errno.EROFS, "read-only")],
)
def test_save_run_on_a_full_or_read_only_disk(
    where, err_no, reason, env: Env, xret_cli, monkeypatch
):
    """The runs folder cannot be made or filled: one line, and no runs folder or staging left."""
    from xret.results import runs

    real_open, real_mkdir = open, Path.mkdir

    def failing_open(path, *args, **kwargs):
        if str(path).endswith((".run", ".qrels")):
            raise OSError(err_no, os.strerror(err_no))
        return real_open(path, *args, **kwargs)

    def failing_mkdir(self, *args, **kwargs):
        if self.name.endswith(".tmp") and ".runs" in self.name:
            raise OSError(err_no, os.strerror(err_no))
        return real_mkdir(self, *args, **kwargs)

    if where == "write":
        monkeypatch.setattr(runs, "open", failing_open, raising=False)
    else:
        monkeypatch.setattr(Path, "mkdir", failing_mkdir)
    code, _, err = xret_cli(*env.bench("--save-run"))
    assert_refused(code, err)
    assert reason in err and ".runs" in err
    leftovers = list(env.results.rglob("*.runs*")) if env.results.exists() else []
    assert leftovers == []
