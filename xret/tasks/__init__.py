"""Pluggable task definitions and their loaders."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from xret.tasks.artifacts import locate, pinned, sha256_file
from xret.tasks.catalog import TASKS
from xret.tasks.records import TaskData
from xret.tasks.spec import TaskSpec


CUSTOM_LAREQA = "lareqa:"
CUSTOM_MIRACL = "miracl:"
FORMS = (
    (f"{CUSTOM_LAREQA}DIR", "DIR/<language>.json files in the LAReQA (SQuAD-like) format; "
     "ranked like xquad-r, all three settings"),
    (f"{CUSTOM_MIRACL}DIR", "DIR/topics and DIR/qrels laid out like MIRACL's dev split; "
     "the corpus comes from --corpus-dir"),
)
"""How a user names a task of their own data (``xret tasks`` lists them)."""


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
        checksums = {path: sha256_file(file) for path, file in files.items()}
    else:
        artifacts = [pinned(path) for path in spec.files_for(languages)]
        files = {a.path: locate(a, data_dir, cache_dir) for a in artifacts}
        checksums = {a.path: a.sha256 for a in artifacts}
    data = spec.load_function()(spec, files, languages, options)
    return replace(data, checksums=checksums)


__all__ = ["FORMS", "TASKS", "TaskData", "TaskSpec", "get_task", "load_task"]
