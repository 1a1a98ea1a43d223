"""The paper's published numbers as data: Elmahdy, Lin, Ahmad 2024 (arXiv 2408.10536), exactly as
printed (transcribed from protocol.md §5; tests compare every number with that file).

Table 1 (mAP, macro average) and Table 2 (mean rank distance) keep the paper's own rounding: they
are not recomputed from the per-language tables (Table 1 prints .547 where Table 3's mean row says
0.5479, protocol.md §5.1). Per-language tables: 3–6 (MAP, then R@1 for Mo./Cr. and R@10 for
Mul.), 7–8 (rank distance per source language), 12–13 (MIRACL dev, nDCG@10 and R@100).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from xret.leaderboards.scores import Scores, System

CITATION = "Elmahdy et al. 2024"
SOURCE = f"published ({CITATION})"
BACKBONES = ("XLM-R", "LaBSE")
REGIMES = ("x-x-mono", "x-y", "hybrid")
"""Column order within a block; the paper's "X-X" in Tables 1–2 is X-X-mono."""
TASKS = {"xquad-r": "lareqa", "mlqa-r": "lareqa", "miracl": "miracl"}
"""Tasks of the paper -> family; a measured MIRACL task of any name is matched by its family."""
FOOTERS = {"Mean": "mean", "Median": "median"}

Block = tuple[str, str]  # (setting, measure)
MAP_BLOCKS: tuple[Block, ...] = (("mono", "MAP"), ("cross", "MAP"), ("multi", "MAP"))
RECALL_BLOCKS: tuple[Block, ...] = (("mono", "R@1"), ("cross", "R@1"), ("multi", "R@10"))
RD_BLOCKS: tuple[Block, ...] = (("multi", "RD"),)
MIRACL_BLOCKS: tuple[Block, ...] = (("mono", "nDCG@10"), ("mono", "R@100"))


@dataclass(frozen=True)
class PaperTable:
    """One printed per-language table: a row per source language, then Mean (and Median) rows;
    columns are ``blocks`` × ``backbones`` × ``REGIMES``, in that nesting."""

    number: str
    caption: str
    task: str
    backbones: tuple[str, ...]
    blocks: tuple[Block, ...]
    text: str

    @property
    def title(self) -> str:
        return f"Table {self.number} — {self.caption}"

    @property
    def columns(self) -> tuple[tuple[str, str, str, str], ...]:
        """(setting, measure, backbone, regime) per printed column."""
        return tuple((s, m, b, r) for s, m in self.blocks for b in self.backbones for r in REGIMES)

    def rows(self) -> dict[str, tuple[float, ...]]:
        out = {}
        for line in self.text.strip().splitlines():
            label, *values = line.split()
            if len(values) != len(self.columns):
                raise ValueError(f"Table {self.number}, row {label}: {len(values)} values")
            out[label] = tuple(map(float, values))
        return out


# Table 1 — mAP, macro-averaged over languages:
# XQuAD-R Mo., Cr., Mul., then MLQA-R Mo., Cr., Mul.
TABLE_1_DIGITS = 3
"""Decimals of Table 1 as printed; its shape (leaderboard headline, study report) keeps them."""
TABLE_1_COLUMNS = (
    ("xquad-r", "mono", "MAP"),
    ("xquad-r", "cross", "MAP"),
    ("xquad-r", "multi", "MAP"),
    ("mlqa-r", "mono", "MAP"),
    ("mlqa-r", "cross", "MAP"),
    ("mlqa-r", "multi", "MAP"),
)
TABLE_1 = """
XLM-R x-x-mono .792 .674 .547 .648 .584 .473
XLM-R x-y      .755 .700 .593 .626 .620 .508
XLM-R hybrid   .798 .705 .593 .648 .623 .512
LaBSE x-x-mono .808 .752 .652 .681 .656 .550
LaBSE x-y      .801 .762 .679 .671 .677 .576
LaBSE hybrid   .817 .767 .682 .686 .681 .579
"""

# Table 2 — language bias, mean rank distance (lower is better): XQuAD-R, MLQA-R.
TABLE_2_DIGITS = 0
"""Decimals of Table 2 as printed; its shape (leaderboard headline, study report) keeps them."""
TABLE_2_COLUMNS = (("xquad-r", "multi", "RD"), ("mlqa-r", "multi", "RD"))
TABLE_2 = """
XLM-R x-x-mono 410 288
XLM-R x-y      295 227
XLM-R hybrid   287 227
LaBSE x-x-mono 262 225
LaBSE x-y      225 198
LaBSE hybrid   221 195
"""

PER_LANGUAGE = (
    PaperTable(
        "3",
        "XLM-R on XQuAD-R, MAP",
        "xquad-r",
        ("XLM-R",),
        MAP_BLOCKS,
        """
        ar     0.7581 0.7318 0.7619 0.6064 0.6607 0.6564 0.487  0.5519 0.5416
        de     0.7893 0.7694 0.8033 0.6979 0.7147 0.7222 0.5653 0.6113 0.6133
        el     0.7749 0.7226 0.7844 0.6492 0.6791 0.683  0.5127 0.5638 0.5599
        en     0.8327 0.7892 0.8389 0.7247 0.7319 0.7473 0.5984 0.631  0.6436
        es     0.8019 0.7617 0.8089 0.7072 0.7178 0.7332 0.582  0.6123 0.6245
        hi     0.778  0.7461 0.787  0.641  0.6835 0.676  0.5171 0.5787 0.5666
        ru     0.802  0.7758 0.8125 0.694  0.7103 0.7186 0.5763 0.6076 0.6104
        th     0.7634 0.7312 0.7697 0.6623 0.6963 0.6978 0.5442 0.5862 0.5876
        tr     0.7801 0.7479 0.7913 0.6748 0.7013 0.7078 0.5524 0.6005 0.5989
        vi     0.8113 0.7624 0.8025 0.6742 0.6904 0.7017 0.5417 0.5817 0.5781
        zh     0.8178 0.771  0.8146 0.6795 0.7105 0.7144 0.5496 0.6023 0.5957
        Mean   0.7918 0.7554 0.7977 0.6737 0.6997 0.7053 0.5479 0.5934 0.5927
        """,
    ),
    PaperTable(
        "3 (cont.)",
        "XLM-R on XQuAD-R, R@1 (Mo./Cr.), R@10 (Mul.)",
        "xquad-r",
        ("XLM-R",),
        RECALL_BLOCKS,
        """
        ar     0.6596 0.6276 0.6639 0.4907 0.5463 0.5419 0.4272 0.4811 0.4722
        de     0.698  0.6726 0.7149 0.5883 0.6053 0.6148 0.4929 0.5308 0.5322
        el     0.6875 0.6166 0.6968 0.531  0.5666 0.5726 0.4495 0.4904 0.4923
        en     0.7523 0.6942 0.7582 0.62   0.6246 0.6447 0.5196 0.5445 0.5594
        es     0.7207 0.6624 0.7232 0.5986 0.6096 0.6287 0.5067 0.5303 0.5439
        hi     0.6881 0.6517 0.6999 0.5276 0.574  0.5664 0.4514 0.5043 0.4957
        ru     0.7108 0.6788 0.7277 0.5848 0.5994 0.6115 0.5047 0.5299 0.5323
        th     0.6703 0.6272 0.6729 0.5481 0.5875 0.5871 0.4781 0.5127 0.5141
        tr     0.69   0.6453 0.6959 0.5669 0.5932 0.6026 0.4825 0.5196 0.5219
        vi     0.7301 0.6599 0.7132 0.5631 0.5798 0.5949 0.4703 0.5038 0.5015
        zh     0.7307 0.6732 0.7282 0.5666 0.6011 0.6081 0.4806 0.523  0.5208
        Mean   0.7035 0.6554 0.7086 0.5623 0.5898 0.5976 0.4785 0.5155 0.5169
        """,
    ),
    PaperTable(
        "4",
        "XLM-R on MLQA-R, MAP",
        "mlqa-r",
        ("XLM-R",),
        MAP_BLOCKS,
        """
        ar     0.5973 0.577  0.6006 0.5351 0.5837 0.5787 0.4091 0.456  0.4602
        de     0.5915 0.5839 0.5999 0.6311 0.6531 0.6687 0.5095 0.532  0.5426
        en     0.7154 0.6932 0.7098 0.5771 0.6029 0.604  0.4733 0.5092 0.5143
        es     0.6829 0.6649 0.6809 0.6328 0.6528 0.6626 0.5468 0.5634 0.5751
        hi     0.6426 0.6155 0.6397 0.5529 0.6    0.6079 0.4425 0.4922 0.4949
        vi     0.6405 0.6165 0.6397 0.573  0.6122 0.6069 0.4638 0.4908 0.4898
        zh     0.662  0.628  0.6659 0.588  0.6352 0.6349 0.4668 0.5094 0.5081
        Mean   0.6475 0.6256 0.6481 0.5843 0.62   0.6234 0.4731 0.5076 0.5121
        """,
    ),
    PaperTable(
        "4 (cont.)",
        "XLM-R on MLQA-R, R@1 (Mo./Cr.), R@10 (Mul.)",
        "mlqa-r",
        ("XLM-R",),
        RECALL_BLOCKS,
        """
        ar     0.4971 0.4778 0.4952 0.4142 0.4639 0.4583 0.528  0.5817 0.5811
        de     0.4883 0.4785 0.498  0.5247 0.5394 0.5599 0.619  0.6462 0.6558
        en     0.6307 0.6028 0.6237 0.4648 0.4916 0.4939 0.5833 0.6222 0.619
        es     0.58   0.56   0.584  0.5174 0.5434 0.5587 0.651  0.6738 0.675
        hi     0.5404 0.5168 0.5325 0.4306 0.4746 0.4821 0.5656 0.6187 0.6264
        vi     0.544  0.5108 0.544  0.4536 0.4969 0.491  0.5752 0.6076 0.6058
        zh     0.5437 0.5079 0.5556 0.4706 0.5193 0.5295 0.589  0.6417 0.6344
        Mean   0.5463 0.5221 0.5476 0.468  0.5042 0.5105 0.5873 0.6274 0.6282
        """,
    ),
    PaperTable(
        "5",
        "LaBSE on XQuAD-R, MAP",
        "xquad-r",
        ("LaBSE",),
        MAP_BLOCKS,
        """
        ar     0.7901 0.7848 0.7963 0.7257 0.7351 0.7356 0.6218 0.6481 0.6453
        de     0.8152 0.8135 0.8222 0.7667 0.774  0.7799 0.6632 0.6916 0.6945
        el     0.8022 0.7991 0.8121 0.7483 0.7603 0.762  0.6473 0.6783 0.6783
        en     0.8464 0.8349 0.8536 0.7932 0.7915 0.8074 0.6952 0.7183 0.7278
        es     0.812  0.8186 0.8331 0.7724 0.781  0.7892 0.6726 0.7021 0.7074
        hi     0.796  0.7824 0.8121 0.7382 0.7459 0.7582 0.6398 0.6625 0.6731
        ru     0.8243 0.8194 0.8314 0.7643 0.7745 0.7784 0.6684 0.6945 0.6948
        th     0.7611 0.7371 0.7555 0.7123 0.7315 0.7294 0.6079 0.6377 0.6372
        tr     0.8086 0.794  0.8143 0.7541 0.7627 0.7691 0.655  0.6824 0.685
        vi     0.8136 0.8154 0.8285 0.7508 0.7646 0.7676 0.6506 0.6828 0.6809
        zh     0.8213 0.8096 0.8249 0.7451 0.759  0.7622 0.6464 0.672  0.6749
        Mean   0.8083 0.8008 0.8167 0.7519 0.7618 0.7672 0.6517 0.6791 0.6817
        """,
    ),
    PaperTable(
        "5 (cont.)",
        "LaBSE on XQuAD-R, R@1 (Mo./Cr.), R@10 (Mul.)",
        "xquad-r",
        ("LaBSE",),
        RECALL_BLOCKS,
        """
        ar     0.7001 0.695  0.7127 0.6257 0.6349 0.6367 0.5438 0.5657 0.5671
        de     0.7293 0.7276 0.7386 0.6695 0.6784 0.6861 0.5742 0.6074 0.609
        el     0.7162 0.7137 0.7255 0.6517 0.6649 0.668  0.5673 0.5918 0.5967
        en     0.77   0.7582 0.7784 0.6996 0.6983 0.7189 0.6023 0.6308 0.6348
        es     0.7266 0.7401 0.7603 0.6752 0.6889 0.699  0.5828 0.6176 0.6186
        hi     0.7025 0.6805 0.721  0.6396 0.6469 0.6623 0.5599 0.58   0.5905
        ru     0.7445 0.7378 0.7538 0.6636 0.677  0.6832 0.5823 0.6088 0.6066
        th     0.6703 0.6331 0.661  0.6108 0.6326 0.632  0.5322 0.5571 0.5594
        tr     0.7221 0.701  0.728  0.6561 0.6679 0.6733 0.5672 0.5971 0.5974
        vi     0.7276 0.7318 0.7487 0.6526 0.669  0.6732 0.5661 0.5979 0.5964
        zh     0.7392 0.718  0.7409 0.6452 0.6607 0.6684 0.5624 0.5882 0.5927
        Mean   0.7226 0.7124 0.7335 0.6536 0.6654 0.6728 0.5673 0.5948 0.5972
        """,
    ),
    PaperTable(
        "6",
        "LaBSE on MLQA-R, MAP",
        "mlqa-r",
        ("LaBSE",),
        MAP_BLOCKS,
        """
        ar     0.6293 0.6122 0.6283 0.6253 0.638  0.6441 0.5024 0.5271 0.5206
        de     0.6335 0.625  0.6405 0.6955 0.7095 0.7153 0.5756 0.5967 0.6013
        en     0.7347 0.7302 0.751  0.6534 0.6668 0.6733 0.5558 0.5787 0.5862
        es     0.7186 0.7052 0.7106 0.6912 0.7073 0.709  0.6037 0.6205 0.6235
        hi     0.6783 0.6894 0.694  0.6478 0.6707 0.6883 0.5517 0.5792 0.5885
        vi     0.6699 0.663  0.6883 0.626  0.6521 0.6465 0.5258 0.5517 0.5573
        zh     0.7009 0.6722 0.6924 0.6538 0.6926 0.6914 0.5375 0.5743 0.5721
        Mean   0.6807 0.671  0.6864 0.6561 0.6767 0.6811 0.5504 0.5755 0.5785
        """,
    ),
    PaperTable(
        "6 (cont.)",
        "LaBSE on MLQA-R, R@1 (Mo./Cr.), R@10 (Mul.)",
        "mlqa-r",
        ("LaBSE",),
        RECALL_BLOCKS,
        """
        ar     0.53   0.5106 0.5261 0.5145 0.5185 0.5359 0.6152 0.6438 0.6341
        de     0.5352 0.5234 0.5391 0.593  0.6021 0.6158 0.6886 0.7153 0.7153
        en     0.6376 0.6324 0.6672 0.546  0.5564 0.5682 0.6773 0.6976 0.6987
        es     0.618  0.6    0.602  0.5844 0.6012 0.6007 0.7263 0.7325 0.7358
        hi     0.5779 0.5878 0.6036 0.5371 0.5572 0.5845 0.6788 0.7081 0.7097
        vi     0.5636 0.5577 0.591  0.5054 0.542  0.5318 0.6523 0.668  0.6691
        zh     0.6071 0.5556 0.5873 0.5412 0.5853 0.5907 0.6572 0.7002 0.6959
        Mean   0.5813 0.5668 0.588  0.5459 0.5661 0.5754 0.6708 0.6951 0.6941
        """,
    ),
    PaperTable(
        "7",
        "average rank distance, XQuAD-R (multilingual setting)",
        "xquad-r",
        BACKBONES,
        RD_BLOCKS,
        """
        ar     552.8  371.5  376    332.4  279    285.4
        de     356.6  252.8  242.1  214.9  192    175.1
        el     431.6  307.8  311.9  251.3  224.4  228.4
        en     320    239.6  219    189.3  162.1  150
        es     371.4  264.5  267    235.4  210    188
        hi     505.6  368.5  351.7  299.8  250.8  255.6
        ru     367.9  271.7  245.6  226.5  195.5  189.3
        th     431.6  316.9  304.4  391.5  325.9  323.9
        tr     422.4  309    288.4  253.8  225.4  222.9
        vi     395    289.4  295.6  245.2  208.6  204.8
        zh     357.3  258.1  251.2  236.3  203.9  209
        Mean   410.2  295.4  286.6  261.5  225.2  221.1
        """,
    ),
    PaperTable(
        "8",
        "average rank distance, MLQA-R (multilingual setting)",
        "mlqa-r",
        BACKBONES,
        RD_BLOCKS,
        """
        ar     298.2  248.1  247    245.7  223.5  208.9
        de     248.4  219.7  211.5  204.1  179.9  194.7
        en     458.4  371.6  366.9  340.6  304    291.3
        es     179.7  146.7  135    152.6  145    143.6
        hi     275    200.1  199    204.8  186.1  160.6
        vi     296.6  213.2  223.4  225.2  194.6  205.5
        zh     255.9  187.4  207.2  204.4  155.1  160.7
        Mean   287.5  226.7  227.1  225.3  198.3  195
        """,
    ),
    PaperTable(
        "12",
        "XLM-R on MIRACL dev (monolingual), 15 languages",
        "miracl",
        ("XLM-R",),
        MIRACL_BLOCKS,
        """
        sw     0.3319 0.3531 0.3348 0.6478 0.6503 0.6416
        bn     0.5082 0.4442 0.4972 0.8738 0.8114 0.8621
        hi     0.4144 0.3758 0.4071 0.7863 0.741  0.7706
        ko     0.4364 0.4098 0.4261 0.7881 0.7204 0.783
        th     0.5351 0.5072 0.5116 0.8727 0.8655 0.8564
        te     0.5407 0.4511 0.4843 0.8671 0.7937 0.8366
        fi     0.4658 0.5154 0.4791 0.8119 0.845  0.8224
        ja     0.4294 0.4016 0.4189 0.7987 0.7786 0.804
        es     0.2994 0.3098 0.2989 0.62   0.6237 0.624
        fr     0.273  0.3044 0.2833 0.6968 0.7171 0.6674
        ru     0.3317 0.3669 0.3444 0.6763 0.7169 0.6862
        zh     0.3873 0.3438 0.3627 0.7983 0.7465 0.797
        fa     0.4113 0.37   0.3937 0.786  0.7512 0.7958
        ar     0.5403 0.4998 0.5203 0.8693 0.8152 0.8629
        id     0.317  0.3363 0.3185 0.631  0.6539 0.6327
        Mean   0.4148 0.3993 0.4054 0.7683 0.7487 0.7628
        Median 0.4144 0.3758 0.4071 0.7881 0.7465 0.7958
        """,
    ),
    PaperTable(
        "13",
        "LaBSE on MIRACL dev (monolingual), 15 languages",
        "miracl",
        ("LaBSE",),
        MIRACL_BLOCKS,
        """
        sw     0.5076 0.4883 0.4896 0.8561 0.8177 0.8265
        bn     0.5598 0.5155 0.5337 0.9194 0.8881 0.9048
        hi     0.4325 0.3999 0.4381 0.7961 0.7655 0.7959
        ko     0.4589 0.3963 0.4386 0.8253 0.7441 0.7903
        th     0.5738 0.5285 0.5449 0.9013 0.8591 0.8585
        te     0.5658 0.5013 0.5343 0.8768 0.8366 0.8458
        fi     0.5327 0.506  0.5062 0.8631 0.8387 0.8303
        ja     0.4333 0.3834 0.4027 0.822  0.7574 0.7884
        es     0.3366 0.323  0.3396 0.6914 0.6594 0.6821
        fr     0.3042 0.3124 0.3317 0.7472 0.7444 0.7448
        ru     0.3839 0.3541 0.363  0.7421 0.7091 0.7132
        zh     0.3768 0.3431 0.3912 0.7651 0.7628 0.7925
        fa     0.4252 0.3777 0.4116 0.8103 0.7815 0.8189
        ar     0.5783 0.5114 0.5391 0.8951 0.8403 0.8733
        id     0.3572 0.3357 0.3522 0.6688 0.648  0.6656
        Mean   0.4551 0.4184 0.4411 0.812  0.7768 0.7954
        Median 0.4333 0.3963 0.4381 0.822  0.7655 0.7959
        """,
    ),
)


def headline_rows(text: str) -> dict[tuple[str, str], tuple[float, ...]]:
    """Table 1 or 2 as {(backbone, regime): values}."""
    rows = {}
    for line in text.strip().splitlines():
        backbone, regime, *values = line.split()
        rows[(backbone, regime)] = tuple(map(float, values))
    return rows


@cache
def published_scores() -> tuple[Scores, ...]:
    """The paper's numbers as scores of each system (backbone, regime) per task, paper order."""
    by_language: dict[tuple[str, str, str], dict] = {}
    summary: dict[tuple[str, str, str], dict] = {}
    languages: dict[tuple[str, str, str], list[str]] = {}
    for table in PER_LANGUAGE:
        for label, values in table.rows().items():
            for (setting, measure, backbone, regime), value in zip(table.columns, values):
                key = (backbone, regime, table.task)
                if label in FOOTERS:
                    target = summary.setdefault(key, {}).setdefault(FOOTERS[label], {})
                    target.setdefault(setting, {})[measure] = value
                else:
                    target = by_language.setdefault(key, {}).setdefault(setting, {})
                    target.setdefault(measure, {})[label] = value
                    if label not in languages.setdefault(key, []):
                        languages[key].append(label)
    headline: dict[tuple[str, str, str], dict] = {}
    for text, columns in ((TABLE_1, TABLE_1_COLUMNS), (TABLE_2, TABLE_2_COLUMNS)):
        for (backbone, regime), values in headline_rows(text).items():
            for (task, setting, measure), value in zip(columns, values):
                target = headline.setdefault((backbone, regime, task), {})
                target.setdefault(setting, {})[measure] = value
    return tuple(
        Scores(
            system=System(source=SOURCE, base_model=backbone, regime=regime, model=backbone),
            task=task,
            family=family,
            signature=(("published", CITATION),),
            languages=tuple(languages[(backbone, regime, task)]),
            by_language=by_language[(backbone, regime, task)],
            summary=summary[(backbone, regime, task)],
            headline=headline.get((backbone, regime, task), {}),
        )
        for task, family in TASKS.items()
        for backbone in BACKBONES
        for regime in REGIMES
    )


def reference_task(task: str, family: str) -> str:
    """The paper's task a measured task corresponds to: its own name, or MIRACL (dev) by family."""
    return "miracl" if family == "miracl" and not task.endswith("/train") else task


def reference_for(task: str, family: str) -> tuple[Scores, ...]:
    return tuple(s for s in published_scores() if s.task == reference_task(task, family))


def paper_tables(task: str) -> tuple[PaperTable, ...]:
    return tuple(t for t in PER_LANGUAGE if t.task == task)
