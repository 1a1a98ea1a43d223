"""Hash cost of a large corpus (not a timed test): each byte is hashed once per run, at disk speed.

    python -m benchmarks.hash_once [--gigabytes 1.0] [--shards 8] [--workdir DIR] [--out FILE]

Writes a trec-format task whose corpus folder holds ``--gigabytes`` of JSON-lines passages
(4 KiB each) in ``--shards`` shards, waits until the files are older than the memo's settling
time (``xret.fingerprint.SETTLED_NS``), then:

1. the references: one plain read of every shard, and one ``sha256`` of every shard
   (``xret.fingerprint.sha256_file``): the disk's (or page cache's) speed, and hashing's;
2. a cold ``run_bench`` of the task (fresh cache and results; a cheap encoder defined here, so
   that encoding does not hide the hashing), counting the bytes ``sha256_file`` reads and the
   seconds it spends: every stage that names the corpus (result key, corpus-store key, encoding
   check) asks ``xret.fingerprint``, whose memo answers all but the first;
3. the next run's view: the process memo cleared, the key planned again (as ``already done``
   is decided), which the on-disk memo answers without reading the corpus.

Prints a summary and writes JSON: bytes hashed per corpus byte in each run (target: 1.0 cold,
0.0 warm; the task's topics and qrels add a few bytes) and the hashing throughput against the
references (target: close to a bare sha256 of the files).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

PASSAGE_BYTES = 4096


class CheapEncoder:
    """A module:attr encoder at almost no cost: 16 dimensions from a text's first bytes."""

    dim = 16
    revision = "cheap-1"

    def encode(self, texts: Sequence[str], role=None) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = np.frombuffer(text.encode()[: self.dim].ljust(self.dim), np.uint8)
        return out + 1.0


def write_task(root: Path, gigabytes: float, shards: int) -> tuple[Path, Path, int]:
    """(task file, corpus folder, corpus bytes)."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    per_shard = int(gigabytes * 2**30 / PASSAGE_BYTES / shards)
    filler = "lorem ipsum dolor sit amet " * (PASSAGE_BYTES // 28 - 2)  # lines of about 4 KiB
    for shard in range(shards):
        with open(corpus / f"docs-{shard}.jsonl", "w", encoding="utf-8") as out:
            for i in range(per_shard):
                docid = f"{shard}#{i}"
                out.write(json.dumps({"docid": docid, "title": "", "text": f"{docid} {filler}"}))
                out.write("\n")
    (root / "topics.tsv").write_text("q1\t0#0 lorem\nq2\t0#1 ipsum\n", encoding="utf-8")
    (root / "qrels.tsv").write_text("q1 0 0#0 1\nq2 0 0#1 1\n", encoding="utf-8")
    task = root / "hash-once.toml"
    task.write_text(
        'name = "hash-once"\nformat = "trec"\n[languages.en]\n'
        'topics = "topics.tsv"\nqrels = "qrels.tsv"\ncorpus = "corpus"\n',
        encoding="utf-8",
    )
    return task, corpus, sum(p.stat().st_size for p in corpus.iterdir())


def references(corpus: Path) -> dict:
    from xret.fingerprint import sha256_file

    shards = sorted(corpus.iterdir())
    start = time.perf_counter()
    for path in shards:
        with open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass
    read = time.perf_counter() - start
    start = time.perf_counter()
    for path in shards:
        sha256_file(path)
    return {"read_seconds": read, "sha256_seconds": time.perf_counter() - start}


def counted_runs(task: Path, work: Path) -> dict:
    """A cold run and the next run's planning, with every byte sha256_file reads counted."""
    from xret import fingerprint
    from xret.benchmark.runner import BenchConfig, plan_task, resolve_model, run_bench
    from xret.tasks import get_task

    hashed = {"bytes": 0, "seconds": 0.0}
    plain = fingerprint.sha256_file

    def counting(path: Path) -> str:
        start = time.perf_counter()
        digest = plain(path)
        hashed["seconds"] += time.perf_counter() - start
        hashed["bytes"] += Path(path).stat().st_size
        return digest

    fingerprint.sha256_file = counting
    config = BenchConfig(
        model="benchmarks.hash_once:CheapEncoder",
        tasks=("hash-once",),
        task_files=(task,),
        cache_dir=work / "cache",
        results_dir=work / "results",
        progress=False,
    )
    start = time.perf_counter()
    run_bench(config, log=lambda _: None)
    cold = {**hashed, "wall_seconds": time.perf_counter() - start}
    hashed.update(bytes=0, seconds=0.0)
    fingerprint._MEMO.clear()  # the next process: only the memo on disk remains
    start = time.perf_counter()
    model = resolve_model(config, log=lambda _: None)
    plan_task(config, get_task("hash-once", config.task_files), model, log=lambda _: None)
    warm = {**hashed, "wall_seconds": time.perf_counter() - start}
    fingerprint.sha256_file = plain
    return {"cold_run": cold, "next_run_planning": warm}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--workdir", type=Path, help="where the corpus is written [a temp dir]")
    parser.add_argument("--out", type=Path, help="write the JSON here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from xret.fingerprint import SETTLED_NS

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        root = Path(tmp)
        task, corpus, size = write_task(root / "task", args.gigabytes, args.shards)
        time.sleep(SETTLED_NS / 1e9 + 0.5)  # fresh files are never memoised (racy)
        reference = references(corpus)
        runs = counted_runs(task, root / "work")
    mb = size / 2**20
    result = {
        "corpus_bytes": size,
        "shards": args.shards,
        "reference": reference,
        **runs,
        "bytes_hashed_per_corpus_byte": {name: run["bytes"] / size for name, run in runs.items()},
        "throughput_mb_s": {
            "read": mb / reference["read_seconds"],
            "sha256": mb / reference["sha256_seconds"],
            "xret_cold_run_hashing": mb / runs["cold_run"]["seconds"]
            if runs["cold_run"]["seconds"]
            else None,
        },
        # the scratch folder is this machine's: the command names it WORKDIR
        "command": " ".join(
            [Path(sys.executable).name, "-m", "benchmarks.hash_once"]
            + ["WORKDIR" if a == str(args.workdir) else a for a in sys.argv[1:]]
        ),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
