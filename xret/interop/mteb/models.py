"""Models across the bridge, both ways.

mteb -> xret, provider ``mteb`` (``xret bench --model mteb:...``):

- ``mteb:<name>``: a model of mteb's registry with its ``ModelMeta`` (prompts, revision,
  languages, licence), loaded by mteb's own loader; offline this needs the weights of that
  revision in the local Hugging Face cache.
- ``mteb:<name>@<folder>``: the same ``ModelMeta`` (prompts, languages, licence) with the
  weights read from a local folder instead; the revision recorded is the folder's content
  fingerprint, not the hub commit (the folder may hold anything).
- ``mteb:<module>:<attr>``: any object satisfying mteb's encoder protocol (or a class or factory
  making one, or a ``ModelMeta``).

The model is called the way mteb calls it (mteb's dataloader, ``prompt_type`` query or document,
prompts resolved by the model) with one fixed task metadata, ``XRET_ENCODE_METADATA``, so the
model never sees which xret task it serves and xret's embedding cache stays valid across tasks.

xret -> mteb: ``XretMtebEncoder(model)`` is an mteb encoder backed by xret's embedding engine
(any xret model: registered name, folder, ``module:attr``); vectors come from xret's cache when
present. The cross-check uses it to give mteb exactly the vectors xret ranked.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from xret.errors import ModelError, UnknownNameError
from xret.fingerprint import sha256_file
from xret.interop.mteb.naming import xret_language
from xret.models.providers.python import import_target
from xret.models.spec import ModelSpec, Role, is_python_target
from xret.runtime.device import Device

PREFIX = "mteb:"
_NO_REVISION = (None, "", "no_revision_available")


@dataclass(frozen=True)
class MtebSource:
    """What ``mteb:<source>`` names: a registry model (optionally with local weights) or a Python
    object."""

    name: str | None = None
    folder: Path | None = None
    target: str | None = None

    @classmethod
    def parse(cls, source: str) -> MtebSource:
        if is_python_target(source):
            return cls(target=source)
        name, at, folder = source.partition("@")
        if not name:
            raise ModelError(
                f"mteb model {source!r}: expected mteb:<name>, mteb:<name>@<folder> or "
                "mteb:<module>:<attr>"
            )
        if at:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise ModelError(f"mteb model {source!r}: {folder!r} is not a folder")
            return cls(name=name, folder=path.resolve())
        return cls(name=name)


@cache
def encode_metadata():
    """The task metadata xret passes to every mteb ``encode`` call (a generic text retrieval
    task)."""
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.task_metadata import TaskMetadata

    metadata = TaskMetadata(
        name="xret-retrieval",
        description="Generic text retrieval task under which xret encodes queries and documents.",
        dataset={"path": "xret/none", "revision": "none"},
        type="Retrieval",
        category="t2t",
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        main_score="ndcg_at_10",
    )
    # A subclass carrying the metadata, so prompt look-ups by task name find AbsTaskRetrieval's
    # default instruction, exactly as for xret's own tasks run through mteb. mteb finds it through
    # __subclasses__ (weak references): keep it alive.
    _ENCODE_TASK.append(
        type("XretEncodeTask", (AbsTaskRetrieval,), {"metadata": metadata, "__module__": __name__})
    )
    return metadata


_ENCODE_TASK: list[type] = []


def _prompt_type(role: Role):
    from mteb.types import PromptType

    return PromptType.query if role is Role.QUERY else PromptType.document


class MtebEncoder:
    """An mteb encoder seen through xret's narrow ``Encoder`` protocol."""

    def __init__(self, spec: ModelSpec, model):
        self.spec = spec
        self.model = model
        self._tokenizer = getattr(getattr(model, "model", None), "tokenizer", None)

    def token_lengths(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if self._tokenizer is None:
            return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        prompt = self.spec.prompt(role)
        ids = self._tokenizer(
            [prompt + t for t in texts], truncation=True, add_special_tokens=True
        )["input_ids"]
        return np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(texts))

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        from datasets import Dataset
        from mteb._create_dataloaders import create_dataloader

        metadata = encode_metadata()
        prompt_type = _prompt_type(role)
        dataset = Dataset.from_dict(
            {"id": [str(i) for i in range(len(texts))], "text": list(texts)}
        )
        loader = create_dataloader(
            dataset, task_metadata=metadata, prompt_type=prompt_type, batch_size=len(texts)
        )
        vectors = self.model.encode(
            loader,
            task_metadata=metadata,
            hf_split="test",
            hf_subset="default",
            prompt_type=prompt_type,
            batch_size=len(texts),
            show_progress_bar=False,
        )
        return _as_numpy(vectors)


def _as_numpy(vectors) -> np.ndarray:
    if hasattr(vectors, "detach"):
        vectors = vectors.detach().float().cpu().numpy()
    return np.asarray(vectors, dtype=np.float32)


def _registry_meta(name: str):
    import mteb
    from mteb.models.model_implementations import MODEL_REGISTRY

    try:
        return mteb.get_model_meta(name)
    except (KeyError, ValueError):
        raise UnknownNameError("mteb model", name, MODEL_REGISTRY) from None


def _meta_of(obj):
    from mteb.models.model_meta import ModelMeta

    if isinstance(obj, ModelMeta):
        return obj
    meta = getattr(obj, "mteb_model_meta", None)
    return meta if isinstance(meta, ModelMeta) else None


def _spec_from_meta(spec: ModelSpec, meta, revision: str | None) -> ModelSpec:
    prompts = (
        dict((meta.loader_kwargs or {}).get("model_prompts") or {}) if meta is not None else {}
    )
    languages = None
    if meta is not None and meta.languages:
        mapped = {xret_language(code) for code in meta.languages}
        languages = frozenset(mapped - {None}) if None not in mapped else None
    similarity = spec.similarity
    if meta is not None and meta.similarity_fn_name is not None:
        value = str(getattr(meta.similarity_fn_name, "value", meta.similarity_fn_name))
        if value not in ("cosine", "dot"):
            raise ModelError(
                f"model {spec.name}: similarity {value!r} is not supported by xret (cosine or dot)"
            )
        similarity = value
    dim = meta.embed_dim if meta is not None and isinstance(meta.embed_dim, int) else spec.dim
    return replace(
        spec,
        revision=revision,
        dim=dim,
        similarity=similarity,
        query_prompt=prompts.get("query", spec.query_prompt),
        document_prompt=prompts.get("document", spec.document_prompt),
        languages=languages if meta is not None and meta.languages else spec.languages,
        licence=(meta.license if meta is not None else None) or spec.licence,
        max_seq_length=int(meta.max_tokens)
        if meta is not None and meta.max_tokens
        else spec.max_seq_length,
    )


class MtebProvider:
    """Provider id ``mteb``: mteb models and encoder objects inside ``xret bench``."""

    fixed_device = None  # torch models: pick_device decides

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        if importlib.util.find_spec("mteb") is None:
            return "missing package: pip install 'xret[mteb]'"
        return "installed" if MtebSource.parse(spec.source).name is None else "mteb registry"

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        from xret.fingerprint import folder_fingerprint
        from xret.interop.mteb import require_mteb

        require_mteb(f"model mteb:{spec.source}")
        source = MtebSource.parse(spec.source)
        if source.target is not None:
            module, obj = import_target(source.target, f"mteb:{source.target}")
            meta = _meta_of(obj)
            revision = (
                meta.revision if meta is not None and meta.revision not in _NO_REVISION else None
            )
            if revision is None and getattr(module, "__file__", None):
                revision = sha256_file(Path(module.__file__))
            return _spec_from_meta(spec, meta, revision or "unversioned")
        meta = _registry_meta(source.name)
        if source.folder is not None:
            resolved = _spec_from_meta(spec, meta, folder_fingerprint(source.folder, cache_dir))
            return replace(
                resolved,
                display_name=f"{source.name} (weights from {source.folder.name})",
                notes=f"mteb ModelMeta of {source.name} (revision {meta.revision}); "
                f"weights from {source.folder}",
            )
        return _spec_from_meta(spec, meta, meta.revision or "no_revision_available")

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> MtebEncoder:
        source = MtebSource.parse(spec.source)
        if source.target is not None:
            return MtebEncoder(spec, _load_target(source.target, device))
        meta = _registry_meta(source.name)
        if source.folder is not None:  # same loader and prompts, weights from the folder
            meta = meta.model_copy(update={"name": str(source.folder), "revision": None})
        try:
            model = meta.load_model(device=device.name)
        except (OSError, ValueError) as err:
            where = f"folder {source.folder}" if source.folder else "the local Hugging Face cache"
            raise ModelError(
                f"cannot load mteb model {source.name} from {where}: {_first_line(err)}"
                + (
                    ""
                    if source.folder
                    else f"; offline, give local weights as mteb:{source.name}@<folder>"
                )
            ) from None
        return MtebEncoder(spec, model)


def _load_target(target: str, device: Device):
    from mteb.models.model_meta import ModelMeta

    _, obj = import_target(target, f"mteb:{target}")
    if isinstance(obj, ModelMeta):
        return obj.load_model(device=device.name)
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "encode")):
        obj = obj()
    if not callable(getattr(obj, "encode", None)):
        raise ModelError(f"mteb:{target} is not an mteb encoder (no encode method)")
    return obj


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


class XretMtebEncoder:
    """An xret model as an mteb encoder (``mteb.evaluate(XretMtebEncoder("me5-small-q4"), tasks)``).

    Texts go through xret's embedding engine: deduplicated, cached under ``cache_dir``, encoded
    with the prompts of the xret model spec (``query`` for queries and symmetric tasks,
    ``document`` for documents). ``similarity`` is the model's (cosine for every registered model).
    """

    def __init__(
        self,
        model: str,
        *,
        cache_dir: str | Path | None = None,
        device: str | None = None,
        progress: bool = False,
    ):
        from xret import paths
        from xret.benchmark.cache import EmbeddingCache
        from xret.benchmark.engine import EmbeddingEngine
        from xret.benchmark.runner import model_record
        from xret.interop.mteb.metadata import model_meta
        from xret.models import model_spec
        from xret.models.providers import device_for, get_provider

        root = paths.cache_dir(cache_dir)
        spec = model_spec(model)
        provider = get_provider(spec.provider)
        self.spec = provider.resolve(spec, root)
        placed = device_for(provider, device)  # before any lookup: its dtype keys the cache
        self.engine = EmbeddingEngine(
            self.spec,
            lambda: provider.load(self.spec, placed, root),
            EmbeddingCache(root / "embeddings"),
            progress=progress,
            device=placed,
        )
        self.mteb_model_meta = model_meta(model_record(self.spec))

    def encode(
        self,
        inputs,
        *,
        task_metadata=None,
        hf_split=None,
        hf_subset=None,
        prompt_type=None,
        **kwargs: Any,
    ) -> np.ndarray:
        from mteb.types import PromptType

        texts = [text for batch in inputs for text in batch["text"]]
        role = Role.DOCUMENT if prompt_type == PromptType.document else Role.QUERY
        embedded = self.engine.embed(texts, role)
        return embedded.vectors[embedded.index]

    def similarity(self, embeddings1, embeddings2):
        """xret's exact scores: inner products of the engine's vectors (L2-normalised for cosine
        models), computed as xret computes them, so both sides rank on the same numbers.

        Each distinct document vector is scored once and its column repeated, as in xret's own
        rankings, so identical documents tie exactly: a BLAS product gives copies of one vector
        in other columns other last bits (in ~30% of the rows tried), which would let mteb's
        ranking of duplicates depend on rounding instead of the tie rule."""
        from xret.benchmark.search import exact_scores

        documents = _as_numpy(embeddings2)
        distinct, column = np.unique(documents, axis=0, return_inverse=True)
        return exact_scores(_as_numpy(embeddings1), distinct)[:, column.reshape(-1)]

    def similarity_pairwise(self, embeddings1, embeddings2):
        from mteb.similarity_functions import pairwise_cos_sim, pairwise_dot_score

        pairwise = pairwise_cos_sim if self.spec.similarity == "cosine" else pairwise_dot_score
        return pairwise(embeddings1, embeddings2)
