"""Commands over stored result records: leaderboard, heatmap, compare, export."""

from __future__ import annotations

from pathlib import Path

import click

from xret import defaults
from xret.cli.options import (
    FORMATS,
    MEASURE_OPTION,
    OUTPUT_OPTION,
    RESULTS_ARGUMENT,
    SEED_OPTION,
    format_option,
    log,
    results_dir_option,
    settings_of,
    settings_option,
    split,
)


@click.command()
@RESULTS_ARGUMENT
@format_option()
@OUTPUT_OPTION
@click.option(
    "--published/--no-published",
    default=True,
    show_default=True,
    help="Add the paper's published numbers as labelled reference rows and tables.",
)
@click.option(
    "--task", "-t", "tasks", multiple=True, help="Only these tasks (comma-separated or repeated)."
)
@click.option(
    "--ci",
    is_flag=True,
    help="After each headline and bias-panel table: per column, "
    f"{100 * defaults.CONFIDENCE:g} % intervals (bootstrap over topics and seeds), sd over seeds, "
    "ranks with rank intervals and tied groups (reads per-query scores).",
)
@click.option(
    "--resamples",
    type=int,
    default=defaults.CI_RESAMPLES,
    show_default=True,
    help="Bootstrap resamples (--ci).",
)
@click.option(
    "--seed", type=int, default=defaults.SEED, show_default=True, help="Bootstrap seed (--ci)."
)
@click.option("--by-seed", is_flag=True, help="One row per training seed instead of their mean.")
def leaderboard(results_dir, fmt, output, published, tasks, ci, resamples, seed, by_seed) -> None:
    """Tables of every result record under RESULTS_DIR (headline and per language)."""
    from xret.leaderboards.commands import LeaderboardConfig, run_leaderboard
    from xret.leaderboards.uncertainty import Options

    uncertainty = Options(resamples=resamples, seed=seed) if ci else None
    config = LeaderboardConfig(
        results_dir, fmt, output, published, split(tasks, "--task"), uncertainty, by_seed
    )
    run_leaderboard(config, log=log)


@click.command()
@RESULTS_ARGUMENT
@click.option(
    "--model",
    "-m",
    "models",
    multiple=True,
    required=True,
    help="Model name or record path (repeatable; two models also give the delta A − B).",
)
@click.option(
    "--task",
    "-t",
    "tasks",
    multiple=True,
    help="Task of the records (needed when a model has several; repeat or comma-separate for "
    "one set of maps per task).",
)
@settings_option(
    "Cells to show: mono (diagonal), cross, multi (pool 'all'; a per-candidate-language bias "
    "measure: query x candidate language). "
    f"Default: {','.join(defaults.HEATMAP_SETTINGS)}; multi for a bias measure."
)
@MEASURE_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("heatmaps"),
    show_default=True,
)
def heatmap(results_dir, models, tasks, settings, measure, out) -> None:
    """Query × pool language heatmaps (PNG and SVG), a delta map and a rank-distance chart."""
    from xret.leaderboards.commands import HeatmapConfig, run_heatmaps
    from xret.measures.table import parse_measure

    pooled_only = parse_measure(measure).family.multilingual_only
    chosen = settings_of(settings) or (("multi",) if pooled_only else defaults.HEATMAP_SETTINGS)
    models = split(models, "--model")
    for task in split(tasks, "--task") or (None,):
        for path in run_heatmaps(HeatmapConfig(results_dir, models, out, task, chosen, measure)):
            click.echo(str(path))


@click.command()
@click.argument("systems", nargs=-1, required=True)
@results_dir_option("Where model names are looked up")
@click.option("--task", "-t", help="Task to compare on (needed when the models share several).")
@MEASURE_OPTION
@settings_option("Settings to test (default: all with the measure).")
@click.option(
    "--test",
    type=click.Choice(["randomisation", "student"]),
    default="randomisation",
    show_default=True,
    help="Paired randomisation test with bootstrap intervals, or paired Student t over topics.",
)
@SEED_OPTION
@click.option(
    "--resamples",
    type=int,
    default=defaults.COMPARE_RESAMPLES,
    show_default=True,
    help="Sign flips and bootstrap draws.",
)
@click.option(
    "--alpha",
    type=float,
    default=defaults.ALPHA,
    show_default=True,
    help="Level after Holm's correction.",
)
@format_option(FORMATS[:4])
@OUTPUT_OPTION
def compare(
    systems, results_dir, task, measure, settings, test, seed, resamples, alpha, fmt, output
) -> None:
    """Paired significance of every pair of SYSTEMS (two or more record paths or model names)
    from per-query scores, Holm-corrected."""
    from xret import paths
    from xret.leaderboards.commands import CompareConfig, run_compare

    config = CompareConfig(
        tuple(systems),
        paths.results_dir(results_dir),
        task,
        measure,
        settings_of(settings),
        seed,
        resamples,
        alpha,
        fmt,
        output,
        test,
    )
    run_compare(config, log=log)


# mteb interoperability: xret.interop.mteb, docs/mteb.md; parquet and ranx: docs/export.md
@click.command(name="export")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mteb", "parquet", "ranx"]),
    required=True,
    help="mteb result files; one tidy Parquet table of every per-query score; ranx JSON "
    "qrels and runs of the runs saved with bench --save-run.",
)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="mteb: cache root (OUT/results/<model>/<revision>/<task>.json); parquet: the file; "
    "ranx: a folder (OUT/<record path>/<cell>.{qrels,run}.json).",
)
def export(results_dir, fmt, out) -> None:
    """Write the result records under RESULTS_DIR in another format (mteb needs xret[mteb],
    parquet xret[parquet])."""
    if fmt == "parquet":
        from xret.interop.tidy import export_parquet

        done = export_parquet(results_dir, out)
        click.echo(f"{done.path}  ({done.rows} rows from {done.records} record(s))")
        return
    if fmt == "ranx":
        from xret.interop.ranx import export_ranx

        report = export_ranx(results_dir, out)
        for folder in report.folders:
            click.echo(str(folder))
        for path in report.without_runs:
            click.echo(f"note: {path} has no saved runs (xret bench --save-run)", err=True)
        click.echo(
            f"{report.cells} cell(s) of {len(report.folders)} record(s) written as ranx qrels "
            "and runs",
            err=True,
        )
        return
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


@click.command()
@click.argument("record")
@results_dir_option("Where model names are looked up")
@click.option("--task", "-t", help="Task of the record (needed when the model has several).")
def show(record, results_dir, task) -> None:
    """One result record in words: RECORD is a record file, or a model name or record key under
    --results-dir."""
    from xret import paths
    from xret.errors import DataError
    from xret.leaderboards.scores import find_records
    from xret.results.show import describe

    found = find_records(paths.results_dir(results_dir), record, task)
    if len(found) > 1:
        listed = ", ".join(f"{r.task.name} ({p})" for p, r in found[:4])
        raise DataError(
            f"{record!r} has {len(found)} records ({listed}{', …' if len(found) > 4 else ''}): "
            "name one by its file or add --task"
        )
    if not found:
        raise DataError(f"{record}: not a record of task {task}")
    click.echo("\n".join(describe(*found[0])))
