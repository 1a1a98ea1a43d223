"""Pluggable task definitions and their loaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from xret.errors import DataError, UnknownNameError
from xret.tasks.artifacts import locate, pinned
from xret.tasks.catalog import TASKS
from xret.tasks.records import TaskData
from xret.tasks.spec import TaskSpec

CUSTOM_LAREQA = "lareqa:"
CUSTOM_MIRACL = "miracl:"
CUSTOM_BEIR = "beir:"
FORMS = (
    (
        f"{CUSTOM_LAREQA}DIR",
        "DIR/<language>.json files in the LAReQA format (SQuAD with sentences and "
        "sentence_breaks, docs/formats.md); "
        "ranked like xquad-r, all three settings",
    ),
    (
        f"{CUSTOM_MIRACL}DIR",
        "DIR/topics and DIR/qrels laid out like MIRACL's dev split; "
        "the corpus comes from --corpus-dir",
    ),
    (
        f"{CUSTOM_BEIR}DIR[@SPLIT]",
        "DIR/<language>/ BEIR folders (corpus.jsonl, queries.jsonl, "
        "qrels/<split>.tsv); shared query ids give the cross-lingual gold",
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
    directory of LAReQA-format files, ``miracl:DIR`` for MIRACL-format topics and qrels, or
    ``beir:DIR[@SPLIT]`` for one BEIR folder per language."""
    if name.startswith(CUSTOM_LAREQA):
        from xret.tasks.lareqa import custom_task

        return custom_task(Path(name[len(CUSTOM_LAREQA) :]).expanduser())
    if name.startswith(CUSTOM_MIRACL):
        from xret.tasks.miracl import custom_task as custom_miracl

        return custom_miracl(Path(name[len(CUSTOM_MIRACL) :]).expanduser())
    if name.startswith(CUSTOM_BEIR):
        from xret.tasks.beir import custom_task as custom_beir

        return custom_beir(name[len(CUSTOM_BEIR) :])
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
    since it was last hashed (size and mtime) is not read again: the result key and the load
    both ask, and a BEIR corpus can be large."""
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
    return replace(data, checksums=checksums)


def _verified(file: Path, pinned_sha: str | None, memo_dir: Path | None) -> str:
    """The sha256 of a task's local file; a task file's pin must match it."""
    from xret.fingerprint import file_fingerprint

    if not file.is_file():
        raise DataError(f"{file}: no such data file")
    try:
        digest = file_fingerprint(file, memo_dir)
    except OSError as err:
        raise DataError(f"{file}: cannot read ({err.strerror})") from None
    if pinned_sha is not None and digest != pinned_sha:
        raise DataError(f"{file}: sha256 {digest} differs from the pinned {pinned_sha}")
    return digest


__all__ = ["TASKS", "TaskData", "TaskSpec", "data_checksums", "get_task", "load_task"]
__all__ = ["FORMS", "TASKS", "TaskData", "TaskSpec", "get_task", "load_task"]
