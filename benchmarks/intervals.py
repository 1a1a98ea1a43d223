"""Timing harness (not a timed test): intervals, rank intervals and tied groups for every headline
column of a results tree, as ``xret leaderboard --ci`` computes them.

    python -m benchmarks.intervals [--results results] [--resamples 2000] [--repeat 3] [--out FILE]

Times, ``--repeat`` times in this process: (1) reading the records and their per-query scores
and building each evaluation's bootstrap design, (2) the resamples with their intervals, ranks
and tests, and (3) the whole of ``xret leaderboard --ci -f markdown`` as a function call. Target
(issue 25): the whole at most 5 s for 2,000 resamples on the committed ``results/`` tree. Prints
medians and writes JSON (every run kept) with the machine's CPU and core count.
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
from xret.leaderboards.leaderboard import _evaluations, _headline_specs
from xret.leaderboards.scores import load_collection
from xret.leaderboards.uncertainty import Options, Target, _build
from xret.stats.bootstrap import percentile_interval
from xret.stats.ranks import bootstrap_p_values, rank_intervals


def _designs(results: Path):
    collection = load_collection(results)
    evaluations = _evaluations(collection.scores)
    lareqa = [e for e in evaluations if e.family == "lareqa"]
    miracl = [e for e in evaluations if e.family == "miracl"]
    specs = [spec for _, specs in _headline_specs(lareqa, miracl) for spec in specs]
    designs = []
    for evaluation in dict.fromkeys(spec.evaluation for spec in specs):
        rows = [s for s in collection.scores if (s.task, s.signature) == evaluation.key]
        targets = [
            Target(s.setting, s.measure, s.statistic, evaluation.headline_languages)
            for s in specs
            if s.evaluation == evaluation
        ]
        built = _build(rows, targets)
        if built is not None:
            designs.append(built)
    return designs


def _resample(designs, options: Options) -> int:
    outputs = 0
    for design, found in designs:
        draws = design.draws(options.resamples, options.seed)
        percentile_interval(draws, options.confidence)
        for target in dict.fromkeys(t for _, t in found):
            columns = [k for (_, t), k in found.items() if t == target]
            rank_intervals(draws[:, columns])
            bootstrap_p_values(draws[:, columns])
        outputs += draws.shape[1]
    return outputs


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
        start = time.perf_counter()
        designs = _designs(args.results)
        built = time.perf_counter()
        outputs = _resample(designs, options)
        resampled = time.perf_counter()
        config = LeaderboardConfig(args.results, "markdown", uncertainty=options)
        leaderboard_text(config)
        whole = time.perf_counter()
        runs.append(
            {
                "read_and_build_s": built - start,
                "resample_s": resampled - built,
                "leaderboard_ci_s": whole - resampled,
                "outputs": outputs,
            }
        )
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "outputs"}
    for key, value in medians.items():
        print(f"{key:18} {value:7.2f} s")
    print(f"outputs bootstrapped: {runs[0]['outputs']} ({args.resamples} resamples each)")
    if args.out:
        machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}
        report = {"resamples": args.resamples, "medians": medians, "runs": runs, **machine}
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
