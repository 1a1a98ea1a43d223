"""Query-language × pool-language heatmaps, delta heatmaps and a rank-distance chart.

Matrices are plain values built from the cells of stored records; plotting uses matplotlib's
object API (``Figure`` on the Agg canvas, imported lazily), never pyplot's global state. Missing
cells stay blank (hatched), never zero. Colour scales are shared: bounded measures always span
[0, 1] (down to their lowest value below 0: a correlation), rank distance spans the range of
all matrices drawn together, and a delta map is centred on zero with symmetric limits.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xret.errors import DataError
from xret.io import atomic_write_bytes
from xret.leaderboards.scores import Scores
from xret.measures.table import parse_measure
from xret.tasks.spec import ALL_LANGUAGES


@dataclass(frozen=True)
class Matrix:
    title: str
    measure: str
    rows: tuple[str, ...]
    """Query languages."""
    columns: tuple[str, ...]
    """Pool languages (``all`` for the multilingual pool)."""
    values: tuple[tuple[float | None, ...], ...]
    delta: bool = False

    @property
    def higher_is_better(self) -> bool:
        return parse_measure(self.measure).higher_is_better

    def finite(self) -> list[float]:
        return [v for row in self.values for v in row if v is not None]


def cell_matrix(scores: Scores, measure: str, settings: Sequence[str]) -> Matrix:
    """The cells of ``settings`` as one matrix: mono on the diagonal, cross off it, multi as
    ``all``."""
    parse_measure(measure)
    cells = {
        (q, p): v[measure]
        for (s, q, p), v in scores.cells.items()
        if s in settings and measure in v
    }
    if not cells:
        raise DataError(
            f"{scores.system.model} on {scores.task} has no {measure} cells in "
            f"{', '.join(settings)}"
        )
    rows = tuple(lang for lang in scores.languages if any(q == lang for q, _ in cells))
    pools = {p for _, p in cells}
    columns = tuple(lang for lang in scores.languages if lang in pools)
    columns += (ALL_LANGUAGES,) if ALL_LANGUAGES in pools else ()
    title = f"{scores.system.model} — {scores.task_label}, {measure} ({', '.join(settings)})"
    return Matrix(
        title,
        measure,
        rows,
        columns,
        tuple(tuple(cells.get((q, p)) for p in columns) for q in rows),
    )


def delta_matrix(a: Matrix, b: Matrix, title: str) -> Matrix:
    """A − B where both have a value; blank elsewhere."""
    if a.measure != b.measure:
        raise DataError(f"cannot subtract {b.measure} from {a.measure}")
    rows = tuple(r for r in a.rows if r in b.rows)
    columns = tuple(c for c in a.columns if c in b.columns)

    def value(m: Matrix, r: str, c: str) -> float | None:
        return m.values[m.rows.index(r)][m.columns.index(c)]

    values = tuple(
        tuple(
            None
            if value(a, r, c) is None or value(b, r, c) is None
            else value(a, r, c) - value(b, r, c)
            for c in columns
        )
        for r in rows
    )
    return Matrix(title, a.measure, rows, columns, values, delta=True)


def color_limits(matrices: Sequence[Matrix]) -> tuple[float, float]:
    values = [v for m in matrices for v in m.finite()]
    if any(m.delta for m in matrices):
        bound = max((abs(v) for v in values), default=0.0) or 1.0
        return -bound, bound
    if all(m.higher_is_better for m in matrices):  # a correlation may reach down to -1
        return min(0.0, math.floor(min(values, default=0.0) * 10) / 10), 1.0
    low, high = min(values, default=0.0), max(values, default=1.0)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _colormap(matrix: Matrix) -> str:
    # Better always looks the same way: dark-to-yellow rises with quality, blue marks A ahead.
    if matrix.delta:
        return "RdBu" if matrix.higher_is_better else "RdBu_r"
    return "viridis" if matrix.higher_is_better else "viridis_r"


def label_digits(big: float) -> int:
    """Decimals of a cell's label on a scale reaching ``big``: none from 100, else two, or two
    significant digits of ``big`` for a scale below 0.1 (deltas of 0.016 all read "+0.01")."""
    if big >= 100:
        return 0
    return max(2, 1 - math.floor(math.log10(big))) if big > 0 else 2


def plot_matrix(matrix: Matrix, limits: tuple[float, float]):
    """An annotated heatmap as a matplotlib Figure (Agg canvas)."""
    import numpy as np
    from matplotlib.figure import Figure

    data = np.array(
        [[math.nan if v is None else v for v in row] for row in matrix.values], dtype=float
    )
    fig = Figure(
        figsize=(1.2 + 0.62 * len(matrix.columns), 1.3 + 0.5 * len(matrix.rows)),
        layout="constrained",
    )
    ax = fig.add_subplot()
    ax.set_facecolor("#f2f2f2")
    image = ax.imshow(
        np.ma.masked_invalid(data),
        cmap=_colormap(matrix),
        vmin=limits[0],
        vmax=limits[1],
        aspect="auto",
        zorder=1,  # above the hatching, which shows through the blank (masked) cells only
    )
    if np.isnan(data).any():
        ax.add_patch(_hatch(data.shape))
    digits = label_digits(max(abs(limits[0]), abs(limits[1])))
    for (i, j), value in np.ndenumerate(data):
        if not math.isnan(value):
            norm = (value - limits[0]) / ((limits[1] - limits[0]) or 1.0)
            dark = norm < 0.55 if not matrix.delta else abs(norm - 0.5) > 0.3
            text = f"{value:+.{digits}f}" if matrix.delta else f"{value:.{digits}f}"
            ax.text(
                j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black"
            )
    ax.set_xticks(range(len(matrix.columns)), labels=matrix.columns)
    ax.set_yticks(range(len(matrix.rows)), labels=matrix.rows)
    split = parse_measure(matrix.measure).family.per_candidate_language
    ax.set_xlabel("candidate language" if split else "pool language")
    ax.set_ylabel("query language")
    # A narrow matrix (three languages) wraps its title rather than cutting it.
    fits = int(fig.get_figwidth() * 72 / 5.2)  # characters of 9-point text across the figure
    ax.set_title("\n".join(textwrap.wrap(matrix.title, fits)), fontsize=9)
    label = f"{matrix.measure} (A − B)" if matrix.delta else matrix.measure
    fig.colorbar(image, ax=ax, label=label, shrink=0.85)
    return _fix_layout(fig)


def _hatch(shape):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (-0.5, -0.5),
        shape[1],
        shape[0],
        fill=False,
        hatch="///",
        edgecolor="#cccccc",
        linewidth=0,
        zorder=0,
    )


def plot_rank_distance(scores: Sequence[Scores], title: str):
    """Mean rank distance (Mul.) per source language, one bar per system; lower is better."""
    import numpy as np
    from matplotlib.figure import Figure

    languages = list(dict.fromkeys(lang for s in scores for lang in s.languages))
    fig = Figure(
        figsize=(1.5 + 0.55 * len(languages) * max(1, len(scores)) ** 0.5, 3.4),
        layout="constrained",
    )
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(scores))
    for k, s in enumerate(scores):
        values = [s.value("multi", "RD", lang) for lang in languages]
        heights = [math.nan if v is None else v for v in values]
        ax.bar(
            np.arange(len(languages)) + (k - (len(scores) - 1) / 2) * width,
            heights,
            width,
            label=s.system.model
            if not s.system.regime
            else f"{s.system.model} ({s.system.regime_label})",
        )
    ax.set_xticks(range(len(languages)), labels=languages)
    ax.set_xlabel("source (query) language")
    ax.set_ylabel("mean rank distance (lower is better)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never over a bar
    return _fix_layout(fig)


def _fix_layout(fig):
    """Lay out once and freeze: a constrained layout redone on every save starts from the last
    one, so PNG and SVG (or a second save) would differ by a fraction of a point."""
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return fig


def figure_bytes(fig, fmt: str) -> bytes:
    """PNG or SVG bytes; metadata that would vary between runs (dates, ids) is fixed."""
    from matplotlib import rc_context

    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with rc_context({"svg.hashsalt": "xret", "svg.fonttype": "path"}):
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=120)
    return buffer.getvalue()


def save_figure(fig, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg``."""
    paths = []
    for fmt in ("png", "svg"):
        path = stem.parent / f"{stem.name}.{fmt}"  # not with_suffix: names may contain dots
        paths.append(atomic_write_bytes(path, figure_bytes(fig, fmt)))
    return paths
