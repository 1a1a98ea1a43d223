"""User-facing failures.

Anything a user can cause (a wrong name, a missing file, bad data, a missing package) raises an
``XretError``; the CLI prints its message as one line and exits non-zero without a traceback.
Programming errors stay ordinary exceptions so that they keep their traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class XretError(Exception):
    """A failure the user can fix; ``str(err)`` is the whole message."""

    exit_code = 2


class UnknownNameError(XretError):
    """A task, model, measure or language name that is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = "" if close or len(known) > 20 else f" (known: {', '.join(known)})"
        super().__init__(f"unknown {kind} {name!r}{hint}{listing}")
        self.name = name
        self.suggestions = tuple(close)


class DataError(XretError):
    """Evaluation or training data that is missing, corrupt or not the pinned version."""


class ModelError(XretError):
    """A model that cannot be found, installed, built or run."""


class MissingPackageError(ModelError):
    """An optional package a model needs is not installed."""

    def __init__(self, package: str, purpose: str, pip_args: str | None = None):
        pip = f"pip install {pip_args or package}"
        super().__init__(f"{purpose} needs the package {package!r}, which is not installed: {pip}")
        self.package = package


class SamplingError(XretError):
    """A batch-sampling request that is invalid or that the training data cannot satisfy."""


class TrainingError(XretError):
    """A training request that is invalid, or an output folder that cannot take it."""


class OutputError(XretError):
    """A file that cannot be written: read-only, disk full, a file in the way, no permission."""
