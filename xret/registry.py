"""Registries and ``module:attr`` targets: the one place that turns a name into an object.

A ``Registry`` is typed, lazy and loud: duplicates raise, unknown names suggest the closest ones,
and an entry may be a ``module:attr`` placeholder imported on first use, so listing a registry
imports neither torch nor faiss. Registries hold cheap specs and classes, never loaded models or
data.

Two kinds of ``module:attr`` targets: xret's own placeholders (``resolve``: a failure is a bug
and keeps its traceback) and a user's code (``import_target``: imported as ``python -m`` would,
from the working directory first; whatever goes wrong is one line naming the target).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any, Generic, TypeVar

from xret.errors import UnknownNameError, XretError

T = TypeVar("T")
_UNRESOLVED = object()


class Registry(Generic[T]):
    def __init__(self, kind: str, placeholders: Mapping[str, str] | None = None):
        """``placeholders``: name -> ``module:attr`` of xret's own, imported on first ``get``."""
        self.kind = kind
        self._entries: dict[str, T | str] = {}
        self._lazy: set[str] = set()
        for name, target in (placeholders or {}).items():
            self.register(name, target)
            self._lazy.add(name)

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        try:
            entry = self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, str(name), self._entries) from None
        if name in self._lazy:
            entry = self._entries[name] = resolve(entry)
            self._lazy.discard(name)
        return entry

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return [(name, self.get(name)) for name in sorted(self._entries)]


def resolve(target: str) -> Any:
    """One of xret's own ``module:attr`` placeholders. It names code shipped with xret, so a
    failure to import it is a bug and raises as one."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def import_target(
    target: str, what: str, error: type[XretError] = XretError
) -> tuple[ModuleType, Any]:
    """A user's ``module:attr`` -> (module, the attribute's value), imported as ``python -m``
    would: the working directory is searched first. Whatever goes wrong (no such module, a
    syntax error, an exception or ``sys.exit`` at import, no such attribute) is one ``error``
    naming ``what``."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise error(f"{what}: expected module:attr, found {target!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise error(f"{what}: cannot import {module_name!r} ({err})") from None
    except SyntaxError as err:
        place = f"{err.filename}:{err.lineno}" if err.filename else module_name
        raise error(f"{what}: {place}: syntax error ({err.msg})") from None
    except SystemExit as err:
        raise error(f"{what}: importing {module_name!r} called sys.exit({err.code!r})") from None
    except Exception as err:  # noqa: BLE001 - the user's module: any failure is theirs to fix
        raise error(
            f"{what}: importing {module_name!r} raised {type(err).__name__}: {err}"
        ) from None
    value = getattr(module, attr, _UNRESOLVED)
    if value is _UNRESOLVED:
        public = [name for name in vars(module) if not name.startswith("_")]
        suggestion = UnknownNameError(f"attribute of module {module_name!r}", attr, public)
        raise error(f"{what}: {suggestion}") from None
    return module, value
