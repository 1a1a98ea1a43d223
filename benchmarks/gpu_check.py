"""GPU check: xret's embedding engine against a plain ``SentenceTransformer.encode`` on one GPU.

    bash benchmarks/gpu.sh [--out FILE]         # the check: needs CUDA, ≤ 8 min on an H200
    python -m benchmarks.gpu_check --cpu        # smoke run: tiny sizes, fp32, every section on CPU

Needs only torch, transformers, sentence-transformers and numpy (xret runs from the source tree).
Real weights cannot travel to the GPU machine, so each architecture (multilingual-e5-small's and
XLM-R-base's shapes, full 250k vocabularies) is built from its config with seeded random weights,
with a word-level tokenizer over a synthetic vocabulary; throughput depends on the shapes, not
the weights. Sections, written to one JSON file:

1. encode throughput per architecture and precision (fp32, fp16, bf16): xret's engine
   (token-budget batches, its ST provider) and ``SentenceTransformer.encode`` (batch 256) on the
   same texts; real tokens/s, useful matmul TFLOP/s and their fraction of the GPU's bf16 dense peak;
2. agreement with fp32: cosine of every vector, and MAP on a synthetic LAReQA-style task (each
   question has exactly one gold sentence, so AP = 1 / rank of the gold; ranking is exhaustive);
3. exact search over 1M vectors: torch matmul + top-k in fp32/fp16/bf16 (recall of the fp32 top
   100, gold at rank 1), and xret's FlatIndex on FAISS GPU where faiss-gpu is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}
"""Dense bf16 tensor-core peaks from the vendors' data sheets (SXM parts), by name fragment."""


@dataclass(frozen=True)
class Arch:
    name: str
    model_type: str
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int

    def matmul_flops_per_token(self, seq: float) -> float:
        """Forward FLOPs per real token: the layers' dense products and attention's two."""
        dense = 2 * (4 * self.hidden**2 + 2 * self.hidden * self.intermediate)
        return self.layers * (dense + 4 * seq * self.hidden)


ARCHS = (
    Arch("multilingual-e5-small", "bert", 384, 12, 12, 1536, 250037),
    Arch("xlm-roberta-base", "xlm-roberta", 768, 12, 12, 3072, 250002),
)
TINY = Arch("tiny-bert", "bert", 32, 2, 2, 64, 1000)


@dataclass(frozen=True)
class Sizes:
    paragraphs: int
    """Synthetic task: one gold sentence and one question per paragraph, plus distractors."""
    distractors: int
    search_vectors: int
    search_queries: int
    search_dim: int = 384
    k: int = 100


FULL = Sizes(paragraphs=12000, distractors=12000, search_vectors=1_000_000, search_queries=10000)
SMOKE = Sizes(paragraphs=60, distractors=60, search_vectors=4000, search_queries=40, k=10)


def fail(message: str) -> None:
    print(f"gpu_check: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def synthetic_task(sizes: Sizes, words: int, seed: int = 0):
    """Questions that share half their words with their gold sentence, and the candidates."""
    rng = np.random.default_rng(seed)

    def sentence(n: int) -> list[str]:
        return [f"w{i}" for i in rng.integers(0, words, n)]

    gold = [sentence(int(n)) for n in rng.integers(8, 48, sizes.paragraphs)]
    other = [sentence(int(n)) for n in rng.integers(8, 48, sizes.distractors)]
    questions = []
    for words_ in gold:
        kept = [w for w in words_ if rng.random() < 0.5]
        questions.append(" ".join(kept + sentence(max(3, len(words_) // 3))))
    candidates = [" ".join(s) for s in gold + other]
    return questions, candidates


def build_model(arch: Arch, words: int, folder: Path) -> Path:
    """A sentence-transformers folder: random weights of ``arch`` (seed 0), mean pooling,
    normalised, and a word-level tokenizer over ``w0 … w{words-1}``."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import AutoConfig, AutoModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {token: i for i, token in enumerate(specials + [f"w{i}" for i in range(words)])}
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=512,
    )
    config = AutoConfig.for_model(
        arch.model_type,
        vocab_size=arch.vocab,
        hidden_size=arch.hidden,
        num_hidden_layers=arch.layers,
        num_attention_heads=arch.heads,
        intermediate_size=arch.intermediate,
        max_position_embeddings=514,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    hf = folder / "hf"
    AutoModel.from_config(config, add_pooling_layer=False).save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    transformer = models.Transformer(str(hf), max_seq_length=128)
    pooling = models.Pooling(arch.hidden, pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu").save(
        str(folder / "st")
    )
    return folder / "st"


def timed(fn, sync):
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return out, time.perf_counter() - start


def encode_section(
    arch: Arch, folder: Path, device_name: str, precisions, sizes: Sizes, words: int
) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer

    from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
    from xret.models.providers.st import load_sentence_transformer
    from xret.models.spec import ModelSpec, Role
    from xret.runtime.device import pick_device

    questions, candidates = synthetic_task(sizes, words)
    spec = ModelSpec(
        name=arch.name, provider="st", source=str(folder), revision="random-seed-0", dim=arch.hidden
    )
    sync = torch.cuda.synchronize if device_name.startswith("cuda") else (lambda: None)
    peak = bf16_peak(device_name)
    out, vectors = {}, {}
    for precision in precisions:
        device = pick_device(device_name, precision)
        encoder = load_sentence_transformer(spec, folder, device)
        engine = EmbeddingEngine(
            spec, lambda e=encoder: e, None, BatchPolicy.for_device(device.is_cuda), progress=False
        )
        engine.encode_uncached(candidates[:64], Role.DOCUMENT)  # warm-up: kernels, allocator
        before = replace(engine.stats)
        (docs, queries), seconds = timed(
            lambda: (
                engine.encode_uncached(candidates, Role.DOCUMENT),
                engine.encode_uncached(questions, Role.QUERY),
            ),
            sync,
        )
        stats = engine.stats.minus(before)
        vectors[precision] = (docs, queries)
        row = {
            "device": device.precision,
            "texts": stats.encoded,
            "tokens": stats.tokens,
            "padded_tokens": stats.padded_tokens,
        }
        row["xret_engine"] = rates(arch, stats.tokens, stats.encoded, seconds, peak)
        encoder = engine = None  # frees the model (the timed lambda reads engine: no del)

        plain = SentenceTransformer(str(folder), device=device_name)
        if device.dtype != "float32":
            plain.to(device.torch_dtype())
        texts = candidates + questions
        plain.encode(texts[:64], batch_size=256)
        _, seconds = timed(
            lambda: plain.encode(
                texts, batch_size=256, convert_to_numpy=True, normalize_embeddings=True
            ),
            sync,
        )
        plain_rates = rates(arch, stats.tokens, stats.encoded, seconds, peak)
        row["sentence_transformers_encode"] = plain_rates
        row["engine_speedup"] = (
            row["sentence_transformers_encode"]["seconds"] / row["xret_engine"]["seconds"]
        )
        plain = None  # frees the model (the timed lambda reads plain: no del)
        if device_name.startswith("cuda"):
            torch.cuda.empty_cache()
        out[precision] = row
    for precision, (docs, queries) in vectors.items():
        out[precision]["agreement"] = agreement(vectors["fp32"], (docs, queries))
    return out


def rates(arch: Arch, tokens: int, texts: int, seconds: float, peak: float | None) -> dict:
    flops = tokens * arch.matmul_flops_per_token(tokens / max(texts, 1))
    tflops = flops / seconds / 1e12
    return {
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "texts_per_s": texts / seconds,
        "useful_tflops": tflops,
        "fraction_of_bf16_peak": tflops / peak if peak else None,
    }


def agreement(base, other) -> dict:
    """Cosine of each vector with its fp32 twin, and MAP (AP = 1/rank of the one gold)."""
    cos = np.concatenate([np.sum(a * b, axis=1) for a, b in zip(base, other)])
    return {
        "cosine_min": float(cos.min()),
        "cosine_mean": float(cos.mean()),
        "MAP": mean_ap(*other),
        "MAP_fp32": mean_ap(*base),
        "MAP_delta": mean_ap(*other) - mean_ap(*base),
    }


def mean_ap(docs: np.ndarray, queries: np.ndarray) -> float:
    """Question i's gold is candidate i; ties rank in candidate order (the gold first)."""
    scores = queries @ docs.T
    gold = scores[np.arange(len(queries)), np.arange(len(queries))]
    above = (scores > gold[:, None]).sum(axis=1)
    return float(np.mean(1.0 / (1 + above)))


def search_section(device_name: str, precisions, sizes: Sizes) -> dict:
    """Exact inner-product top k over unit vectors; queries are noisy copies of known vectors."""
    import torch

    device = torch.device(device_name)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    gen = torch.Generator(device="cpu").manual_seed(0)
    corpus = torch.nn.functional.normalize(
        torch.randn(sizes.search_vectors, sizes.search_dim, generator=gen), dim=1
    )
    gold = torch.randperm(sizes.search_vectors, generator=gen)[: sizes.search_queries]
    noisy = corpus[gold] + 0.08 * torch.randn(len(gold), sizes.search_dim, generator=gen)
    queries = torch.nn.functional.normalize(noisy, dim=1)
    out, reference = {"vectors": sizes.search_vectors, "queries": len(gold), "k": sizes.k}, None
    for precision in precisions:
        dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
        c, q = corpus.to(device, dtype), queries.to(device, dtype)
        topk(q[:16], c, sizes.k)
        ids, seconds = timed(lambda: topk(q, c, sizes.k), sync)
        ids = ids.cpu()
        reference = ids if reference is None else reference
        overlap = np.mean(
            [len(np.intersect1d(a, b)) / sizes.k for a, b in zip(ids.numpy(), reference.numpy())]
        )
        out[f"torch_{precision}"] = {
            "seconds": seconds,
            "queries_per_s": len(gold) / seconds,
            "recall_of_fp32_topk": float(overlap),
            "gold_at_1": float((ids[:, 0] == gold).float().mean()),
        }
        c = q = None  # frees the device copies (the timed lambda reads them: no del)
    out["faiss_gpu"] = faiss_flat(corpus.numpy(), queries.numpy(), gold.numpy(), sizes.k)
    return out


def topk(queries, corpus, k: int, chunk: int = 1024):
    import torch

    parts = [
        torch.topk(queries[s : s + chunk] @ corpus.T, k, dim=1).indices
        for s in range(0, len(queries), chunk)
    ]
    return torch.cat(parts)


def faiss_flat(corpus: np.ndarray, queries: np.ndarray, gold: np.ndarray, k: int) -> dict | str:
    """xret's FlatIndex (which moves to the GPUs when FAISS has them), or why it did not run."""
    try:
        import faiss
    except ImportError:
        return "not run: faiss is not installed (pip install 'xret[gpu]')"
    if faiss.get_num_gpus() == 0:
        return f"not run: faiss {faiss.__version__} sees no GPU (the CPU build)"
    from xret.benchmark.search import FlatIndex

    index = FlatIndex(corpus.shape[1])
    index.add(corpus)
    index.search(queries[:16], k)
    start = time.perf_counter()
    hits = index.search(queries, k)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "queries_per_s": len(queries) / seconds,
        "gold_at_1": float((hits.ids[:, 0] == gold).mean()),
        "faiss": faiss.__version__,
    }


def bf16_peak(device_name: str) -> float | None:
    import torch

    if not device_name.startswith("cuda"):
        return None
    name = torch.cuda.get_device_name(torch.device(device_name))
    return next((peak for part, peak in BF16_PEAK_TFLOPS.items() if part in name), None)


def machine(device_name: str) -> dict:
    import sentence_transformers
    import torch
    import transformers

    from xret.runtime.device import cpu_kernels

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "cpu": cpu_kernels(),
    }
    if device_name.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = {
            "name": props.name,
            "memory_gb": round(props.total_memory / 2**30, 1),
            "capability": f"{props.major}.{props.minor}",
            "cuda": torch.version.cuda,
            "bf16": torch.cuda.is_bf16_supported(),
            "bf16_peak_tflops": bf16_peak(device_name),
        }
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cpu", action="store_true", help="smoke run: tiny model and sizes, fp32 only, on the CPU"
    )
    parser.add_argument("--out", type=Path, default=Path("gpu-check.json"))
    args = parser.parse_args(argv)
    import torch

    if not args.cpu and not torch.cuda.is_available():
        fail("no CUDA device (torch.cuda.is_available() is False); --cpu runs the smoke check")
    import sentence_transformers

    if not hasattr(sentence_transformers.SentenceTransformer, "preprocess"):
        fail(
            f"sentence-transformers {sentence_transformers.__version__} has no "
            "SentenceTransformer.preprocess, which xret's provider uses; install 6.x"
        )
    device_name, archs, sizes, words = (
        ("cpu", (TINY,), SMOKE, 500) if args.cpu else ("cuda", ARCHS, FULL, 30000)
    )
    precisions = ("fp32",) if args.cpu else ("fp32", "fp16", "bf16")
    started = time.perf_counter()
    report = {
        "mode": "cpu-smoke" if args.cpu else "gpu",
        "machine": machine(device_name),
        "sizes": sizes.__dict__,
        "encode": {},
    }
    with tempfile.TemporaryDirectory(prefix="xret-gpu-check-") as tmp:
        for arch in archs:
            folder = build_model(arch, words, Path(tmp) / arch.name)
            report["encode"][arch.name] = {
                "arch": arch.__dict__,
                **encode_section(arch, folder, device_name, precisions, sizes, words),
            }
            print(
                f"gpu_check: {arch.name} done ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    report["search"] = search_section(device_name, precisions, sizes)
    report["seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"gpu_check: wrote {args.out} in {report['seconds']:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
