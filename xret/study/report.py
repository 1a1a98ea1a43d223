"""``xret study report``: the study's answer as Markdown and self-contained HTML, from its stored
records only (nothing runs a model).

- Table 1 and 2 shapes: macro MAP per setting and multilingual rank distance, mean ± sd over
  seeds, with each regime's rank;
- each claim of protocol.md §5.2 as a row: the measured difference, a 95 % interval over topics
  and one over seeds, and a verdict by the rule in ``claims.VERDICT_RULE``;
- for each inconclusive verdict, what would settle it (``needs``);
- the figures (``figures``) and the language pairs that move most (low-resource ones marked).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from xret import defaults
from xret.io import atomic_write_bytes, atomic_write_text
from xret.leaderboards.published import TABLE_1_DIGITS, TABLE_2_DIGITS
from xret.leaderboards.table import Column, Document, Table, render_markdown
from xret.measures.table import parse_measure
from xret.study.claims import (
    CLAIMS,
    HYBRID,
    LEVEL,
    PANEL_RULE,
    VERDICT_RULE,
    XX,
    XY,
    Disagreement,
    Verdict,
    disagreements,
    panel_measures,
    verdicts,
)
from xret.study.figures import figures
from xret.study.needs import needs
from xret.study.runs import SETTINGS, Run, cell_means, collect_runs, group_runs, mean_sd
from xret.study.spec import Arm, Study

POWER = f"{100 * defaults.POWER:g} %"
ALPHA = f"{100 * defaults.ALPHA:g} %"
# Languages with the least training data and the weakest scores of the protocol's tasks.
LOW_RESOURCE = frozenset({"ar", "el", "hi", "sw", "th", "tr", "vi"})


def _text(values: Sequence[float], digits: int) -> str:
    mean, sd = mean_sd(values)
    return f"{mean:.{digits}f}" if sd is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _arm_label(arm: Arm | None) -> str:
    return "untrained" if arm is None else arm.label


def shape_tables(runs: Sequence[Run]) -> tuple[Table, Table]:
    """Table 1 (MAP per setting) and Table 2 (Mul. rank distance) shapes, rank in brackets."""
    groups = group_runs(runs)
    tasks = sorted({r.task for r in runs})
    systems = sorted(
        {(r.base, r.arm) for r in runs},
        key=lambda s: (s[0], s[1] is not None, s[1].order if s[1] else ()),
    )

    def table(title: str, measure: str, settings: Sequence[tuple[str, str]], digits: int) -> Table:
        higher = parse_measure(measure).higher_is_better
        columns = [Column("base model"), Column("regime"), Column("seeds")]
        columns += [Column(label, group=task) for task in tasks for _, label in settings]
        means: dict[tuple, float] = {}
        for (task, base, arm), members in groups.items():
            for setting, _ in settings:
                values = [v for r in members if (v := r.macro(setting, measure)) is not None]
                if values:
                    means[(task, base, arm, setting)] = statistics.fmean(values)
        rows = []
        for base, arm in systems:
            members = groups.get((tasks[0], base, arm), [])
            row: list = [Path(base).name, _arm_label(arm), str(len(members))]
            for task in tasks:
                for setting, _ in settings:
                    runs_here = groups.get((task, base, arm), [])
                    values = [v for r in runs_here if (v := r.macro(setting, measure)) is not None]
                    if not values:
                        row.append(None)
                        continue
                    rivals = sorted(
                        (
                            v
                            for (t, b, _a, s), v in means.items()
                            if t == task and b == base and s == setting
                        ),
                        reverse=higher,
                    )
                    rank = rivals.index(means[(task, base, arm, setting)]) + 1
                    row.append(f"{_text(values, digits)} ({rank})")
            rows.append(tuple(row))
        return Table(
            title,
            tuple(columns),
            tuple(rows),
            notes=("mean ± sd over seeds; (n) = rank among the regimes of one base model",),
        )

    return (
        table("MAP, macro average over languages (Table 1 shape)", "MAP", SETTINGS, TABLE_1_DIGITS),
        table(
            "Language bias: rank distance, Mul., lower is better (Table 2 shape)",
            "RD",
            (("multi", "Mul."),),
            TABLE_2_DIGITS,
        ),
    )


def panel_table(runs: Sequence[Run]) -> Table | None:
    """Every bias-panel measure per regime (Mul., macro), mean ± sd over the seeds that hold it,
    ranked among the regimes of one base model in the measure's direction: (1) is the regime
    that measure calls least biased. None when no run holds the panel."""
    measures = panel_measures(runs)
    if not measures:
        return None
    groups = group_runs(runs)
    tasks = sorted({r.task for r in runs})
    systems = sorted(
        {(r.base, r.arm) for r in runs},
        key=lambda s: (s[0], s[1] is not None, s[1].order if s[1] else ()),
    )
    values = {
        (task, base, arm, m): found
        for task in tasks
        for base, arm in systems
        for m in measures
        if (
            found := [
                v
                for r in groups.get((task, base, arm), [])
                if (v := r.macro("multi", m)) is not None
            ]
        )
    }
    rows = []
    for base, arm in systems:
        held = {len(v) for (t, b, a, _), v in values.items() if (b, a) == (base, arm)}
        row: list = [Path(base).name, _arm_label(arm)]
        row.append(_seeds_held(held, len(groups.get((tasks[0], base, arm), []))))
        for task in tasks:
            for m in measures:
                mine = values.get((task, base, arm, m))
                if mine is None:
                    row.append(None)
                    continue
                rivals = sorted(
                    (
                        statistics.fmean(v)
                        for (t, b, _, n), v in values.items()
                        if (t, b, n) == (task, base, m)
                    ),
                    reverse=parse_measure(m).higher_is_better,
                )
                rank = rivals.index(statistics.fmean(mine)) + 1
                row.append(f"{_text(mine, parse_measure(m).digits)} ({rank})")
        rows.append(tuple(row))
    columns = (Column("base model"), Column("regime"), Column("seeds"))
    columns += tuple(Column(m, group=task) for task in tasks for m in measures)
    return Table(
        "Language bias panel, Mul., macro average over languages (docs/bias.md)",
        columns,
        tuple(rows),
        notes=(
            "mean ± sd over the seeds whose records hold the measure (seeds: k of n where only k "
            "of the regime's n seeds do, recorded after the panel existed); (n) = rank among the "
            "regimes of one base model in the measure's own direction: (1) is the regime it calls "
            "least biased",
        ),
    )


def _seeds_held(held: set[int], seeds: int) -> str | None:
    """How many of a regime's seeds its panel values are over: 'k of n' where fewer than all."""
    if not held:
        return None
    low, high = min(held), max(held)
    counted = str(low) if low == high else f"{low}–{high}"
    return counted if counted == str(seeds) else f"{counted} of {seeds}"


def verdict_table(found: Sequence[Verdict]) -> Table:
    columns = (
        Column("base model"),
        Column("task"),
        Column("claim"),
        Column("seeds", digits=0),
        Column("difference", digits=4),
        Column(f"{LEVEL} CI, topics"),
        Column(f"{LEVEL} CI, seeds"),
        Column("verdict"),
    )

    def interval(pair):
        return "—" if pair is None else f"[{pair[0]:+.4f}, {pair[1]:+.4f}]"

    rows = tuple(
        (
            Path(v.base).name,
            v.task,
            v.claim.text,
            len(v.per_seed),
            v.difference,
            interval(v.topics),
            interval(v.seeds),
            v.verdict,
        )
        for v in found
    )
    return Table(
        "Claims of the paper (protocol.md §5.2)",
        columns,
        rows,
        notes=(
            "seeds: the seeds both regimes have and whose records hold the measure, paired; "
            "difference: better − worse as the claim names them (rank distance: worse − "
            "better, so positive always favours the claim), mean over those seeds",
            VERDICT_RULE,
            *((PANEL_RULE,) if any(v.claim not in CLAIMS for v in found) else ()),
        ),
    )


def disagreement_table(found: Sequence[Disagreement]) -> Table:
    """Per claim asked of the bias panel, which measures reproduce it and which do not."""
    verdict_order = ("reproduced", "inconclusive", "not reproduced")
    columns = (
        Column("base model"),
        Column("task"),
        Column("claim"),
        *(Column(v) for v in verdict_order),
        Column("measures agree"),
    )
    rows = tuple(
        (
            Path(d.base).name,
            d.task,
            d.claim,
            *(", ".join(d.by_verdict.get(v, ())) or "—" for v in verdict_order),
            "no" if d.disagree else "yes",
        )
        for d in found
    )
    return Table(
        "Where the bias measures agree and disagree",
        columns,
        rows,
        notes=("one row per claim of the paper on language bias, asked of every panel measure",),
    )


def needs_table(found: Sequence[Verdict]) -> Table:
    columns = (
        Column("base model"),
        Column("task"),
        Column("claim"),
        Column("to detect", digits=4),
        Column("seeds", digits=0),
        Column("detectable, seeds", digits=4),
        Column("topics", digits=0),
        Column("detectable, topics", digits=4),
        Column("seeds needed"),
    )
    rows = []
    for v in found:
        if v.verdict != "inconclusive":
            continue
        n = needs(v)
        rows.append(
            (
                Path(v.base).name,
                v.task,
                v.claim.text,
                n.distance,
                n.seeds,
                n.detectable_seeds,
                v.topic_count,
                n.detectable_topics,
                "—" if n.seeds_needed is None else str(n.seeds_needed),
            )
        )
    return Table(
        f"What the inconclusive verdicts need ({POWER} power, {ALPHA} two-sided)",
        columns,
        tuple(rows),
        notes=(
            "to detect: the distance of the difference from the rule's nearest boundary (0; "
            "for ≈ claims the nearer edge of the tolerance)",
            "detectable: the minimum detectable distance with the current seeds (δ*(n) × sd of "
            "the per-seed differences) and topics (δ*(T) × bootstrap standard error × √T), δ* "
            f"the standardised effect a two-sided one-sample t-test detects with {POWER} power; "
            "the verdict needs both",
            f"seeds needed: the fewest seeds with {POWER} power at the observed distance and seed "
            "sd; — where the topic interval cannot detect it (more seeds alone do not settle it)",
        ),
    )


def moving_pairs(runs: Sequence[Run], top: int = 10) -> Table:
    """The cross-lingual pairs whose MAP moves most between hybrid and each baseline."""
    groups = group_runs(runs)
    rows = []
    for task, base in sorted({(r.task, r.base) for r in runs}):
        hybrid = cell_means(groups.get((task, base, HYBRID), []), "MAP")
        for baseline in (XX, XY):
            other = cell_means(groups.get((task, base, baseline), []), "MAP")
            deltas = [
                (hybrid[k] - other[k], k) for k in hybrid.keys() & other.keys() if k[0] == "cross"
            ]
            for delta, (_, q, p) in sorted(deltas, key=lambda d: -abs(d[0]))[:top]:
                low = "yes" if {q, p} & LOW_RESOURCE else ""
                rows.append(
                    (Path(base).name, task, f"hybrid − {baseline.label}", f"{q} → {p}", delta, low)
                )
    columns = (
        Column("base model"),
        Column("task"),
        Column("difference of"),
        Column("pair"),
        Column("Δ MAP", digits=4),
        Column("low-resource"),
    )
    return Table(
        f"Cross-lingual pairs that move most (top {top} by |Δ MAP|, seed means)",
        columns,
        tuple(rows),
        notes=(f"low-resource: a language of {', '.join(sorted(LOW_RESOURCE))}",),
    )


def write_report(study: Study) -> list[Path]:
    """Markdown and self-contained HTML under ``study.report``; figures as PNG beside them."""
    from xret.leaderboards.heatmap import figure_bytes
    from xret.leaderboards.html import Figure, render_html

    runs = collect_runs(study)
    table1, table2 = shape_tables(runs)
    found = verdicts(runs)
    split = disagreements(found) if any(v.claim not in CLAIMS for v in found) else []
    agreement = (disagreement_table(split),) if split else ()
    panel = panel_table(runs)
    doc = Document(
        f"Study {study.name}: X-X-mono, X-Y and hybrid batch sampling",
        (
            table1,
            table2,
            *((panel,) if panel else ()),
            verdict_table(found),
            *agreement,
            needs_table(found),
            moving_pairs(runs),
        ),
        notes=(f"study file: {study.path.name}; records: {len(runs)}",),
    )
    drawn = [(title, figure_bytes(fig, "png")) for title, fig in figures(runs, study)]
    written = []
    markdown = render_markdown(doc)
    for i, (title, png) in enumerate(drawn):
        written.append(atomic_write_bytes(study.report / f"figure-{i + 1}.png", png))
        markdown += f"\n![{title}]({written[-1].name})\n"
    html = render_html(doc, [Figure(t, png) for t, png in drawn])
    written.append(atomic_write_text(study.report / "report.md", markdown))
    written.append(atomic_write_text(study.report / "report.html", html))
    return written
