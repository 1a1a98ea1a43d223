"""The command line end to end, on a toy LAReQA task and the deterministic hash encoder."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from xret.results.store import load_record
from xret.testing import write_lareqa_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    return f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"


def test_bench_ci_prints_intervals(toy, xret_cli):
    code, out, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q", "--ci")
    assert code == 0, err
    block = out.split("95 % intervals")[1]
    assert "lareqa:toy" in block and "MAP Mo." in block


def test_bench_writes_record_and_per_query_scores(toy, tmp_path, xret_cli):
    code, out, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q")
    assert code == 0, err
    assert "macro average over languages" in out and "Mo." in out
    (path,) = (tmp_path / "results").rglob("*.json")
    record = load_record(path)
    assert record.task.name == "lareqa:toy"
    assert {c.setting for c in record.cells} == {"mono", "cross", "multi"}
    per_query = pd.read_csv(path.parent / record.per_query)
    # Cell means in the record are the means of the stored per-query values.
    for cell in record.cells:
        rows = per_query[
            (per_query.setting == cell.setting)
            & (per_query.query_language == cell.query_language)
            & (per_query.pool_language == cell.pool_language)
        ]
        assert len(rows) == cell.n_queries
        for measure, value in cell.values.items():  # blanks (undefined) left out, as in cells
            assert rows[measure].mean() == pytest.approx(value, rel=1e-5, abs=1e-6)  # %.6g
    assert set(record.provenance.timings) >= {
        "load_data",
        "load_model",
        "encode",
        "search",
        "measures",
    }
    assert record.provenance.encode["encoded"] == record.provenance.encode["unique"]
    # The numbers themselves, against a brute-force evaluation written out here.
    for cell in record.cells:
        if "MAP" not in cell.values:  # a (query, candidate language) cell of the bias panel
            continue
        expected = _brute_force(cell.setting, cell.query_language, cell.pool_language)
        assert cell.values["MAP"] == pytest.approx(expected["MAP"], abs=1e-12)
        assert cell.values["R@1"] == pytest.approx(expected["R@1"], abs=1e-12)
        if cell.setting == "multi":
            assert cell.values["RD"] == pytest.approx(expected["RD"], abs=1e-12)


def _brute_force(setting: str, query_language: str, pool_language: str) -> dict[str, float]:
    """MAP, R@1 and rank distance of one cell of the toy task, from the hash encoder's vectors by
    sorting every candidate (ties: candidate order) and the LAReQA gold (same question id)."""
    import numpy as np

    from xret.testing import HashEncoder

    docs = [
        (lang, p, i, text)
        for lang in sorted(PARAGRAPHS)
        for p, para in enumerate(PARAGRAPHS[lang])
        for i, text in enumerate(para["sentences"])
    ]
    gold = {
        (lang, qid): (p, s)
        for lang in PARAGRAPHS
        for p, para in enumerate(PARAGRAPHS[lang])
        for qid, _, s in para["questions"]
    }
    pool = [d for d in docs if pool_language in ("all", d[0])]
    encoder = HashEncoder()

    def unit(texts):
        vectors = encoder.encode(texts).astype(np.float64)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    pool_vectors = unit([d[3] for d in pool])
    ap, r1, rd = [], [], []
    for para in PARAGRAPHS[query_language]:
        for qid, question, _ in para["questions"]:
            relevant = {(lang, *gold[(lang, qid)]) for lang in PARAGRAPHS if (lang, qid) in gold}
            hits = [i for i, d in enumerate(pool) if d[:3] in relevant]
            if not hits:
                continue
            scores = pool_vectors @ unit([question])[0]
            order = sorted(range(len(pool)), key=lambda i: (-scores[i], i))
            ranks = sorted(order.index(i) + 1 for i in hits)
            ap.append(np.mean([(k + 1) / rank for k, rank in enumerate(ranks)]))
            r1.append(sum(rank == 1 for rank in ranks) / len(ranks))
            rd.append(ranks[-1] - ranks[0])
    return {"MAP": float(np.mean(ap)), "R@1": float(np.mean(r1)), "RD": float(np.mean(rd))}


def test_rerun_skips_and_overwrite_uses_the_cache(toy, tmp_path, xret_cli):
    assert xret_cli("bench", "-m", MODEL, "-t", toy, "-q")[0] == 0
    (path,) = (tmp_path / "results").rglob("*.json")
    before = path.read_text()
    encoded_on = load_record(path).provenance.device
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q")
    assert code == 0 and "already done" in err and path.read_text() == before
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-q", "--overwrite")
    record = load_record(path)
    assert code == 0 and record.provenance.encode["encoded"] == 0
    # Every vector came from the cache: the record names the device the cache says computed them.
    assert record.provenance.device == encoded_on == "encoder-managed"
    assert [c.values for c in record.cells] == [c.values for c in load_record(path).cells]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["bench", "-m", MODEL, "-t", "xquad-rr"],
            "unknown task 'xquad-rr'; did you mean 'xquad-r'",
        ),
        (["bench", "-m", "minilm-em"], "unknown model 'minilm-em'; did you mean 'minilm-en'?"),
        (["bench", "-m", MODEL, "-t", "xquad-r", "-l", "xx"], "unknown language of xquad-r 'xx'"),
        (["bench", "-m", MODEL, "-s", "mono,crosss"], "unknown setting 'crosss'"),
        (["bench", "-m", MODEL, "--measures", "MAP@5"], "unknown measure 'MAP@5'"),
        (["bench", "-m", "nosuchmodule:Encoder"], "cannot import 'nosuchmodule'"),
    ],
)
def test_user_mistakes_give_one_line(toy, xret_cli, args, message):
    code, _, err = xret_cli(*args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_broken_task_file_keeps_finished_results(toy, tmp_path, xret_cli):
    assert xret_cli("bench", "-m", MODEL, "-t", toy, "-q")[0] == 0
    other = write_lareqa_task(tmp_path / "other", PARAGRAPHS)
    (other / "de.json").write_text("{")
    code, _, err = xret_cli("bench", "-m", MODEL, "-t", toy, "-t", f"lareqa:{other}", "-q")
    assert code == 2 and "de.json: cannot read LAReQA JSON" in err
    assert len(list((tmp_path / "results").rglob("*.json"))) == 1


def test_help_imports_neither_torch_nor_faiss():
    code = (
        "import sys; from xret.cli import cli; cli.main(['--help'], standalone_mode=False); "
        "print(json.dumps(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'pandas') "
        "if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_tasks_lists_registered_tasks(xret_cli):
    code, out, _ = xret_cli("tasks")
    assert code == 0 and "xquad-r" in out and "mlqa-r" in out


def test_bench_help_names_every_form_of_model(xret_cli):
    code, out, _ = xret_cli("bench", "--help")
    assert code == 0 and "module:attr" in out and "mteb:NAME[@FOLDER]" in out
    assert "about 4x the tokens" in " ".join(out.split())  # what sentence+context costs
