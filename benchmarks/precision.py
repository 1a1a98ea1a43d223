"""Precision policy measurement: fp32 against bf16 (autocast and bf16 weights), same model, same
protocol, per cell and macro.

    python -m benchmarks.precision [--model me5-small-q4] [--tasks xquad-r mlqa-r]
        [--languages en,de,zh] [--precisions fp32 bf16-autocast bf16-weights] [--out FILE]
        [--paragraphs N] [--work DIR]
    python -m benchmarks.precision --speed-probe 512 [--languages de] [--out FILE]

Each precision runs ``xret bench`` (in this process, one after the other) with its own empty
embedding cache and results folder under ``--work`` (default: a temporary folder), sharing one
built model folder. With a kept ``--work`` folder, precisions can run as separate processes and a
last call with all of them collects their finished records. The JSON keeps, per task:
every precision's macro summary, encode stats (texts, tokens, seconds → tokens/s) and end-to-end
time, and each non-fp32 precision's per-cell and macro deltas against fp32 (MAP, R@1, RD).
``--paragraphs N`` runs each task on its first N paragraphs (a LAReQA-format subset; the
languages stay parallel) where the machine cannot afford the whole. MAP deltas do not depend on
the CPU's speed; on a shared machine the end-to-end times do, so ``--speed-probe N`` times only
the encode of N sentences at each precision, interleaved, three rounds (the fastest kept).
The JSON also keeps the times do (the machine is described: CPU flags,
the kernels torch uses, load average before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.perf import machine
from xret import paths
from xret.benchmark.runner import BenchConfig, run_bench
from xret.runtime.device import cpu_kernels, pick_device

MEASURES = ("MAP", "R@1", "RD")


def cell_key(cell: dict) -> str:
    return f"{cell['setting']}:{cell['query_language']}>{cell['pool_language']}"


def deltas(base: dict, other: dict) -> dict:
    """Per cell and per macro aggregate: other − base for each measure both records carry."""
    base_cells = {cell_key(c): c["values"] for c in base["cells"]}
    cells = {}
    for cell in other["cells"]:
        ref = base_cells[cell_key(cell)]
        cells[cell_key(cell)] = {
            m: cell["values"][m] - ref[m] for m in MEASURES if m in cell["values"] and m in ref
        }
    macro = {
        setting: {
            m: values[m] - base["summary"]["macro"][setting][m] for m in MEASURES if m in values
        }
        for setting, values in other["summary"]["macro"].items()
    }
    maps = [d["MAP"] for d in cells.values()]
    return {
        "macro": macro,
        "cells": cells,
        "cell_MAP": {"min": min(maps), "max": max(maps), "mean": sum(maps) / len(maps)},
    }


def run_precision(args, precision: str, model_cache: Path, root: Path) -> dict:
    cache = root / precision / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    # Built model folders are shared; embeddings and results are this precision's own.
    if not (cache / "models").exists():
        (cache / "models").symlink_to(model_cache / "models", target_is_directory=True)
    config = BenchConfig(
        model=args.model,
        tasks=tuple(args.tasks),
        cache_dir=cache,
        results_dir=root / precision / "r",
        data_dir=paths.data_dir(),
        languages=args.languages,
        precision=precision,
        progress=False,
        device="cpu",
    )
    start = time.perf_counter()
    outcomes = run_bench(config, log=lambda msg: print(f"[{precision}] {msg}", flush=True))
    timing = root / precision / "end_to_end.json"
    if not all(o.skipped for o in outcomes):  # a collecting call keeps the first run's time
        timing.write_text(
            json.dumps({"end_to_end_s": time.perf_counter() - start, "load_after": os.getloadavg()})
        )
    out = {
        "device": pick_device("cpu", precision).precision,
        **json.loads(timing.read_text()),
        "tasks": {},
    }
    for outcome in outcomes:
        record = json.loads(outcome.record.to_json())
        encode = record["provenance"]["encode"]
        out["tasks"][record["task"]["name"]] = {
            "record": record,
            "encode": {**encode, "tokens_per_s": encode["tokens"] / max(encode["seconds"], 1e-9)},
            "timings": record["provenance"]["timings"],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="me5-small-q4")
    parser.add_argument("--tasks", nargs="+", default=["xquad-r"])
    parser.add_argument("--languages", help="comma-separated; default: all of each task's")
    parser.add_argument(
        "--precisions", nargs="+", default=["fp32", "bf16-autocast", "bf16-weights"]
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/precision-cpu.json"))
    parser.add_argument("--work", type=Path, help="keep embeddings and records here (resumable)")
    parser.add_argument("--paragraphs", type=int, help="only each task's first N paragraphs")
    parser.add_argument(
        "--speed-probe",
        type=int,
        metavar="N",
        help="only time the encode of N sentences of the first task per precision",
    )
    args = parser.parse_args()
    args.languages = tuple(args.languages.split(",")) if args.languages else None
    model_cache = paths.cache_dir()
    (model_cache / "models").mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {**machine(), "kernels": cpu_kernels(), "load_before": os.getloadavg()},
        "model": args.model,
        "tasks": args.tasks,
        "languages": args.languages,
        "paragraphs": args.paragraphs,
        "runs": {},
    }
    if args.speed_probe:
        report["speed_probe"] = speed_probe(args)
        report["machine"]["load_after"] = os.getloadavg()
        args.out.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
        print(json.dumps(report["speed_probe"], indent=1))
        return
    with tempfile.TemporaryDirectory(prefix="xret-precision-") as tmp:
        work = args.work or Path(tmp)
        if args.paragraphs:
            args.tasks = [subset(task, args, work) for task in args.tasks]
        for precision in args.precisions:
            report["runs"][precision] = run_precision(args, precision, model_cache, work)
    report["machine"]["load_after"] = os.getloadavg()
    base = report["runs"].get("fp32", {}).get("tasks", {})
    report["deltas"] = {
        precision: {
            task: deltas(base[task]["record"], run["tasks"][task]["record"]) for task in base
        }
        for precision, run in report["runs"].items()
        if precision != "fp32"
    }
    for run in report["runs"].values():  # keep summaries, drop the bulky records
        for task in run["tasks"].values():
            task["summary"] = task.pop("record")["summary"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(table(report))


def speed_probe(args, rounds: int = 3) -> dict:
    """Encode seconds of the same N candidate sentences (token-sorted batches, as xret runs
    them) at each precision, interleaved so that a change in the machine's load hits all alike;
    the fastest of ``rounds`` (the one least disturbed)."""
    from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
    from xret.models import model_spec
    from xret.models.providers import get_provider
    from xret.models.spec import Role
    from xret.tasks import get_task, load_task
    from xret.tasks.records import candidate_text
    from xret.tasks.spec import CandidateText

    task = get_task(args.tasks[0])
    languages = task.check_languages(args.languages)
    data = load_task(task, languages, paths.data_dir(), paths.cache_dir())
    sentences = (candidate_text(d, CandidateText.SENTENCE) for d in data.documents)
    texts = list(dict.fromkeys(sentences))[: args.speed_probe]
    spec = model_spec(args.model)
    provider = get_provider(spec.provider)
    spec = provider.resolve(spec, paths.cache_dir())
    engines = {}
    for precision in args.precisions:
        encoder = provider.load(spec, pick_device("cpu", precision), paths.cache_dir())
        engines[precision] = EmbeddingEngine(
            spec, lambda e=encoder: e, None, BatchPolicy(), progress=False
        )
        engines[precision].encode_uncached(texts[:16], Role.DOCUMENT)  # warm-up
    seconds = {p: [] for p in engines}
    vectors = {}
    for _ in range(rounds):
        for precision, engine in engines.items():
            start = time.perf_counter()
            vectors[precision] = engine.encode_uncached(texts, Role.DOCUMENT)
            seconds[precision].append(time.perf_counter() - start)
    tokens = int(
        engines[args.precisions[0]].encoding.encoder.token_lengths(texts, Role.DOCUMENT).sum()
    )
    base = vectors[args.precisions[0]]
    return {
        p: {
            "texts": len(texts),
            "tokens": tokens,
            "seconds": s,
            "min_s": min(s),
            "tokens_per_s": tokens / min(s),
            "speedup_vs_first": min(seconds[args.precisions[0]]) / min(s),
            "cosine_to_first_min": float((vectors[p] * base).sum(axis=1).min()),
        }
        for p, s in seconds.items()
    }


def subset(task: str, args, work: Path) -> str:
    """``lareqa:<folder>`` holding the first ``--paragraphs`` paragraphs of ``task``'s files."""
    from xret.tasks import get_task
    from xret.testing import write_lareqa_subset

    languages = args.languages or get_task(task).languages
    out = work / f"{task}-first-{args.paragraphs}"
    write_lareqa_subset(paths.data_dir() / task, languages, slice(args.paragraphs), out)
    return f"lareqa:{out}"


def table(report: dict) -> str:
    rows = [
        "| precision | task | encode tok/s | end to end s | Δ macro MAP mono/cross/multi | "
        "Δ cell MAP min … max |",
        "|---|---|---:|---:|---|---|",
    ]
    for precision, run in report["runs"].items():
        for task, result in run["tasks"].items():
            d = report["deltas"].get(precision, {}).get(task)
            order = [s for s in ("mono", "cross", "multi") if d and s in d["macro"]]
            macro = "/".join(f"{d['macro'][s]['MAP']:+.4f}" for s in order) if d else "—"
            span = f"{d['cell_MAP']['min']:+.4f} … {d['cell_MAP']['max']:+.4f}" if d else "—"
            rows.append(
                f"| {precision} | {task} | {result['encode']['tokens_per_s']:.0f} | "
                f"{run['end_to_end_s']:.0f} | {macro} | {span} |"
            )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
