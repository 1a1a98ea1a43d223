"""The registered tasks (metadata only: listing them reads no data)."""

from __future__ import annotations

from xret.registry import Registry
from xret.tasks.lareqa import LareqaCounts
from xret.tasks.miracl import family as miracl_family
from xret.tasks.spec import Aggregate, Setting, TaskSpec

TASKS: Registry[TaskSpec] = Registry("task")

LAREQA_MEASURES = ("MAP", "MRR", "nDCG@10", "R@1", "R@10", "R@100", "Hit@1", "Hit@10", "RD")

_XQUAD_R_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
_XQUAD_R_CANDIDATES = (1222, 1276, 1234, 1180, 1215, 1244, 1219, 852, 1167, 1209, 1196)

TASKS.register(
    "xquad-r",
    TaskSpec(
        name="xquad-r",
        family="lareqa",
        version="1",
        description="XQuAD-R (LAReQA): 11-way parallel QA sentence retrieval, 13,090 queries, 13,014 candidates",
        languages=_XQUAD_R_LANGUAGES,
        settings=(Setting.MONO, Setting.CROSS, Setting.MULTI),
        measures=LAREQA_MEASURES,
        aggregates=(Aggregate("macro", _XQUAD_R_LANGUAGES),),
        data_files={lang: (f"xquad-r/{lang}.json",) for lang in _XQUAD_R_LANGUAGES},
        loader="xret.tasks.lareqa:load_lareqa",
        licence="CC BY-SA 4.0",
        reference="Roy et al. 2020, LAReQA (arXiv 2004.05484); github.com/google-research-datasets/lareqa",
        expected=LareqaCounts(
            queries=dict.fromkeys(_XQUAD_R_LANGUAGES, 1190),
            candidates=dict(zip(_XQUAD_R_LANGUAGES, _XQUAD_R_CANDIDATES)),
            relevant_per_query={11: 13090},
        ),
    ),
)

_MLQA_R_LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")
# Queries in the row language with a gold sentence in the column language (protocol.md §2.1).
_MLQA_R_PAIRS = (
    (517, 207, 517, 161, 186, 163, 188),
    (207, 512, 512, 196, 163, 182, 190),
    (517, 512, 1148, 500, 507, 511, 504),
    (161, 196, 500, 500, 187, 189, 161),
    (186, 163, 507, 187, 507, 177, 189),
    (163, 182, 511, 189, 177, 511, 184),
    (188, 190, 504, 161, 189, 184, 504),
)

TASKS.register(
    "mlqa-r",
    TaskSpec(
        name="mlqa-r",
        family="lareqa",
        version="1",
        description="MLQA-R (LAReQA, MLQA v1 dev): 7-language QA sentence retrieval, 4,199 queries, 20,534 candidates",
        languages=_MLQA_R_LANGUAGES,
        settings=(Setting.MONO, Setting.CROSS, Setting.MULTI),
        measures=LAREQA_MEASURES,
        aggregates=(Aggregate("macro", _MLQA_R_LANGUAGES),),
        data_files={lang: (f"mlqa-r/{lang}.json",) for lang in _MLQA_R_LANGUAGES},
        loader="xret.tasks.lareqa:load_lareqa",
        licence="CC BY-NC 4.0 (non-commercial)",
        reference="Roy et al. 2020, LAReQA; Lewis et al. 2020, MLQA; lareqa commit 354d67d",
        expected=LareqaCounts(
            queries=dict(zip(_MLQA_R_LANGUAGES, (517, 512, 1148, 500, 507, 511, 504))),
            candidates=dict(zip(_MLQA_R_LANGUAGES, (2545, 2362, 6264, 1787, 2426, 2828, 2322))),
            relevant_per_query={2: 130, 3: 789, 4: 3280},
            pair_queries={
                (q, c): n
                for q, row in zip(_MLQA_R_LANGUAGES, _MLQA_R_PAIRS)
                for c, n in zip(_MLQA_R_LANGUAGES, row)
            },
        ),
    ),
)

# MIRACL: miracl/dev, miracl/train and miracl/<lang>/<split>, generated from one language table.
for _spec in miracl_family():
    TASKS.register(_spec.name, _spec)
