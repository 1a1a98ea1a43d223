"""What an inconclusive verdict needs: the minimum detectable difference at 80 % power with the
study's seeds and topics, and how many seeds would detect the observed difference.

A verdict settles when both of its 95 % intervals clear the nearest *boundary* of the rule: 0 for
a claim that one regime is better, the nearer edge of ±tolerance for a claim of sameness (≈).
What must be detected is the distance of the observed difference from that boundary. Each
interval is read as a two-sided t-test at 5 % (``xret.measures.power``):

- seeds: n paired seeds with per-seed differences of standard deviation s detect, with 80 %
  power, a distance of δ*(n) · s;
- topics: T question ids whose bootstrap draws have standard deviation se (the standard error
  of the macro difference) detect δ*(T) · se · √T (≈ 2.8 se for a thousand topics).

The verdict's minimum detectable difference is the larger of the two. Seeds needed: the smallest
n with 80 % power at the observed distance and the observed s — assuming s stays as it is, and
only where the topic interval already detects that distance (else more seeds do not settle it).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from xret.measures.power import detectable_effect, observations_needed
from xret.study.claims import Verdict


@dataclass(frozen=True)
class Needs:
    distance: float
    """|observed difference − nearest boundary|: what must be detected."""
    seeds: int
    detectable_seeds: float | None
    """Minimum detectable distance over seeds (None with one seed)."""
    detectable_topics: float
    seeds_needed: int | None
    """None: not with the seed interval alone (one seed, or the topics cannot detect it)."""

    @property
    def detectable(self) -> float | None:
        """The verdict's minimum detectable distance: both intervals must detect it."""
        if self.detectable_seeds is None:
            return None
        return max(self.detectable_seeds, self.detectable_topics)


def needs(verdict: Verdict) -> Needs:
    d = verdict.difference
    if verdict.tolerance is None:
        distance = abs(d)
    else:
        distance = min(abs(d - verdict.tolerance), abs(d + verdict.tolerance))
    T = verdict.topic_count
    topics = detectable_effect(T) * verdict.topic_se * math.sqrt(T)
    n = len(verdict.per_seed)
    if n < 2:
        return Needs(distance, n, None, topics, None)
    sd = statistics.stdev(verdict.per_seed)
    by_seeds = detectable_effect(n) * sd
    needed = None
    if topics <= distance:
        needed = observations_needed(distance / sd) if sd > 0 else n
    return Needs(distance, n, by_seeds, topics, needed)
