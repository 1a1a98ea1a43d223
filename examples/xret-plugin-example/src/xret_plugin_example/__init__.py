"""An example xret plugin (see xret's docs/plugins.md)."""

from importlib import resources
from pathlib import Path


def task_files() -> list[Path]:
    """The task files this package ships (entry point ``xret.tasks``)."""
    folder = resources.files(__name__) / "tasks"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))
