"""The measure table: every measure declared once (who computes it, direction, digits, which
settings it applies to, what it reads), and measures as values parsed from strings (``MAP``,
``R@10``, ``nDCG@10``, ``RD``). Standard measures are pytrec_eval's (xret.measures.trec, or its
own arithmetic on relevant ranks: xret.measures.trec_formulas, held to it bit for bit by tests);
only the language-bias measures (xret.measures.bias, docs/bias.md) are xret's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from xret.errors import UnknownNameError, XretError


class Needs(StrEnum):
    """What a measure reads of a cell's ranking (the evaluation keeps no more than asked)."""

    RANKS = "relevant ranks"
    """The ranks of the query's relevant candidates (every trec_eval measure, RD)."""
    POOLED = "pooled ranking with languages"
    """Also each pool candidate's language and, as far as ``Family.top`` says, the top of the
    pooled ranking (bias panel)."""
    PARALLEL = "parallel queries' rankings"
    """The top of the rankings of the same question asked in other languages, same pool."""


class Top(StrEnum):
    """How far down a query's ranking a measure reads, beyond its relevant candidates' ranks."""

    NONE = "relevant ranks only"
    FIRST = "the first candidate"
    CUTOFF = "the first k candidates"


class Truncation(StrEnum):
    """When a measure's value is defined for a run cut at some depth, where a relevant candidate
    the run lacks ranks below every cutoff (``xret score``)."""

    ALWAYS = "always"
    """Such a candidate is simply not found in any top k."""
    ALL_RANKED = "every relevant candidate retrieved, in two languages or more"
    """The value reads every relevant rank (rank distance)."""
    RANK_RETRIEVED = "the rank it gives lies within the run"
    """The value is itself a rank, known only if the run reaches it."""


@dataclass(frozen=True)
class Family:
    """What a measure name means, declared once: who computes it, how it is shown, which way is
    better. Adding a measure touches this table only."""

    trec: str | None
    """The pytrec_eval measure family; None for a measure written by hand here."""
    cutoff: bool = False
    """Takes ``@k``."""
    rank_based: bool = True
    """Its value depends only on where a query's relevant documents rank. Exhaustive cells are
    scored from those ranks alone (xret.measures.trec_formulas, or pytrec_eval through qrels
    padded with placeholder documents: xret.measures.ranks.rank_run), which is right for
    these measures only; bpref, infAP or graded nDCG would need the real run."""
    digits: int = 4
    """Decimals shown in tables."""
    higher_is_better: bool = True
    multilingual_only: bool = False
    """Defined on the multilingual pool only (the bias panel)."""
    needs: Needs = Needs.RANKS
    per_candidate_language: bool = False
    """One value per query and candidate language: recorded in cells (multi, query language,
    candidate language) beside the pooled cell, the query-language x candidate-language matrix
    that ``xret heatmap`` draws; by language and in summaries, the mean over those cells."""
    top: Top = Top.NONE
    """How much of the ranking it reads (``Measure.depth``): what the evaluation keeps of a
    pooled ranking, and which queries of a shorter run ``xret score`` leaves out."""
    truncation: Truncation = Truncation.ALWAYS
    min_cutoff: int = 1
    reads_query_language: bool = False
    """Reads the query's language (a run scored elsewhere needs ``--query-lang``)."""
    rank_scale: bool = False
    """Its values are ranks or ratios of ranks, unbounded, not shares in [0, 1]: "about the same"
    is then a share of the value (the study's ≈ claims), not a fixed difference."""
    cross_judged: bool = False
    """Reads where a query's relevant candidates in several languages rank (their spread, or
    those in other languages than the query's): undefined where a query's judgements are all in
    its own language (a pooled MIRACL-format task, docs/bias.md)."""
    about: str = ""


def _panel(about: str, *, lower_is_better: bool = True, digits: int = 3, **declared) -> Family:
    """A bias-panel measure (docs/bias.md): written by hand (xret.measures.bias), defined on the
    multilingual pool only; most are shares shown to 3 decimals, where lower is less biased."""
    return Family(
        None,
        digits=digits,
        higher_is_better=not lower_is_better,
        multilingual_only=True,
        about=about,
        **declared,
    )


_QUERY_LANGUAGE = {"needs": Needs.POOLED, "reads_query_language": True}
"""Reads which candidates share the query's language."""
_TOP_K = {"needs": Needs.POOLED, "cutoff": True, "top": Top.CUTOFF}
"""Reads the first k candidates of the pooled ranking."""

FAMILIES: dict[str, Family] = {
    "MAP": Family("map"),
    "MRR": Family("recip_rank"),
    "R": Family("recall", cutoff=True),
    "Hit": Family("success", cutoff=True),
    "nDCG": Family("ndcg_cut", cutoff=True),
    "P": Family("P", cutoff=True),
    "RD": _panel(
        "rank distance: last minus first rank of a query's relevant candidates",
        digits=1,
        truncation=Truncation.ALL_RANKED,
        cross_judged=True,
        rank_scale=True,
    ),
    "nRD": _panel(
        "rank distance over its expectation under a random ranking (1 = random)",
        truncation=Truncation.ALL_RANKED,
        cross_judged=True,
        rank_scale=True,
    ),
    "HitGap": _panel(
        "Hit@k - R@k: one relevant candidate found in the top k, the others not",
        cutoff=True,
        cross_judged=True,
    ),
    "FirstOther": _panel(
        "rank of the first relevant candidate in another language than the query's",
        digits=1,
        truncation=Truncation.RANK_RETRIEVED,
        cross_judged=True,
        rank_scale=True,
        **_QUERY_LANGUAGE,
    ),
    "Same": _panel("share of the top k in the query's language", **_TOP_K | _QUERY_LANGUAGE),
    "Excess": _panel(
        "same-language share of the top k minus the pool's share of that language",
        **_TOP_K | _QUERY_LANGUAGE,
    ),
    "PEER": _panel(
        "PEER (Yang et al. 2024): Kruskal-Wallis p of ranks by language, per level",
        lower_is_better=False,
        **_TOP_K,
    ),
    # The top-1 outcome split: right answers are better, wrong ones worse, in either language.
    **{
        f"{right}{same}": _panel(
            f"top-1 candidate {right_text} in {same_text}",
            lower_is_better=right == "Wrong",
            top=Top.FIRST,
            **_QUERY_LANGUAGE,
        )
        for right, right_text in (("Right", "relevant and"), ("Wrong", "not relevant,"))
        for same, same_text in (("Same", "the query's language"), ("Other", "another language"))
    },
    "LangR": _panel(
        "R@k of the relevant candidates of one candidate language, pooled ranking",
        lower_is_better=False,
        digits=4,
        cutoff=True,
        needs=Needs.POOLED,
        per_candidate_language=True,
        cross_judged=True,
    ),
    "Consist": _panel(
        "Spearman rho of the top k of a query and its parallel query in another language",
        lower_is_better=False,
        min_cutoff=2,
        per_candidate_language=True,
        **_TOP_K | _QUERY_LANGUAGE | {"needs": Needs.PARALLEL},
    ),
}
BIAS_PANEL = tuple(name for name, family in FAMILIES.items() if family.multilingual_only)
"""The language-bias measures (families), in the order tables show them."""
PANEL_BEYOND_PAPER = tuple(name for name in BIAS_PANEL if name != "RD")
"""The bias measures shown in a panel of their own: all but the paper's rank distance, which has
its Table 2 headline."""
BIAS_PANEL_DEFAULT = (
    *("nRD", "Excess@10", "PEER@10", "FirstOther", "HitGap@10", "Same@10"),
    *("RightSame", "RightOther", "WrongSame", "WrongOther", "LangR@10", "Consist@10"),
)
"""The panel every pooled task computes by default, beside RD (cutoff 10, as R@10)."""
CROSS_JUDGED = (
    "needs relevant candidates in several languages (a pooled corpus task judges the query "
    "language's passages only)"
)
PARALLEL = "needs parallel queries (the same question asked in other languages, same pool)"


def pooled_corpus_gap(m: Measure) -> str | None:
    """Why ``m`` is undefined on a pool of corpora whose queries are judged in their own language
    only and ranked top-k (a pooled MIRACL-format task), None where it is defined: trec_eval's
    measures and the panel measures that read only the pooled top k and each passage's
    language."""
    family = m.family
    if family.cross_judged:
        return CROSS_JUDGED
    if family.needs is Needs.PARALLEL:
        return PARALLEL
    return None


_PATTERN = re.compile(r"^(?P<name>[A-Za-z]+)(?:@(?P<cutoff>[0-9]+))?$")
MAX_CUTOFF = 1_000_000
"""Deeper than any ranking xret writes; trec_eval aborts (SIGABRT) on a cutoff of 0."""


@dataclass(frozen=True, order=True)
class Measure:
    name: str
    cutoff: int | None = None

    def __str__(self) -> str:
        return self.name if self.cutoff is None else f"{self.name}@{self.cutoff}"

    @property
    def family(self) -> Family:
        return FAMILIES[self.name]

    @property
    def is_trec(self) -> bool:
        return self.family.trec is not None

    @property
    def trec_key(self) -> str:
        """The key of this measure in pytrec_eval's output."""
        family = self.family.trec
        return family if self.cutoff is None else f"{family}_{self.cutoff}"

    @property
    def higher_is_better(self) -> bool:
        return self.family.higher_is_better

    @property
    def digits(self) -> int:
        return self.family.digits

    @property
    def depth(self) -> int:
        """How many of a query's best-ranked candidates the measure reads (0: its relevant
        ranks, with their languages, suffice)."""
        return {Top.NONE: 0, Top.FIRST: 1, Top.CUTOFF: self.cutoff or 0}[self.family.top]


def measure_digits(text: str) -> int:
    """Decimals a table shows for the measure named ``text``."""
    return parse_measure(text).digits


def parse_measure(text: str) -> Measure:
    match = _PATTERN.match(text.strip())
    names = {k.lower(): k for k in FAMILIES}
    name = names.get(match["name"].lower()) if match else None
    if name is None:
        known = [f"{k}@k" if f.cutoff else k for k, f in FAMILIES.items()]
        raise UnknownNameError("measure", text, known)
    cutoff = int(match["cutoff"]) if match["cutoff"] else None
    takes_cutoff = FAMILIES[name].cutoff
    if takes_cutoff != (cutoff is not None):
        form = f"{name}@k" if takes_cutoff else name
        raise UnknownNameError("measure", text, [form])
    least = FAMILIES[name].min_cutoff
    if cutoff is not None and not least <= cutoff <= MAX_CUTOFF:
        raise XretError(f"measure {text!r}: the cutoff must be between {least} and {MAX_CUTOFF:,}")
    return Measure(name, cutoff)


def parse_measures(texts: Iterable[str]) -> tuple[Measure, ...]:
    return tuple(dict.fromkeys(parse_measure(t) for t in texts))
