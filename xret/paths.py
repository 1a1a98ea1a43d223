"""Where xret reads data and keeps caches and results; one place decides each location."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "XRET_DATA_DIR"
CACHE_DIR_ENV = "XRET_CACHE_DIR"
RESULTS_DIR_ENV = "XRET_RESULTS_DIR"
CORPUS_DIR_ENV = "XRET_CORPUS_DIR"


def data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The user's local copy of the evaluation data: ``--data-dir``, else ``$XRET_DATA_DIR``."""
    value = explicit if explicit is not None else os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Downloads, built models and embedding caches: ``$XRET_CACHE_DIR`` or ``~/.cache/xret``."""
    value = explicit if explicit is not None else os.environ.get(CACHE_DIR_ENV)
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xret"


def results_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Result records of ``xret bench``: ``--results-dir``, ``$XRET_RESULTS_DIR`` or
    ``./xret-results``."""
    value = explicit if explicit is not None else os.environ.get(RESULTS_DIR_ENV)
    return Path(value).expanduser() if value else Path("xret-results")


def corpus_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """Local copies of large corpora (MIRACL): ``--corpus-dir``, else ``$XRET_CORPUS_DIR``."""
    value = explicit if explicit is not None else os.environ.get(CORPUS_DIR_ENV)
    return Path(value).expanduser() if value else None


REFERENCE_MARKER = ".xret-reference-store"
"""A file at the root of a results folder that a repository commits (this one's ``results/``):
records benched into it change what the repository quotes."""


def reference_store_warning(results: Path) -> str | None:
    """The warning for a bench that writes into a committed reference store, else None."""
    if not (results / REFERENCE_MARKER).is_file():
        return None
    return (
        f"{results} is a committed reference store ({REFERENCE_MARKER}): new records there change "
        "the leaderboard it quotes; bench into another results folder for your own runs"
    )
