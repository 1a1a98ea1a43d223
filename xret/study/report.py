"""``xret study report``: the study's answer, from its stored records only (nothing runs a model).

- Table 1 and 2 shapes: macro MAP per setting and multilingual rank distance, mean ± sd over
  seeds, with each regime's rank;
- each claim of protocol.md §5.2 as a row: the measured difference, a 95 % interval over topics
  and one over seeds, and a verdict by the rule in ``VERDICT_RULE``;
- an α sweep (X-Y is α = 0, X-X-mono α = 1), a size plot when several base models are given,
  per-pair delta heatmaps, and the language pairs that move most (low-resource ones marked).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xret.baselines.samplers import HYBRID_DEFAULT_ALPHA, Sampling
from xret.errors import DataError
from xret.io import atomic_write_bytes, atomic_write_text
from xret.leaderboards.table import Column, Document, Table, render_markdown
from xret.results.record import ResultRecord
from xret.results.store import load_per_query, load_record
from xret.study.run import read_state, results_dir
from xret.study.spec import Arm, Study

SETTINGS = (("mono", "Mo."), ("cross", "Cr."), ("multi", "Mul."))
KEYS = ["setting", "query_language", "pool_language", "query_id"]
# Languages with the least training data and the weakest scores of the protocol's tasks.
LOW_RESOURCE = frozenset({"ar", "el", "hi", "sw", "th", "tr", "vi"})
SAME_MAP = 0.005  # protocol.md §5.2: "Hybrid ≈ X-Y on Mul. (within ±0.005 mAP)"
SAME_RD = 0.05  # ≈ for rank distance: within 5 % of the baseline's value (the paper gives none)
RESAMPLES = 2000
VERDICT_RULE = (
    "A claim that one regime is better is reproduced when both 95 % intervals of the difference "
    "(over topics, over seeds) lie above 0, not reproduced when both lie below 0, and inconclusive "
    "otherwise. A claim that two regimes are the same (≈) is reproduced when both intervals lie "
    f"within the tolerance (±{SAME_MAP} MAP; ±{SAME_RD:.0%} of the baseline's rank distance), not "
    "reproduced when both lie outside it on one side, and inconclusive otherwise. With one seed "
    "only the topic interval is used. Topic intervals: percentile bootstrap over question ids "
    f"({RESAMPLES} resamples, seed 0) of the seed-averaged per-query differences, aggregated as "
    "the records are (cell mean, then mean per query language, then the macro mean). Seed "
    "intervals: Student t over the per-seed differences of the macro values."
)
HYBRID = Arm(Sampling.HYBRID, HYBRID_DEFAULT_ALPHA)
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


CLAIMS = (
    Claim("Hybrid ≥ X-X-mono on Mo. (MAP)", "mono", "MAP", HYBRID, XX),
    Claim("Hybrid ≥ X-Y on Cr. (MAP)", "cross", "MAP", HYBRID, XY),
    Claim("Hybrid ≈ X-Y on Mul. (MAP, ±0.005)", "multi", "MAP", HYBRID, XY, same=True),
    Claim("Hybrid > X-X-mono on Mul. (MAP)", "multi", "MAP", HYBRID, XX),
    Claim("X-Y > X-X-mono on Mul. (MAP)", "multi", "MAP", XY, XX),
    Claim("rank distance: X-X-mono ≫ X-Y (Mul. RD)", "multi", "RD", XY, XX),
    Claim("rank distance: X-Y ≈ Hybrid (Mul. RD, ±5 %)", "multi", "RD", HYBRID, XY, same=True),
)


@dataclass(frozen=True)
class Run:
    """One stored evaluation of the study: a base model's arm (None: untrained) and seed."""

    base: str
    arm: Arm | None
    seed: int | None
    task: str
    path: Path
    record: ResultRecord

    def macro(self, setting: str, measure: str) -> float | None:
        return self.record.summary.get("macro", {}).get(setting, {}).get(measure)


@dataclass(frozen=True)
class Verdict:
    base: str
    task: str
    claim: Claim
    difference: float
    topics: tuple[float, float]
    seeds: tuple[float, float] | None
    verdict: str


def collect_runs(study: Study) -> list[Run]:
    state = read_state(study)
    runs = []
    for cell in study.cells():
        entry = state.get(cell.id)
        for task, relative in (entry or {}).get("records", {}).items():
            path = results_dir(study) / relative
            runs.append(Run(cell.base, cell.arm, cell.seed, task, path, load_record(path)))
    if not runs:
        raise DataError(
            f"{study.path}: no finished cell yet; run `xret study run {study.path}` first"
        )
    return runs


def _groups(runs: Sequence[Run]) -> dict[tuple[str, str, Arm | None], list[Run]]:
    groups: dict[tuple[str, str, Arm | None], list[Run]] = defaultdict(list)
    for run in runs:
        groups[(run.task, run.base, run.arm)].append(run)
    return groups


def _mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _text(values: Sequence[float], digits: int) -> str:
    mean, sd = _mean_sd(values)
    return f"{mean:.{digits}f}" if sd is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _arm_label(arm: Arm | None) -> str:
    return "untrained" if arm is None else arm.label


def shape_tables(runs: Sequence[Run]) -> tuple[Table, Table]:
    """Table 1 (MAP per setting) and Table 2 (Mul. rank distance) shapes, rank in brackets."""
    groups = _groups(runs)
    tasks = sorted({r.task for r in runs})
    systems = sorted(
        {(r.base, r.arm) for r in runs},
        key=lambda s: (s[0], s[1] is not None, s[1].order if s[1] else ()),
    )

    def table(title: str, measure: str, settings: Sequence[tuple[str, str]], digits: int) -> Table:
        higher = measure != "RD"
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
        table("MAP, macro average over languages (Table 1 shape)", "MAP", SETTINGS, 3),
        table(
            "Language bias: rank distance, Mul., lower is better (Table 2 shape)",
            "RD",
            (("multi", "Mul."),),
            0,
        ),
    )


def verdicts(runs: Sequence[Run]) -> list[Verdict]:
    groups = _groups(runs)
    out = []
    for task, base in sorted({(r.task, r.base) for r in runs}):
        for claim in CLAIMS:
            better = groups.get((task, base, claim.better), [])
            worse = groups.get((task, base, claim.worse), [])
            if better and worse:
                found = _verdict(task, base, claim, better, worse)
                if found is not None:
                    out.append(found)
    return out


def _verdict(task, base, claim: Claim, better: list[Run], worse: list[Run]) -> Verdict | None:
    sign = -1.0 if claim.measure == "RD" else 1.0  # RD: lower is better
    pairs = _paired(better, worse)
    per_seed = [
        sign * (b.macro(claim.setting, claim.measure) - w.macro(claim.setting, claim.measure))
        for b, w in pairs
        if b.macro(claim.setting, claim.measure) is not None
        and w.macro(claim.setting, claim.measure) is not None
    ]
    if not per_seed:
        return None
    difference = statistics.fmean(per_seed)
    topics = tuple(sign * v for v in topic_interval(pairs, claim.setting, claim.measure))
    topics = (min(topics), max(topics))
    seeds = seed_interval(per_seed)
    tolerance = SAME_MAP
    if claim.measure == "RD":
        tolerance = SAME_RD * statistics.fmean(w.macro(claim.setting, "RD") for w in worse)
    intervals = [topics] + ([seeds] if seeds is not None else [])
    return Verdict(
        base,
        task,
        claim,
        difference,
        topics,
        seeds,
        _decide(intervals, tolerance if claim.same else None),
    )


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

    mean, sd = _mean_sd(values)
    half = t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
    return mean - half, mean + half


def topic_interval(
    pairs: Sequence[tuple[Run, Run]], setting: str, measure: str
) -> tuple[float, float]:
    """95 % percentile bootstrap over question ids of the macro difference (better − worse)."""
    import pandas as pd

    differences = []
    for better, worse in pairs:
        a, b = (_per_query(run, setting, measure) for run in (better, worse))
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
    rng = np.random.default_rng(0)
    weights = rng.multinomial(len(topics), np.full(len(topics), 1 / len(topics)), size=RESAMPLES)
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
    macro = np.nanmean(per_language, axis=1)
    low, high = np.nanpercentile(macro, [2.5, 97.5])
    return float(low), float(high)


def _per_query(run: Run, setting: str, measure: str):
    scores = run.path.parent / (run.record.per_query or "")
    modified = scores.stat().st_mtime_ns if scores.is_file() else 0
    table = _per_query_table(run.path, modified)
    if measure not in table.columns:
        raise DataError(f"{run.path}: its per-query scores have no {measure}")
    table = table[table["setting"] == setting]
    return table.set_index(KEYS)[measure]


@functools.lru_cache(maxsize=64)
def _per_query_table(path: Path, modified: int):
    """A record's per-query scores, read once while unchanged (``modified``): every claim on a
    run needs them."""
    return load_per_query(path, load_record(path))


def verdict_table(found: Sequence[Verdict]) -> Table:
    columns = (
        Column("base model"),
        Column("task"),
        Column("claim"),
        Column("difference", digits=4),
        Column("95 % CI, topics"),
        Column("95 % CI, seeds"),
        Column("verdict"),
    )

    def interval(pair):
        return "—" if pair is None else f"[{pair[0]:+.4f}, {pair[1]:+.4f}]"

    rows = tuple(
        (
            Path(v.base).name,
            v.task,
            v.claim.text,
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
            "difference: better − worse as the claim names them (rank distance: worse − "
            "better, so positive always favours the claim), mean over seeds",
            VERDICT_RULE,
        ),
    )


def moving_pairs(runs: Sequence[Run], top: int = 10) -> Table:
    """The cross-lingual pairs whose MAP moves most between hybrid and each baseline."""
    groups = _groups(runs)
    rows = []
    for task, base in sorted({(r.task, r.base) for r in runs}):
        hybrid = _cell_means(groups.get((task, base, HYBRID), []), "MAP")
        for baseline in (XX, XY):
            other = _cell_means(groups.get((task, base, baseline), []), "MAP")
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


def _cell_means(members: Sequence[Run], measure: str) -> dict[tuple[str, str, str], float]:
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for run in members:
        for cell in run.record.cells:
            if measure in cell.values:
                sums[(cell.setting, cell.query_language, cell.pool_language)].append(
                    cell.values[measure]
                )
    return {key: statistics.fmean(values) for key, values in sums.items()}


def figures(runs: Sequence[Run], study: Study) -> list[tuple[str, object]]:
    """(title, matplotlib Figure) for the α sweep, the size plot and the delta heatmaps."""
    out = []
    groups = _groups(runs)
    for task, base in sorted({(r.task, r.base) for r in runs}):
        arms = sorted(
            {a for (t, b, a) in groups if t == task and b == base and a is not None},
            key=lambda a: a.mono_share,
        )
        if len(arms) >= 2:
            out.append(
                (f"α sweep — {Path(base).name} on {task}", _sweep_figure(task, base, arms, groups))
            )
        out += _delta_figures(task, base, groups)
    if len(study.bases) > 1:
        out.append(("Size — metrics against parameter count", _size_figure(runs, study)))
    return out


def _sweep_figure(task, base, arms, groups):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2), layout="constrained")
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    x = [arm.mono_share for arm in arms]
    for setting, label in SETTINGS:
        means, sds = _series(groups, task, base, arms, setting, "MAP")
        left.errorbar(x, means, yerr=sds, marker="o", capsize=3, label=label)
    means, sds = _series(groups, task, base, arms, "multi", "RD")
    right.errorbar(x, means, yerr=sds, marker="o", capsize=3, color="tab:red")
    left.set(xlabel="α (share of monolingual batches; 0 = X-Y, 1 = X-X-mono)", ylabel="MAP (macro)")
    right.set(xlabel="α", ylabel="rank distance, Mul. (lower is better)")
    left.legend(fontsize=8)
    fig.suptitle(f"{Path(base).name} on {task}: mean ± sd over seeds", fontsize=10)
    return fig


def _series(groups, task, base, arms, setting, measure):
    means, sds = [], []
    for arm in arms:
        values = [
            v for r in groups[(task, base, arm)] if (v := r.macro(setting, measure)) is not None
        ]
        mean, sd = _mean_sd(values) if values else (math.nan, None)
        means.append(mean)
        sds.append(sd or 0.0)
    return means, sds


def _delta_figures(task, base, groups) -> list[tuple[str, object]]:
    from xret.leaderboards.heatmap import Matrix, color_limits, plot_matrix

    hybrid = _cell_means(groups.get((task, base, HYBRID), []), "MAP")
    out = []
    for baseline in (XX, XY):
        other = _cell_means(groups.get((task, base, baseline), []), "MAP")
        shared = hybrid.keys() & other.keys()
        if not shared:
            continue
        languages = sorted({q for _, q, _ in shared})
        pools = [*languages, "all"]
        values = tuple(tuple(_delta(hybrid, other, q, p) for p in pools) for q in languages)
        title = f"{Path(base).name} on {task}: MAP, hybrid α={HYBRID.alpha:g} − {baseline.label}"
        matrix = Matrix(title, "MAP", tuple(languages), tuple(pools), values, delta=True)
        out.append((title, plot_matrix(matrix, color_limits([matrix]))))
    return out


def _delta(hybrid, other, q: str, p: str) -> float | None:
    setting = "multi" if p == "all" else "mono" if p == q else "cross"
    key = (setting, q, p)
    return hybrid[key] - other[key] if key in hybrid and key in other else None


def _size_figure(runs, study: Study):
    from matplotlib.figure import Figure

    from xret.study.run import model_dir

    sizes = {}
    for cell in study.cells():
        if cell.arm is not None and cell.base not in sizes and model_dir(study, cell).is_dir():
            sizes[cell.base] = parameter_count(model_dir(study, cell))
    groups = _groups(runs)
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    axes = [fig.add_subplot(1, len(SETTINGS), i + 1) for i in range(len(SETTINGS))]
    for ax, (setting, label) in zip(axes, SETTINGS):
        for arm in sorted({a for (_, _, a) in groups if a is not None}, key=lambda a: a.mono_share):
            points = sorted(
                (
                    sizes[b],
                    statistics.fmean(
                        v for r in members if (v := r.macro(setting, "MAP")) is not None
                    ),
                )
                for (t, b, a), members in groups.items()
                if a == arm and b in sizes
            )
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=arm.label)
        ax.set(xscale="log", xlabel="parameters", ylabel=f"MAP {label}", title=label)
    axes[0].legend(fontsize=7)
    return fig


def parameter_count(folder: Path) -> int:
    """Parameters in a folder's ``*.safetensors`` files, read from their headers only."""
    import json
    import struct

    total = 0
    for path in sorted(folder.rglob("*.safetensors")):
        if "checkpoint" in path.parent.name:
            continue
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
        total += sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")
    return total


def write_report(study: Study) -> list[Path]:
    """Markdown and self-contained HTML under ``study.report``; figures as PNG beside them."""
    from xret.leaderboards.heatmap import figure_bytes
    from xret.leaderboards.html import Figure, render_html

    runs = collect_runs(study)
    table1, table2 = shape_tables(runs)
    found = verdicts(runs)
    doc = Document(
        f"Study {study.name}: X-X-mono, X-Y and hybrid batch sampling",
        (table1, table2, verdict_table(found), moving_pairs(runs)),
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
