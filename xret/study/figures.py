"""The study's figures as matplotlib Figures (the report turns them into PNG): an α sweep per
base model and task, hybrid-minus-baseline heatmaps, and a size plot when bases differ."""

from __future__ import annotations

import json
import math
import statistics
import struct
from collections.abc import Sequence
from pathlib import Path

from xret.study.claims import HYBRID, XX, XY
from xret.study.run import model_dir
from xret.study.runs import SETTINGS, Run, cell_means, group_runs, mean_sd
from xret.study.spec import Study


def figures(runs: Sequence[Run], study: Study) -> list[tuple[str, object]]:
    """(title, matplotlib Figure) for the α sweep, the size plot and the delta heatmaps."""
    out = []
    groups = group_runs(runs)
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
    # above the axes: inside, it hid the α = 1 point (X-X-mono, the highest Mo. value)
    left.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.01), ncols=3, frameon=False)
    fig.suptitle(f"{Path(base).name} on {task}: mean ± sd over seeds", fontsize=10)
    return fig


def _series(groups, task, base, arms, setting, measure):
    means, sds = [], []
    for arm in arms:
        values = [
            v for r in groups[(task, base, arm)] if (v := r.macro(setting, measure)) is not None
        ]
        mean, sd = mean_sd(values) if values else (math.nan, None)
        means.append(mean)
        sds.append(sd or 0.0)
    return means, sds


def _delta_figures(task, base, groups) -> list[tuple[str, object]]:
    from xret.leaderboards.heatmap import Matrix, color_limits, plot_matrix

    hybrid = cell_means(groups.get((task, base, HYBRID), []), "MAP")
    out = []
    for baseline in (XX, XY):
        other = cell_means(groups.get((task, base, baseline), []), "MAP")
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

    sizes = {}
    for cell in study.cells():
        if cell.arm is not None and cell.base not in sizes and model_dir(study, cell).is_dir():
            sizes[cell.base] = parameter_count(model_dir(study, cell))
    groups = group_runs(runs)
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
    total = 0
    for path in sorted(folder.rglob("*.safetensors")):
        if "checkpoint" in path.parent.name:
            continue
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
        total += sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")
    return total
