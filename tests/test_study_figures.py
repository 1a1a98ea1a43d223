"""The committed study's figures: a legend that hides no point, delta labels with the digits
their scale needs (both re-made by ``xret study report``)."""

from __future__ import annotations

from pathlib import Path

from xret.study.spec import load_study

ROOT = Path(__file__).resolve().parents[1]


def test_the_alpha_sweep_legend_hides_no_point_of_the_committed_study():
    """Figure 1's legend sat on the α = 1 point (X-X-mono's Mo. MAP)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from xret.study.figures import figures
    from xret.study.runs import collect_runs

    study = load_study(ROOT / "studies" / "me5-small-regimes.toml")
    (fig,) = [f for title, f in figures(collect_runs(study), study) if title.startswith("α sweep")]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        for line in ax.get_lines():
            points = ax.transData.transform(np.column_stack(line.get_data()))
            assert not any(box.contains(x, y) for x, y in points), line.get_label()


def test_delta_labels_have_the_digits_their_scale_needs():
    """Figure 3's deltas (all within ±0.016) all read '+0.01' or '+0.00'."""
    from xret.leaderboards.heatmap import Matrix, color_limits, plot_matrix

    matrix = Matrix(
        "d", "MAP", ("en", "de"), ("en", "de"), ((0.0123, 0.0041), (-0.0157, 0.0)), delta=True
    )
    fig = plot_matrix(matrix, color_limits([matrix]))
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"+0.012", "+0.004", "-0.016"} <= texts
    wide = Matrix("w", "MAP", ("en",), ("en", "de"), ((0.8123, 0.4561),))
    assert {t.get_text() for t in plot_matrix(wide, color_limits([wide])).axes[0].texts} == {
        "0.81",
        "0.46",  # a scale to 1: two decimals, as before
    }
