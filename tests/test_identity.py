"""Complete identities: everything that can change a vector is in the embedding-cache namespace,
everything that can change a number is in the result key, and data is identified by content."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xret.benchmark.runner import result_identity
from xret.benchmark.strategies import Plan
from xret.models.providers.python import PythonProvider
from xret.models.spec import ModelSpec, Role
from xret.results.store import load_record, result_key
from xret.tasks import data_checksums, get_task
from xret.testing import toy_miracl, write_lareqa_task

from test_lareqa import PARAGRAPHS

SPEC = ModelSpec(
    name="m",
    provider="sentence-transformers",
    source="org/model",
    revision="abc123",
    max_seq_length=256,
    query_prompt="query: ",
    document_prompt="passage: ",
)
TEXT = st.text(min_size=1, max_size=12)
# One field of the vectors' identity and a value for it (kept only when it differs).
CHANGES = st.one_of(
    st.tuples(st.just("provider"), st.sampled_from(["python", "mteb", "me5-q4", "use"])),
    st.tuples(st.just("source"), TEXT),
    st.tuples(st.just("revision"), TEXT),
    st.tuples(st.just("max_seq_length"), st.one_of(st.none(), st.integers(1, 8192))),
    st.tuples(st.just("similarity"), st.sampled_from(["cosine", "dot"])),
    st.tuples(st.just("query_prompt"), st.text(max_size=12)),
    st.tuples(st.just("dtype"), st.sampled_from(["float32", "float16", "bfloat16"])),
)


def _namespace_and_identity(spec: ModelSpec, dtype: str) -> tuple[str, dict]:
    return spec.embedding_namespace(Role.QUERY, dtype), spec.identity(dtype)


@given(CHANGES)
def test_changing_any_field_changes_the_namespace_and_identity(change):
    field, value = change
    before = _namespace_and_identity(SPEC, "float32")
    if field == "dtype":
        after = _namespace_and_identity(SPEC, value)
        unchanged = value == "float32"
    else:
        after = _namespace_and_identity(replace(SPEC, **{field: value}), "float32")
        unchanged = getattr(SPEC, field) == value
    if not unchanged:
        assert after[0] != before[0] and after[1] != before[1]


def test_the_other_roles_prompt_does_not_split_the_cache():
    other = replace(SPEC, document_prompt="doc: ")
    for role, same in ((Role.QUERY, True), (Role.DOCUMENT, False)):
        namespaces = {s.embedding_namespace(role, "float32") for s in (other, SPEC)}
        assert (len(namespaces) == 1) == same


def _key(spec=SPEC, dtype="float32", data=None, options=None, shards=None) -> str:
    data = {"t/en.json": "aa", "t/de.json": "bb"} if data is None else data
    options = {"languages": ["de", "en"], "depth": 10} if options is None else options
    plan = Plan("t", options, shards or {})
    return result_key("t", spec.name, spec.revision, result_identity(spec, dtype, data, plan))


OPTION_NAMES = ["languages", "depth", "index"]
KEY_CHANGES = st.one_of(
    CHANGES.map(lambda c: ("model", c)),
    st.tuples(st.just("data"), st.tuples(st.sampled_from(["t/en.json", "t/de.json"]), TEXT)),
    st.tuples(st.just("options"), st.tuples(st.sampled_from(OPTION_NAMES), TEXT)),
    st.tuples(st.just("shards"), st.tuples(st.sampled_from(["corpus/docs-0.jsonl.gz"]), TEXT)),
)


@given(KEY_CHANGES)
def test_changing_any_field_changes_the_result_key(change):
    part, (field, value) = change
    if part == "model" and field == "dtype":
        changed, same = _key(dtype=value), value == "float32"
    elif part == "model":
        changed, same = _key(spec=replace(SPEC, **{field: value})), getattr(SPEC, field) == value
    elif part == "data":
        original = {"t/en.json": "aa", "t/de.json": "bb"}
        changed, same = _key(data={**original, field: value}), original[field] == value
    elif part == "options":  # a text never equals the original list, number or absence
        changed, same = _key(options={"languages": ["de", "en"], "depth": 10, field: value}), False
    else:
        changed, same = _key(shards={field: value}), False
    assert (changed == _key()) == same


@settings(max_examples=25, deadline=None)
@given(
    st.text(alphabet="abcdefghij \n", min_size=1, max_size=30), st.text(alphabet="abc", max_size=9)
)
def test_two_datasets_with_one_basename_never_share_a_key(first, second):
    paragraphs = [{"sentences": [first], "questions": [("q1", "what?", 0)]}]
    other = [{"sentences": [first + second + "x"], "questions": [("q1", "what?", 0)]}]
    with tempfile.TemporaryDirectory() as tmp:
        keys = []
        for folder, content in (("a", paragraphs), ("b", other)):
            root = write_lareqa_task(Path(tmp) / folder / "data", {"en": content})
            task = get_task(f"lareqa:{root}")
            assert task.name == "lareqa:data"
            data = data_checksums(task, task.languages)
            identity = result_identity(SPEC, "float32", data, Plan(task.name, {}))
            keys.append(result_key(task.name, "m", "r", identity))
    assert keys[0] != keys[1]


@st.composite
def _attribute_pairs(draw):
    names = st.from_regex(r"[A-Z][a-z]{0,6}", fullmatch=True)
    first = draw(names)
    return first, draw(names.filter(lambda n: n != first))


@pytest.fixture(scope="module")
def two_encoders(tmp_path_factory):
    """A module with two encoders and no revision: the second reverses every text first."""
    root = tmp_path_factory.mktemp("encoders")
    (root / "twin_encoders.py").write_text(
        "from xret.testing import HashEncoder\n\n"
        "class First(HashEncoder):\n    revision = None\n\n"
        "class Second(First):\n"
        "    def encode(self, texts, role=None):\n"
        "        return super().encode([t[::-1] for t in texts], role)\n\n"
        "class Dot(First):\n    similarity = 'dot'\n\n"
        "    def encode(self, texts, role=None):\n"
        "        out = super().encode(texts, role)\n"
        "        return out * (1.0 + (out[:, :1] > 0) * 4.0)\n\n"
        "class DotAsCosine(Dot):\n    similarity = 'cosine'\n"
    )
    sys.path.insert(0, str(root))
    yield "twin_encoders"
    sys.path.remove(str(root))
    sys.modules.pop("twin_encoders", None)


@settings(max_examples=20, deadline=None)
@given(_attribute_pairs())
def test_two_attributes_of_one_module_never_share_a_revision(two_encoders, names):
    from xret.models.providers.python import _content_revision

    module = sys.modules.get(two_encoders) or __import__(two_encoders)
    revisions = {_content_revision(module, f"{two_encoders}:{name}")[0] for name in names}
    assert len(revisions) == 2


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


def _bench(xret_cli, toy, model: str, task: str, *extra: str):
    code, _, err = xret_cli("bench", "-m", model, "-t", task, "-q", *extra)
    assert code == 0, err
    records = sorted((toy / "results").rglob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return err, load_record(records[-1])


def test_two_encoders_in_one_module_never_share_vectors(two_encoders, toy, xret_cli):
    task = f"lareqa:{write_lareqa_task(toy / 'toy', PARAGRAPHS)}"
    err, first = _bench(xret_cli, toy, f"{two_encoders}:First", task)
    assert "declares no revision" in err and "edits to other files it uses are not seen" in err
    err, second = _bench(xret_cli, toy, f"{two_encoders}:Second", task)
    assert "already done" not in err
    assert second.provenance.encode["encoded"] == second.provenance.encode["unique"] > 0
    assert [c.values for c in second.cells] != [c.values for c in first.cells]
    assert first.model.revision != second.model.revision


def test_two_datasets_with_one_basename_never_share_a_record(toy, xret_cli):
    first = write_lareqa_task(toy / "a" / "v1" / "data", PARAGRAPHS)
    fewer = {lang: paras[:1] for lang, paras in PARAGRAPHS.items()}
    second = write_lareqa_task(toy / "b" / "v2" / "data", fewer)
    _, one = _bench(xret_cli, toy, "xret.testing:HashEncoder", f"lareqa:{first}")
    err, two = _bench(xret_cli, toy, "xret.testing:HashEncoder", f"lareqa:{second}")
    assert "already done" not in err and one.key != two.key
    assert one.task.counts != two.task.counts
    # Edited in place: the same folder holds new data, so it is a new result.
    write_lareqa_task(first, {"en": PARAGRAPHS["en"][1:]})
    err, edited = _bench(xret_cli, toy, "xret.testing:HashEncoder", f"lareqa:{first}")
    assert "already done" not in err and edited.key not in (one.key, two.key)
    assert edited.task.data["en.json"] != one.task.data["en.json"]


def test_a_truncated_corpus_neither_answers_for_nor_blocks_the_full_one(toy, xret_cli):
    task_dir, corpus = toy_miracl(toy / "m", languages=("sw",), passages=30, shards=3, queries=4)
    shard = corpus / "miracl-corpus-v1.0-sw" / "docs-2.jsonl.gz"
    full = shard.read_bytes()
    shard.unlink()  # a truncated copy: one shard missing
    args = ("--corpus-dir", str(corpus), "--depth", "20", "--measures", "nDCG@10")
    _, truncated = _bench(xret_cli, toy, "xret.testing:HashEncoder", f"miracl:{task_dir}", *args)
    shard.write_bytes(full)
    err, complete = _bench(xret_cli, toy, "xret.testing:HashEncoder", f"miracl:{task_dir}", *args)
    assert "already done" not in err and truncated.key != complete.key
    shards = [len(r.task.extras["corpus"]["sw"]["shards"]) for r in (truncated, complete)]
    assert shards == [2, 3]


def test_a_dot_product_model_is_ranked_by_dot_products(two_encoders, toy, xret_cli):
    task = f"lareqa:{write_lareqa_task(toy / 'toy', PARAGRAPHS)}"
    _, dot = _bench(xret_cli, toy, f"{two_encoders}:Dot", task)
    _, cosine = _bench(xret_cli, toy, f"{two_encoders}:DotAsCosine", task)
    assert dot.model.similarity == "dot" and cosine.model.similarity == "cosine"
    # Same raw vectors, different norms: the dot ranking is not the cosine ranking.
    assert [c.values for c in dot.cells] != [c.values for c in cosine.cells]


def test_python_similarity_other_than_cosine_or_dot_is_one_line(two_encoders, tmp_path):
    from xret.errors import ModelError

    source = f"{two_encoders}:First"
    spec = ModelSpec(name="x", provider="python", source=source, similarity="manhattan")
    with pytest.raises(ModelError, match="similarity 'manhattan' is not supported"):
        PythonProvider().resolve(spec, tmp_path)


def test_a_sentence_transformers_config_declares_the_similarity(tmp_path):
    import json

    from xret.errors import ModelError
    from xret.models.providers.st import declared_similarity

    spec = replace(SPEC, similarity="cosine")
    assert declared_similarity(tmp_path, spec) == "cosine"  # no config: the spec's
    config = tmp_path / "config_sentence_transformers.json"
    for declared, expected in (("dot", "dot"), (None, "cosine"), ("cosine", "cosine")):
        config.write_text(json.dumps({"similarity_fn_name": declared}))
        assert declared_similarity(tmp_path, spec) == expected
    config.write_text(json.dumps({"similarity_fn_name": "manhattan"}))
    with pytest.raises(ModelError, match="similarity 'manhattan' is not supported"):
        declared_similarity(tmp_path, spec)


def test_the_cache_remembers_the_device_that_produced_its_vectors(tmp_path):
    from xret.benchmark.cache import EmbeddingCache
    from xret.benchmark.engine import UNKNOWN_PRODUCER, EmbeddingEngine
    from xret.runtime.device import Device
    from xret.testing import HashEncoder

    spec = replace(SPEC, provider="python", source="xret.testing:HashEncoder", dim=HashEncoder.dim)
    gpu = Device("cuda:3", "float16")
    cache = EmbeddingCache(tmp_path / "emb")
    filled = EmbeddingEngine(spec, HashEncoder, cache, progress=False, device=gpu)
    filled.embed(["a b", "c d"], Role.QUERY)
    assert filled.producers == ["cuda:3"]

    def no_model():
        raise AssertionError("a warm cache loads no model")

    warm = EmbeddingEngine(spec, no_model, cache, progress=False, device=gpu)
    warm.embed(["a b"], Role.QUERY)
    assert warm.producers == ["cuda:3"]
    # Another dtype is another namespace: nothing cached there, nothing produced yet.
    assert cache.producers(spec.embedding_namespace(Role.QUERY, "float32")) == []
    (tmp_path / "emb" / warm.namespace(Role.QUERY) / "producers.json").unlink()  # an older cache
    older = EmbeddingEngine(spec, no_model, cache, progress=False, device=gpu)
    older.embed(["a b"], Role.QUERY)
    assert older.producers == [UNKNOWN_PRODUCER]


def test_a_record_says_which_device_and_dtype_computed_its_vectors(toy, xret_cli):
    task = f"lareqa:{write_lareqa_task(toy / 'toy', PARAGRAPHS)}"
    _, record = _bench(xret_cli, toy, "xret.testing:HashEncoder", task)
    assert record.provenance.device == record.provenance.dtype == "encoder-managed"


def test_a_model_named_after_an_unknown_user_is_an_unknown_name(xret_cli):
    code, _, err = xret_cli("bench", "-m", "~no-such-user-xret/model", "-t", "xquad-r")
    assert code != 0 and "Traceback" not in err and err.startswith("xret: error:")
    assert SPEC.identity("float32") != replace(SPEC, source="~0").identity("float32")
