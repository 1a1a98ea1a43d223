"""Deterministic stand-ins shipped with xret so a whole ``bench`` runs in a second (tests, demos).

``HashEncoder`` embeds a text as a hashed bag of its lower-cased words plus a small per-text
noise term; it is "multilingual" only for the word tokens that languages share, which is enough
to make rankings non-trivial and exactly reproducible.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEncoder:
    dim = 64
    revision = "hash-encoder-1"

    def encode(self, texts: Sequence[str], role=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")
            out[row] += 0.05 * np.random.default_rng(seed).standard_normal(self.dim)
        return out

    def token_lengths(self, texts: Sequence[str], role=None) -> np.ndarray:
        return np.array([len(_WORD.findall(t)) + 2 for t in texts], dtype=np.int64)


def write_lareqa_task(root: Path, paragraphs: dict[str, list[dict]]) -> Path:
    """Write a LAReQA-format task: ``paragraphs[lang]`` is a list of
    ``{"sentences": [...], "questions": [(qid, question, sentence_index)]}``."""
    root.mkdir(parents=True, exist_ok=True)
    for lang, paras in paragraphs.items():
        out = []
        for para in paras:
            context, breaks = "", []
            for sentence in para["sentences"]:
                start = len(context) + (1 if context else 0)
                context = f"{context} {sentence}" if context else sentence
                breaks.append([start, start + len(sentence)])
            qas = [
                {"id": qid, "question": q, "answers": [{"text": "", "answer_start": breaks[s][0]}]}
                for qid, q, s in para["questions"]
            ]
            out.append({"context": context, "qas": qas, "sentences": para["sentences"], "sentence_breaks": breaks})
        doc = {"version": "1.1", "data": [{"title": "t", "paragraphs": out}]}
        (root / f"{lang}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return root


def write_lareqa_subset(source: Path, languages, paragraphs: slice, out: Path) -> Path:
    """A smaller LAReQA-format task: paragraphs ``paragraphs`` (in file order, over all articles)
    of ``source/<lang>.json`` for each language, written to ``out/<lang>.json``. XQuAD-R files
    are parallel paragraph by paragraph, so a slice keeps every language's gold."""
    out.mkdir(parents=True, exist_ok=True)
    for lang in languages:
        doc = json.loads((source / f"{lang}.json").read_text(encoding="utf-8"))
        kept = [p for article in doc["data"] for p in article["paragraphs"]][paragraphs]
        subset = {"version": doc.get("version", ""), "data": [{"title": "subset", "paragraphs": kept}]}
        (out / f"{lang}.json").write_text(json.dumps(subset, ensure_ascii=False), encoding="utf-8")
    return out


class HashMtebEncoder:
    """``HashEncoder`` behind mteb's encoder protocol (needs mteb), for ``--model mteb:xret.testing:HashMtebEncoder``."""

    def __init__(self) -> None:
        self._hash = HashEncoder()

    @property
    def mteb_model_meta(self):
        from mteb.models.model_meta import ModelMeta

        return ModelMeta.create_empty(
            overwrites={"name": "xret-testing/hash-mteb-encoder", "revision": HashEncoder.revision,
                        "embed_dim": HashEncoder.dim, "similarity_fn_name": "cosine"}
        )

    def encode(self, inputs, *, task_metadata=None, hf_split=None, hf_subset=None, prompt_type=None, **kwargs):
        return self._hash.encode([text for batch in inputs for text in batch["text"]])

    def similarity(self, embeddings1, embeddings2):
        from mteb.similarity_functions import cos_sim

        return cos_sim(embeddings1, embeddings2)

    def similarity_pairwise(self, embeddings1, embeddings2):
        from mteb.similarity_functions import pairwise_cos_sim

        return pairwise_cos_sim(embeddings1, embeddings2)
