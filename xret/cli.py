"""Command line: parse, build a config value, call one function. Heavy imports stay inside
commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.core import ParameterSource

from xret import __version__, defaults
from xret.benchmark.device import PRECISIONS
from xret.errors import XretError


def _split(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """Accept both ``--languages en --languages de`` and ``--languages en,de``."""
    parts = tuple(p.strip() for v in values for p in v.split(",") if p.strip())
    return parts or None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xret")
def cli() -> None:
    """xret: evaluate multilingual and cross-lingual retrieval models."""


# ---- corpus tasks (MIRACL): options of the top-k strategy, kept in one block ----------------
_CORPUS_OPTIONS = (
    click.option(
        "--corpus-dir",
        type=click.Path(path_type=Path),
        help="Corpora: DIR/miracl-corpus-v1.0-<lang>/docs-<i>.jsonl.gz [env XRET_CORPUS_DIR].",
    ),
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


# ---------------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--model",
    "-m",
    required=True,
    help="Registered model name, local sentence-transformers folder, or hub id.",
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
    default="sentence",
    show_default=True,
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
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="auto",
    show_default=True,
    help="auto: fp32 on CPU, fp16 on CUDA; bf16: fast on CPUs with bf16 units and GPUs.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Local copy of the data [env XRET_DATA_DIR].",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help="Downloads, models, embeddings [env XRET_CACHE_DIR].",
)
@click.option(
    "--results-dir",
    type=click.Path(path_type=Path),
    help="Where records go [env XRET_RESULTS_DIR].",
)
@click.option("--overwrite", is_flag=True, help="Redo results that already exist.")
@click.option(
    "--save-run",
    is_flag=True,
    help="Also write each cell's TREC run (top --depth, deeper to the last relevant) "
    "and qrels beside the record, in <record>.runs/.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or progress lines.")
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
    save_run,
    quiet,
    query_prompt,
    document_prompt,
    ray_address,
    ray_workers,
    ray_cpus,
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
        tasks=_split(tasks) or tuple(read_task_file(f).name for f in task_files) or ("xquad-r",),
        task_files=task_files,
        languages=_split(languages),
        settings=tuple(Setting.parse(s) for s in _split(settings) or ()) or None,
        measures=_split(measures),
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
        progress=not quiet,
        save_run=save_run,
        cluster=_cluster(ray_address, ray_workers, ray_cpus),
    )
    # With --save-run, --depth also sets how deep every task's saved runs go.
    given = [flag for flag in _given_flags() if not (save_run and flag == "--depth")]
    check_flags([get_task(name, config.task_files) for name in config.tasks], given, warn=_log)
    results = run(config, log=_log)
    print_summary([r.record for r in results])


def _log(message: str) -> None:
    click.echo(message, err=True)


def _given_flags() -> list[str]:
    """The options of the running command that the user set, spelled as in ``--help``."""
    ctx = click.get_current_context()
    return [
        "/".join(p.opts + p.secondary_opts)
        for p in ctx.command.params
        if ctx.get_parameter_source(p.name) not in (None, ParameterSource.DEFAULT)
    ]


def _cluster(address: str | None, workers: int | None, cpus: int):
    from xret.cluster.runtime import ClusterOptions

    if address is None:
        if workers is not None or cpus != 1:
            raise XretError("--ray-workers and --ray-cpus apply with --ray only")
        return None
    return ClusterOptions(address=address, workers=workers, cpus=cpus)


def _batch_policy(batch_size: int | None, max_tokens: int | None):
    """None (the device's defaults) unless the user set a limit."""
    from dataclasses import replace

    from xret.benchmark.engine import BatchPolicy

    if batch_size is None and max_tokens is None:
        return None
    limits = {"max_texts": batch_size, "max_tokens": max_tokens}
    return replace(BatchPolicy(), **{k: v for k, v in limits.items() if v is not None})


@cli.command(name="tasks")
@click.option("--data-dir", type=click.Path(path_type=Path), help="[env XRET_DATA_DIR]")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="[env XRET_CACHE_DIR]")
@click.option("--corpus-dir", type=click.Path(path_type=Path), help="[env XRET_CORPUS_DIR]")
def list_tasks(data_dir, cache_dir, corpus_dir) -> None:
    """List the tasks by family, the forms for your own data, and which data is here."""
    from xret import paths
    from xret.tasks import FORMS
    from xret.tasks.discovery import task_catalog
    from xret.tasks.listing import Places, render

    places = Places(
        paths.data_dir(data_dir), paths.cache_dir(cache_dir), paths.corpus_dir(corpus_dir)
    )
    click.echo(render(list(task_catalog().values()), FORMS, places))


@cli.command(name="models")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="[env XRET_CACHE_DIR]")
def list_models(cache_dir) -> None:
    """List the registered models and whether each can run here."""
    from xret import paths
    from xret.models import model_catalog
    from xret.models.providers import get_provider

    root = paths.cache_dir(cache_dir)
    for name, spec in sorted(model_catalog().items()):
        langs = "?" if spec.languages is None else str(len(spec.languages))
        status = get_provider(spec.provider).status(spec, root)
        click.echo(
            f"{name:<14} {spec.dim or '?':>4}d {langs:>3} langs  {status:<28} {spec.display_name}"
        )


_FORMATS = ("terminal", "markdown", "latex", "csv", "html")
_RESULTS = click.Path(path_type=Path, file_okay=False, exists=True)


@cli.command()
@click.argument("results_dir", type=_RESULTS)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(_FORMATS), default="terminal", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of stdout.",
)
@click.option(
    "--published/--no-published",
    default=True,
    show_default=True,
    help="Add the paper's published numbers as labelled reference rows and tables.",
)
@click.option(
    "--task", "-t", "tasks", multiple=True, help="Only these tasks (comma-separated or repeated)."
)
def leaderboard(results_dir, fmt, output, published, tasks) -> None:
    """Tables of every result record under RESULTS_DIR (headline and per language)."""
    from xret.leaderboards.commands import LeaderboardConfig, run_leaderboard

    config = LeaderboardConfig(results_dir, fmt, output, published, _split(tasks))
    run_leaderboard(config, log=lambda msg: click.echo(msg, err=True))


@cli.command()
@click.argument("results_dir", type=_RESULTS)
@click.option(
    "--model",
    "-m",
    "models",
    multiple=True,
    required=True,
    help="Model name or record path (repeatable; two models also give the delta A − B).",
)
@click.option("--task", "-t", help="Task of the records (needed when a model has several).")
@click.option(
    "--setting",
    "-s",
    "settings",
    multiple=True,
    help="Cells to show: mono (diagonal), cross, multi (pool 'all'). Default: mono,cross.",
)
@click.option("--measure", default="MAP", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("heatmaps"),
    show_default=True,
)
def heatmap(results_dir, models, task, settings, measure, out) -> None:
    """Query × pool language heatmaps (PNG and SVG), a delta map and a rank-distance chart."""
    from xret.leaderboards.commands import HeatmapConfig, run_heatmaps
    from xret.tasks.spec import Setting

    chosen = tuple(str(Setting.parse(s)) for s in _split(settings) or ("mono", "cross"))
    for path in run_heatmaps(
        HeatmapConfig(results_dir, _split(models), out, task, chosen, measure)
    ):
        click.echo(str(path))


@cli.command()
@click.argument("a")
@click.argument("b")
@click.option(
    "--results-dir",
    type=click.Path(path_type=Path),
    help="Where model names are looked up [env XRET_RESULTS_DIR].",
)
@click.option("--task", "-t", help="Task to compare on (needed when the models share several).")
@click.option("--measure", default="MAP", show_default=True)
@click.option(
    "--setting",
    "-s",
    "settings",
    multiple=True,
    help="Settings to test (default: all with the measure).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--resamples",
    type=int,
    default=10_000,
    show_default=True,
    help="Sign flips and bootstrap draws.",
)
@click.option(
    "--alpha", type=float, default=0.05, show_default=True, help="Level after Holm's correction."
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(_FORMATS[:4]), default="terminal", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of stdout.",
)
def compare(
    a, b, results_dir, task, measure, settings, seed, resamples, alpha, fmt, output
) -> None:
    """Paired significance of A against B (record paths or model names) from per-query scores."""
    from xret import paths
    from xret.leaderboards.commands import CompareConfig, run_compare
    from xret.tasks.spec import Setting

    chosen = tuple(str(Setting.parse(s)) for s in _split(settings) or ()) or None
    config = CompareConfig(
        a,
        b,
        paths.results_dir(results_dir),
        task,
        measure,
        chosen,
        seed,
        resamples,
        alpha,
        fmt,
        output,
    )
    run_compare(config, log=lambda msg: click.echo(msg, err=True))


# --- export (mteb interoperability: xret.interop.mteb, docs/mteb.md) -------------------------


@cli.command(name="export")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mteb"]), required=True, help="Target format.")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="mteb cache root: files go to OUT/results/<model>/<revision>/<task>.json.",
)
def export(results_dir, fmt, out) -> None:
    """Write the result records under RESULTS_DIR in another framework's format (needs
    xret[mteb])."""
    from xret.interop.mteb.export import export_results

    report = export_results(results_dir, out)
    for item in report.files:
        click.echo(f"{item.path}  ({item.subsets} subsets from {len(item.records)} record(s))")
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(
        f"{len(report.files)} mteb result file(s) written and read back with mteb's ResultCache",
        err=True,
    )


# --- train (baselines: xret.baselines.train, docs/training.md) ---------------------------------


@cli.command()
@click.option(
    "--base",
    required=True,
    help="Model to start from: registered name or sentence-transformers folder.",
)
@click.option(
    "--sampling",
    required=True,
    help="Batch sampling: x-x-mono, x-y, hybrid, or a plugin's sampler (xret.samplers).",
)
@click.option(
    "--alpha", type=float, help="Hybrid only: probability of a monolingual batch [default: 0.5]."
)
@click.option(
    "--data",
    "sources",
    multiple=True,
    required=True,
    help="Training source (repeatable): squad-it-es, mlqa-dev, or a folder of "
    "<language>.json[.gz] SQuAD files.",
)
@click.option(
    "--exclude",
    multiple=True,
    help="Evaluation task whose question ids are removed from the data (repeatable) "
    "[default: xquad-r, mlqa-r].",
)
@click.option(
    "--passage",
    type=click.Choice(["sentence", "paragraph"]),
    default="sentence",
    show_default=True,
    help="Training passage: the answer's sentence or its paragraph.",
)
@click.option("--steps", type=int, default=1000, show_default=True)
@click.option(
    "--batch-size",
    type=int,
    default=100,
    show_default=True,
    help="Pairs per batch (the paper: 100).",
)
@click.option(
    "--lr",
    type=float,
    default=3e-5,
    show_default=True,
    help="AdamW learning rate (the paper: 3e-5).",
)
@click.option(
    "--weight-decay",
    type=float,
    default=0.01,
    show_default=True,
    help="AdamW weight decay (the paper: 0.01).",
)
@click.option(
    "--warmup-ratio",
    type=float,
    default=0.1,
    show_default=True,
    help="Share of steps of linear warm-up.",
)
@click.option(
    "--scale", type=float, default=20.0, show_default=True, help="Loss scale = 1 / temperature."
)
@click.option(
    "--max-seq-length",
    type=int,
    default=128,
    show_default=True,
    help="Training texts are cut to this many tokens.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="Model folder to write (resumed if it holds this run's checkpoints).",
)
@click.option(
    "--save-steps", type=int, default=100, show_default=True, help="Checkpoint every N steps."
)
@click.option("--keep-checkpoints", type=int, default=2, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Local copy of the data [env XRET_DATA_DIR].",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help="Models and downloads [env XRET_CACHE_DIR].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def train(
    base,
    sampling,
    alpha,
    sources,
    exclude,
    passage,
    steps,
    batch_size,
    lr,
    weight_decay,
    warmup_ratio,
    scale,
    max_seq_length,
    seed,
    output,
    save_steps,
    keep_checkpoints,
    device,
    data_dir,
    cache_dir,
    quiet,
) -> None:
    """Train a baseline from BASE with one batch-sampling regime; writes a model folder for
    `xret bench`."""
    from xret import paths
    from xret.baselines.recipe import DEFAULT_EXCLUDE, TrainConfig
    from xret.baselines.train import RunOptions
    from xret.baselines.train import train as run_training

    config = TrainConfig(
        base=base,
        sampling=sampling,
        sources=_split(sources) or (),
        alpha=alpha,
        exclude=_split(exclude) or DEFAULT_EXCLUDE,
        passage_unit=passage,
        steps=steps,
        batch_size=batch_size,
        learning_rate=lr,
        weight_decay=weight_decay,
        warmup_ratio=warmup_ratio,
        seed=seed,
        max_seq_length=max_seq_length,
        scale=scale,
    )
    options = RunOptions(
        output=output,
        cache_dir=paths.cache_dir(cache_dir),
        data_dir=paths.data_dir(data_dir),
        device=device,
        save_steps=save_steps,
        keep_checkpoints=keep_checkpoints,
        progress=not quiet,
    )
    run_training(config, options, log=lambda msg: click.echo(msg, err=True))


# --- study (xret.study, docs/study.md) ---------------------------------------------------------


@cli.group()
def study() -> None:
    """Train and bench a grid of regimes x alpha x seeds from a study file, and report on it."""


@study.command(name="run")
@click.argument("study_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Local copy of the data [env XRET_DATA_DIR].",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help="Models and embeddings [env XRET_CACHE_DIR].",
)
def study_run(study_file, device, data_dir, cache_dir) -> None:
    """Train and bench every cell of STUDY_FILE that is not finished (resumable), then report."""
    from xret import paths
    from xret.study.report import write_report
    from xret.study.run import run_study
    from xret.study.spec import load_study

    spec = load_study(study_file)
    run_study(
        spec,
        cache_dir=paths.cache_dir(cache_dir),
        data_dir=paths.data_dir(data_dir),
        device=device,
        log=lambda msg: click.echo(msg, err=True),
    )
    for path in write_report(spec):
        click.echo(str(path))


@study.command(name="report")
@click.argument("study_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def study_report(study_file) -> None:
    """Write the report of STUDY_FILE from the records finished so far (runs nothing)."""
    from xret.study.report import write_report
    from xret.study.spec import load_study

    for path in write_report(load_study(study_file)):
        click.echo(str(path))


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where SIGINT would be, so that the same clean-up runs."""


def _terminate(signum, frame) -> None:
    raise _Terminated


def main() -> None:
    import signal
    import threading

    from xret.io import KEPT

    KEPT.clear()  # what this command keeps, also when it is called twice in one process
    main_thread = threading.current_thread() is threading.main_thread()  # else signals are not ours
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt) as err:
        # click turns an interrupt into Abort; the signal is what it was raised from
        terminated = isinstance(err, _Terminated) or isinstance(err.__cause__, _Terminated)
        click.echo(_interrupted("SIGTERM" if terminated else "SIGINT"), err=True)
        sys.exit(143 if terminated else 130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except XretError as err:
        click.echo(f"xret: error: {err}", err=True)
        sys.exit(err.exit_code)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _interrupted(signal_name: str) -> str:
    from xret.io import KEPT

    kept = sorted(KEPT.items(), reverse=True)  # result records first
    written = ", ".join(f"{n} {kind}{'s' * (n != 1)}" for kind, n in kept)
    return (
        f"xret: interrupted ({signal_name}); finished results and cached embeddings are kept"
        f"{f' ({written} written by this run)' if written else ''}, rerun to resume"
    )
