"""The paper's claims (protocol.md §5.2) and the statistics that judge them, kept apart from
how they are shown: the rule, its tolerances and its intervals are the study's answer."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xret import defaults
from xret.baselines.samplers import Sampling
from xret.measures.bootstrap import percentile_interval
from xret.measures.table import BIAS_PANEL, PANEL_BEYOND_PAPER, parse_measure
from xret.study.runs import Run, group_runs, mean_sd, per_query
from xret.study.spec import Arm

SAME_MAP = 0.005  # protocol.md §5.2: "Hybrid ≈ X-Y on Mul. (within ±0.005 mAP)"
SAME_RD = 0.05  # ≈ for rank distance: within 5 % of the baseline's value (the paper gives none)
LEVEL = f"{100 * defaults.CONFIDENCE:g} %"
VERDICT_RULE = (
    f"A claim that one regime is better is reproduced when both {LEVEL} intervals of the "
    "difference (over topics, over seeds) lie above 0, not reproduced when both lie below 0, and "
    "inconclusive otherwise. A claim that two regimes are the same (≈) is reproduced when both "
    f"intervals lie within the tolerance (±{SAME_MAP} MAP; ±{SAME_RD:.0%} of the baseline's rank "
    "distance), not reproduced when both lie outside it on one side, and inconclusive otherwise. "
    "With one seed only the topic interval is used. Topic intervals: percentile bootstrap over "
    f"question ids ({defaults.CI_RESAMPLES} resamples, seed {defaults.SEED}) of the seed-averaged "
    "per-query differences, aggregated as the records are (cell mean, then mean per query "
    "language, then the macro mean). Seed intervals: Student t over the per-seed differences of "
    "the macro values."
)
HYBRID = Arm(Sampling.HYBRID, defaults.HYBRID_ALPHA)
XX = Arm(Sampling.X_X_MONO)
XY = Arm(Sampling.X_Y)


@dataclass(frozen=True)
class Claim:
    text: str
    setting: str
    measure: str
    better: Arm
    worse: Arm
    same: bool = False
    """True: the claim is that the two are the same within the tolerance."""
    tolerance: float = SAME_MAP
    """How far apart "the same" may be: in the measure's units, or ``relative`` to the worse
    regime's value."""
    relative: bool = False


CLAIMS = (
    Claim("Hybrid ≥ X-X-mono on Mo. (MAP)", "mono", "MAP", HYBRID, XX),
    Claim("Hybrid ≥ X-Y on Cr. (MAP)", "cross", "MAP", HYBRID, XY),
    Claim("Hybrid ≈ X-Y on Mul. (MAP, ±0.005)", "multi", "MAP", HYBRID, XY, same=True),
    Claim("Hybrid > X-X-mono on Mul. (MAP)", "multi", "MAP", HYBRID, XX),
    Claim("X-Y > X-X-mono on Mul. (MAP)", "multi", "MAP", XY, XX),
    Claim("rank distance: X-X-mono ≫ X-Y (Mul. RD)", "multi", "RD", XY, XX),
    Claim(
        "rank distance: X-Y ≈ Hybrid (Mul. RD, ±5 %)",
        "multi",
        "RD",
        HYBRID,
        XY,
        same=True,
        tolerance=SAME_RD,
        relative=True,
    ),
)
PANEL_RULE = (
    "Bias panel: the two rank-distance claims asked of every other bias measure the runs hold "
    "(docs/bias.md), each in its own direction, by the same rule; ≈ within ±5 % of the "
    f"baseline's value for measures on a rank scale (nRD, FirstOther), ±{SAME_MAP} for shares, "
    "p-values and correlations. Runs without a measure (records from before the panel) are left "
    "out of its claims."
)


def panel_measures(runs: Sequence[Run]) -> list[str]:
    """The bias-panel measures (beyond RD) some run holds, in the measure table's order."""
    held = {m for r in runs for m in r.record.summary.get("macro", {}).get("multi", {})}
    return sorted(
        (m for m in held if parse_measure(m).name in PANEL_BEYOND_PAPER),
        key=lambda m: (BIAS_PANEL.index(parse_measure(m).name), m),
    )


def panel_claims(runs: Sequence[Run]) -> tuple[Claim, ...]:
    """The rank-distance claims asked of each bias-panel measure some run holds (beyond RD)."""
    panel = panel_measures(runs)
    return tuple(
        claim
        for m in panel
        for claim in (
            Claim(f"bias: X-X-mono ≫ X-Y (Mul. {m})", "multi", m, XY, XX),
            Claim(
                f"bias: X-Y ≈ Hybrid (Mul. {m})",
                "multi",
                m,
                HYBRID,
                XY,
                same=True,
                tolerance=SAME_RD if parse_measure(m).family.rank_scale else SAME_MAP,
                relative=parse_measure(m).family.rank_scale,
            ),
        )
    )


@dataclass(frozen=True)
class Verdict:
    base: str
    task: str
    claim: Claim
    difference: float
    topics: tuple[float, float]
    seeds: tuple[float, float] | None
    verdict: str
    per_seed: tuple[float, ...] = ()
    """The per-seed differences the seed interval is computed from."""
    topic_se: float = 0.0
    """Standard deviation of the topic bootstrap's draws: the topic interval's standard error."""
    topic_count: int = 0
    tolerance: float | None = None
    """Claims of sameness (≈): the tolerance of the difference; else None."""


def verdicts(runs: Sequence[Run]) -> list[Verdict]:
    groups = group_runs(runs)
    out = []
    for task, base in sorted({(r.task, r.base) for r in runs}):
        for claim in CLAIMS + panel_claims(runs):
            better = groups.get((task, base, claim.better), [])
            worse = groups.get((task, base, claim.worse), [])
            if better and worse:
                found = _verdict(task, base, claim, better, worse)
                if found is not None:
                    out.append(found)
    return out


def _verdict(task, base, claim: Claim, better: list[Run], worse: list[Run]) -> Verdict | None:
    sign = 1.0 if parse_measure(claim.measure).higher_is_better else -1.0
    pairs = [  # runs recorded before a measure existed are left out of its claims
        (b, w)
        for b, w in _paired(better, worse)
        if b.macro(claim.setting, claim.measure) is not None
        and w.macro(claim.setting, claim.measure) is not None
    ]
    per_seed = [
        sign * (b.macro(claim.setting, claim.measure) - w.macro(claim.setting, claim.measure))
        for b, w in pairs
    ]
    if not per_seed:
        return None
    worse = [w for _, w in pairs]
    difference = statistics.fmean(per_seed)
    draws, topic_count = topic_draws(pairs, claim.setting, claim.measure)
    topics = tuple(sign * v for v in percentile(draws))
    topics = (min(topics), max(topics))
    seeds = seed_interval(per_seed)
    tolerance = claim.tolerance
    if claim.relative:
        tolerance *= statistics.fmean(w.macro(claim.setting, claim.measure) for w in worse)
    intervals = [topics] + ([seeds] if seeds is not None else [])
    return Verdict(
        base,
        task,
        claim,
        difference,
        topics,
        seeds,
        _decide(intervals, tolerance if claim.same else None),
        tuple(per_seed),
        float(np.nanstd(draws)),
        topic_count,
        tolerance if claim.same else None,
    )


@dataclass(frozen=True)
class Disagreement:
    """One claim asked of several bias measures: which measure gives which verdict."""

    base: str
    task: str
    claim: str
    by_verdict: dict[str, tuple[str, ...]]
    """verdict -> the measures that give it."""

    @property
    def disagree(self) -> bool:
        return len(self.by_verdict) > 1


def disagreements(found: Sequence[Verdict]) -> list[Disagreement]:
    """Per claim of the bias panel (RD included), the measures grouped by their verdict."""
    grouped: dict[tuple, dict[str, list[str]]] = {}
    for v in found:
        if parse_measure(v.claim.measure).name not in BIAS_PANEL:
            continue
        kind = ("≈" if v.claim.same else "≫", v.claim.better, v.claim.worse)
        by = grouped.setdefault((v.base, v.task, kind), {})
        by.setdefault(v.verdict, []).append(v.claim.measure)
    return [
        Disagreement(
            base,
            task,
            "X-Y ≈ Hybrid" if kind[0] == "≈" else "X-X-mono ≫ X-Y (more biased)",
            {verdict: tuple(ms) for verdict, ms in sorted(by.items())},
        )
        for (base, task, kind), by in grouped.items()
        if sum(map(len, by.values())) > 1
    ]


def _decide(intervals: Sequence[tuple[float, float]], tolerance: float | None) -> str:
    if tolerance is None:
        if all(lo > 0 for lo, _ in intervals):
            return "reproduced"
        if all(hi < 0 for _, hi in intervals):
            return "not reproduced"
        return "inconclusive"
    if all(-tolerance <= lo and hi <= tolerance for lo, hi in intervals):
        return "reproduced"
    if all(lo > tolerance for lo, _ in intervals) or all(hi < -tolerance for _, hi in intervals):
        return "not reproduced"
    return "inconclusive"


def _paired(better: list[Run], worse: list[Run]) -> list[tuple[Run, Run]]:
    """Runs of equal seeds side by side (a seed missing on one side is left out)."""
    by_seed = {r.seed: r for r in worse}
    return [(b, by_seed[b.seed]) for b in sorted(better, key=lambda r: r.seed) if b.seed in by_seed]


def seed_interval(values: Sequence[float]) -> tuple[float, float] | None:
    if len(values) < 2:
        return None
    from scipy.stats import t

    mean, sd = mean_sd(values)
    half = t.ppf((1 + defaults.CONFIDENCE) / 2, len(values) - 1) * sd / math.sqrt(len(values))
    return mean - half, mean + half


def percentile(draws: np.ndarray) -> tuple[float, float]:
    low, high = percentile_interval(draws, defaults.CONFIDENCE)
    return float(low), float(high)


def topic_draws(
    pairs: Sequence[tuple[Run, Run]], setting: str, measure: str
) -> tuple[np.ndarray, int]:
    """The bootstrap draws over question ids of the macro difference (better − worse), and the
    number of question ids."""
    import pandas as pd

    differences = []
    for better, worse in pairs:
        a, b = (per_query(run, setting, measure) for run in (better, worse))
        differences.append((a - b).dropna())
    diff = pd.concat(differences, axis=1).mean(axis=1).rename("d").reset_index()
    diff["topic"] = diff["query_id"].str.split("/", n=1).str[-1]
    topics = {t: i for i, t in enumerate(sorted(diff["topic"].unique()))}
    cells = {
        c: i for i, c in enumerate(sorted(set(zip(diff["query_language"], diff["pool_language"]))))
    }
    values = np.zeros((len(cells), len(topics)))
    present = np.zeros_like(values)
    rows = [cells[c] for c in zip(diff["query_language"], diff["pool_language"])]
    cols = [topics[t] for t in diff["topic"]]
    np.add.at(values, (rows, cols), diff["d"].to_numpy())
    np.add.at(present, (rows, cols), 1.0)
    rng = np.random.default_rng(defaults.SEED)
    weights = rng.multinomial(
        len(topics), np.full(len(topics), 1 / len(topics)), size=defaults.CI_RESAMPLES
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        cell_means = (weights @ values.T) / (weights @ present.T)
    languages = sorted({q for q, _ in cells})
    per_language = np.stack(
        [
            np.nanmean(cell_means[:, [i for (q, _), i in cells.items() if q == lang]], axis=1)
            for lang in languages
        ],
        axis=1,
    )
    return np.nanmean(per_language, axis=1), len(topics)
