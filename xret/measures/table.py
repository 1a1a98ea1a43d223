"""The measure table: every measure declared once (who computes it, direction, digits, which
settings it applies to), and measures as values parsed from strings (``MAP``, ``R@10``,
``nDCG@10``, ``RD``). Standard measures are pytrec_eval's (xret.measures.trec, or its own
arithmetic on relevant ranks: xret.measures.trec_formulas, held to it bit for bit by tests); only
the language-bias measure (xret.measures.bias) is xret's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from xret.errors import UnknownNameError, XretError


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
    """Defined on the multilingual pool only (rank distance)."""
    about: str = ""


FAMILIES: dict[str, Family] = {
    "MAP": Family("map"),
    "MRR": Family("recip_rank"),
    "R": Family("recall", cutoff=True),
    "Hit": Family("success", cutoff=True),
    "nDCG": Family("ndcg_cut", cutoff=True),
    "P": Family("P", cutoff=True),
    "RD": Family(
        None,
        digits=1,
        higher_is_better=False,
        multilingual_only=True,
        about="rank distance: last minus first rank of a query's relevant candidates",
    ),
}
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
    if cutoff is not None and not 1 <= cutoff <= MAX_CUTOFF:
        raise XretError(f"measure {text!r}: the cutoff must be between 1 and {MAX_CUTOFF:,}")
    return Measure(name, cutoff)


def parse_measures(texts: Iterable[str]) -> tuple[Measure, ...]:
    return tuple(dict.fromkeys(parse_measure(t) for t in texts))
