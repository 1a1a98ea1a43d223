"""MIRACL at scale on this machine: corpus encoding throughput and memory; search at 1M vectors.

Not a test: it measures, writes JSON under benchmarks/results/, and prints a summary.

    # (a) encode a generated corpus in the MIRACL format through xret's streaming shard store
    python benchmarks/miracl_scale.py encode --model minilm-en --passages 50000 --shards 5
    # (b) 1M stored 384-d vectors: exact flat (xret's block search) vs IVF vs HNSW
    python benchmarks/miracl_scale.py search --vectors 1000000 --queries 1000 --k 100

(a) writes passages built from the real MIRACL topics of all 18 languages (18 scripts, lengths
drawn from a log-normal, median ~55 words, 8-300), gzipped JSON-lines shards as published, then
runs ``encode_corpus`` with the model (any xret model name: ``minilm-en``, ``me5-small-q4`` once
registered, a local sentence-transformers folder, ``module:attr``). It reports passages/s and
tokens/s, the peak resident memory and the memory after each shard (flat = bounded).

(b) writes N random unit vectors (``random``: no structure, the worst case for approximate
search) or clustered ones (``clustered``: unit vectors around 10,000 random centres, closer to
text embeddings) in xret's store format, and for each index measures build time, search time
for the queries at depth k, recall@k against exact search, and peak memory, each in its own
process so that peaks do not mix.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's xret, not an installed one

RESULTS = ROOT / "benchmarks" / "results"


# ---- measuring ---------------------------------------------------------------------------------


def _status() -> dict[str, int]:
    """Resident memory of this process in bytes (VmRSS, RssAnon, RssFile, VmHWM)."""
    out = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


class MemoryPeak:
    """Samples resident memory every 20 ms in a thread: peak anonymous and file-backed bytes.

    Memory-mapped vectors count as file-backed (page cache the kernel can drop); anonymous
    memory is what the process itself holds (model, blocks, indexes)."""

    def __init__(self) -> None:
        self.anon = self.file = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = _status()
            self.anon, self.file = max(self.anon, now["RssAnon"]), max(self.file, now["RssFile"])
            time.sleep(0.02)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def as_dict(self) -> dict:
        return {
            "peak_rss_anon_mb": _mb(self.anon),
            "peak_rss_file_mb": _mb(self.file),
            "peak_rss_mb": _mb(_status()["VmHWM"]),
        }


def _mb(n: float) -> float:
    return round(n / 2**20, 1)


def machine() -> dict:
    import faiss
    import torch

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        "?",
    )
    memory = next(
        int(line.split()[1]) * 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")
    )
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "note": "2 cores shared with other engineers' jobs: timings are noisy upper bounds",
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "faiss_threads": faiss.omp_get_max_threads(),
        "xret_commit": commit.stdout.strip(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _write(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# ---- (a) encoding -----------------------------------------------------------------------------

_NO_SPACES = {"ja", "zh", "th"}


def _vocabularies(data_dir: Path | None) -> dict[str, list[str]]:
    """Words (characters for ja/zh/th) of the real MIRACL topics, per language."""
    from xret.tasks.miracl import LANGUAGES

    vocab = {}
    for lang in (lang.code for lang in LANGUAGES):
        texts = []
        for split in ("dev", "train"):
            path = (
                (data_dir or Path("/nonexistent"))
                / "miracl"
                / "topics"
                / f"topics.miracl-v1.0-{lang}-{split}.tsv"
            )
            if path.is_file():
                texts += [
                    line.split("\t", 1)[1].strip()
                    for line in path.read_text(encoding="utf-8").splitlines()
                ]
        if texts:
            vocab[lang] = (
                [c for t in texts for c in t]
                if lang in _NO_SPACES
                else [w for t in texts for w in t.split()]
            )
    if not vocab:  # no data directory: synthetic words in a few scripts
        rng = np.random.default_rng(0)
        for lang, (start, size) in {
            "en": (0x61, 26),
            "ru": (0x430, 32),
            "ar": (0x627, 36),
            "hi": (0x915, 37),
        }.items():
            vocab[lang] = [
                "".join(chr(start + int(c)) for c in rng.integers(0, size, int(rng.integers(2, 9))))
                for _ in range(3000)
            ]
    return vocab


def generate_corpus(
    directory: Path, passages: int, shards: int, seed: int, data_dir: Path | None
) -> dict:
    """Gzipped JSON-lines shards written one at a time (the generator holds one shard).

    Byte-identical for the same arguments (gzip mtime 0, no file name in the header), so a rerun
    of a resumable benchmark finds the shards its stores were keyed by."""
    import gzip

    rng = np.random.default_rng(seed)
    vocab = _vocabularies(data_dir)
    languages = sorted(vocab)
    lengths = np.clip(rng.lognormal(np.log(55), 0.6, passages), 8, 300).astype(int)
    directory.mkdir(parents=True, exist_ok=True)
    per_shard = -(-passages // shards)
    for shard, first in enumerate(range(0, passages, per_shard)):
        raw = (directory / f"docs-{shard}.jsonl.gz").open("wb")
        with raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as packed:
            out = io.TextIOWrapper(packed, encoding="utf-8")
            for i in range(first, min(first + per_shard, passages)):
                lang = languages[i % len(languages)]
                words = vocab[lang]
                picks = rng.integers(
                    0, len(words), int(lengths[i] * (2.5 if lang in _NO_SPACES else 1))
                )
                text = ("" if lang in _NO_SPACES else " ").join(words[j] for j in picks)
                title = (
                    text[:6]
                    if lang in _NO_SPACES
                    else " ".join(words[j] for j in rng.integers(0, len(words), 3))
                )
                out.write(
                    json.dumps(
                        {"docid": f"{i // 7}#{i % 7}", "title": title, "text": text},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
            out.flush()
            out.detach()
    return {
        "languages": languages,
        "words_median": int(np.median(lengths)),
        "words_p95": int(np.percentile(lengths, 95)),
        "bytes_on_disk": sum(p.stat().st_size for p in directory.iterdir()),
    }


def run_encode(args) -> dict:
    from xret import paths
    from xret.benchmark.corpus_store import encode_corpus
    from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
    from xret.models import model_spec
    from xret.models.providers import get_provider
    from xret.models.spec import Role
    from xret.runtime.device import pick_device
    from xret.tasks.corpus import Corpus, find_shards, passage_text, read_shard

    work = Path(args.workdir)
    corpus_dir = work / "corpus" / "miracl-corpus-v1.0-xx"
    start = time.perf_counter()
    generated = generate_corpus(corpus_dir, args.passages, args.shards, args.seed, paths.data_dir())
    generate_seconds = time.perf_counter() - start
    corpus = Corpus(name="bench-corpus", language="xx", shards=find_shards(corpus_dir))

    cache = work / "cache"
    spec = model_spec(args.model)
    provider = get_provider(spec.provider)
    spec = provider.resolve(spec, cache)
    rss_start = _status()["VmRSS"]
    start = time.perf_counter()
    encoder = provider.load(spec, pick_device("cpu"), cache)
    load_seconds = time.perf_counter() - start
    rss_model = _status()["VmRSS"]
    engine = EmbeddingEngine(
        spec, lambda: encoder, None, BatchPolicy(args.batch_size, args.max_tokens), progress=False
    )
    sample = [
        passage_text(d, True) for _, d in zip(range(2000), read_shard(corpus.shards[0], "xx"))
    ]
    lengths = encoder.token_lengths(sample, Role.DOCUMENT)

    per_shard = []

    def log(message: str) -> None:
        if "encoded" in message:
            per_shard.append(
                {
                    "after": message.split("encoded ")[1],
                    "rss_mb": _mb(_status()["VmRSS"]),
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
            print(f"  {message}  rss {per_shard[-1]['rss_mb']} MB", flush=True)

    store_root = work / "store"
    with MemoryPeak() as peak:
        start = time.perf_counter()
        store = encode_corpus(corpus, engine, store_root, with_title=True, log=log)
        seconds = time.perf_counter() - start
    stats = engine.stats
    return {
        "what": "xret.benchmark.corpus_store.encode_corpus on a generated MIRACL-format corpus"
        " (title + text)",
        "model": {
            "name": spec.name,
            "revision": spec.revision,
            "dim": store.dim,
            "max_seq_length": spec.max_seq_length,
        },
        "corpus": {
            "passages": store.rows,
            "shards": len(store.shards),
            **generated,
            "generate_seconds": round(generate_seconds, 1),
        },
        "tokens_per_passage": {
            "mean": round(float(lengths.mean()), 1),
            "median": int(np.median(lengths)),
            "p95": int(np.percentile(lengths, 95)),
            "max": int(lengths.max()),
        },
        "batch_policy": {
            "max_texts": args.batch_size,
            "max_tokens": args.max_tokens,
            "block": 8192,
        },
        "seconds": round(seconds, 1),
        "model_seconds": round(stats.seconds, 1),
        "passages_per_second": round(store.rows / seconds, 2),
        "tokens_per_second": round(stats.tokens / stats.seconds, 1),
        "padding_overhead": round(stats.padded_tokens / max(stats.tokens, 1) - 1, 3),
        "load_model_seconds": round(load_seconds, 1),
        "memory": {
            "rss_before_model_mb": _mb(rss_start),
            "rss_after_model_mb": _mb(rss_model),
            **peak.as_dict(),
            "rss_after_each_shard": per_shard,
        },
        "store_bytes": sum(p.stat().st_size for p in store_root.iterdir()),
    }


# ---- (b) search -------------------------------------------------------------------------------


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def write_vectors(
    directory: Path, n: int, dim: int, data: str, queries: int, shards: int = 8
) -> None:
    """Vectors in xret's store layout (shard-XXXX.f32 + manifest) and the queries (queries.npy)."""
    from dataclasses import asdict

    from xret.benchmark.corpus_store import FORMAT, ShardRecord

    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    centres = _unit(rng.standard_normal((10_000, dim))) if data == "clustered" else None

    def draw(count: int) -> np.ndarray:
        if centres is None:
            return _unit(rng.standard_normal((count, dim)))
        around = centres[rng.integers(0, len(centres), count)]
        return _unit(
            around + rng.standard_normal((count, dim)).astype(np.float32) * (0.7 / np.sqrt(dim))
        )

    records, per_shard = [], -(-n // shards)
    for s, start in enumerate(range(0, n, per_shard)):
        rows = min(per_shard, n - start)
        stem = f"shard-{s:04d}"
        draw(rows).tofile(directory / f"{stem}.f32")
        records.append(
            asdict(ShardRecord(source=f"docs-{s}", size=0, sha256="-", rows=rows, stem=stem))
        )
    manifest = {
        "format": FORMAT,
        "corpus": f"{data}-{n}",
        "dim": dim,
        "finished": records,
        "layout": [],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    np.save(directory / "queries.npy", draw(queries))


def _store(directory: Path):
    from xret.benchmark.corpus_store import CorpusEmbeddings, ShardRecord

    manifest = json.loads((directory / "manifest.json").read_text())
    return CorpusEmbeddings(
        directory, manifest["dim"], tuple(ShardRecord(**r) for r in manifest["finished"])
    )


def exact_top_k(directory: Path, k: int) -> dict:
    """The oracle: numpy inner products block by block, top k by argpartition, merged."""
    from xret.benchmark.search import Hits, TopK, exact_scores

    store, queries = _store(directory), np.load(directory / "queries.npy")
    merged = TopK(len(queries), k)
    start = time.perf_counter()
    for offset, block in store.blocks(1 << 17):
        scores = exact_scores(queries, block)
        ids = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        merged.push(Hits(np.take_along_axis(scores, ids, axis=1), ids), offset)
    np.save(directory / f"exact-{k}.npy", merged.result().ids)
    return {"seconds": round(time.perf_counter() - start, 1)}


def one_index(directory: Path, kind: str, params: dict, sweep: list[int], k: int) -> dict:
    """Build one index from the store with xret's own path, then search at each sweep value."""
    from xret.benchmark.corpus_search import search
    from xret.benchmark.search import IndexSpec
    from xret.benchmark.strategies import Stages

    store, queries = _store(directory), np.load(directory / "queries.npy")
    exact = np.load(directory / f"exact-{k}.npy")
    runs = []
    with MemoryPeak() as peak:
        if kind == "flat":
            stage = Stages()
            hits, used = search(store, queries, k, IndexSpec(), stage)
            runs.append(
                {
                    "search_seconds": round(stage.seconds["search"], 2),
                    "recall": _recall(hits.ids, exact),
                }
            )
            build = 0.0
        else:
            spec = IndexSpec(kind, **params)
            used = spec.resolved(store.rows, k)
            start = time.perf_counter()
            index = spec.build(store.dim, store.rows, k)
            if kind == "ivf":
                index.train(store.sample(used["train_size"]))
            for _, block in store.blocks(1 << 17):
                index.add(block)
            build = time.perf_counter() - start
            for value in sweep:
                # The search-time knob of the FAISS index (benchmark only: xret fixes it at build).
                if kind == "ivf":
                    index._index.nprobe = value
                else:
                    index._index.hnsw.efSearch = value
                start = time.perf_counter()
                hits = index.search(queries, k)
                runs.append(
                    {
                        "nprobe" if kind == "ivf" else "ef_search": value,
                        "search_seconds": round(time.perf_counter() - start, 2),
                        "recall": _recall(hits.ids, exact),
                    }
                )
    return {
        "index": kind,
        "params": used,
        "build_seconds": round(build, 1),
        "searches": runs,
        **peak.as_dict(),
    }


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    return round(
        float(np.mean([len(set(a[a >= 0]) & set(b)) / len(b) for a, b in zip(found, exact)])), 4
    )


def _child(*argv: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_search(args) -> dict:
    work = Path(args.workdir)
    results = {
        "what": f"{args.vectors:,} stored unit vectors of {args.dim} dimensions, "
        f"{args.queries:,} queries, top {args.k}; recall@{args.k} against exact numpy search; "
        "each index in its own process",
        "datasets": {},
    }
    plans = [
        ("flat", {}, []),
        ("ivf", {"nlist": args.nlist}, [8, 32, 128]),
        ("hnsw", {"m": args.hnsw_m, "ef_construction": args.ef_construction}, [64, 256, 1024]),
    ]
    for data in args.data:
        directory = work / data
        start = time.perf_counter()
        write_vectors(directory, args.vectors, args.dim, data, args.queries)
        print(
            f"{data}: {args.vectors:,} vectors written in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        entry = {"exact": _child("_exact", str(directory), str(args.k)), "indexes": []}
        print(f"{data}: exact search {entry['exact']['seconds']} s", flush=True)
        for kind, params, sweep in plans:
            if kind not in args.indexes:
                continue
            found = _child(
                "_index", str(directory), kind, json.dumps(params), json.dumps(sweep), str(args.k)
            )
            entry["indexes"].append(found)
            print(f"{data}: {json.dumps(found)}", flush=True)
        results["datasets"][data] = entry
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    enc = sub.add_parser("encode", help="(a) encoding throughput and memory")
    enc.add_argument("--model", default="minilm-en", help="any xret model name (e.g. me5-small-q4)")
    enc.add_argument("--passages", type=int, default=50_000)
    enc.add_argument("--shards", type=int, default=5)
    enc.add_argument("--batch-size", type=int, default=128)
    enc.add_argument("--max-tokens", type=int, default=8192)
    enc.add_argument("--seed", type=int, default=0)
    enc.add_argument("--workdir", default="/tmp/xret-bench-encode")
    enc.add_argument("--out", default="miracl_encode.json")
    se = sub.add_parser("search", help="(b) flat vs IVF vs HNSW on stored vectors")
    se.add_argument("--vectors", type=int, default=1_000_000)
    se.add_argument("--dim", type=int, default=384)
    se.add_argument("--queries", type=int, default=1000)
    se.add_argument("--k", type=int, default=100)
    se.add_argument(
        "--data", nargs="+", default=["random", "clustered"], choices=["random", "clustered"]
    )
    se.add_argument(
        "--indexes", nargs="+", default=["flat", "ivf", "hnsw"], choices=["flat", "ivf", "hnsw"]
    )
    se.add_argument("--nlist", type=int, default=1024)
    se.add_argument("--hnsw-m", type=int, default=16)
    se.add_argument("--ef-construction", type=int, default=40)
    se.add_argument("--workdir", default="/tmp/xret-bench-search")
    se.add_argument("--out", default="miracl_search.json")
    exact = sub.add_parser("_exact")
    exact.add_argument("directory", type=Path)
    exact.add_argument("k", type=int)
    one = sub.add_parser("_index")
    for name in ("directory", "kind", "params", "sweep", "k"):
        one.add_argument(name)
    args = parser.parse_args()

    if args.command == "_exact":
        print(json.dumps(exact_top_k(args.directory, args.k)))
    elif args.command == "_index":
        print(
            json.dumps(
                one_index(
                    Path(args.directory),
                    args.kind,
                    json.loads(args.params),
                    json.loads(args.sweep),
                    int(args.k),
                )
            )
        )
    else:
        before = machine()
        result = run_encode(args) if args.command == "encode" else run_search(args)
        result = {
            "machine": before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "command": " ".join(sys.argv[1:]),
            **result,
        }
        path = _write(args.out, result)
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1)[:4000])
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
