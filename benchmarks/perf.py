"""Performance harness (not a timed test): ``xret bench`` end to end against a bare encode.

    python -m benchmarks.perf [--model me5-small-q4] [--task xquad-r] [--repeat 1] [--out FILE]
        [--precision auto|fp32|bf16]

Runs, as separate processes on the same machine, interleaved ``--repeat`` times:
  1. ``xret bench`` with a cold embedding cache (the built model folder is reused, as a user's
     second benchmark would), reporting wall time and peak memory of the whole process and the
     per-stage times the record itself carries (load data, load model, encode, search, measures);
  2. the reference: a bare ``SentenceTransformer.encode`` of the same unique texts
     (benchmarks/bare_encode.py, batch 64);
then once a warm rerun (``--overwrite`` with every embedding cached) and ``xret --help``.
Prints a short table and writes JSON (medians; every run kept) with the machine described: its
CPU flags, torch's vector ISA, and the kernels a Linear layer ran at the chosen precision (oneDNN's
own report: e.g. ``brg_matmul:avx512_core_amx``, or none where ATen's fallback ran). ``xret bench``
runs at ``--precision``; the bare reference always runs fp32. The bf16 target (≤ 0.35× the bare
fp32 encode) applies only where the CPU has bf16 matrix units; the JSON says whether it does.

    python -m benchmarks.perf --warm-only [--repeat 3] [--source DIR] [--out FILE]

times only the warm rerun, ``--repeat`` times, against the embeddings already in the cache
(``$XRET_CACHE_DIR``; it refuses a cache that lacks any): the re-evaluation of every measure
from cached vectors (ranking, measures, record and per-query CSV, imports). ``--source`` runs the
xret of another checkout (e.g. a ``git worktree`` of an older commit) with this same harness.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xret import paths


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 2**20, 1),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "gpu": _gpu(),
    }


def kernels(precision: str) -> dict:
    """What a Linear layer ran here at ``precision`` (as ``xret bench`` would), from oneDNN's
    verbose log in a child process: its ISA line and the implementations it executed."""
    from xret.runtime.device import cpu_flags, cpu_kernels

    probe = (
        "import torch\n"
        "from xret.runtime.device import pick_device\n"
        f"device = pick_device('cpu', {precision!r})\n"
        "layer = torch.nn.Linear(384, 1536)\n"
        "x = torch.randn(64, 384)\n"
        "if device.mode == 'weights':\n"
        "    layer, x = layer.to(device.torch_dtype()), x.to(device.torch_dtype())\n"
        "with torch.inference_mode(), device.autocast():\n"
        "    layer(x)\n"
    )
    env = {**os.environ, "ONEDNN_VERBOSE": "1", "DNNL_VERBOSE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300
    ).stdout.splitlines()
    isa = next((ln.split(",")[-1] for ln in out if ",info,cpu,isa:" in ln), None)
    ran = sorted({ln.split(",")[5] for ln in out if ",exec," in ln and len(ln.split(",")) > 5})
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_fp16")
    return {
        **cpu_kernels(),
        "precision": precision,
        "cpu_flags": [f for f in wanted if f in set(cpu_flags())],
        "onednn_isa": isa,
        "onednn_kernels_ran": ran or "none (ATen's own kernels ran)",
    }


def _gpu() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run(cmd: list[str], env: dict, cwd: Path | None = None) -> dict:
    """Wall time, peak RSS (MB) and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    usage = _rusage_of_last_child()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"wall": wall, "peak_rss_mb": usage, "stdout": out, "load": os.getloadavg()[0]}


_last_maxrss = 0


def _rusage_of_last_child() -> float:
    # RUSAGE_CHILDREN's maxrss is the largest child so far; children run one at a time, so a rise
    # belongs to the last one, and no rise means it was not the largest (report the running max).
    import resource

    global _last_maxrss
    _last_maxrss = max(_last_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return _last_maxrss / 1024


def cold_cache(cache: Path, shared: Path) -> Path:
    """A cache with no embeddings that reuses the built model folders, downloads and fingerprints
    of ``shared``, as a user's second benchmark would."""
    cache.mkdir()
    for sub in ("models", "downloads", "fingerprints"):
        if (shared / sub).is_dir():
            (cache / sub).symlink_to(shared / sub)
    return cache


def xret_bench(args, env: dict, results: Path, overwrite: bool, cwd: Path | None = None) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "xret",
        "bench",
        "-m",
        args.model,
        "-t",
        args.task,
        "-q",
        "--precision",
        args.precision,
        "--results-dir",
        str(results),
    ]
    cmd += ["--overwrite"] if overwrite else []
    if args.languages:
        cmd += ["-l", args.languages]
    measured = run(cmd, env, cwd)
    (record_path,) = [p for p in results.rglob("*.json")]
    record = json.loads(record_path.read_text())
    encode = record["provenance"]["encode"]
    measured.pop("stdout")
    return {**measured, "stages": record["provenance"]["timings"], **encode}


def _commit(checkout: Path) -> str | None:
    out = subprocess.run(
        ["git", "-C", str(checkout), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or None


def warm_only(args, env: dict) -> dict:
    """The warm rerun alone, ``--repeat`` times: a first run writes the record (every vector must
    come from the cache), then each ``--overwrite`` rerun is timed."""
    source = args.source.resolve() if args.source else None
    if source is not None:  # run in it too: ``python -m xret`` imports the working folder's first
        env = {**env, "PYTHONPATH": str(source)}
    with tempfile.TemporaryDirectory(prefix="xret-perf-") as tmp:
        first = xret_bench(args, env, Path(tmp), overwrite=False, cwd=source)
        if first["encoded"]:
            raise SystemExit(
                f"the cache is not warm: {first['encoded']} texts were encoded; rerun once "
                "the cache holds every vector"
            )
        runs = [
            xret_bench(args, env, Path(tmp), overwrite=True, cwd=source) for _ in range(args.repeat)
        ]
    return {
        "machine": machine(),
        "model": args.model,
        "task": args.task,
        "languages": args.languages,
        "commit": _commit(source or Path.cwd()),
        "source": "--source" if source else "this checkout",
        "summary": {
            "warm_rerun_wall_median": median_of(runs, "wall"),
            "load_median": median_of(runs, "load"),
            **{
                f"stage_{k}_median": median_of([r["stages"] for r in runs], k)
                for k in runs[0]["stages"]
            },
        },
        "xret_warm": runs,
    }


def bare(args, env: dict) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bare_encode",
        "--model",
        args.model,
        "--task",
        args.task,
        "--batch-size",
        str(args.batch_size),
    ] + (["--languages", args.languages] if args.languages else [])
    measured = run(cmd, env)
    return {
        **{k: v for k, v in measured.items() if k != "stdout"},
        **json.loads(measured["stdout"].splitlines()[-1]),
    }


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="me5-small-q4")
    parser.add_argument("--task", default="xquad-r")
    parser.add_argument("--languages", default=None)
    parser.add_argument("--batch-size", type=int, default=64, help="of the bare reference")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--precision", default="auto", help="of xret bench: auto, fp32, bf16")
    parser.add_argument(
        "--kernels-only", action="store_true", help="print the machine and kernel report and stop"
    )
    parser.add_argument(
        "--warm-only", action="store_true", help="time only the warm rerun, --repeat times"
    )
    parser.add_argument(
        "--source", type=Path, default=None, help="--warm-only: run the xret of this checkout"
    )
    args = parser.parse_args()
    if args.warm_only:
        report = warm_only(args, {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
        for key, value in report["summary"].items():
            print(f"{key:<28}  {value:10.3f}")
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=1) + "\n")
        return
    probe = kernels(args.precision)
    if args.kernels_only:
        print(json.dumps({"machine": machine(), "kernels": probe}, indent=1))
        return

    shared_cache = paths.cache_dir()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "xret", "models"], env=env, check=True, capture_output=True
    )
    cold, reference, warm = [], [], None
    with tempfile.TemporaryDirectory(prefix="xret-perf-") as tmp:
        for i in range(args.repeat):
            run_env = {
                **env,
                "XRET_CACHE_DIR": str(cold_cache(Path(tmp, f"cache{i}"), shared_cache)),
            }
            cold.append(xret_bench(args, run_env, Path(tmp, f"results{i}"), overwrite=False))
            reference.append(bare(args, run_env))
            if i == args.repeat - 1:
                warm = xret_bench(args, run_env, Path(tmp, f"results{i}"), overwrite=True)
            shutil.rmtree(Path(tmp, f"cache{i}", "embeddings"), ignore_errors=True)
    helps = [run([sys.executable, "-m", "xret", "--help"], env)["wall"] for _ in range(5)]

    xret_wall, bare_encode = median_of(cold, "wall"), median_of(reference, "encode")
    summary = {
        "xret_cold_wall": xret_wall,
        "xret_encode": median_of(cold, "seconds"),
        "bare_encode": bare_encode,
        "bare_process_wall": median_of(reference, "wall"),
        "ratio_xret_cold_over_bare_encode": xret_wall / bare_encode,
        "xret_padded_over_real_tokens": cold[-1]["padded_tokens"] / cold[-1]["tokens"],
        "bare_padded_over_real_tokens": reference[-1]["padded_tokens"] / reference[-1]["tokens"],
        "xret_texts_per_s": cold[-1]["encoded"] / median_of(cold, "seconds"),
        "xret_tokens_per_s": cold[-1]["tokens"] / median_of(cold, "seconds"),
        "bare_texts_per_s": reference[-1]["texts"] / bare_encode,
        "bare_tokens_per_s": reference[-1]["tokens"] / bare_encode,
        "warm_rerun_wall": warm["wall"],
        "help_median": statistics.median(helps),
        "precision": args.precision,
        "bf16_target_applies": args.precision == "bf16" and probe["bf16_units"],
    }
    report = {
        "machine": machine(),
        "kernels": probe,
        "model": args.model,
        "task": args.task,
        "languages": args.languages,
        "summary": summary,
        "xret_cold": cold,
        "bare": reference,
        "xret_warm": warm,
        "help": helps,
    }
    width = max(map(len, summary))
    for key, value in summary.items():
        shown = f"{value:10.3f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    print(f"kernels: {probe['torch_cpu_capability']}, oneDNN ran {probe['onednn_kernels_ran']}")
    stages = cold[-1]["stages"]
    print("xret stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
