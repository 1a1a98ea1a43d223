"""Validation at the boundaries: encoder output, token lengths, batching, cached vectors.

Each user mistake is one ``xret: error: …`` line (exit 2), never a traceback or a number.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xret.benchmark.cache import EmbeddingCache, text_digests
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine, plan_batches
from xret.errors import ModelError
from xret.models.spec import ModelSpec, Role
from xret.testing import HashEncoder, write_lareqa_task

from test_lareqa import PARAGRAPHS

# Broken user encoders, loaded by the CLI as ``test_validation:<name>``.


class ShortLengths(HashEncoder):
    def token_lengths(self, texts, role=None):
        return super().token_lengths(texts, role)[:-1]


class NegativeLengths(HashEncoder):
    def token_lengths(self, texts, role=None):
        return -super().token_lengths(texts, role)


class NoneVectors(HashEncoder):
    def encode(self, texts, role=None):
        return None


class StringVectors(HashEncoder):
    def encode(self, texts, role=None):
        return ["x"] * len(texts)


class IntegerVectors(HashEncoder):
    def encode(self, texts, role=None):
        return np.ones((len(texts), self.dim), dtype=np.int64)


class FewRows(HashEncoder):
    def encode(self, texts, role=None):
        return super().encode(texts)[:-1]


class OneDimensional(HashEncoder):
    def encode(self, texts, role=None):
        return super().encode(texts)[:, 0]


class ThreeDimensional(HashEncoder):
    def encode(self, texts, role=None):
        return super().encode(texts)[:, None, :]


class RaggedRows(HashEncoder):
    def encode(self, texts, role=None):
        return [[1.0] * (i + 1) for i in range(len(texts))]


class VaryingWidth(HashEncoder):
    dim = None
    calls = 0

    def encode(self, texts, role=None):
        VaryingWidth.calls += 1
        return np.ones((len(texts), 3 + VaryingWidth.calls % 2), dtype=np.float32)


class Raises(HashEncoder):
    def encode(self, texts, role=None):
        raise RuntimeError("boom")


class NoEncode:
    pass


NOT_CALLABLE = 42


def returns_none():
    return None


def factory_raises():
    raise ValueError("no weights here")


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    return f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"


def one_line_error(result, *needles):
    code, out, err = result
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.count("xret: error: ") == 1, err
    line = err.splitlines()[-1]  # after progress lines such as "loading <model> on cpu"
    assert line.startswith("xret: error: "), err
    for needle in needles:
        assert needle in line, err
    return line


@pytest.mark.parametrize(
    "encoder, message",
    [
        ("ShortLengths", "token lengths for"),
        ("NegativeLengths", "negative token length"),
        ("NoneVectors", "returned None"),
        ("StringVectors", "not floating-point"),
        ("IntegerVectors", "not floating-point"),
        ("FewRows", "rows for"),
        ("OneDimensional", "1-dimensional array"),
        ("ThreeDimensional", "3-dimensional array"),
        ("RaggedRows", "not an array"),
        ("VaryingWidth", "vectors of width"),
        ("Raises", "RuntimeError: boom"),
        ("NoEncode", "no callable encode"),
        ("NOT_CALLABLE", "no callable encode"),
        ("returns_none", "no callable encode"),
        ("factory_raises", "ValueError: no weights here"),
    ],
)
def test_broken_encoders_give_one_line(toy, tmp_path, xret_cli, encoder, message):
    one_line_error(
        xret_cli("bench", "-m", f"test_validation:{encoder}", "-t", toy, "-q", "--batch-size", "3"),
        message,
    )
    assert not list((tmp_path / "results").rglob("*.json"))


SPEC = ModelSpec(
    name="hash", provider="python", source="xret.testing:HashEncoder", revision="r1", dim=64
)


def embed(tmp_path, encoder, texts, policy=BatchPolicy(max_texts=4, max_tokens=64, flush_every=4)):
    cache = EmbeddingCache(tmp_path / "emb")
    engine = EmbeddingEngine(SPEC, lambda: encoder, cache, policy, progress=False)
    return engine.embed(texts, Role.DOCUMENT)


class ZeroLengths(HashEncoder):
    spec = SPEC

    def token_lengths(self, texts, role=None):
        return np.zeros(len(texts), dtype=np.int64)


def test_zero_token_lengths_are_encoded(tmp_path):
    """A text of zero tokens (an empty sentence) once made batch planning loop forever."""
    texts = ["", "a", "b c", ""]
    out = embed(tmp_path, ZeroLengths(), texts)
    expected = HashEncoder().encode(["", "a", "b c"])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(out.vectors[out.index], expected[[0, 1, 2, 0]], rtol=1e-5)


LENGTHS = st.lists(st.one_of(st.just(0), st.integers(0, 600), st.integers(0, 2**62)), max_size=60)


@settings(max_examples=80, deadline=None)
@given(
    lengths=LENGTHS,
    max_texts=st.integers(1, 50),
    max_tokens=st.integers(1, 10_000),
    max_padding=st.floats(1.0, 3.0),
)
def test_batches_always_advance_and_cover_every_text_once(
    lengths, max_texts, max_tokens, max_padding
):
    policy = BatchPolicy(max_texts=max_texts, max_tokens=max_tokens, max_padding=max_padding)
    array = np.array(lengths, dtype=np.int64)
    batches = plan_batches(array, policy)
    assert all(len(b) >= 1 for b in batches)
    assert sorted(np.concatenate(batches).tolist() if batches else []) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= max_texts
        longest = max(int(array[batch].max()), 1)
        assert len(batch) == 1 or len(batch) * longest <= max_tokens


# Cached vectors: a bad shard is set aside and its texts encoded again, never read misaligned.


def write_shard(tmp_path, name, keys, vectors, spec=SPEC):
    root = tmp_path / "emb" / spec.embedding_namespace(Role.DOCUMENT, "float32")
    root.mkdir(parents=True, exist_ok=True)
    np.savez(root / name, keys=keys, vectors=vectors)
    return root


def raw_keys(texts):
    return np.frombuffer(b"".join(text_digests(texts)), dtype=np.uint8).reshape(len(texts), -1)


def good_vectors(texts):
    vectors = HashEncoder().encode(texts)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "keys, vectors, why",
    [
        (raw_keys(["a", "b c"]), np.zeros((3, 64), np.float32), "2 keys for 3 rows"),
        (raw_keys(["a", "b c", "d"]), np.zeros((3, 8), np.float32), "width 8"),
        (raw_keys(["a", "b c", "d"]), np.full((3, 64), np.nan, np.float32), "non-finite"),
        (raw_keys(["a", "b c", "d"])[:, :4], np.zeros((3, 64), np.float32), "keys"),
        (raw_keys(["a", "b c", "d"]), np.zeros(3, np.float32), "vectors"),
    ],
)
def test_bad_cache_shard_is_set_aside_and_reencoded(tmp_path, caplog, keys, vectors, why):
    texts = ["a", "b c", "d"]
    root = write_shard(tmp_path, "part-1.npz", keys, vectors)
    (root / "part-0.npz").write_bytes(b"")  # not a shard at all
    with caplog.at_level(logging.WARNING):
        out = embed(tmp_path, ZeroLengths(), texts)
    np.testing.assert_allclose(out.vectors[out.index], good_vectors(texts), rtol=1e-5)
    assert {p.name for p in root.glob("*.bad")} == {"part-0.npz.bad", "part-1.npz.bad"}
    assert why in caplog.text and "part-1.npz" in caplog.text


def test_torn_cache_shard_is_set_aside(tmp_path, caplog):
    texts = ["a", "b c"]
    root = write_shard(tmp_path, "part-1.npz", raw_keys(texts), good_vectors(texts))
    whole = (root / "part-1.npz").read_bytes()
    (root / "part-1.npz").write_bytes(whole[: len(whole) // 2])
    with caplog.at_level(logging.WARNING):
        out = embed(tmp_path, ZeroLengths(), texts)
    np.testing.assert_allclose(out.vectors[out.index], good_vectors(texts), rtol=1e-5)
    assert (root / "part-1.npz.bad").is_file() and "part-1.npz" in caplog.text


def test_cached_width_must_match_an_encoder_of_unknown_width(tmp_path):
    spec = replace(SPEC, dim=None)
    root = write_shard(tmp_path, "part-1.npz", raw_keys(["a"]), np.ones((1, 8), np.float32), spec)
    engine = EmbeddingEngine(spec, ZeroLengths, EmbeddingCache(tmp_path / "emb"), progress=False)
    with pytest.raises(ModelError, match="width 64.*width 8"):
        engine.embed(["a", "b"], Role.DOCUMENT)
    assert (root / "part-1.npz").is_file()


def test_orphan_temp_files_of_dead_processes_are_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    root = write_shard(tmp_path, "part-1.npz", raw_keys(["a"]), good_vectors(["a"]))
    orphan = root / f".part-00000000000000000001-{dead}.tmp.npz"
    orphan.write_bytes(b"half")
    mine = root / f".part-00000000000000000002-{__import__('os').getpid()}.tmp.npz"
    mine.write_bytes(b"being written")
    cache = EmbeddingCache(tmp_path / "emb").namespace(
        SPEC.embedding_namespace(Role.DOCUMENT, "float32")
    )
    assert len(cache) == 1 and not orphan.exists() and mine.exists()
