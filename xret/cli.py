"""Command line: parse, build a config value, call one function. Heavy imports stay inside commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xret import __version__
from xret.errors import XretError


def _split(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """Accept both ``--languages en --languages de`` and ``--languages en,de``."""
    parts = tuple(p.strip() for v in values for p in v.split(",") if p.strip())
    return parts or None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xret")
def cli() -> None:
    """xret: evaluate multilingual and cross-lingual retrieval models."""


@cli.command()
@click.option("--model", "-m", required=True, help="Registered model name, local sentence-transformers folder, or hub id.")
@click.option("--task", "-t", "tasks", multiple=True, default=("xquad-r",), show_default=True, help="Task name (repeatable).")
@click.option("--languages", "-l", multiple=True, help="Restrict to these languages (comma-separated or repeated).")
@click.option("--settings", "-s", multiple=True, help="mono, cross, multi (default: all of the task's).")
@click.option("--measures", multiple=True, help="Measures, e.g. MAP,R@1,nDCG@10,RD (default: the task's).")
@click.option("--candidate-text", type=click.Choice(["sentence", "sentence+context"]), default="sentence", show_default=True)
@click.option("--batch-size", type=int, default=128, show_default=True, help="Most texts per batch.")
@click.option("--max-tokens", type=int, default=8192, show_default=True, help="Most padded tokens per batch.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Local copy of the data [env XRET_DATA_DIR].")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Downloads, models, embeddings [env XRET_CACHE_DIR].")
@click.option("--results-dir", type=click.Path(path_type=Path), help="Where records go [env XRET_RESULTS_DIR].")
@click.option("--overwrite", is_flag=True, help="Redo results that already exist.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def bench(model, tasks, languages, settings, measures, candidate_text, batch_size, max_tokens, device,
          data_dir, cache_dir, results_dir, overwrite, quiet) -> None:
    """Evaluate MODEL on tasks; writes one result record per task and prints a summary."""
    from xret import paths
    from xret.benchmark.engine import BatchPolicy
    from xret.benchmark.runner import BenchConfig, run_bench
    from xret.results.summary import print_summary
    from xret.tasks.spec import CandidateText, Setting

    if batch_size < 1 or max_tokens < 1:
        raise XretError("--batch-size and --max-tokens must be positive")
    config = BenchConfig(
        model=model,
        tasks=_split(tasks) or ("xquad-r",),
        languages=_split(languages),
        settings=tuple(Setting.parse(s) for s in _split(settings) or ()) or None,
        measures=_split(measures),
        candidate_text=CandidateText(candidate_text),
        device=device,
        batch=BatchPolicy(max_texts=batch_size, max_tokens=max_tokens),
        data_dir=paths.data_dir(data_dir),
        cache_dir=paths.cache_dir(cache_dir),
        results_dir=paths.results_dir(results_dir),
        overwrite=overwrite,
        progress=not quiet,
    )
    outcomes = run_bench(config, log=lambda msg: click.echo(msg, err=True))
    print_summary([o.record for o in outcomes])


@cli.command(name="tasks")
def list_tasks() -> None:
    """List the registered tasks."""
    from xret.tasks import TASKS

    for name, spec in TASKS.items():
        click.echo(f"{name:<16} {len(spec.languages):>2} languages  {spec.description}")


@cli.command(name="models")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="[env XRET_CACHE_DIR]")
def list_models(cache_dir) -> None:
    """List the registered models and whether each can run here."""
    from xret import paths
    from xret.models import MODELS
    from xret.models.providers import get_provider

    root = paths.cache_dir(cache_dir)
    for name, spec in MODELS.items():
        langs = "?" if spec.languages is None else str(len(spec.languages))
        status = get_provider(spec.provider).status(spec, root)
        click.echo(f"{name:<14} {spec.dim or '?':>4}d {langs:>3} langs  {status:<28} {spec.display_name}")


# ---- xret train -------------------------------------------------------------------------------


@cli.command()
@click.option("--base", required=True, help="Model to start from: registered name or sentence-transformers folder.")
@click.option("--sampling", required=True, help="Batch sampling: x-x-mono, x-y or hybrid.")
@click.option("--alpha", type=float, help="Hybrid only: probability of a monolingual batch [default: 0.5].")
@click.option("--data", "sources", multiple=True, required=True,
              help="Training source (repeatable): squad-it-es, mlqa-dev, or a folder of <language>.json[.gz] SQuAD files.")
@click.option("--exclude", multiple=True,
              help="Evaluation task whose question ids are removed from the data (repeatable) [default: xquad-r, mlqa-r].")
@click.option("--passage", type=click.Choice(["sentence", "paragraph"]), default="sentence", show_default=True,
              help="Training passage: the answer's sentence or its paragraph.")
@click.option("--steps", type=int, default=1000, show_default=True)
@click.option("--batch-size", type=int, default=100, show_default=True, help="Pairs per batch (the paper: 100).")
@click.option("--lr", type=float, default=3e-5, show_default=True, help="AdamW learning rate (the paper: 3e-5).")
@click.option("--weight-decay", type=float, default=0.01, show_default=True, help="AdamW weight decay (the paper: 0.01).")
@click.option("--warmup-ratio", type=float, default=0.1, show_default=True, help="Share of steps of linear warm-up.")
@click.option("--scale", type=float, default=20.0, show_default=True, help="Loss scale = 1 / temperature.")
@click.option("--max-seq-length", type=int, default=128, show_default=True, help="Training texts are cut to this many tokens.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path), help="Model folder to write (resumed if it holds this run's checkpoints).")
@click.option("--save-steps", type=int, default=100, show_default=True, help="Checkpoint every N steps.")
@click.option("--keep-checkpoints", type=int, default=2, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Local copy of the data [env XRET_DATA_DIR].")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Models and downloads [env XRET_CACHE_DIR].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def train(base, sampling, alpha, sources, exclude, passage, steps, batch_size, lr, weight_decay, warmup_ratio,
          scale, max_seq_length, seed, output, save_steps, keep_checkpoints, device, data_dir, cache_dir,
          quiet) -> None:
    """Train a baseline from BASE with one batch-sampling regime; writes a model folder for `xret bench`."""
    from xret import paths
    from xret.baselines.recipe import DEFAULT_EXCLUDE, TrainConfig
    from xret.baselines.train import RunOptions
    from xret.baselines.train import train as run_training

    config = TrainConfig(
        base=base, sampling=sampling, sources=_split(sources) or (), alpha=alpha,
        exclude=_split(exclude) or DEFAULT_EXCLUDE, passage_unit=passage, steps=steps, batch_size=batch_size,
        learning_rate=lr, weight_decay=weight_decay, warmup_ratio=warmup_ratio, seed=seed,
        max_seq_length=max_seq_length, scale=scale,
    )
    options = RunOptions(
        output=output, cache_dir=paths.cache_dir(cache_dir), data_dir=paths.data_dir(data_dir), device=device,
        save_steps=save_steps, keep_checkpoints=keep_checkpoints, progress=not quiet,
    )
    run_training(config, options, log=lambda msg: click.echo(msg, err=True))


# ---- end of xret train ------------------------------------------------------------------------


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("xret: aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except XretError as err:
        click.echo(f"xret: error: {err}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("xret: interrupted; finished results and cached embeddings are kept, rerun to resume", err=True)
        sys.exit(130)
