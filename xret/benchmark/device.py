"""The one place that decides where models run and at which precision.

The device is decided before any vector is looked up: its dtype is part of every embedding-cache
namespace and result key, and its name is what the cache records as the vectors' producer.
"""

from __future__ import annotations

from dataclasses import dataclass

from xret.errors import XretError


@dataclass(frozen=True)
class Device:
    name: str
    """A torch device string: ``cpu``, ``cuda``, ``cuda:1``."""
    dtype: str
    """``float32`` on CPU; ``float16`` on CUDA (encoders are inference-only, fp16 is lossless enough)."""

    @property
    def is_cuda(self) -> bool:
        return self.name.startswith("cuda")


CPU = Device("cpu", "float32")


def pick_device(requested: str | None = None) -> Device:
    if requested == "cpu":  # decided without importing torch (seconds), e.g. on Ray CPU actors
        return Device("cpu", "float32")
    import torch

    if requested is None or requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise XretError(f"--device {requested}: no CUDA device is available here; use --device cpu")
        return Device(requested, "float16")
    if requested != "cpu":
        raise XretError(f"--device {requested}: expected auto, cpu, cuda or cuda:N")
    return CPU
