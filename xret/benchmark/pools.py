"""What a corpus task searches: the full corpus, or a reduced pool for a single machine.

The reduced pool of a language is every judged passage (relevant or judged non-relevant) found in
its corpus plus ``distractors`` other passages: those whose keyed BLAKE2b hash of ``(seed, docid)``
is smallest. That is a uniform sample without replacement that depends only on the seed and the
set of docids (not on shard sizes or order), built in one streaming pass with memory O(pool).
Scores on a reduced pool are NOT comparable with full-corpus (published) numbers: judged passages
are over-represented, so retrieval is much easier. Records say so (``comparable_with_published``).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from xret.errors import XretError
from xret.tasks.records import Document

POOL_KINDS = ("full", "reduced")


@dataclass(frozen=True)
class PoolSpec:
    kind: str = "full"
    distractors: int = 10_000
    """Sampled non-judged passages per language (reduced pools only)."""
    seed: int = 0

    @classmethod
    def parse(cls, kind: str, distractors: int | None, seed: int | None) -> PoolSpec:
        if kind not in POOL_KINDS:
            raise XretError(f"--pool {kind}: expected one of {', '.join(POOL_KINDS)}")
        if kind == "full" and (distractors is not None or seed is not None):
            raise XretError("--distractors and --seed apply to --pool reduced only")
        if distractors is not None and distractors < 0:
            raise XretError("--distractors must be zero or more")
        defaults = cls()
        return cls(
            kind,
            defaults.distractors if distractors is None else distractors,
            defaults.seed if seed is None else seed,
        )

    @property
    def reduced(self) -> bool:
        return self.kind == "reduced"

    def options(self) -> dict:
        if not self.reduced:
            return {"kind": "full"}
        return {"kind": "reduced", "distractors": self.distractors, "seed": self.seed}

    def label(self) -> str:
        """A suffix that keeps reduced-pool results apart from full ones, in paths and tables."""
        return f"reduced-{self.distractors}-seed{self.seed}" if self.reduced else ""


@dataclass(frozen=True)
class ReducedPool:
    documents: tuple[Document, ...]
    """Judged passages and distractors, in corpus order."""
    judged_found: frozenset[str]
    passages_seen: int
    """Passages in the whole corpus (read to draw the sample)."""


def _hash_key(seed: int, docid: str) -> int:
    digest = hashlib.blake2b(
        docid.encode("utf-8"), digest_size=8, key=seed.to_bytes(8, "little", signed=True)
    )
    return int.from_bytes(digest.digest(), "big")


def reduced_pool(passages: Iterable[Document], judged: set[str], spec: PoolSpec) -> ReducedPool:
    """One pass over a corpus: keep the judged passages and the bottom-``distractors`` sample."""
    kept: list[tuple[int, Document]] = []
    heap: list[tuple[int, int, int, Document]] = []  # (-hash, -position, position, doc): a max-heap
    found: set[str] = set()
    seen = 0
    for position, doc in enumerate(passages):
        seen += 1
        if doc.id in judged:
            if doc.id not in found:  # a duplicated docid keeps its first passage
                found.add(doc.id)
                kept.append((position, doc))
            continue
        if spec.distractors == 0:
            continue
        key = _hash_key(spec.seed, doc.id)
        if len(heap) < spec.distractors:
            heapq.heappush(heap, (-key, -position, position, doc))
        elif (-key, -position) > heap[0][:2]:
            heapq.heapreplace(heap, (-key, -position, position, doc))
    kept.extend((position, doc) for _, _, position, doc in heap)
    kept.sort(key=lambda item: item[0])
    return ReducedPool(
        documents=tuple(doc for _, doc in kept), judged_found=frozenset(found), passages_seen=seen
    )
