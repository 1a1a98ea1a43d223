"""Pluggable task definitions and their loaders."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from xret.errors import DataError
from xret.tasks.artifacts import locate, pinned, sha256_file
from xret.tasks.catalog import TASKS
from xret.tasks.records import TaskData
from xret.tasks.spec import TaskSpec


CUSTOM_LAREQA = "lareqa:"
CUSTOM_MIRACL = "miracl:"


def get_task(name: str) -> TaskSpec:
    """A registered task, ``lareqa:DIR`` for a directory of LAReQA-format files, or
    ``miracl:DIR`` for MIRACL-format topics and qrels."""
    if name.startswith(CUSTOM_LAREQA):
        from xret.tasks.lareqa import custom_task

        return custom_task(Path(name[len(CUSTOM_LAREQA) :]).expanduser())
    if name.startswith(CUSTOM_MIRACL):
        from xret.tasks.miracl import custom_task as custom_miracl

        return custom_miracl(Path(name[len(CUSTOM_MIRACL) :]).expanduser())
    return TASKS.get(name)


def data_checksums(spec: TaskSpec, languages: tuple[str, ...]) -> dict[str, str]:
    """sha256 of every data file the task reads for ``languages``: the pins of a registered task
    (``load_task`` verifies the files against them), a user's own task's files as they are now."""
    if spec.root is None:
        return {path: pinned(path).sha256 for path in spec.files_for(languages)}
    try:
        return {path: sha256_file(spec.root / path) for path in spec.files_for(languages)}
    except OSError as err:
        raise DataError(f"{spec.name}: cannot read {err.filename} ({err.strerror})") from None


def load_task(
    spec: TaskSpec,
    languages: tuple[str, ...],
    data_dir: Path | None,
    cache_dir: Path,
    options: object = None,
) -> TaskData:
    """Locate and verify the task's pinned files for ``languages``, then run its loader."""
    if spec.root is not None:
        files = {path: spec.root / path for path in spec.files_for(languages)}
    else:
        paths = spec.files_for(languages)
        files = {path: locate(pinned(path), data_dir, cache_dir) for path in paths}
    data = spec.load_function()(spec, files, languages, options)
    return replace(data, checksums=data_checksums(spec, languages))


__all__ = ["TASKS", "TaskData", "TaskSpec", "data_checksums", "get_task", "load_task"]
