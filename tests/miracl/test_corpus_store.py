"""Streaming corpus encoding: shard by shard, bounded blocks, resume after a kill, refuse a
changed corpus."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from xret.benchmark.corpus_store import corpus_root, encode_corpus
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
from xret.errors import DataError
from xret.models.spec import ModelSpec, Role
from xret.tasks.corpus import Corpus, find_shards, passage_text
from xret.testing import HashEncoder, write_corpus

SPEC = ModelSpec(
    name="hash",
    provider="python",
    source="xret.testing:HashEncoder",
    revision="r1",
    dim=64,
    document_prompt="passage: ",
)


class Interrupted(Exception):
    pass


class RecordingEncoder(HashEncoder):
    """Records every text it encodes; raises after ``fail_after`` texts (a kill mid-run)."""

    def __init__(self, fail_after: int | None = None):
        self.spec = SPEC
        self.batches: list[list[str]] = []
        self.fail_after = fail_after

    def encode(self, texts, role=None):
        if self.fail_after is not None and len(self.encoded) + len(texts) > self.fail_after:
            raise Interrupted
        self.batches.append(list(texts))
        return super().encode(texts, role)

    @property
    def encoded(self) -> list[str]:
        return [t for batch in self.batches for t in batch]


def engine(encoder) -> EmbeddingEngine:
    return EmbeddingEngine(
        SPEC, lambda: encoder, None, BatchPolicy(max_texts=8, max_tokens=4096), progress=False
    )


def make_corpus(tmp_path, shards=4, per_shard=25, name="miracl-corpus-v1.0-sw") -> Corpus:
    rows = [
        [
            {
                "docid": f"{s}{i}#{i % 3}",
                "title": f"T{s}",
                "text": f"passage {s} {i} " + "neno " * (i % 7),
            }
            for i in range(per_shard)
        ]
        for s in range(shards)
    ]
    write_corpus(tmp_path / name, rows)
    return Corpus(name=name, language="sw", shards=find_shards(tmp_path / name))


def texts_of(corpus: Corpus, shard: int, title=True) -> list[str]:
    from xret.tasks.corpus import read_shard

    return [passage_text(d, title) for d in read_shard(corpus.shards[shard], "sw")]


def test_encodes_every_shard_in_order_with_ids(tmp_path):
    corpus = make_corpus(tmp_path)
    enc = RecordingEncoder()
    store = encode_corpus(
        corpus, engine(enc), tmp_path / "store", with_title=True, block=10, log=lambda m: None
    )
    assert store.rows == 100 and store.dim == 64 and len(store.shards) == 4
    assert [s.source for s in store.shards] == [f"docs-{i}.jsonl.gz" for i in range(4)]
    docs = list(corpus.passages())
    assert [d for s in range(4) for d in store.docids(s)] == [d.id for d in docs]
    expected = HashEncoder().encode([passage_text(d, True) for d in docs])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    got = np.concatenate([store.vectors(s) for s in range(4)])
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    # Memory is bounded by the block: no encode call ever sees more than one block's texts.
    assert max(len(b) for b in enc.batches) <= 10 and sorted(enc.encoded) == sorted(
        passage_text(d, True) for d in docs
    )
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert [r["rows"] for r in manifest["finished"]] == [25] * 4
    assert all(len(r["sha256"]) == 64 for r in manifest["finished"])


def test_resume_after_a_kill_never_encodes_a_finished_shard_twice(tmp_path):
    corpus = make_corpus(tmp_path)
    root = tmp_path / "store"
    killed = RecordingEncoder(fail_after=60)  # dies inside shard 2 (shards hold 25 passages)
    with pytest.raises(Interrupted):
        encode_corpus(corpus, engine(killed), root, with_title=True, block=10, log=lambda m: None)
    manifest = json.loads((root / "manifest.json").read_text())
    assert [r["source"] for r in manifest["finished"]] == ["docs-0.jsonl.gz", "docs-1.jsonl.gz"]
    assert not list(root.glob(".*.tmp")), "the unfinished shard leaves nothing behind"
    resumed = RecordingEncoder()
    store = encode_corpus(
        corpus, engine(resumed), root, with_title=True, block=10, log=lambda m: None
    )
    finished_before = set(texts_of(corpus, 0) + texts_of(corpus, 1))
    assert not finished_before & set(resumed.encoded)  # no finished shard encoded again
    assert sorted(resumed.encoded) == sorted(texts_of(corpus, 2) + texts_of(corpus, 3))
    # The result equals an uninterrupted run.
    fresh = encode_corpus(
        corpus, engine(RecordingEncoder()), tmp_path / "fresh", True, block=10, log=lambda m: None
    )
    for s in range(4):
        np.testing.assert_array_equal(store.vectors(s), fresh.vectors(s))
    # A third run encodes nothing at all.
    idle = RecordingEncoder()
    encode_corpus(corpus, engine(idle), root, with_title=True, log=lambda m: None)
    assert idle.encoded == []


@pytest.mark.parametrize(
    "change, message",
    [
        ("rewrite-finished", r"docs-0.jsonl.gz changed \(sha256"),
        ("resize-unfinished", r"docs-3.jsonl.gz changed \(\d+ bytes"),
        ("add-shard", r"the shards changed \(5 now, 4 then\)"),
    ],
)
def test_a_corpus_changed_between_kill_and_resume_is_refused(tmp_path, change, message):
    corpus = make_corpus(tmp_path)
    root = tmp_path / "store"
    with pytest.raises(Interrupted):
        encode_corpus(
            corpus,
            engine(RecordingEncoder(fail_after=30)),
            root,
            True,
            block=10,
            log=lambda m: None,
        )
    directory = corpus.shards[0].parent
    if change == "rewrite-finished":  # same size, other bytes: only the sha256 can tell
        raw = bytearray(corpus.shards[0].read_bytes())
        raw[4] ^= 1  # the gzip header's mtime: a re-compressed copy of the shard
        corpus.shards[0].write_bytes(bytes(raw))
    elif change == "resize-unfinished":
        write_corpus(tmp_path / "bigger", [[{"docid": "x#0", "text": "x"}]])
        corpus.shards[3].write_bytes((tmp_path / "bigger" / "docs-0.jsonl.gz").read_bytes())
    else:
        write_corpus(tmp_path / "extra", [[{"docid": "y#0", "text": "y"}]])
        (directory / "docs-4.jsonl.gz").write_bytes(
            (tmp_path / "extra" / "docs-0.jsonl.gz").read_bytes()
        )
    changed = Corpus(name=corpus.name, language="sw", shards=find_shards(directory))
    enc = RecordingEncoder()
    with pytest.raises(DataError, match=message) as info:
        encode_corpus(changed, engine(enc), root, True, log=lambda m: None)
    assert "refusing to mix" in str(info.value) and "\n" not in str(info.value)
    assert enc.encoded == []


def test_store_location_depends_on_model_prompt_and_title(tmp_path):
    corpus = make_corpus(tmp_path, shards=1, per_shard=2)
    e = engine(RecordingEncoder())
    with_title, without = (
        corpus_root(tmp_path, e, corpus, True),
        corpus_root(tmp_path, e, corpus, False),
    )
    assert with_title != without and with_title.parent == without.parent
    assert with_title.parent.name == SPEC.embedding_namespace(Role.DOCUMENT, e.device.key)
    other_prompt = EmbeddingEngine(replace(SPEC, document_prompt=""), None, None)
    assert corpus_root(tmp_path, other_prompt, corpus, True) != with_title


def test_lookups_by_global_row(tmp_path):
    corpus = make_corpus(tmp_path, shards=3, per_shard=4)
    store = encode_corpus(
        corpus, engine(RecordingEncoder()), tmp_path / "s", True, log=lambda m: None
    )
    ids = np.array([[5, 0, -1], [11, 4, 3]])
    assert store.docids_of(ids) == [["11#1", "00#0"], ["23#0", "10#0", "03#0"]]
    assert [(offset, len(block)) for offset, block in store.blocks(3)] == [
        (0, 3),
        (3, 1),
        (4, 3),
        (7, 1),
        (8, 3),
        (11, 1),
    ]
    sample = store.sample(5, seed=1)
    all_rows = np.concatenate([store.vectors(s) for s in range(3)])
    assert len(sample) == 5 and all(any(np.array_equal(r, a) for a in all_rows) for r in sample)


def test_one_writer_at_a_time(tmp_path):
    import fcntl

    corpus = make_corpus(tmp_path, shards=1, per_shard=2)
    root = tmp_path / "s"
    root.mkdir()
    with open(root / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DataError, match="another xret process is encoding this corpus"):
            encode_corpus(corpus, engine(RecordingEncoder()), root, True, log=lambda m: None)
