"""What ``xret leaderboard``, ``xret heatmap`` and ``xret compare`` do: one function per command,
from a config value. Everything here reads stored records; nothing runs a model."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from xret import defaults
from xret.errors import DataError, XretError
from xret.io import atomic_write_text, inside
from xret.leaderboards.scores import (
    Scores,
    check_comparable,
    collect,
    find_records,
    load_collection,
)
from xret.leaderboards.table import (
    Document,
    print_document,
    render_csv,
    render_latex,
    render_markdown,
)
from xret.leaderboards.uncertainty import Options
from xret.results.record import ResultRecord
from xret.results.store import slug


@dataclass(frozen=True)
class LeaderboardConfig:
    results_dir: Path
    format: str = "terminal"
    output: Path | None = None
    published: bool = True
    tasks: tuple[str, ...] | None = None
    uncertainty: Options | None = None
    """Intervals, ranks and tied groups per headline column (None: point estimates only)."""
    by_seed: bool = False
    """One row per training seed instead of their mean."""


@dataclass(frozen=True)
class HeatmapConfig:
    results_dir: Path
    models: tuple[str, ...]
    out: Path
    task: str | None = None
    settings: tuple[str, ...] = defaults.HEATMAP_SETTINGS
    measure: str = "MAP"


@dataclass(frozen=True)
class CompareConfig:
    systems: tuple[str, ...]
    """Record paths or model names, two or more."""
    results_dir: Path | None
    task: str | None = None
    measure: str = "MAP"
    settings: tuple[str, ...] | None = None
    seed: int = defaults.SEED
    resamples: int = defaults.COMPARE_RESAMPLES
    alpha: float = defaults.ALPHA
    format: str = "terminal"
    output: Path | None = None
    test: str = "randomisation"


def run_leaderboard(config: LeaderboardConfig, log: Callable[[str], None] = print) -> None:
    if config.format == "terminal":
        from xret.leaderboards.leaderboard import build_leaderboard

        collection = load_collection(config.results_dir, config.tasks, config.by_seed)
        doc = build_leaderboard(collection, config.published, config.uncertainty)
        _show(doc, "terminal", config.output, log)
    else:
        _emit(leaderboard_text(config), config.output, log)


def leaderboard_text(config: LeaderboardConfig) -> str:
    """The leaderboard as CSV, HTML, Markdown or LaTeX text (the CLI and the Python API)."""
    from xret.leaderboards.leaderboard import build_leaderboard, leaderboard_csv, uncertainty_csv

    collection = load_collection(config.results_dir, config.tasks, config.by_seed)
    if config.format == "csv":
        if config.uncertainty:
            return uncertainty_csv(collection, config.uncertainty)
        return leaderboard_csv(collection, config.published)
    doc = build_leaderboard(collection, config.published, config.uncertainty)
    if config.format == "html":
        from xret.leaderboards.html import render_html

        return render_html(doc, leaderboard_figures(collection.scores))
    if config.format == "markdown":
        return render_markdown(doc)
    if config.format == "latex":
        return render_latex(doc)
    raise XretError(f"format {config.format!r} is not available here")


def leaderboard_figures(scores: tuple[Scores, ...]):
    """For the HTML page: a MAP heatmap (mono + cross cells) per system and evaluation, and a
    rank-distance chart per evaluation, on one colour scale."""
    from xret.leaderboards.heatmap import (
        cell_matrix,
        color_limits,
        figure_bytes,
        plot_matrix,
        plot_rank_distance,
    )
    from xret.leaderboards.html import Figure

    figures = []
    for key in dict.fromkeys((s.task, s.signature) for s in scores if s.family == "lareqa"):
        members = [s for s in scores if (s.task, s.signature) == key]
        matrices = [
            cell_matrix(s, "MAP", ("mono", "cross"))
            for s in members
            if any("MAP" in values for values in s.cells.values())
        ]
        for matrix in matrices:
            fig = plot_matrix(matrix, color_limits(matrices))
            figures.append(Figure(matrix.title, figure_bytes(fig, "png")))
        with_rd = [s for s in members if "RD" in s.by_language.get("multi", {})]
        if with_rd:
            title = f"Mean rank distance per source language — {with_rd[0].task_label}"
            figures.append(Figure(title, figure_bytes(plot_rank_distance(with_rd, title), "png")))
    return figures


def run_heatmaps(config: HeatmapConfig) -> list[Path]:
    from xret.leaderboards.heatmap import (
        cell_matrix,
        color_limits,
        delta_matrix,
        plot_matrix,
        plot_rank_distance,
        save_figure,
    )

    records = [_one_record(config.results_dir, model, config.task) for model in config.models]
    tasks = {r.task.name for _, r in records}
    if len(tasks) > 1:
        raise DataError(
            f"the models' records are on different tasks ({', '.join(sorted(tasks))}); pass --task"
        )
    # by_seed: a figure is one record, named as recorded (a study seed keeps its "__seedN")
    scores = [collect([record], by_seed=True).scores[0] for record in records]
    for other in scores[1:]:
        check_comparable(scores[0], other)
    task = slug(scores[0].task)
    settings = "+".join(config.settings)

    def stem(models: str) -> Path:
        return inside(config.out, config.out / f"{task}__{models}__{config.measure}__{settings}")

    matrices = [cell_matrix(s, config.measure, config.settings) for s in scores]
    limits = color_limits(matrices)
    written = []
    for s, matrix in zip(scores, matrices):
        written += save_figure(plot_matrix(matrix, limits), stem(slug(s.system.model)))
    if len(scores) == 2:
        a, b = (s.system.model for s in scores)
        delta = delta_matrix(
            matrices[0], matrices[1], f"{a} − {b} — {scores[0].task_label}, {config.measure}"
        )
        delta_stem = stem(f"{slug(a)}-minus-{slug(b)}")
        written += save_figure(plot_matrix(delta, color_limits([delta])), delta_stem)
    with_rd = [s for s in scores if "RD" in s.by_language.get("multi", {})]
    if with_rd:
        title = f"Mean rank distance per source language — {with_rd[0].task_label}"
        written += save_figure(
            plot_rank_distance(with_rd, title), config.out / f"{task}__rank-distance"
        )
    return written


def run_compare(config: CompareConfig, log: Callable[[str], None] = print) -> None:
    from xret.leaderboards.compare import comparison_document

    doc = comparison_document(compare_results(config))
    if config.format == "csv":
        # The tables of tests, one after the other under one header (the others summarise them).
        tests = [t for t in doc.tables if t.columns == doc.tables[-1].columns]
        rows = tuple(row for t in tests for row in t.rows)
        _emit(render_csv(replace(tests[0], rows=rows, marks=())), config.output, log)
    else:
        _show(doc, config.format, config.output, log)


def compare_results(config: CompareConfig):
    """The paired comparison (xret.leaderboards.compare.Comparison) of every pair of systems."""
    from xret.leaderboards.compare import compare_records
    from xret.measures.paired import PairedTest

    if len(config.systems) < 2:
        raise XretError("compare needs two systems or more")
    if config.resamples < 1 or not 0 < config.alpha < 1:
        raise XretError("--resamples must be positive and --alpha between 0 and 1")
    tests = [t.value for t in PairedTest]
    if config.test not in tests:
        raise XretError(f"unknown test {config.test!r}; choose one of {', '.join(tests)}")
    task = config.task or _common_task(config)
    return compare_records(
        [_one_record(config.results_dir, system, task) for system in config.systems],
        measure=config.measure,
        settings=config.settings,
        alpha=config.alpha,
        resamples=config.resamples,
        seed=config.seed,
        test=PairedTest(config.test),
    )


def _common_task(config: CompareConfig) -> str | None:
    """The one task all systems have records of, when names were given without --task."""
    tasks = [
        {r.task.name for _, r in find_records(config.results_dir, side)} for side in config.systems
    ]
    common = sorted(set.intersection(*tasks))
    listed = " and ".join(config.systems)
    if not common:
        raise DataError(f"{listed} have no task in common")
    if len(common) > 1:
        raise XretError(f"{listed} share several tasks ({', '.join(common)}); pass --task")
    return common[0]


def _one_record(
    results_dir: Path | None, name_or_path: str, task: str | None
) -> tuple[Path, ResultRecord]:
    found = find_records(results_dir, name_or_path, task)
    if len(found) != 1:
        listing = ", ".join(f"{r.key} ({r.task.name})" for _, r in found) or "none"
        raise XretError(
            f"{name_or_path!r} matches {len(found)} records{f' on {task}' if task else ''}: "
            f"{listing}; pass --task or a record path"
        )
    return found[0]


def _show(doc: Document, fmt: str, output: Path | None, log: Callable[[str], None]) -> None:
    if fmt == "markdown":
        _emit(render_markdown(doc), output, log)
    elif fmt == "latex":
        _emit(render_latex(doc), output, log)
    elif fmt == "terminal":
        from rich.console import Console

        if output is None:
            print_document(doc, Console(width=None if sys.stdout.isatty() else 200))
        else:
            console = Console(record=True, width=200, file=io.StringIO())
            print_document(doc, console)
            _emit(console.export_text(), output, log)
    else:
        raise XretError(f"format {fmt!r} is not available here")


def _emit(text: str, output: Path | None, log: Callable[[str], None]) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    atomic_write_text(output, text)
    log(f"wrote {output}")
