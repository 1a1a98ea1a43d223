"""Pluggable task definitions and their loaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from xret.errors import DataError, UnknownNameError
from xret.tasks.artifacts import locate, pinned, sha256_file
from xret.tasks.catalog import TASKS
from xret.tasks.records import TaskData
from xret.tasks.spec import TaskSpec


CUSTOM_LAREQA = "lareqa:"
CUSTOM_MIRACL = "miracl:"


def get_task(name: str, task_files: Iterable[Path] = ()) -> TaskSpec:
    """A known task (built-in, task file or plugin: xret.tasks.discovery), ``lareqa:DIR`` for a
    directory of LAReQA-format files, or ``miracl:DIR`` for MIRACL-format topics and qrels."""
    if name.startswith(CUSTOM_LAREQA):
        from xret.tasks.lareqa import custom_task

        return custom_task(Path(name[len(CUSTOM_LAREQA) :]).expanduser())
    if name.startswith(CUSTOM_MIRACL):
        from xret.tasks.miracl import custom_task as custom_miracl

        return custom_miracl(Path(name[len(CUSTOM_MIRACL) :]).expanduser())
    from xret.tasks.discovery import task_catalog

    catalog = task_catalog(task_files)
    if name not in catalog:
        raise UnknownNameError("task", name, catalog)
    return catalog[name]


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
        checksums = {path: _verified(file, spec.pins.get(path)) for path, file in files.items()}
    else:
        artifacts = [pinned(path) for path in spec.files_for(languages)]
        files = {a.path: locate(a, data_dir, cache_dir) for a in artifacts}
        checksums = {a.path: a.sha256 for a in artifacts}
    data = spec.load_function()(spec, files, languages, options)
    return replace(data, checksums=checksums)


def _verified(file: Path, pinned_sha: str | None) -> str:
    """The sha256 of a task's local file; a task file's pin must match it."""
    if not file.is_file():
        raise DataError(f"{file}: no such data file")
    digest = sha256_file(file)
    if pinned_sha is not None and digest != pinned_sha:
        raise DataError(f"{file}: sha256 {digest[:12]}… differs from the pinned {pinned_sha[:12]}…")
    return digest


__all__ = ["TASKS", "TaskData", "TaskSpec", "get_task", "load_task"]
