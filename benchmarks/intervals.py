"""Timing harness (not a timed test): intervals, rank intervals and tied groups for every headline
column of a results tree, as ``xret leaderboard --ci`` computes them.

    python -m benchmarks.intervals [--results results] [--resamples 2000] [--repeat 3] [--out FILE]

Times, ``--repeat`` times in this process: (1) every headline column's estimates (reading the
records and their per-query scores, the bootstrap design, the resamples, intervals, ranks and
tests; wall and CPU time of this process: on a busy machine the CPU time is the better guide) and
(2) the whole of ``xret leaderboard --ci -f markdown`` as a function call. Target
(issue 25): at most 5 s for 2,000 resamples on the committed ``results/`` tree. Prints medians and
writes JSON (every run kept) with the machine's CPU and core count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from xret.leaderboards.commands import LeaderboardConfig, leaderboard_text
from xret.leaderboards.leaderboard import headline_estimates
from xret.leaderboards.scores import load_collection
from xret.leaderboards.uncertainty import Options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    options = Options(resamples=args.resamples)
    runs = []
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        found = headline_estimates(load_collection(args.results), options)
        estimated, cpu_estimated = time.perf_counter(), time.process_time()
        leaderboard_text(LeaderboardConfig(args.results, "markdown", uncertainty=options))
        whole = time.perf_counter()
        runs.append(
            {
                "estimates_s": estimated - start,
                "estimates_cpu_s": cpu_estimated - cpu,
                "leaderboard_ci_s": whole - estimated,
                "values": sum(len(ranked) for ranked in found.values()),
            }
        )
    medians = {
        k: statistics.median(r[k] for r in runs)
        for k in ("estimates_s", "estimates_cpu_s", "leaderboard_ci_s")
    }
    for key, value in medians.items():
        print(f"{key:18} {value:7.2f} s")
    print(f"values with intervals: {runs[0]['values']} ({args.resamples} resamples)")
    if args.out:
        machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}
        report = {"resamples": args.resamples, "medians": medians, "runs": runs, **machine}
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
