"""Loaders and measure parsing under bad input: one DataError / XretError line naming the file
and the place, or a correct load; never another exception. Hypothesis mutates valid files."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xret.errors import DataError, XretError
from xret.measures.table import MAX_CUTOFF, Measure, parse_measure
from xret.measures.trec import evaluate
from xret.tasks import get_task, load_task
from xret.testing import write_lareqa_task, write_miracl_task

from test_lareqa import PARAGRAPHS

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _lareqa(root: Path, edit=None):
    write_lareqa_task(root, PARAGRAPHS)
    if edit is not None:
        doc = json.loads((root / "en.json").read_text())
        edit(doc)
        (root / "en.json").write_text(json.dumps(doc), encoding="utf-8")
    task = get_task(f"lareqa:{root}")
    return load_task(task, task.languages, None, root / "cache")


def _para(d, i=0):
    return d["data"][0]["paragraphs"][i]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(data={}), "data: expected an array, found an object"),
        (
            lambda d: _para(d)["qas"][1].update(question=None),
            "data[0].paragraphs[0].qas[1].question: expected a string, found null",
        ),
        (
            lambda d: _para(d)["qas"][0].update(question=7),
            "data[0].paragraphs[0].qas[0].question: expected a string, found a number",
        ),
        (
            lambda d: _para(d, 1)["qas"][0].update(id=["q3"]),
            "data[0].paragraphs[1].qas[0].id: expected a string, found an array",
        ),
        (
            lambda d: _para(d)["sentence_breaks"].pop(),
            "data[0].paragraphs[0]: 2 sentences but 1 sentence_breaks",
        ),
        (
            lambda d: _para(d).update(sentence_breaks=[[0, "9"], [10, 20]]),
            "data[0].paragraphs[0].sentence_breaks[0][1]: expected an integer, found a string",
        ),
        (
            lambda d: _para(d).update(sentence_breaks=[[0, 30], [10, 20]]),
            "data[0].paragraphs[0].sentence_breaks[1]: span [10, 20] is empty, overlaps",
        ),
        (lambda d: _para(d).update(sentence_breaks=[[0, 5], [6, 900]]), "leaves the context"),
        (
            lambda d: _para(d)["sentences"].__setitem__(1, " "),
            "data[0].paragraphs[0].sentences[1]: empty text",
        ),
        (
            lambda d: _para(d)["qas"][0]["answers"][0].update(answer_start=True),
            "qas[0].answers[0].answer_start: expected an integer, found a boolean",
        ),
        (lambda d: _para(d)["qas"][0].update(answers=[]), "qas[0].answers: no answers"),
        (
            lambda d: _para(d)["qas"].__setitem__(0, "q"),
            "qas[0]: expected an object, found a string",
        ),
        (lambda d: [_para(d, i).update(qas=[]) for i in (0, 1)], "en.json: no questions"),
        (lambda d: d.pop("data"), "top level: missing 'data'"),
        (lambda d: _para(d)["qas"][0].update(id="q\0x"), "qas[0].id: NUL character"),
    ],
)
def test_malformed_lareqa_names_file_and_json_path(tmp_path, edit, message):
    with pytest.raises(DataError) as info:
        _lareqa(tmp_path / "t", edit)
    text = str(info.value)
    assert "en.json: " in text and message in text and "\n" not in text


def test_deep_lareqa_json_is_one_line(tmp_path):
    write_lareqa_task(tmp_path / "t", PARAGRAPHS)
    (tmp_path / "t" / "en.json").write_text("[" * 100_000 + "]" * 100_000)
    task = get_task(f"lareqa:{tmp_path / 't'}")
    with pytest.raises(DataError, match="en.json: cannot read LAReQA JSON .nested too deeply"):
        load_task(task, task.languages, None, tmp_path / "cache")


def test_cross_with_one_language_is_one_line(tmp_path, monkeypatch, xret_cli):
    code, _, err = _bench_toy(tmp_path, monkeypatch, xret_cli, "-l", "en", "-s", "cross")
    assert code == 2 and err.splitlines()[-1].startswith("xret: error: ") and "Traceback" not in err
    assert "cross" in err and "two languages" in err


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 40)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated_lareqa(draw):
    """A valid en.json with one value replaced (or one key or item removed) somewhere."""
    with tempfile.TemporaryDirectory() as tmp:
        doc = json.loads((write_lareqa_task(Path(tmp), PARAGRAPHS) / "en.json").read_text())
    paths = [p for p in _paths(doc) if p]
    path = draw(st.sampled_from(paths))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()):
        parent[path[-1]] = draw(JSON)
    else:
        del parent[path[-1]]
    return doc


@settings(FUZZ, max_examples=20)
@given(doc=mutated_lareqa())
def test_fuzzed_lareqa_loads_or_fails_in_one_line(doc):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "t"
        try:
            data = _lareqa(root, lambda d: (d.clear(), d.update(copy.deepcopy(doc))))
        except DataError as err:
            assert "\n" not in str(err) and "en.json: " in str(err)
            return
    ids = {d.id for d in data.documents}
    assert all(d.text.strip() for d in data.documents) and all(q.text.strip() for q in data.queries)
    assert all(set(rel) <= ids and rel for rel in data.qrels.values())
    assert {q.id for q in data.queries} == set(data.qrels)


CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))
TOKEN = st.text(CHARS, min_size=1, max_size=4)
# Random lines, and lines of the right shape with random fields (NUL and odd spaces included).
MIRACL_LINE = st.one_of(
    st.text(CHARS, max_size=30),
    st.builds(lambda q, t: f"{q}\t{t}", TOKEN, TOKEN),
    st.builds(lambda q, d, g: f"{q} Q0 {d} {g}", TOKEN, TOKEN, st.integers(-1, 2**64)),
)


@settings(FUZZ, max_examples=30)
@given(
    topics=st.lists(MIRACL_LINE, max_size=4),
    qrels=st.lists(MIRACL_LINE, max_size=4),
    grades=st.lists(st.integers(-5, 10**30), max_size=3),
)
def test_fuzzed_miracl_loads_or_fails_in_one_line(topics, qrels, grades):
    with tempfile.TemporaryDirectory() as tmp:
        root = write_miracl_task(Path(tmp) / "m", {"sw": {"1": "swali"}}, {"sw": {"1": {"d#0": 1}}})
        (root / "topics" / "topics.miracl-v1.0-sw-dev.tsv").write_text(
            "".join(f"{line}\n" for line in ["1\tswali", *topics]), encoding="utf-8"
        )
        lines = ["1 Q0 d#0 1", *(f"1 Q0 g#{i} {g}" for i, g in enumerate(grades)), *qrels]
        (root / "qrels" / "qrels.miracl-v1.0-sw-dev.tsv").write_text(
            "".join(f"{line}\n" for line in lines), encoding="utf-8"
        )
        task = get_task(f"miracl:{root}")
        try:
            data = load_task(task, task.languages, None, Path(tmp) / "cache")
        except DataError as err:
            assert "\n" not in str(err) and ".tsv" in str(err)
            return
    assert data.queries and all(q.text.strip() for q in data.queries) and not qrels_bad(grades)
    run = {q.id: {"d#0": 1.0} for q in data.queries}
    qrels_in = {q.id: data.qrels.get(q.id, {}) for q in data.queries}
    evaluate(qrels_in, run, (Measure("nDCG", 10), Measure("MAP")))


@pytest.mark.parametrize(
    "qrels, run, message",
    [
        ({"a\0b": {"d": 1}, "a\0c": {"d": 1}}, {"a\0b": {"d": 1.0}}, "NUL character"),
        ({"q": {"d\0": 1, "d\0x": 1}}, {"q": {"d\0": 1.0}}, "NUL character"),
        ({"q": {"d": 2**62}}, {"q": {"d": 1.0}}, "relevance grade"),
        ({"q": {"d": 1}}, {"q": {"d": float("nan"), "e": 1.0}}, "non-finite retrieval scores"),
    ],
)
def test_nothing_reaches_trec_eval_that_it_aborts_on_or_misreads(qrels, run, message):
    """Ids equal up to a NUL abort pytrec_eval (SIGABRT); NaN scores give a wrong MAP."""
    with pytest.raises(DataError, match=message):
        evaluate(qrels, run, (Measure("MAP"),))


def test_nul_in_miracl_ids_is_one_line(tmp_path):
    root = write_miracl_task(tmp_path / "m", {"sw": {"1": "swali"}}, {"sw": {"1": {"d\0#0": 1}}})
    task = get_task(f"miracl:{root}")
    with pytest.raises(DataError, match=r"qrels.miracl-v1.0-sw-dev.tsv:1: "):
        load_task(task, task.languages, None, tmp_path / "cache")


def qrels_bad(grades) -> bool:
    return any(not 0 <= g < 2**31 for g in grades)


def test_huge_relevance_grade_is_one_line(tmp_path):
    root = write_miracl_task(tmp_path / "m", {"sw": {"1": "swali"}}, {"sw": {"1": {"d#0": 2**62}}})
    task = get_task(f"miracl:{root}")
    with pytest.raises(DataError, match=r"qrels.miracl-v1.0-sw-dev.tsv:1: .* rel <= 2147483647"):
        load_task(task, task.languages, None, tmp_path / "cache")


@pytest.mark.parametrize(
    "text", ["R@0", "nDCG@99999999999999999999", f"R@{MAX_CUTOFF + 1}", "Hit@00"]
)
def test_cutoffs_out_of_bounds_are_errors(text):
    with pytest.raises(XretError, match="between 1 and"):
        parse_measure(text)


def test_zero_cutoff_never_reaches_trec_eval(tmp_path, monkeypatch, xret_cli):
    code, _, err = _bench_toy(tmp_path, monkeypatch, xret_cli, "--measures", "MAP,R@0")
    assert code == 2
    assert err == "xret: error: measure 'R@0': the cutoff must be between 1 and 1,000,000\n"


MEASURE_TEXT = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda n, c: f"{n}@{c}",
        st.sampled_from(["MAP", "R", "nDCG", "Hit", "P", "RD", "mrr"]),
        st.one_of(st.integers(-2, 2 * MAX_CUTOFF), st.integers(0, 10**30), st.text(max_size=3)),
    ),
)


@settings(max_examples=150, deadline=None)
@given(text=MEASURE_TEXT)
def test_fuzzed_measures_parse_or_fail_in_one_line(text):
    try:
        measure = parse_measure(text)
    except XretError as err:
        assert "\n" not in str(err).replace(repr(text), "")
        return
    assert measure.cutoff is None or 1 <= measure.cutoff <= MAX_CUTOFF
    assert parse_measure(str(measure)) == measure
    if measure.is_trec:
        found = evaluate({"q": {"a": 1}}, {"q": {"a": 2.0, "b": 1.0}}, (measure,))
        expected = 1 / measure.cutoff if measure.name == "P" else 1.0  # one relevant, ranked first
        assert found["q"][measure] == pytest.approx(expected)


def _bench_toy(tmp_path, monkeypatch, xret_cli, *options: str):
    """``xret bench`` of the hash encoder on the toy LAReQA task, with ``options``."""
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    root = write_lareqa_task(tmp_path / "t", PARAGRAPHS)
    return xret_cli(
        "bench", "-m", "xret.testing:HashEncoder", "-t", f"lareqa:{root}", "-q", *options
    )
