"""Side-by-side peer run: one XQuAD-R / MLQA-R evaluation through mteb and through ``xret bench``,
same model, same machine, same run.

    python -m benchmarks.peer_mteb --model minilm-en --task xquad-r --languages de,en,zh --out FILE

mteb gets the task as xret's in-memory adapters define it (one subset per language pair, the
multilingual pool as one subset per query language) and the model as the plain
sentence-transformers object, so it encodes through its own path, subset by subset. Both sides
run as child processes with a cold embedding cache (built model folders reused); reported: wall
time, peak memory and the number of texts each side sent to the model, next to the count mteb's
layout implies for the whole task. Needs xret[mteb].
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.perf import cold_cache, machine, run, xret_bench
from xret import paths


def mteb_side(args) -> dict:
    """Runs in the child: mteb.evaluate on the adapted tasks, counting the texts encoded."""
    import mteb

    from xret.interop.mteb.tasks import mteb_tasks
    from xret.models import model_spec
    from xret.models.providers import get_provider
    from xret.runtime.device import pick_device

    cache = paths.cache_dir()
    spec = model_spec(args.model)
    provider = get_provider(spec.provider)
    model = provider.load(provider.resolve(spec, cache), pick_device(), cache).model
    encoded = 0
    encode = model.encode

    def counting_encode(inputs, *rest, **kwargs):  # sentence-transformers' own parameter name
        nonlocal encoded
        encoded += 1 if isinstance(inputs, str) else len(inputs)
        return encode(inputs, *rest, **kwargs)

    model.encode = counting_encode  # encode_query / encode_document go through it too
    tasks = mteb_tasks(args.task, languages=_languages(args))
    start = time.perf_counter()
    result = mteb.evaluate(
        model,
        tasks,
        cache=None,
        overwrite_strategy="always",
        show_progress_bar=False,
        co2_tracker=False,
    )
    return {
        "evaluate_seconds": time.perf_counter() - start,
        "encoded": encoded,
        "subsets": sum(len(t.hf_subsets) for t in tasks),
        "main_scores": {r.task_name: r.get_score() for r in result.task_results},
    }


def implied_mteb_texts(task: str, languages: list[str] | None) -> dict:
    """Texts mteb's layout sends to the model (every subset = xret cell encodes its queries and
    its pool) against xret's unique texts encoded once: for ``languages`` and the whole task."""
    from xret.tasks import get_task, load_task
    from xret.tasks.settings import build_cells
    from xret.tasks.spec import Setting

    spec = get_task(task)
    data = load_task(spec, spec.languages, paths.data_dir(), paths.cache_dir())

    def count(chosen: tuple[str, ...]) -> dict:
        per_setting = {str(s): 0 for s in Setting}
        for cell in build_cells(data, chosen, tuple(Setting)):
            per_setting[str(cell.setting)] += len(cell.queries) + len(cell.pool)
        unique = {q.text for q in data.queries if q.language in chosen}
        unique |= {d.text for d in data.documents if d.language in chosen}
        return {**per_setting, "total": sum(per_setting.values()), "xret_unique": len(unique)}

    return {
        "these_languages": count(tuple(languages or spec.languages)),
        "whole_task": count(spec.languages),
    }


def _languages(args) -> list[str] | None:
    return args.languages.split(",") if args.languages else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-en")
    parser.add_argument("--task", default="xquad-r")
    parser.add_argument(
        "--languages", default=None, help="comma-separated (default: all of the task's)"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--side", choices=["mteb"], help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.side == "mteb":
        print(json.dumps(mteb_side(args)))
        return

    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    with tempfile.TemporaryDirectory(prefix="xret-peer-") as tmp:
        shared = paths.cache_dir()
        xret_env = {**env, "XRET_CACHE_DIR": str(cold_cache(Path(tmp, "xret-cache"), shared))}
        xret = xret_bench(args, xret_env, Path(tmp, "results"), overwrite=False)
        mteb_env = {**env, "XRET_CACHE_DIR": str(cold_cache(Path(tmp, "mteb-cache"), shared))}
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.peer_mteb",
            "--side",
            "mteb",
            "--model",
            args.model,
            "--task",
            args.task,
        ] + (["--languages", args.languages] if args.languages else [])
        measured = run(cmd, mteb_env)
        mteb = {
            **{k: v for k, v in measured.items() if k != "stdout"},
            **json.loads(measured["stdout"].splitlines()[-1]),
        }
    summary = {
        "xret_wall": xret["wall"],
        "mteb_wall": mteb["wall"],
        "mteb_over_xret_wall": mteb["wall"] / xret["wall"],
        "xret_texts_encoded": xret["encoded"],
        "mteb_texts_encoded": mteb["encoded"],
        "mteb_over_xret_texts": mteb["encoded"] / xret["encoded"],
        "xret_peak_rss_mb": xret["peak_rss_mb"],
        "mteb_peak_rss_mb": mteb["peak_rss_mb"],
    }
    report = {
        "machine": machine(),
        "model": args.model,
        "task": args.task,
        "languages": args.languages,
        "summary": summary,
        "implied_texts": implied_mteb_texts(args.task, _languages(args)),
        "xret": xret,
        "mteb": mteb,
    }
    width = max(map(len, summary))
    for key, value in summary.items():
        print(f"{key:<{width}}  {value:12.3f}")
    print("texts implied by mteb's layout:", json.dumps(report["implied_texts"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
