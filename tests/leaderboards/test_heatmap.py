"""Heatmap matrices (hand-placed cells, blanks), colour scales, delta maps and the image files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from xret.errors import DataError
from xret.leaderboards.heatmap import (
    Matrix,
    cell_matrix,
    color_limits,
    delta_matrix,
    figure_bytes,
    plot_matrix,
    plot_rank_distance,
    save_figure,
)
from xret.leaderboards.scores import collect


def _scores(record):
    return collect([(Path("r.json"), record)]).scores[0]


def test_cells_land_in_query_by_pool_matrix(two_models):
    a, b = (_scores(r) for r in two_models)
    matrix = cell_matrix(a, "MAP", ("mono", "cross"))
    assert (matrix.rows, matrix.columns) == (("de", "en"), ("de", "en"))
    assert matrix.values == (
        (0.6, 0.5),
        (0.3, 0.8),
    )  # diagonal mono, off-diagonal cross (query -> pool)
    with_multi = cell_matrix(b, "MAP", ("cross", "multi"))
    assert with_multi.columns == ("de", "en", "all")
    assert with_multi.values == ((None, 0.2, 0.5), (0.2, None, None))  # blanks, never zeros
    with pytest.raises(DataError, match="has no R@1 cells"):
        cell_matrix(b, "R@1", ("mono",))


def test_delta_and_colour_scales(two_models):
    a, b = (_scores(r) for r in two_models)
    ma, mb = (cell_matrix(s, "MAP", ("mono", "cross", "multi")) for s in (a, b))
    delta = delta_matrix(ma, mb, "a − b")
    assert delta.values[0] == pytest.approx((-0.1, 0.3, -0.1)) and delta.values[1][2] is None
    assert color_limits([delta]) == pytest.approx((-0.3, 0.3))  # centred on zero
    assert color_limits([ma, mb]) == (0.0, 1.0)  # bounded measures: one fixed scale for every model
    rd = [cell_matrix(s, "RD", ("multi",)) for s in (a, b)]
    assert color_limits(rd) == (10.0, 30.0)  # rank distance: the range of all maps drawn together
    with pytest.raises(DataError, match="cannot subtract"):
        delta_matrix(ma, rd[0], "x")


def test_images_are_written_and_reproducible(tmp_path, two_models):
    a, b = (_scores(r) for r in two_models)
    matrix = Matrix(
        "t <x>", "MAP", ("de", "en"), ("de", "en", "all"), ((0.5, None, 0.25), (0.1, 0.9, None))
    )
    paths = save_figure(plot_matrix(matrix, (0.0, 1.0)), tmp_path / "model.with.dots__MAP")
    assert [p.name for p in paths] == ["model.with.dots__MAP.png", "model.with.dots__MAP.svg"]
    assert paths[0].read_bytes().startswith(b"\x89PNG") and b"<svg" in paths[1].read_bytes()
    assert figure_bytes(plot_matrix(matrix, (0.0, 1.0)), "svg") == paths[1].read_bytes()
    chart = figure_bytes(plot_rank_distance([a, b], "RD"), "png")
    assert chart.startswith(b"\x89PNG")


def test_heatmap_shows_every_value_and_marks_blanks():
    matrix = Matrix(
        "t", "MAP", ("de", "en"), ("de", "en", "all"), ((0.5, None, 0.25), (0.1, 0.9, None))
    )
    ax = plot_matrix(matrix, (0.0, 1.0)).axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["0.10", "0.25", "0.50", "0.90"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["de", "en", "all"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["de", "en"]
    assert any(p.get_hatch() == "///" for p in ax.patches)  # blank cells are hatched, not coloured
    image = ax.images[0]
    # The colours are the values on the given scale; blanks are masked, never coloured as zero.
    assert image.get_array().filled(-1.0).tolist() == [[0.5, -1.0, 0.25], [0.1, 0.9, -1.0]]
    assert image.get_array().mask.tolist() == [[False, True, False], [False, False, True]]
    assert image.get_clim() == (0.0, 1.0)
    delta = Matrix("d", "MAP", ("de",), ("de",), ((-0.25,),), delta=True)
    assert [t.get_text() for t in plot_matrix(delta, (-0.5, 0.5)).axes[0].texts] == ["-0.25"]


def test_rank_distance_bars_are_the_values(two_models):
    a, b = (_scores(r) for r in two_models)
    ax = plot_rank_distance([a, b], "RD").axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    expected = [a.value("multi", "RD", lang) for lang in a.languages]
    expected += [b.value("multi", "RD", lang) for lang in a.languages]
    assert heights == pytest.approx([math.nan if v is None else v for v in expected], nan_ok=True)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [label.split(" (")[0] for label in labels] == [a.system.model, b.system.model]


def _panel_record():
    from .conftest import make_record

    cells = {
        ("multi", "de", "all"): {"MAP": 0.5, "RD": 12.0, "PEER@10": 0.4},
        ("multi", "en", "all"): {"MAP": 0.6, "RD": 8.0, "PEER@10": 0.6},
        ("multi", "de", "de"): {"LangR@10": 0.9},
        ("multi", "de", "en"): {"LangR@10": 0.3, "Consist@10": -0.2},
        ("multi", "en", "de"): {"LangR@10": 0.4, "Consist@10": -0.2},
        ("multi", "en", "en"): {"LangR@10": 0.8},
    }
    return make_record("m", cells)


def test_the_language_matrix_is_query_by_candidate_language():
    """A per-candidate-language measure fills the multi cells (query, candidate language): the
    matrix has no 'all' column, blanks where undefined, and a scale reaching below 0 for rho."""
    scores = _scores(_panel_record())
    recall = cell_matrix(scores, "LangR@10", ("multi",))
    assert (recall.rows, recall.columns) == (("de", "en"), ("de", "en"))
    assert recall.values == ((0.9, 0.3), (0.4, 0.8))
    consist = cell_matrix(scores, "Consist@10", ("multi",))
    assert consist.values == ((None, -0.2), (-0.2, None))
    assert color_limits([consist]) == (-0.2, 1.0)
    assert color_limits([recall]) == (0.0, 1.0)
    ax = plot_matrix(consist, (-0.2, 1.0)).axes[0]
    assert ax.get_xlabel() == "candidate language"
    # The hatching lies under the image: it shows in the blank cells only, not over values.
    assert ax.images[0].get_zorder() > max(p.get_zorder() for p in ax.patches)


def test_heatmap_command_draws_a_bias_measure_in_the_multilingual_setting(tmp_path, xret_cli):
    from .conftest import store

    store(tmp_path / "results", _panel_record())
    out = tmp_path / "h"
    code, _, err = xret_cli(
        "heatmap", str(tmp_path / "results"), "-m", "m", "--measure", "LangR@10", "--out", str(out)
    )
    assert code == 0, err
    assert (out / "xquad-r__m__LangR@10__multi.png").is_file()  # -s multi without asking


def test_two_seeds_of_a_study_row_get_figures_of_their_own(tmp_path, xret_cli):
    """A heatmap is drawn from one record: a study seed keeps its name, so seed 3 and seed 4 of
    one regime are two maps and a delta, not one file written twice."""
    from pathlib import Path

    study = Path(__file__).parents[2] / "results" / "study" / "me5-small-regimes" / "records"
    seeds = ("me5-small-q4__x-y__seed3", "me5-small-q4__x-y__seed4")
    args = ("-m", seeds[0], "-m", seeds[1], "-t", "xquad-r", "--measure", "LangR@10")
    code, out, err = xret_cli("heatmap", str(study), *args, "--out", str(tmp_path))
    assert code == 0, err
    written = out.split()
    assert len(written) == len(set(written)) == 8  # two maps, the delta, the RD chart; PNG + SVG
    for seed in seeds:
        assert (tmp_path / f"xquad-r__{seed}__LangR@10__multi.svg").is_file()
    assert (tmp_path / f"xquad-r__{seeds[0]}-minus-{seeds[1]}__LangR@10__multi.svg").is_file()
