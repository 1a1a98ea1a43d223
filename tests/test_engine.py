"""The embedding engine: each unique text encoded once, cached across runs, batches within
budget."""

from __future__ import annotations

import numpy as np
import pytest

from xret.benchmark.cache import EmbeddingCache, text_digests
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine, plan_batches
from xret.errors import ModelError
from xret.models.spec import ModelSpec, Role
from xret.testing import HashEncoder

SPEC = ModelSpec(
    name="hash",
    provider="python",
    source="xret.testing:HashEncoder",
    revision="r1",
    dim=64,
    query_prompt="q: ",
    document_prompt="d: ",
)


class CountingEncoder(HashEncoder):
    def __init__(self, fail_after: int | None = None):
        self.spec = SPEC
        self.calls: list[list[str]] = []
        self.fail_after = fail_after

    def encode(self, texts, role=None):
        if self.fail_after is not None and sum(map(len, self.calls)) >= self.fail_after:
            raise KeyboardInterrupt
        self.calls.append(list(texts))
        return super().encode(texts, role)

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def engine(
    tmp_path, encoder, policy=BatchPolicy(max_texts=4, max_tokens=64, flush_every=4), spec=SPEC
):
    return EmbeddingEngine(
        spec, lambda: encoder, EmbeddingCache(tmp_path / "emb"), policy, progress=False
    )


def test_unique_texts_encoded_once_and_expanded(tmp_path):
    enc = CountingEncoder()
    texts = ["a b", "c", "a b", "d e f", "c"]
    out = engine(tmp_path, enc).embed(texts, Role.DOCUMENT)
    assert sorted(enc.encoded) == ["a b", "c", "d e f"]
    assert out.vectors.shape == (3, 64)
    assert np.array_equal(out.index, [0, 1, 0, 2, 1])
    np.testing.assert_allclose(np.linalg.norm(out.vectors, axis=1), 1.0, rtol=1e-6)


def test_rerun_encodes_nothing_and_model_is_not_loaded(tmp_path):
    texts = [f"text number {i}" for i in range(50)]
    first = engine(tmp_path, CountingEncoder()).embed(texts, Role.QUERY)
    loads = []
    warm = EmbeddingEngine(
        SPEC, lambda: loads.append(1), EmbeddingCache(tmp_path / "emb"), progress=False
    )
    second = warm.embed(texts, Role.QUERY)
    assert loads == [] and warm.stats.encoded == 0 and warm.stats.cached == 50
    assert np.array_equal(first.vectors[first.index], second.vectors[second.index])


def test_roles_with_different_prompts_are_cached_apart(tmp_path):
    engine(tmp_path, CountingEncoder()).embed(["x"], Role.QUERY)
    enc = CountingEncoder()
    engine(tmp_path, enc).embed(["x"], Role.DOCUMENT)
    assert enc.encoded == ["x"]


def test_digests_ending_in_nul_survive_the_cache(tmp_path):
    # numpy "S" strings drop trailing NUL bytes; about 1 text in 256 has such a digest.
    texts = [f"t{i}" for i in range(3000)]
    nul = [t for t, k in zip(texts, text_digests(texts)) if k.endswith(b"\0")]
    assert nul, "the sample must contain such digests"
    engine(tmp_path, CountingEncoder(), BatchPolicy(max_texts=512, max_tokens=10**6)).embed(
        nul, Role.QUERY
    )
    enc = CountingEncoder()
    engine(tmp_path, enc).embed(nul, Role.QUERY)
    assert enc.encoded == []


def test_interrupted_run_keeps_finished_batches(tmp_path):
    texts = [f"w{i}" for i in range(20)]
    with pytest.raises(KeyboardInterrupt):
        engine(tmp_path, CountingEncoder(fail_after=8)).embed(texts, Role.QUERY)
    enc = CountingEncoder()
    engine(tmp_path, enc).embed(texts, Role.QUERY)
    assert len(enc.encoded) == 12  # the 8 finished before the interruption were kept


def test_token_budget_batches_longest_first():
    lengths = np.array([5, 50, 10, 10, 40, 3, 3, 3])
    batches = plan_batches(lengths, BatchPolicy(max_texts=3, max_tokens=100, max_padding=10))
    assert [lengths[b].tolist() for b in batches] == [[50, 40], [10, 10, 5], [3, 3, 3]]
    # With the padding bound, a batch ends where the next text is much shorter than its longest.
    batches = plan_batches(lengths, BatchPolicy(max_texts=3, max_tokens=100, max_padding=1.5))
    assert [lengths[b].tolist() for b in batches] == [[50, 40], [10, 10], [5], [3, 3, 3]]
    for b in batches:
        assert len(b) * lengths[b].max() <= 100
    # A single text longer than the budget still gets a batch of its own.
    assert [
        len(b) for b in plan_batches(np.array([500, 1]), BatchPolicy(max_texts=8, max_tokens=100))
    ] == [1, 1]


def test_dimension_disagreeing_with_spec_is_an_error(tmp_path):
    wrong = ModelSpec(name="hash", provider="python", source="x:y", revision="r1", dim=32)
    with pytest.raises(ModelError, match="64-dimensional vectors, its spec says 32"):
        engine(tmp_path, CountingEncoder(), spec=wrong).embed(["a"], Role.QUERY)
