"""In-process vs Ray encoding of a generated MIRACL-format corpus; a projection to all of MIRACL.

Not a test: it measures, writes JSON under benchmarks/results/, and prints a summary.

    # the measurement (idle machine; ~25 min per configuration at 20k passages with me5-small-q4)
    python benchmarks/ray_scale.py --model me5-small-q4 --passages 20000 --shards 4
    # a check of the script itself (seconds)
    python benchmarks/ray_scale.py --model xret.testing:HashEncoder --passages 300 \
        --out ray_scale_check_hash.json

Each configuration encodes the same corpus (benchmarks/miracl_scale.py's generator: passages
from the real MIRACL topics' words of 18 languages) into its own fresh corpus store with
``encode_corpus``, as ``xret bench`` does, timing everything from the first shard to the last
(model loading and actor start included):

- ``in-process``: xret's engine, torch on all the machine's cores;
- ``ray-1x<C>``: Ray, one actor with C CPUs (C = all cores: the overhead of Ray itself);
- ``ray-1x1``, ``ray-2x1``: one and two one-CPU actors (scaling efficiency = speed-up / 2).

The vectors of every Ray configuration are checked against the in-process ones (max |diff|).
The projection divides the 106,332,152 passages of MIRACL's 18 corpora by the measured passages/s of
one worker times N workers (``--project-workers``), assuming linear scaling (the measured
efficiency is reported beside it): on GPUs, run it with ``--device cuda`` on a GPU node.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's xret, not an installed one

from benchmarks.miracl_scale import _write, generate_corpus, machine  # noqa: E402


def _engine(spec, config: str, args, cache: Path):
    """The engine of one configuration (name ``in-process`` or ``ray-<workers>x<cpus>``)."""
    from xret.benchmark.cache import EmbeddingCache
    from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
    from xret.cluster import ClusterOptions
    from xret.cluster.encode import ray_engine
    from xret.models.providers import get_provider
    from xret.runtime.device import pick_device

    policy = BatchPolicy(args.batch_size, args.max_tokens)
    device = pick_device(args.device)
    if config == "in-process":
        provider = get_provider(spec.provider)
        return EmbeddingEngine(
            spec,
            lambda: provider.load(spec, device, cache),
            None,
            policy,
            progress=False,
            device=device,
        )
    workers, cpus = (int(n) for n in config.removeprefix("ray-").split("x"))
    return ray_engine(
        spec,
        ClusterOptions(workers=workers, cpus=cpus),
        device,
        cache,
        policy,
        EmbeddingCache(cache / "embeddings"),
        progress=False,
    )


def run(args) -> dict:
    import ray

    from xret import paths
    from xret.benchmark.corpus_store import encode_corpus
    from xret.cluster.encode import release
    from xret.models import model_spec
    from xret.models.providers import get_provider
    from xret.runtime.device import pick_device
    from xret.tasks.corpus import Corpus, find_shards

    work = Path(args.workdir)
    corpus_dir = work / "corpus" / "miracl-corpus-v1.0-xx"
    generated = generate_corpus(corpus_dir, args.passages, args.shards, args.seed, paths.data_dir())
    corpus = Corpus(name="bench-corpus", language="xx", shards=find_shards(corpus_dir))
    cache = work / "cache"
    spec = model_spec(args.model)
    provider = get_provider(spec.provider)
    spec = provider.resolve(spec, cache)
    # A model built on first use (me5-small-q4) is built here, so no configuration pays for it.
    provider.load(spec, pick_device(args.device), cache)
    cores = os.cpu_count() or 1
    configs = [c.replace("<C>", str(cores)) for c in args.configs]
    start = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray_init = time.perf_counter() - start
    # Resumable: each finished configuration is kept in the work folder (with its store), so a
    # rerun after an interruption measures only the configurations still missing.
    done_file = work / f"runs-{spec.revision[:12]}-{args.passages}x{args.shards}.json"
    runs = json.loads(done_file.read_text()) if done_file.is_file() else {}
    reference = None
    for config in configs:
        engine = _engine(spec, config, args, cache)
        root = work / "store" / config
        if config in runs:  # measured before: its finished store answers without encoding
            store = encode_corpus(corpus, engine, root, with_title=True, log=lambda _: None)
            reference = _vectors(store) if reference is None else reference
            print(f"{config}: measured before, {runs[config]['seconds']} s", flush=True)
            continue
        for stale in root.glob("*") if root.is_dir() else ():
            stale.unlink()
        start = time.perf_counter()
        store = encode_corpus(corpus, engine, root, with_title=True, log=lambda _: None)
        seconds = time.perf_counter() - start
        vectors = _vectors(store)
        reference = vectors if reference is None else reference
        runs[config] = {
            "seconds": round(seconds, 2),
            "passages_per_second": round(store.rows / seconds, 3),
            "encode_seconds": round(engine.stats.seconds, 2),
            "tokens": engine.stats.tokens,
            "max_abs_diff_vs_first": float(np.abs(vectors - reference).max()),
            "load_average_1min": round(os.getloadavg()[0], 2),
            **({"devices": sorted(set(engine.producers))} if config != "in-process" else {}),
        }
        done_file.write_text(json.dumps(runs, indent=1))
        print(f"{config}: {seconds:.1f} s, {store.rows / seconds:.2f} passages/s", flush=True)
        release()
    ray.shutdown()
    return {
        "what": "encode_corpus of a generated MIRACL-format corpus (title + text), in-process "
        "and on Ray",
        "model": {"name": spec.name, "revision": spec.revision, "device": args.device},
        "corpus": {"passages": args.passages, "shards": args.shards, **generated},
        "batch_policy": {"max_texts": args.batch_size, "max_tokens": args.max_tokens},
        "ray": {"version": ray.__version__, "init_seconds": round(ray_init, 2)},
        "runs": runs,
        **_derived(runs, cores, args.project_workers),
    }


def _vectors(store) -> np.ndarray:
    return np.concatenate([np.asarray(store.vectors(s)) for s in range(len(store.shards))])


def _derived(runs: dict, cores: int, project: list[int]) -> dict:
    out: dict = {}
    rate = {name: r["passages_per_second"] for name, r in runs.items()}
    if "in-process" in rate and f"ray-1x{cores}" in rate:
        out["ray_overhead_one_worker"] = round(rate["in-process"] / rate[f"ray-1x{cores}"] - 1, 4)
    if "ray-1x1" in rate and "ray-2x1" in rate:
        out["scaling_efficiency_two_workers"] = round(rate["ray-2x1"] / (2 * rate["ray-1x1"]), 4)
    from xret.tasks.miracl import LANGUAGES

    passages = sum(language.passages for language in LANGUAGES)  # the 18 corpora: 106,332,152
    per_worker = rate.get("ray-1x1") or rate.get(f"ray-1x{cores}") or rate.get("in-process")
    if per_worker:
        out["projection_all_miracl_dev"] = {
            "passages": passages,
            "per_worker_passages_per_second": per_worker,
            "assumes": "linear scaling over workers; measured efficiency above",
            "days_by_workers": {n: round(passages / (n * per_worker) / 86400, 2) for n in project},
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="me5-small-q4", help="any xret model name")
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["in-process", "ray-1x<C>", "ray-1x1", "ray-2x1"],
        help="in-process and/or ray-<workers>x<cpus per worker> (<C>: all cores)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--max-tokens", type=int, default=8192)
    parser.add_argument("--project-workers", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default="/tmp/xret-bench-ray")
    parser.add_argument("--out", default="ray_scale.json")
    args = parser.parse_args()
    before = machine()
    result = run(args)
    result = {
        "machine": before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        # the work folder is this machine's scratch space, not part of what was measured
        "command": " ".join(sys.argv[1:]).replace(args.workdir, "WORKDIR"),
        **result,
    }
    path = _write(args.out, result)
    print({k: v for k, v in result.items() if k not in ("machine", "corpus")})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
