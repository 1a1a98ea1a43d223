"""``xret train`` (a baseline: xret.baselines, docs/training.md) and ``xret study`` (a grid of
trainings and benches: xret.study, docs/study.md)."""

from __future__ import annotations

from pathlib import Path

import click

from xret.cli.options import (
    SEED_OPTION,
    STUDY_FILE_ARGUMENT,
    cache_dir_option,
    data_dir_option,
    device_option,
    log,
    quiet_option,
    split,
)


@click.command()
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
@SEED_OPTION
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
@device_option()
@data_dir_option()
@cache_dir_option("Models and downloads")
@quiet_option("No progress bar and no printed losses (they stay in trainer_state.json).")
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
    from xret.progress import interactive

    config = TrainConfig(
        base=base,
        sampling=sampling,
        sources=split(sources) or (),
        alpha=alpha,
        exclude=split(exclude) or DEFAULT_EXCLUDE,
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
        progress=not quiet and interactive(),  # a log gets a line per logging step, not a bar
    )
    run_training(config, options, log=log)


# study: xret.study, docs/study.md
@click.group()
def study() -> None:
    """Train and bench a grid of regimes x alpha x seeds from a study file, and report on it."""


@study.command(name="run")
@STUDY_FILE_ARGUMENT
@device_option()
@data_dir_option()
@cache_dir_option("Models and embeddings")
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
        log=log,
    )
    for path in write_report(spec):
        click.echo(str(path))


@study.command(name="report")
@STUDY_FILE_ARGUMENT
def study_report(study_file) -> None:
    """Write the report of STUDY_FILE from the records finished so far (runs nothing)."""
    from xret.study.report import write_report
    from xret.study.spec import load_study

    for path in write_report(load_study(study_file)):
        click.echo(str(path))
