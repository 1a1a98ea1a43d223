"""The mteb bridge's pure parts, and the core install without mteb: these run with or without it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xret.errors import XretError
from xret.interop.mteb.naming import (
    MAIN_SCORE,
    dataset_revision,
    mteb_language,
    score_key,
    subset_languages,
    subset_name,
    task_name,
    xret_language,
)
from xret.models import model_spec
from xret.tasks.catalog import TASKS
from xret.tasks.spec import CandidateText, Setting

XQUAD = TASKS.get("xquad-r").languages


@pytest.mark.parametrize(
    "measure, key",
    [
        ("MAP", "map"),
        ("MRR", "mrr"),
        ("nDCG@10", "ndcg_at_10"),
        ("R@1", "recall_at_1"),
        ("R@100", "recall_at_100"),
        ("Hit@10", "hit_rate_at_10"),
        ("P@5", "precision_at_5"),
        ("RD", "rank_distance"),
    ],
)
def test_measures_map_to_mteb_keys(measure, key):
    assert score_key(measure) == key


def test_every_default_measure_has_a_key_and_main_scores_are_default_measures():
    measures = TASKS.get("xquad-r").measures
    keys = {score_key(m) for m in measures}
    assert len(keys) == len(measures)
    assert set(MAIN_SCORE.values()) <= keys


def test_task_and_subset_names():
    assert task_name("xquad-r", Setting.MONO, XQUAD, XQUAD) == "xret-xquad-r-mono"
    assert task_name("xquad-r", Setting.CROSS, ("de", "en"), XQUAD) == "xret-xquad-r-cross"
    # The multilingual pool depends on the languages chosen, so they are part of the name.
    assert task_name("xquad-r", Setting.MULTI, ("de", "en"), XQUAD) == "xret-xquad-r-multi.de-en"
    assert task_name("xquad-r", Setting.MULTI, XQUAD, XQUAD) == "xret-xquad-r-multi"
    ctx = task_name("mlqa-r", Setting.MONO, ("en",), ("en",), CandidateText.SENTENCE_CONTEXT)
    assert ctx == "xret-mlqa-r-ctx-mono"
    assert task_name("lareqa:my dir", Setting.MONO, ("en",), ("en",)) == "xret-lareqa-my-dir-mono"
    assert subset_name("en", "de") == "en-de" and subset_name("en", "all") == "en-all"


def test_languages():
    assert [mteb_language(x) for x in ("ar", "el", "hi", "th", "zh")] == [
        "ara-Arab",
        "ell-Grek",
        "hin-Deva",
        "tha-Thai",
        "zho-Hans",
    ]
    assert subset_languages("en", "de", XQUAD) == ["eng-Latn", "deu-Latn"]
    assert subset_languages("de", "all", ("de", "en", "zh")) == ["deu-Latn", "eng-Latn", "zho-Hans"]
    assert xret_language("eng-Latn") == "en" and xret_language("zho") == "zh"
    with pytest.raises(XretError, match="'xx'"):
        mteb_language("xx")


def test_dataset_revision_is_the_version_and_a_digest_of_the_files():
    one = dataset_revision("1", {"a.json": "00", "b.json": "11"})
    assert one == dataset_revision("1", {"b.json": "11", "a.json": "00"})
    assert one.startswith("xret-v1-") and one != dataset_revision(
        "2", {"a.json": "00", "b.json": "11"}
    )
    assert one != dataset_revision("1", {"a.json": "00"})


def test_mteb_model_names_route_to_the_mteb_provider():
    spec = model_spec("mteb:intfloat/multilingual-e5-small")
    assert (spec.provider, spec.source) == ("mteb", "intfloat/multilingual-e5-small")
    assert model_spec("mteb:pkg.mod:Encoder").source == "pkg.mod:Encoder"


_WITHOUT_MTEB = """
import sys
sys.modules['mteb'] = None  # any `import mteb` now fails, as in a core install
from xret.cli import main
sys.argv = ['xret', *sys.argv[1:]]
main()
"""


def _xret_without_mteb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_MTEB, *args], capture_output=True, text=True
    )


def test_core_commands_work_without_mteb(tmp_path):
    assert _xret_without_mteb("--help").returncode == 0
    listed = _xret_without_mteb("models", "--cache-dir", str(tmp_path))
    assert listed.returncode == 0 and "minilm-en" in listed.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["export", "--format", "mteb", "RESULTS", "--out", "OUT"],
        ["bench", "-m", "mteb:some/model", "-t", "xquad-r"],
    ],
)
def test_mteb_entry_points_without_mteb_say_how_to_install_it(tmp_path, args):
    args = [a.replace("RESULTS", str(tmp_path)).replace("OUT", str(tmp_path / "out")) for a in args]
    done = (
        _xret_without_mteb(*args, "--cache-dir", str(tmp_path))
        if args[0] == "bench"
        else _xret_without_mteb(*args)
    )
    assert done.returncode == 2
    assert (
        "needs the package 'mteb', which is not installed: pip install 'xret[mteb]'" in done.stderr
    )
    assert done.stderr.count("\n") == 1
