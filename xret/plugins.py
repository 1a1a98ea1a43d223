"""Installed plugins: entry points of other distributions in xret's groups (docs/plugins.md).

A plugin that fails to load stops the command with one line naming it: it is never skipped, so a
result never silently lacks a task or model the user installed.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from xret.errors import XretError

TASKS_GROUP = "xret.tasks"
MODELS_GROUP = "xret.models"


class PluginError(XretError):
    """An installed plugin that cannot be loaded or gives something xret cannot use."""


def plugin_objects(group: str) -> list[tuple[str, str, object]]:
    """``(entry-point name, its value, the loaded object)`` for every plugin in ``group``."""
    found = []
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        where = f"plugin {point.name!r} ({group} = {point.value!r})"
        try:
            found.append((point.name, point.value, point.load()))
        except SystemExit as err:  # would end xret with its code and no word of why
            raise PluginError(f"{where} called sys.exit({err.code!r}) while loading") from None
        except Exception as err:  # noqa: BLE001 - any failure of foreign code is the plugin's
            raise PluginError(f"{where} cannot be loaded: {type(err).__name__}: {err}") from None
    return found
