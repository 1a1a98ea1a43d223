r"""Agreement of xret and mteb's evaluator on a whole task (or a paragraph slice of XQuAD-R).

    python benchmarks/mteb_crosscheck.py --model xret.testing:HashEncoder --task xquad-r
    python benchmarks/mteb_crosscheck.py --model minilm-en --task xquad-r -l ar,en,ru \
        --paragraphs 45:65

Prints, per setting and measure, the largest |xret - mteb| over the cells and on the macro
average, and the time each side took. Needs xret[mteb]; the tests run the small versions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from xret import paths
from xret.interop.mteb.crosscheck import format_table, run_crosscheck
from xret.testing import write_lareqa_subset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--task", default="xquad-r")
    parser.add_argument("-l", "--languages", help="comma-separated (default: all of the task's)")
    parser.add_argument(
        "--paragraphs", help="START:STOP slice of every language file (XQuAD-R is parallel)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    languages = args.languages.split(",") if args.languages else None
    with tempfile.TemporaryDirectory() as tmp:
        task = args.task
        if args.paragraphs:
            from xret.tasks import get_task

            start, stop = (int(x) for x in args.paragraphs.split(":"))
            chosen = languages or get_task(task).languages
            source = paths.data_dir() / task
            folder = Path(tmp) / f"{task}-{start}-{stop}"
            task = f"lareqa:{write_lareqa_subset(source, chosen, slice(start, stop), folder)}"
        began = time.perf_counter()
        check = run_crosscheck(
            args.model,
            task,
            languages=languages,
            cache_dir=paths.cache_dir(args.cache_dir),
            results_dir=Path(tmp) / "results",
        )
        seconds = time.perf_counter() - began
    counts = check.record.task.counts
    print(
        f"{args.model} on {args.task} {args.paragraphs or ''} ({counts['queries']} queries, "
        f"{counts['candidates']} candidates, languages "
        f"{','.join(check.record.options.languages)})"
    )
    print(format_table(check.rows))
    print(f"mteb side encoded {check.mteb_encoded} texts itself; total {seconds:.0f} s")


if __name__ == "__main__":
    main()
