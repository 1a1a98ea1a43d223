"""Any Python encoder given as ``module:attr``: a class or factory returning an object with
``encode(texts, role) -> array`` and optionally ``token_lengths(texts, role)``, ``dim``,
``revision`` and ``similarity`` (``cosine``, the default, or ``dot``). Without a revision, a
sha256 of the module file and the attribute name identifies it.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from xret.errors import ModelError
from xret.models.spec import ModelSpec, Role, checked_similarity
from xret.runtime.device import Device


def import_target(source: str, model: str | None = None):
    """``module:attr`` -> (module, attr's value); a failure is one ModelError naming ``model``."""
    module_name, _, attr = source.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ModelError(
            f"cannot import {module_name!r} for model {model or repr(source)}: {err}"
        ) from None
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
    fixed_device = Device("encoder-managed", "encoder-managed")
    """The user's object runs where and at which precision it chooses (it is given no device)."""

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        try:
            import_target(spec.source)
        except ModelError as err:
            return f"cannot import: {err}"
        return "installed"

    def declared(self, spec: ModelSpec) -> ModelSpec:
        """The spec with the dimension its object declares (for listings; imports, loads
        nothing); a target that cannot be imported is left as it is (its status says why)."""
        try:
            _, target = import_target(spec.source)
        except ModelError:
            return spec
        return _with_dim(spec, target)

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        module, target = import_target(spec.source)
        revision, caveat = spec.revision or getattr(target, "revision", None), ""
        if revision is None:
            revision, caveat = _content_revision(module, spec.source)
        similarity = getattr(target, "similarity", spec.similarity)
        return replace(
            _with_dim(spec, target),
            revision=revision,
            caveat=caveat,
            similarity=checked_similarity(similarity, spec.name),
        )

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> PythonEncoder:
        _, target = import_target(spec.source)
        model = _user_call(spec, "creating the encoder", target) if callable(target) else target
        return PythonEncoder(spec, model)


def _with_dim(spec: ModelSpec, target) -> ModelSpec:
    """The dimension the spec gives, else the one the target declares."""
    return replace(spec, dim=spec.dim or getattr(target, "dim", None))


def _content_revision(module, source: str) -> tuple[str, str]:
    """(revision, caveat) of a target without a declared revision: the module file and the
    attribute name, hashed, so two encoders of one module never share vectors."""
    file = getattr(module, "__file__", None)
    if file is None:
        caveat = f"{source} has no revision and no module file: edits to it are not seen"
        return f"unversioned:{source}", caveat
    attr = source.partition(":")[2]
    digest = hashlib.sha256(Path(file).read_bytes() + b"\0" + attr.encode()).hexdigest()
    caveat = (
        f"{source} declares no revision: its vectors are keyed by a hash of {Path(file).name} and "
        "the attribute name; edits to other files it uses are not seen (set a revision attribute)"
    )
    return digest, caveat
