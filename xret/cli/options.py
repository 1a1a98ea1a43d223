"""Options and helpers that several commands share, each defined once."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from xret import defaults, paths
from xret.errors import XretError

FORMATS = ("terminal", "markdown", "latex", "csv", "html")
RESULTS_ARGUMENT = click.argument(
    "results_dir", type=click.Path(path_type=Path, file_okay=False, exists=True)
)
STUDY_FILE_ARGUMENT = click.argument(
    "study_file", type=click.Path(path_type=Path, dir_okay=False, exists=True)
)


def _place(flag: str, env: str, what: str | None):
    text = f"{what} [env {env}]." if what else f"[env {env}]"
    return click.option(flag, type=click.Path(path_type=Path), help=text)


def data_dir_option(what: str | None = "Local copy of the data"):
    return _place("--data-dir", paths.DATA_DIR_ENV, what)


def cache_dir_option(what: str | None):
    return _place("--cache-dir", paths.CACHE_DIR_ENV, what)


def results_dir_option(what: str):
    return _place("--results-dir", paths.RESULTS_DIR_ENV, what)


def corpus_dir_option(what: str | None):
    return _place("--corpus-dir", paths.CORPUS_DIR_ENV, what)


def device_option(choices: str = "auto, cpu or cuda."):
    return click.option("--device", default="auto", show_default=True, help=choices)


def quiet_option(what: str):
    return click.option("--quiet", "-q", is_flag=True, help=what)


def format_option(formats: tuple[str, ...] = FORMATS):
    return click.option(
        "--format", "-f", "fmt", type=click.Choice(formats), default="terminal", show_default=True
    )


OUTPUT_OPTION = click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of stdout.",
)
MEASURE_OPTION = click.option("--measure", default="MAP", show_default=True)
SEED_OPTION = click.option("--seed", type=int, default=defaults.SEED, show_default=True)


def settings_option(what: str):
    return click.option("--setting", "-s", "settings", multiple=True, help=what)


def split(values: tuple[str, ...], option: str) -> tuple[str, ...] | None:
    """Accept both ``--languages en --languages de`` and ``--languages en,de`` (None when the
    option is not given). An empty name (``-t ''``, ``-l ,``, ``en,,de``) is refused: taken
    as "not given" it would silently run the defaults."""
    parts = tuple(p.strip() for v in values for p in v.split(","))
    if "" in parts:
        given = " ".join(f"{option} {v!r}" for v in values)
        raise XretError(f"{given}: an empty name; give {option} NAME[,NAME…] or leave it out")
    return parts or None


def settings_of(values: tuple[str, ...], option: str = "--setting") -> tuple[str, ...] | None:
    """``--setting`` values as canonical setting names (``mono``, ``cross``, ``multi``)."""
    from xret.tasks.spec import Setting

    return tuple(str(Setting.parse(s)) for s in split(values, option) or ()) or None


def log(message: str) -> None:
    click.echo(message, err=True)


def given_flags() -> list[str]:
    """The options of the running command that the user set, spelled as in ``--help``."""
    ctx = click.get_current_context()
    return [
        "/".join(p.opts + p.secondary_opts)
        for p in ctx.command.params
        if ctx.get_parameter_source(p.name) not in (None, ParameterSource.DEFAULT)
    ]
