"""``xret bench``: evaluate a model on tasks."""

from __future__ import annotations

from pathlib import Path

import click

from xret import defaults
from xret.cli.options import (
    cache_dir_option,
    corpus_dir_option,
    data_dir_option,
    device_option,
    given_flags,
    log,
    quiet_option,
    results_dir_option,
    split,
)
from xret.errors import XretError
from xret.runtime.device import PRECISIONS

# Corpus tasks (MIRACL): options of the top-k strategy, kept in one block.
_CORPUS_OPTIONS = (
    corpus_dir_option("Corpora: DIR/miracl-corpus-v1.0-<lang>/docs-<i>.jsonl.gz"),
    click.option(
        "--pool",
        type=click.Choice(["full", "reduced"]),
        default="full",
        show_default=True,
        help="Search the full corpus, or judged passages + sampled distractors (not comparable).",
    ),
    click.option(
        "--distractors",
        type=int,
        help="Reduced pool: sampled non-judged passages per language [10000].",
    ),
    click.option("--seed", type=int, help="Reduced pool: sampling seed [0]."),
    click.option(
        "--index",
        "index_kind",
        type=click.Choice(["flat", "ivf", "hnsw"]),
        default="flat",
        show_default=True,
        help="Exact flat search, or approximate IVF / HNSW.",
    ),
    click.option("--nlist", type=int, help="IVF lists [auto: ~4·sqrt(n)]."),
    click.option("--nprobe", type=int, help="IVF lists searched [32]."),
    click.option("--hnsw-m", "m", type=int, help="HNSW links per node [32]."),
    click.option("--ef-construction", type=int, help="HNSW build beam [200]."),
    click.option("--ef-search", type=int, help="HNSW search beam [256, at least --depth]."),
    click.option(
        "--depth",
        type=int,
        default=defaults.DEPTH,
        show_default=True,
        help="Hits kept per query (k); also the depth of --save-run runs.",
    ),
    click.option(
        "--title/--no-title",
        default=True,
        show_default=True,
        help="Encode passages as 'title text' or text only.",
    ),
)


def _corpus_options(command):
    for option in reversed(_CORPUS_OPTIONS):
        command = option(command)
    return command


def _corpus_config(
    corpus_dir,
    pool,
    distractors,
    seed,
    index_kind,
    nlist,
    nprobe,
    m,
    ef_construction,
    ef_search,
    depth,
    title,
):
    from xret import paths
    from xret.benchmark.pools import PoolSpec
    from xret.benchmark.runner import CorpusOptions
    from xret.benchmark.search import IndexSpec

    if depth < 1:
        raise XretError("--depth must be positive")
    return CorpusOptions(
        corpus_dir=paths.corpus_dir(corpus_dir),
        pool=PoolSpec.parse(pool, distractors, seed),
        index=IndexSpec.parse(
            index_kind,
            nlist=nlist,
            nprobe=nprobe,
            m=m,
            ef_construction=ef_construction,
            ef_search=ef_search,
        ),
        depth=depth,
        title=title,
    )


@click.command()
@click.option(
    "--model",
    "-m",
    required=True,
    help="A registered or plugin model name (xret models), a local sentence-transformers "
    "folder, a hub id, module:attr (a Python object with encode(texts, role)), "
    "or mteb:NAME[@FOLDER] (needs xret[mteb]).",
)
@click.option(
    "--task",
    "-t",
    "tasks",
    multiple=True,
    help="Task name (repeatable) [default: the --task-file tasks, else xquad-r].",
)
@click.option(
    "--task-file",
    "task_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A task defined in a TOML file (repeatable; see 'Your own task' in the README).",
)
@click.option(
    "--languages",
    "-l",
    multiple=True,
    help="Restrict to these languages (comma-separated or repeated).",
)
@click.option(
    "--settings", "-s", multiple=True, help="mono, cross, multi (default: all of the task's)."
)
@click.option(
    "--measures", multiple=True, help="Measures, e.g. MAP,R@1,nDCG@10,RD (default: the task's)."
)
@click.option(
    "--candidate-text",
    type=click.Choice(["sentence", "sentence+context"]),
    default=defaults.CANDIDATE_TEXT,
    show_default=True,
    help="LAReQA tasks: encode each candidate sentence alone, or with its paragraph "
    "(about 4x the tokens to encode, and the time: 23 min for MLQA-R on 2 CPU cores).",
)
@click.option(
    "--batch-size",
    type=int,
    help=f"Most texts per batch [default: {defaults.CPU_BATCH[0]} on CPU, "
    f"{defaults.GPU_BATCH[0]} on GPU].",
)
@click.option(
    "--max-tokens",
    type=int,
    help=f"Most padded tokens per batch [default: {defaults.CPU_BATCH[1]} on CPU, "
    f"{defaults.GPU_BATCH[1]} on GPU].",
)
@device_option("auto, cpu, cuda or cuda:N.")
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="auto",
    show_default=True,
    help="auto: fp32 on CPU, fp16 on CUDA; bf16: fast on CPUs with bf16 units and GPUs.",
)
@data_dir_option()
@cache_dir_option("Downloads, models, embeddings")
@results_dir_option("Where records go")
@click.option("--overwrite", is_flag=True, help="Redo results that already exist.")
@click.option(
    "--accept-drift",
    type=click.FloatRange(min=0, max=1),
    metavar="TOL",
    help="A stored record gains new measures although re-encoding moved its numbers by at most "
    "TOL (its cached vectors were lost): they are kept as stored, the move is recorded.",
)
@click.option(
    "--save-run",
    is_flag=True,
    help="Also write each cell's TREC run (top --depth, deeper to the last relevant) "
    "and qrels beside the record, in <record>.runs/.",
)
@quiet_option("No progress bars or progress lines.")
@click.option("--query-prompt", help="Override the model's query prompt (e.g. 'Query: ').")
@click.option("--document-prompt", help="Override the model's document prompt (e.g. 'Passage: ').")
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="local",
    metavar="[ADDRESS]",
    help="Encode and search on Ray: a local runtime, or a cluster (auto, ray://H:P).",
)
@click.option(
    "--ray-workers",
    type=int,
    help="Ray: encoding actors [one per GPU, else per --ray-cpus CPUs; local: 1].",
)
@click.option("--ray-cpus", type=int, default=1, show_default=True, help="Ray: CPUs per CPU actor.")
@click.option(
    "--ci",
    is_flag=True,
    help="Also print each headline value's 95 % interval (bootstrap over topics, 2000 resamples).",
)
@_corpus_options
def bench(
    model,
    tasks,
    task_files,
    languages,
    settings,
    measures,
    candidate_text,
    batch_size,
    max_tokens,
    device,
    precision,
    data_dir,
    cache_dir,
    results_dir,
    overwrite,
    accept_drift,
    save_run,
    quiet,
    query_prompt,
    document_prompt,
    ray_address,
    ray_workers,
    ray_cpus,
    ci,
    **corpus,
) -> None:
    """Evaluate MODEL on tasks; writes one result record per task and prints a summary."""
    from xret import paths
    from xret.api import run
    from xret.benchmark.runner import BenchConfig
    from xret.benchmark.strategies import check_flags
    from xret.results.summary import print_summary
    from xret.tasks import get_task
    from xret.tasks.spec import CandidateText, Setting
    from xret.tasks.taskfile import read_task_file

    if any(v is not None and v < 1 for v in (batch_size, max_tokens)):
        raise XretError("--batch-size and --max-tokens must be positive")
    config = BenchConfig(
        model=model,
        tasks=split(tasks, "--task")
        or tuple(read_task_file(f).name for f in task_files)
        or ("xquad-r",),
        task_files=task_files,
        languages=split(languages, "--languages"),
        settings=tuple(Setting.parse(s) for s in split(settings, "--setting") or ()) or None,
        measures=split(measures, "--measures"),
        candidate_text=CandidateText(candidate_text),
        corpus=_corpus_config(**corpus),
        query_prompt=query_prompt,
        document_prompt=document_prompt,
        device=device,
        precision=precision,
        batch=_batch_policy(batch_size, max_tokens),
        data_dir=paths.data_dir(data_dir),
        cache_dir=paths.cache_dir(cache_dir),
        results_dir=paths.results_dir(results_dir),
        overwrite=overwrite,
        accept_drift=accept_drift,
        progress=not quiet,
        save_run=save_run,
        engines=_engines(ray_address, ray_workers, ray_cpus),
    )
    note = paths.reference_store_warning(config.results_dir)
    if note:
        log(f"warning: {note}")
    # With --save-run, --depth also sets how deep every task's saved runs go.
    given = [flag for flag in given_flags() if not (save_run and flag == "--depth")]
    check_flags([get_task(name, config.task_files) for name in config.tasks], given, warn=log)
    results = run(config, log=log)
    intervals = None
    if ci:
        from xret.leaderboards.uncertainty import Options, summary_intervals

        intervals = [summary_intervals(r.path, r.record, Options()) for r in results]
    print_summary([r.record for r in results], intervals)


def _engines(address: str | None, workers: int | None, cpus: int):
    """In this process, or on Ray with ``--ray``."""
    from xret.benchmark.engines import InProcessEngines

    if address is None:
        if workers is not None or cpus != 1:
            raise XretError("--ray-workers and --ray-cpus apply with --ray only")
        return InProcessEngines()
    from xret.cluster.encode import RayEngines
    from xret.cluster.runtime import ClusterOptions

    return RayEngines(ClusterOptions(address=address, workers=workers, cpus=cpus))


def _batch_policy(batch_size: int | None, max_tokens: int | None):
    """None (the device's defaults) unless the user set a limit."""
    from dataclasses import replace

    from xret.benchmark.engine import BatchPolicy

    if batch_size is None and max_tokens is None:
        return None
    limits = {"max_texts": batch_size, "max_tokens": max_tokens}
    return replace(BatchPolicy(), **{k: v for k, v in limits.items() if v is not None})


@click.command()
@click.argument("run", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("qrels", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--measures",
    multiple=True,
    help="Measures, e.g. MAP,nDCG@10,R@100,Same@10 [default: MAP, MRR, nDCG@10, R@1, R@10, "
    "R@100; with --doc-lang also RD and the bias panel].",
)
@click.option(
    "--doc-lang",
    metavar="FILE|prefix",
    help="Documents' languages: a file of 'docid language' lines, or 'prefix' for ids "
    "'<lang>/…'. Adds the bias panel (RD, nRD, Excess@10, …; docs/bias.md).",
)
@click.option(
    "--query-lang",
    metavar="FILE|prefix",
    help="Queries' languages (as --doc-lang): every mean per query language and over them; "
    "the panel's own-language measures.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
def score(run, qrels, measures, doc_lang, query_lang, seed) -> None:
    """Score a TREC RUN (qid Q0 docid rank score tag) made by any system against QRELS, with
    95 % intervals over queries; trec_eval's numbers for the standard measures."""
    from xret.leaderboards.external import report_lines
    from xret.leaderboards.external import score as score_files

    scores = score_files(
        run,
        qrels,
        split(measures, "--measures"),
        doc_lang=doc_lang,
        query_lang=query_lang,
        seed=seed,
    )
    click.echo("\n".join(report_lines(scores)))
