"""Every task xret knows: the built-ins, task files in ``$XRET_TASK_PATH`` directories, tasks of
installed plugins (entry-point group ``xret.tasks``) and ``--task-file`` files. A name defined
twice fails loudly, naming both definitions."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from xret.errors import XretError
from xret.plugins import TASKS_GROUP, PluginError, plugin_objects
from xret.tasks.catalog import TASKS
from xret.tasks.spec import TaskSpec
from xret.tasks.taskfile import read_task_file

TASK_PATH_ENV = "XRET_TASK_PATH"


def task_catalog(task_files: Iterable[Path] = ()) -> dict[str, TaskSpec]:
    """Name -> spec over every source, in the order built-in, path, plugins, files."""
    found: dict[str, tuple[TaskSpec, str]] = {}

    def add(spec: TaskSpec, origin: str) -> None:
        if spec.name in found:
            raise XretError(
                f"task {spec.name!r} is defined twice: by {found[spec.name][1]} and by {origin}"
            )
        found[spec.name] = (spec, origin)

    for _, spec in TASKS.items():
        add(spec, "xret (built-in)")
    for path in task_path_files():
        add(read_task_file(path), str(path))
    for name, value, obj in plugin_objects(TASKS_GROUP):
        for spec in _plugin_tasks(name, value, obj):
            add(spec, f"plugin {name!r} ({value})")
    for path in task_files:
        add(read_task_file(Path(path)), str(path))
    return {name: spec for name, (spec, _) in found.items()}


def task_path_files() -> list[Path]:
    """``*.toml`` files of the directories in ``$XRET_TASK_PATH`` (os.pathsep-separated)."""
    files = []
    for entry in filter(None, os.environ.get(TASK_PATH_ENV, "").split(os.pathsep)):
        directory = Path(entry).expanduser()
        if not directory.is_dir():
            raise XretError(f"{TASK_PATH_ENV}: {directory} is not a directory")
        files.extend(sorted(directory.glob("*.toml")))
    return files


def _plugin_tasks(name: str, value: str, obj: object) -> list[TaskSpec]:
    """A plugin gives a task file, a TaskSpec, or a callable returning several of them."""
    where = f"plugin {name!r} ({TASKS_GROUP} = {value!r})"
    items = _called(where, obj) if callable(obj) and not isinstance(obj, TaskSpec) else obj
    if isinstance(items, (str, os.PathLike, TaskSpec)):
        items = [items]
    if not isinstance(items, Iterable):
        raise PluginError(f"{where} gave {items!r}: expected a task file path or a TaskSpec")
    specs = []
    for item in items:
        if isinstance(item, TaskSpec):
            specs.append(item)
        elif isinstance(item, (str, os.PathLike)):
            specs.append(read_task_file(Path(item)))
        else:
            raise PluginError(f"{where} gave {item!r}: expected a task file path or a TaskSpec")
    return specs


def _called(where: str, function) -> object:
    try:
        return function()
    except SystemExit as err:
        raise PluginError(f"{where} called sys.exit({err.code!r})") from None
    except Exception as err:  # noqa: BLE001 - the plugin's code: its failure is the plugin's
        raise PluginError(f"{where} raised {type(err).__name__}: {err}") from None
