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


# --- export (mteb interoperability: xret.interop.mteb, docs/mteb.md) -------------------------


@cli.command(name="export")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mteb"]), required=True, help="Target format.")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="mteb cache root: files go to OUT/results/<model>/<revision>/<task>.json.")
def export(results_dir, fmt, out) -> None:
    """Write the result records under RESULTS_DIR in another framework's format (needs xret[mteb])."""
    from xret.interop.mteb.export import export_results

    report = export_results(results_dir, out)
    for item in report.files:
        click.echo(f"{item.path}  ({item.subsets} subsets from {len(item.records)} record(s))")
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{len(report.files)} mteb result file(s) written and read back with mteb's ResultCache", err=True)


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
