"""Model specs: frozen descriptions of an encoder, cheap to list (no torch import)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

LOCAL_PREFIX = "local:"


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

    def prompt(self, role: Role) -> str:
        return self.query_prompt if role is Role.QUERY else self.document_prompt

    def covers(self, language: str) -> bool | None:
        return None if self.languages is None else language in self.languages

    def embedding_namespace(self, role: Role) -> str:
        """Identity of the vectors this spec gives for ``role``: the embedding-cache key."""
        if self.revision is None:
            raise ValueError(f"model {self.name} has no revision yet")
        ident = {
            "provider": self.provider,
            "revision": self.revision,
            "prompt": self.prompt(role),
            "max_seq_length": self.max_seq_length,
            "similarity": self.similarity,
        }
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]


def recorded_source(source: str) -> str:
    """What a result record (or a model name) says a model was loaded from: never a path of
    this machine. A local file or folder becomes ``local:<its name>`` (its content is identified
    by the revision, a content fingerprint), whether it is the whole source (a
    sentence-transformers folder) or the weights folder of ``<mteb name>@<folder>``. Hub ids,
    ``pkg:`` folders and ``module:attr`` targets are kept as they are."""
    if _is_local(source):
        return LOCAL_PREFIX + Path(source).expanduser().resolve().name
    name, at, folder = source.partition("@")
    if at and name and _is_local(folder):
        return f"{name}@{LOCAL_PREFIX}{Path(folder).expanduser().resolve().name}"
    return source


def _is_local(text: str) -> bool:
    if not text or text.startswith("pkg:"):
        return False
    path = Path(text).expanduser()
    return path.is_absolute() or text.startswith(("~", "./", "../")) or path.exists()
