"""Any Python encoder given as ``module:attr``: a class or factory returning an object with
``encode(texts, role) -> array`` and optionally ``token_lengths(texts, role)``, ``dim`` and
``revision``. Without a revision, the module file's sha256 identifies it.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from xret.benchmark.device import Device
from xret.errors import ModelError
from xret.models.spec import ModelSpec, Role
from xret.tasks.artifacts import sha256_file


def import_target(source: str, model: str | None = None):
    """``module:attr`` -> (module, attr's value); a failure is one ModelError naming ``model``."""
    module_name, _, attr = source.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ModelError(f"cannot import {module_name!r} for model {model or repr(source)}: {err}") from None
    try:
        return module, getattr(module, attr)
    except AttributeError:
        raise ModelError(f"module {module_name!r} has no attribute {attr!r}") from None


class PythonEncoder:
    """Adapts a user object to the Encoder protocol (token lengths default to character counts).

    What the user's code raises becomes a ModelError naming the model; what it returns is
    checked by the engine (xret.benchmark.engine.checked_batch, checked_lengths).
    """

    def __init__(self, spec: ModelSpec, model):
        if not callable(getattr(model, "encode", None)):
            raise ModelError(
                f"model {spec.name}: {type(model).__name__} object has no callable "
                "encode(texts, role)"
            )
        self.spec = spec
        self.model = model

    def token_lengths(self, texts: Sequence[str], role: Role):
        if hasattr(self.model, "token_lengths"):
            return _user_call(self.spec, "token_lengths", self.model.token_lengths, texts, role)
        return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))

    def encode(self, texts: Sequence[str], role: Role):
        return _user_call(self.spec, "encode", self.model.encode, list(texts), role)


def _user_call(spec: ModelSpec, what: str, function, *args):
    try:
        return function(*args)
    except Exception as err:  # the user's code: any failure is theirs to fix, in one line
        raise ModelError(f"model {spec.name}: {what} raised {type(err).__name__}: {err}") from None


class PythonProvider:
    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        try:
            import_target(spec.source)
        except ModelError as err:
            return f"cannot import: {err}"
        return "installed"

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        module, target = import_target(spec.source)
        revision = spec.revision or getattr(target, "revision", None)
        if revision is None and getattr(module, "__file__", None):
            revision = sha256_file(Path(module.__file__))
        return replace(spec, revision=revision or "unversioned", dim=spec.dim or getattr(target, "dim", None))

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> PythonEncoder:
        _, target = import_target(spec.source)
        model = _user_call(spec, "creating the encoder", target) if callable(target) else target
        return PythonEncoder(spec, model)
