"""sentence-transformers models: a local folder, a folder inside an installed package, or a hub
id."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from xret.errors import MissingPackageError, ModelError
from xret.fingerprint import folder_fingerprint
from xret.models.spec import ModelSpec, Role, checked_similarity, user_path
from xret.runtime.device import Device

PACKAGE_PREFIX = "pkg:"


def _package_folder(source: str, spec: ModelSpec) -> Path:
    """``pkg:module/sub/dir`` -> that folder inside the installed package."""
    module, _, sub = source[len(PACKAGE_PREFIX) :].partition("/")
    found = importlib.util.find_spec(module)
    if found is None or found.origin is None:
        pip = next((p for p in spec.packages), module)
        raise MissingPackageError(module, f"model {spec.name}", pip)
    return Path(found.origin).parent / sub


def local_folder(spec: ModelSpec) -> Path | None:
    """The folder the spec points at, or None for a hub id."""
    if spec.source.startswith(PACKAGE_PREFIX):
        return _package_folder(spec.source, spec)
    path = user_path(spec.source)
    return path if path.exists() else None


class SentenceTransformerEncoder:
    def __init__(self, spec: ModelSpec, model, device: Device):
        self.spec = spec
        self.model = model
        self.device = device
        """Where and at which precision (xret.runtime.device) the forward passes run."""

    def token_lengths(self, texts: Sequence[str], role: Role) -> np.ndarray:
        prompt = self.spec.prompt(role)
        encoded = self.model.tokenizer(
            [prompt + t for t in texts],
            truncation=True,
            max_length=self.model.max_seq_length,
            add_special_tokens=True,
        )["input_ids"]
        return np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(texts))

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        return next(self.encode_stream([texts], role))

    def encode_stream(self, batches: Iterable[Sequence[str]], role: Role) -> Iterator[np.ndarray]:
        """Each batch encoded as given, while a worker thread tokenises the next one (fast
        tokenizers release the GIL); on CUDA the inputs are pinned and copied asynchronously."""
        import torch
        from sentence_transformers.util import batch_to_device

        prompt = self.spec.prompt(role)
        device = self.model.device
        cuda = device.type == "cuda"

        def prepare(texts: Sequence[str]) -> dict:
            features = self.model.preprocess(list(texts), prompt=prompt)
            if cuda:
                features = {
                    k: v.pin_memory() if torch.is_tensor(v) else v for k, v in features.items()
                }
            return features

        batches = iter(batches)
        with ThreadPoolExecutor(max_workers=1) as worker, torch.inference_mode():
            first = next(batches, None)
            ahead = worker.submit(prepare, first) if first is not None else None
            while ahead is not None:
                features = ahead.result()
                following = next(batches, None)
                ahead = worker.submit(prepare, following) if following is not None else None
                if cuda:
                    features = {
                        k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v
                        for k, v in features.items()
                    }
                else:
                    features = batch_to_device(features, device)
                with self.device.autocast():
                    embeddings = self.model(features)["sentence_embedding"]
                yield embeddings.float().cpu().numpy()


class SentenceTransformerProvider:
    fixed_device = None  # a torch model: pick_device decides

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        try:
            folder = local_folder(spec)
        except MissingPackageError as err:
            return f"missing package: pip install {err.package}"
        return "installed" if folder is not None else "hub (needs network)"

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        folder = local_folder(spec)
        if folder is not None:
            revision = spec.revision or folder_fingerprint(folder, cache_dir)
        else:
            folder = _hub_snapshot(spec)
            revision = spec.revision or folder.name
        return replace(spec, revision=revision, similarity=declared_similarity(folder, spec))

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> SentenceTransformerEncoder:
        return load_sentence_transformer(spec, local_folder(spec), device)


def load_sentence_transformer(
    spec: ModelSpec, folder: Path | None, device: Device
) -> SentenceTransformerEncoder:
    """A sentence-transformers model from ``folder``, or from the hub id ``spec.source``."""
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(
            str(folder) if folder else spec.source,
            device=device.name,
            revision=None if folder else spec.revision,
            local_files_only=folder is None and _offline(),
        )
    except (OSError, ValueError) as err:
        raise ModelError(
            f"cannot load sentence-transformers model {spec.source!r}: {_first_line(err)}"
        ) from None
    if spec.max_seq_length:
        model.max_seq_length = spec.max_seq_length
    if device.mode == "weights" and device.dtype != "float32":
        model.to(device.torch_dtype())
    model.eval()
    return SentenceTransformerEncoder(spec, model, device)


def _offline() -> bool:
    import os

    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _hub_snapshot(spec: ModelSpec) -> Path:
    """The hub model's folder in the local HF cache (downloaded when online): its name is the
    commit."""
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(spec.source, revision=spec.revision, local_files_only=_offline())
    except Exception as err:  # huggingface_hub raises many unrelated types for "not found"
        raise ModelError(
            f"model {spec.source!r} is neither a registered name, a local folder, nor in the "
            f"local Hugging Face cache ({_first_line(err)})"
        ) from None
    return Path(path)


def declared_similarity(folder: Path, spec: ModelSpec) -> str:
    """The similarity the folder's sentence-transformers config declares (``similarity_fn_name``;
    absent or null means cosine, as in sentence-transformers), else the spec's."""
    config = folder / "config_sentence_transformers.json"
    try:
        declared = json.loads(config.read_text(encoding="utf-8")).get("similarity_fn_name")
    except FileNotFoundError:
        declared = None
    except (OSError, ValueError, AttributeError) as err:
        raise ModelError(f"{config}: unreadable ({err})") from None
    return checked_similarity(declared or spec.similarity, spec.name)
