"""Pluggable task definitions and their loaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from xret.errors import DataError, UnknownNameError
from xret.fingerprint import file_fingerprint, verify
from xret.tasks.artifacts import locate, pinned
from xret.tasks.catalog import TASKS
from xret.tasks.miracl import POOL, pooled_task, split_pool
from xret.tasks.records import TaskData
from xret.tasks.spec import TaskSpec
from xret.tasks.taskfile import folder_forms, folder_task

FORMS = (
    *folder_forms(),
    (
        f"TASK{POOL}LANG[{POOL}LANG…]",
        "a MIRACL-format task (miracl/<lang>/dev, miracl:DIR, …) whose queries are searched in "
        f"one pool with the corpora of LANG…, e.g. miracl/<lang>/dev{POOL}en{POOL}yo: nDCG@10, "
        "R@100 and the bias panel's Same@10, Excess@10, PEER@10 and top-1 split "
        "(docs/miracl.md)",
    ),
    (
        "--task-file FILE.toml",
        "a task defined as data (format, languages, files, pins, measures); "
        "also found in $XRET_TASK_PATH and in plugins",
    ),
)
"""How a user names a task of their own data (``xret tasks`` lists them)."""


def get_task(name: str, task_files: Iterable[Path] = ()) -> TaskSpec:
    """A known task (built-in, task file or plugin: xret.tasks.discovery), ``lareqa:DIR`` for a
    directory of LAReQA-format files, ``miracl:DIR`` for MIRACL-format topics and qrels,
    ``beir:DIR[@SPLIT]`` for one BEIR folder per language, or a MIRACL-format task pooled with
    other languages' corpora, ``TASK+LANG[+LANG…]`` (a task so named itself comes first)."""
    pooled = split_pool(name)
    if pooled is not None and not _named(name, task_files):
        return pooled_task(_plain_task(pooled[0], task_files), pooled[1])
    return _plain_task(name, task_files)


def _named(name: str, task_files: Iterable[Path]) -> bool:
    """Whether ``name`` is a task's own name (a task file may hold a ``+``)."""
    from xret.tasks.discovery import task_catalog

    return name in task_catalog(task_files)


def _plain_task(name: str, task_files: Iterable[Path]) -> TaskSpec:
    folder = folder_task(name)
    if folder is not None:
        return folder
    from xret.tasks.discovery import task_catalog

    catalog = task_catalog(task_files)
    if name not in catalog:
        raise UnknownNameError("task", name, catalog)
    return catalog[name]


def data_checksums(
    spec: TaskSpec, languages: tuple[str, ...], memo_dir: Path | None = None
) -> dict[str, str]:
    """sha256 of every data file the task reads for ``languages``: the pins of a registered task
    (``load_task`` verifies the files against them), a user's own task's files as they are now
    (checked against a task file's pins where it has them). With ``memo_dir`` a file unchanged
    since it was last hashed (xret.fingerprint's file state) is not read again: the result key
    and the load both ask, and a BEIR corpus can be large."""
    if spec.root is None:
        return {path: pinned(path).sha256 for path in spec.files_for(languages)}
    return {
        path: _verified(spec.root / path, spec.pins.get(path), memo_dir)
        for path in spec.files_for(languages)
    }


def load_task(
    spec: TaskSpec,
    languages: tuple[str, ...],
    data_dir: Path | None,
    cache_dir: Path,
    options: object = None,
) -> TaskData:
    """Locate and verify the task's pinned files for ``languages``, then run its loader."""
    # A task file's pins are checked before loading.
    checksums = data_checksums(spec, languages, cache_dir)
    if spec.root is not None:
        files = {path: spec.root / path for path in spec.files_for(languages)}
    else:
        paths = spec.files_for(languages)
        files = {path: locate(pinned(path), data_dir, cache_dir) for path in paths}
    data = spec.load_function()(spec, files, languages, options)
    for path, file in files.items():  # the bytes the loader read are the ones hashed and pinned
        verify(file, checksums[path], cache_dir)
    return replace(data, checksums=checksums)


def _verified(file: Path, pinned_sha: str | None, memo_dir: Path | None) -> str:
    """The sha256 of a task's local file; a task file's pin must match it."""
    if not file.is_file():
        raise DataError(f"{file}: no such data file")
    try:
        digest = file_fingerprint(file, memo_dir)
    except OSError as err:
        raise DataError(f"{file}: cannot read ({err.strerror})") from None
    if pinned_sha is not None and digest != pinned_sha:
        raise DataError(f"{file}: sha256 {digest} differs from the pinned {pinned_sha}")
    return digest


__all__ = ["FORMS", "TASKS", "TaskData", "TaskSpec", "data_checksums", "get_task", "load_task"]
