"""A small CPU reproduction of the paper's comparison: X-X-mono, X-Y and hybrid (α = 0.5) trained
from me5-small-q4 on the same parallel data, then benched with the base model on XQuAD-R.

    OMP_WAIT_POLICY=PASSIVE XRET_DATA_DIR=../shared/data XRET_CACHE_DIR=~/.cache/xret \\
        python -m benchmarks.reproduce_small --work /tmp/repro [--steps 64 --batch-size 32]

Data: SQuAD-it/-es and MLQA dev with every XQuAD(-R) question id removed (MLQA dev is usable here
only because MLQA-R is not evaluated). The same commands, one by one:

    xret bench --model me5-small-q4 --task xquad-r
    xret train --base me5-small-q4 --sampling REGIME --data squad-it-es,mlqa-dev \\
        --exclude xquad-r --steps 64 --batch-size 32 --max-seq-length 64 -o DIR
    xret bench --model DIR --task xquad-r

Idempotent: a rerun resumes an interrupted training from its last checkpoint and skips finished
models and results. The records are copied to ``--out`` (default ``results/reproduction``) with
``timings.json`` (wall and CPU seconds and load average per stage) and ``table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from xret import paths
from xret.baselines.recipe import TrainConfig
from xret.baselines.train import RunOptions, train
from xret.benchmark.runner import BenchConfig, run_bench
from xret.results.summary import headline_header, headline_rows

BASE = "me5-small-q4"
REGIMES = (("x-x-mono", None), ("x-y", None), ("hybrid", 0.5))
SOURCES = ("squad-it-es", "mlqa-dev")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="models and the result store")
    parser.add_argument("--out", type=Path, default=Path("results/reproduction"))
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--save-steps", type=int, default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    timings = Timings(args.out / "timings.json")
    results_dir = args.work / "results"
    records = [bench(BASE, results_dir, args.device, timings)]
    for regime, alpha in REGIMES:
        config = TrainConfig(
            base=BASE, sampling=regime, alpha=alpha, sources=SOURCES, exclude=("xquad-r",),
            steps=args.steps, batch_size=args.batch_size, max_seq_length=args.max_seq_length,
        )
        folder = args.work / "models" / f"{BASE}-{regime}"
        options = RunOptions(
            output=folder, cache_dir=paths.cache_dir(), data_dir=paths.data_dir(),
            device=args.device, save_steps=args.save_steps, progress=False,
        )
        with timings.stage(f"train {regime}") as note:
            outcome = train(config, options)
            note(skipped=outcome.skipped, run=outcome.model_file["training"]["run"])
        records.append(bench(str(folder), results_dir, args.device, timings))
    publish(records, results_dir, args.out)
    timings.save(machine())


def bench(model: str, results_dir: Path, device: str, timings: Timings):
    config = BenchConfig(
        model=model, tasks=("xquad-r",), cache_dir=paths.cache_dir(), results_dir=results_dir,
        data_dir=paths.data_dir(), device=device, progress=False,
    )
    with timings.stage(f"bench {Path(model).name}") as note:
        (outcome,) = run_bench(config)
        note(skipped=outcome.skipped)
    return outcome.path, outcome.record


def publish(records, results_dir: Path, out: Path) -> None:
    """Copy the records with their per-query scores, keeping their store-relative paths."""
    for path, record in records:
        for source in (path, path.parent / record.per_query):
            target = out / "records" / source.relative_to(results_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    header = ["regime", *headline_header()]
    rows = [[r.model["regime"] or "base", *row]
            for (_, r), row in zip(records, headline_rows([r for _, r in records]))]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


class Timings:
    """Wall and CPU seconds of each stage, merged into the file across reruns."""

    def __init__(self, path: Path):
        self.path = path
        self.stages = json.loads(path.read_text())["stages"] if path.is_file() else {}

    @contextmanager
    def stage(self, name: str):
        extra: dict = {}
        wall, cpu, load = time.perf_counter(), _cpu_seconds(), os.getloadavg()[0]
        print(f"== {name}", flush=True)
        yield lambda **kw: extra.update(kw)
        entry = {
            "wall_seconds": round(time.perf_counter() - wall, 1),
            "cpu_seconds": round(_cpu_seconds() - cpu, 1),
            "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
            **extra,
        }
        if not extra.get("skipped"):
            self.stages[name] = entry
        print(f"== {name}: {entry}", flush=True)

    def save(self, machine: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        done = [s for s in self.stages.values()]
        total = {key: round(sum(s[key] for s in done), 1) for key in ("wall_seconds", "cpu_seconds")}
        data = {"machine": machine, "total": total, "stages": self.stages}
        self.path.write_text(json.dumps(data, indent=2) + "\n")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine() -> dict:
    import torch

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    main()
