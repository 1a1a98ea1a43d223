"""The registered tasks (metadata only: listing them reads no data)."""

from __future__ import annotations

from pathlib import Path

from xret.registry import Registry
from xret.tasks.miracl import family as miracl_family
from xret.tasks.spec import TaskSpec
from xret.tasks.taskfile import read_task_file

TASKS: Registry[TaskSpec] = Registry("task")

# XQuAD-R and MLQA-R are task files like a user's (builtin/*.toml, data pinned in downloads.json).
for _file in sorted((Path(__file__).parent / "builtin").glob("*.toml")):
    _spec = read_task_file(_file)
    TASKS.register(_spec.name, _spec)

# MIRACL: miracl/dev, miracl/train and miracl/<lang>/<split>, generated from one language table.
for _spec in miracl_family():
    TASKS.register(_spec.name, _spec)
