"""The narrow model interface: texts in, float32 vectors out. The model never sees the task."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import numpy as np

from xret.models.spec import ModelSpec, Role


class Encoder(Protocol):
    spec: ModelSpec

    def token_lengths(self, texts: Sequence[str], role: Role) -> np.ndarray:
        """Tokens each text costs the model (prompt included, after truncation): for batching."""
        ...

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        """One batch, encoded as given (the engine orders and sizes batches): float32 (n, dim)."""
        ...


def encode_batches(
    encoder: Encoder, batches: Iterable[Sequence[str]], role: Role
) -> Iterator[np.ndarray]:
    """Encode batches in order; encoders that can overlap preparing the next batch with computing
    this one (``encode_stream``, e.g. tokenising on the CPU while the GPU runs) do so."""
    stream = getattr(encoder, "encode_stream", None)
    if stream is not None:
        yield from stream(batches, role)
    else:
        for batch in batches:
            yield encoder.encode(batch, role)
