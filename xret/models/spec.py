"""Model specs: frozen descriptions of an encoder, cheap to list (no torch import)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from xret.hashing import value_digest

LOCAL_PREFIX = "local:"
_PYTHON_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def is_python_target(text: str) -> bool:
    """``module:attr`` (a Python encoder to import), as opposed to a name, a folder or a hub id."""
    return bool(_PYTHON_TARGET.match(text))


SIMILARITIES = ("cosine", "dot")


class Role(StrEnum):
    """Which side of retrieval a text is on; selects the prompt from the spec."""

    QUERY = "query"
    DOCUMENT = "document"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    provider: str
    """Provider id (see xret.models.providers): how the encoder is built."""
    source: str
    """What the provider loads: a hub id, a local path, a package, or ``module:attr``."""
    display_name: str = ""
    revision: str | None = None
    """Commit, version or content fingerprint; part of every cache and result key."""
    dim: int | None = None
    similarity: str = "cosine"
    """How the model's vectors are compared, as it declares: ``cosine`` (vectors normalised)
    or ``dot`` (inner products of the vectors as returned)."""
    query_prompt: str = ""
    document_prompt: str = ""
    languages: frozenset[str] | None = None
    """Languages the model covers; None when its documentation does not say."""
    licence: str | None = None
    max_seq_length: int | None = None
    base_model: str | None = None
    regime: str | None = None
    """Training regime of a trained baseline (x-x-mono, x-y, hybrid), else None."""
    alpha: float | None = None
    packages: tuple[str, ...] = ()
    """Python distributions the provider needs, with the pip arguments that install them."""
    notes: str = field(default="", compare=False)
    caveat: str = field(default="", compare=False)
    """A warning shown before the model is used (e.g. what its revision cannot see)."""

    def prompt(self, role: Role) -> str:
        return self.query_prompt if role is Role.QUERY else self.document_prompt

    def covers(self, language: str) -> bool | None:
        return None if self.languages is None else language in self.languages

    def identity(self, dtype: str) -> dict:
        """Everything that can change this model's vectors, run at ``dtype`` (the precision as
        ``Device.key`` gives it: bf16 autocast and bf16 weights differ): the model part of
        every result key. Pooling is in the weights the revision identifies; normalisation
        follows the similarity (cosine: normalised, dot: as the model returns them)."""
        return {**self._vector_identity(dtype), "prompts": {r.value: self.prompt(r) for r in Role}}

    def embedding_namespace(self, role: Role, dtype: str) -> str:
        """Identity of the vectors this spec gives for ``role`` at ``dtype``: the embedding-cache
        key (only the role's own prompt, so a document prompt does not split the query cache)."""
        ident = {**self._vector_identity(dtype), "prompt": self.prompt(role)}
        return value_digest(ident)[:24]

    def _vector_identity(self, dtype: str) -> dict:
        if self.revision is None:
            raise ValueError(f"model {self.name} has no revision yet")
        return {
            "provider": self.provider,
            # A local folder as its name: its content is the revision (a fingerprint).
            "source": recorded_source(self.source),
            "revision": self.revision,
            "max_seq_length": self.max_seq_length,
            "similarity": self.similarity,
            "dtype": dtype,
        }


def checked_similarity(value: str, model: str) -> str:
    """A similarity a model declares, if xret can rank by it (else a ModelError)."""
    from xret.errors import ModelError

    if value not in SIMILARITIES:
        raise ModelError(f"model {model}: similarity {value!r} is not supported (cosine or dot)")
    return value


def recorded_source(source: str) -> str:
    """What a result record (or a model name) says a model was loaded from: never a path of
    this machine. A local file or folder becomes ``local:<its name>`` (its content is identified
    by the revision, a content fingerprint), whether it is the whole source (a
    sentence-transformers folder) or the weights folder of ``<mteb name>@<folder>``. Hub ids,
    ``pkg:`` folders and ``module:attr`` targets are kept as they are."""
    if _is_local(source):
        return LOCAL_PREFIX + user_path(source).resolve().name
    name, at, folder = source.partition("@")
    if at and name and _is_local(folder):
        return f"{name}@{LOCAL_PREFIX}{user_path(folder).resolve().name}"
    return source


def user_path(text: str) -> Path:
    """``text`` as a path with ``~`` expanded; ``~name`` of no known user stays as written (a
    model name, not a crash)."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)


def _is_local(text: str) -> bool:
    if not text or text.startswith("pkg:"):
        return False
    path = user_path(text)
    return path.is_absolute() or text.startswith(("~", "./", "../")) or path.exists()
