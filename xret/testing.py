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
