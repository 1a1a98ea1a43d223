"""In-memory models given to the Python API (``xret.bench(model_object, …)``): a
SentenceTransformer, or any object with ``encode``.

The object is kept here under its spec's source (the provider protocol passes specs, not objects).
Its identity, part of every cache and result key, is the ``revision`` it declares, else a content
hash (with a warning): a torch module's state_dict; otherwise the class source with the object's
pickled state, or with its attributes when it cannot be pickled. A changed weight or attribute
changes the hash, so a stale cached embedding is never reused.
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from xret.errors import ModelError
from xret.models.spec import ModelSpec, Role
from xret.runtime.device import Device

PROVIDER = "object"
_OBJECTS: dict[str, object] = {}


class UnversionedModelWarning(UserWarning):
    """An in-memory model without a declared revision: identified by a content hash."""


def object_spec(model: object, name: str | None = None) -> ModelSpec:
    """A spec for ``model`` (registered for this process), named ``name`` or after its class."""
    if not callable(getattr(model, "encode", None)):
        raise ModelError(f"{type(model).__name__} has no encode method: not a model xret can run")
    st = _is_sentence_transformer(model)
    label = name or getattr(model, "name", None) or type(model).__name__
    revision = getattr(model, "revision", None)
    if not isinstance(revision, str) or not revision:
        revision = content_hash(model)
        warnings.warn(
            f"model {label} declares no revision; identified by its content hash "
            f"{revision[:12]} (set a 'revision' attribute to name its version)",
            UnversionedModelWarning,
            stacklevel=3,
        )
    prompts = getattr(model, "prompts", None) if st else None
    prompts = prompts if isinstance(prompts, dict) else {}
    source = f"{PROVIDER}:{label}@{revision[:16]}"
    _OBJECTS[source] = model
    return ModelSpec(
        name=label,
        provider=PROVIDER,
        source=source,
        display_name=label,
        revision=revision,
        dim=_dim(model, st),
        query_prompt=prompts.get("query", ""),
        document_prompt=prompts.get("document", prompts.get("passage", "")),
    )


def content_hash(model: object) -> str:
    """sha256 identity of an in-memory model's content (see the module docstring)."""
    digest = hashlib.sha256(f"{type(model).__module__}.{type(model).__qualname__}".encode())
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        for key, tensor in sorted(model.state_dict().items()):
            flat = tensor.detach().cpu().contiguous().reshape(-1)
            digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
            digest.update(flat.view(torch.uint8).numpy().tobytes())
        return digest.hexdigest()
    try:
        digest.update(inspect.getsource(type(model)).encode())
    except (OSError, TypeError):
        pass  # a class defined interactively has no source file: its name and state remain
    try:
        digest.update(pickle.dumps(model, protocol=5))
    except Exception:  # noqa: BLE001 - unpicklable objects fall back to their attributes
        attributes = sorted(getattr(model, "__dict__", {}).items())
        digest.update(repr(attributes).encode())
    return digest.hexdigest()


def _is_sentence_transformer(model: object) -> bool:
    module = sys.modules.get("sentence_transformers")
    return module is not None and isinstance(model, module.SentenceTransformer)


def _dim(model: object, st: bool) -> int | None:
    if st:
        return model.get_embedding_dimension()
    dim = getattr(model, "dim", None)
    return dim if isinstance(dim, int) else None


class ObjectEncoder:
    """``encode(texts, role)`` as the object defines it; an object whose ``encode`` takes only
    texts gets the spec's prompt prepended (token lengths: the object's, else characters)."""

    def __init__(self, spec: ModelSpec, model: object):
        self.spec = spec
        self.model = model
        self._takes_role = _takes_role(model.encode)

    def token_lengths(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if hasattr(self.model, "token_lengths"):
            return np.asarray(self.model.token_lengths(texts, role), dtype=np.int64)
        return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if self._takes_role:
            return np.asarray(self.model.encode(list(texts), role), dtype=np.float32)
        prompt = self.spec.prompt(role)
        return np.asarray(self.model.encode([prompt + t for t in texts]), dtype=np.float32)


def _takes_role(method) -> bool:
    """Whether ``encode`` takes xret's ``role`` second: a parameter so named, or one without a
    default (``encode(texts, batch_size=32)`` of other libraries must not receive a role)."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 2:
        return False
    second = positional[1]
    return second.name == "role" or second.default is inspect.Parameter.empty


class ObjectProvider:
    fixed_device = None  # a torch model: pick_device decides

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        return "installed" if spec.source in _OBJECTS else "not in this process"

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        self._object(spec)
        return spec

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path):
        model = self._object(spec)
        if _is_sentence_transformer(model):
            from xret.models.providers.st import SentenceTransformerEncoder

            _check_placement(spec, model, device)
            return SentenceTransformerEncoder(spec, model, device)
        return ObjectEncoder(spec, model)

    @staticmethod
    def _object(spec: ModelSpec) -> object:
        if spec.source not in _OBJECTS:
            raise ModelError(f"in-memory model {spec.name} is not in this process; pass the object")
        return _OBJECTS[spec.source]


def _check_placement(spec: ModelSpec, model, device: Device) -> None:
    """The caller's model is never moved or cast (it is their object): it must already be where
    and at the precision the run's keys say its vectors are computed."""
    import torch

    param = next(model.parameters(), None)
    if param is None:
        return
    weights = device.dtype if device.mode == "weights" else "float32"
    here = (param.device.type, str(param.dtype).removeprefix("torch."))
    wanted = (torch.device(device.name).type, weights)
    if here != wanted:
        raise ModelError(
            f"in-memory model {spec.name} is on {here[0]} in {here[1]}, but this run encodes on "
            f"{device.name} at {device.precision}: pass device= (and precision=) to match, or move "
            "the model"
        )
