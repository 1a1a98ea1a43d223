"""Leaderboard tables from small synthetic records, every cell computed by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from xret.errors import DataError
from xret.leaderboards.leaderboard import build_leaderboard, leaderboard_csv
from xret.leaderboards.scores import check_comparable, collect, load_collection
from xret.leaderboards.table import BEST, SECOND, render_csv, render_latex, render_markdown

from .conftest import XQUAD_R, lareqa_cells, make_record, store, uniform_cells


def _table(doc, title_start):
    (found,) = [t for t in doc.tables if t.title.startswith(title_start)]
    return found


def _row(table, model):
    (i,) = [i for i, row in enumerate(table.rows) if row[3] == model]
    return i, table.rows[i]


def test_headline_cells_blanks_and_marks(two_models):
    doc = build_leaderboard(
        collect([(Path("a.json"), two_models[0]), (Path("b.json"), two_models[1])]), published=False
    )
    table = _table(doc, "mAP, macro average")
    assert [c.heading for c in table.columns][4:] == ["XQuAD-R Mo.", "XQuAD-R Cr.", "XQuAD-R Mul."]
    i, a = _row(table, "model-a")
    j, b = _row(table, "model-b")
    # model-a: Mo. (0.6 + 0.8) / 2, Cr. (0.5 + 0.3) / 2, Mul. (0.4 + 0.6) / 2
    assert a[:4] == ("measured", "base", "X-Y", "model-a")
    assert a[4:] == pytest.approx((0.7, 0.4, 0.5))
    # model-b has no multilingual en cell: a blank, never a zero, and no mean over de alone.
    assert b[4:6] == pytest.approx((0.8, 0.2)) and b[6] is None
    assert (table.mark(j, 4), table.mark(i, 4)) == (BEST, SECOND)
    assert (table.mark(i, 5), table.mark(j, 5)) == (BEST, SECOND)
    assert table.mark(i, 6) == ""  # alone in its column: nothing to rank
    assert any("model-b on xquad-r: multi has no value for en (MAP, RD)" in n for n in doc.notes)
    assert "| measured | base | Hybrid | model-b | **0.800** | _0.200_ |  |" in render_markdown(doc)
    rd = _table(doc, "Language bias")
    assert _row(rd, "model-a")[1][4] == 15.0 and _row(rd, "model-b")[1][4] is None


def test_per_language_tables_in_the_papers_shape(two_models):
    doc = build_leaderboard(
        collect([(Path("a.json"), two_models[0]), (Path("b.json"), two_models[1])]), published=False
    )
    table = _table(doc, "base on XQuAD-R, MAP")
    assert [c.heading for c in table.columns] == [
        "language",
        "Mo. X-Y",
        "Mo. Hybrid",
        "Cr. X-Y",
        "Cr. Hybrid",
        "Mul. X-Y",
        "Mul. Hybrid",
    ]
    assert table.rows[0] == ("de", 0.6, 0.7, 0.5, 0.2, 0.4, 0.5)
    assert table.rows[1] == ("en", 0.8, 0.9, 0.3, 0.2, 0.6, None)
    assert table.rows[2][0] == "Mean" and table.rows[2][1:] == pytest.approx(
        (0.7, 0.8, 0.4, 0.2, 0.5, None)
    )
    assert table.footer == 1
    # Marks compare the regimes of one setting within a row.
    assert [table.mark(0, j) for j in range(1, 7)] == [SECOND, BEST, BEST, SECOND, SECOND, BEST]
    recall = _table(doc, "base on XQuAD-R, R@1")
    assert recall.rows[0] == ("de", 0.5, None, 0.5, None, 0.5, None)  # model-b has no R@1 / R@10
    rd = _table(doc, "Average rank distance")
    assert [c.heading for c in rd.columns] == ["language", "base X-Y", "base Hybrid"]
    assert rd.rows[0] == ("de", 10.0, 30.0) and rd.mark(0, 1) == BEST  # lower is better


def test_published_rows_are_labelled_and_marked_apart():
    full = make_record(
        "model-a", uniform_cells(XQUAD_R, 0.7, 0.4, 0.5, 15.0), task_languages=XQUAD_R
    )
    part = make_record(
        "model-p",
        uniform_cells(("de", "en"), 0.7, 0.4, 0.5, 15.0),
        task_languages=XQUAD_R,
        languages=("de", "en"),
    )
    doc = build_leaderboard(
        collect([(Path("a.json"), full), (Path("p.json"), part)]), published=True
    )
    table = _table(doc, "mAP, macro average")
    assert [c.group for c in table.columns[4:]] == ["XQuAD-R"] * 3 + ["XQuAD-R (de, en)"] * 3
    published = [row for row in table.rows if row[0] != "measured"]
    assert {row[0] for row in published} == {"published (Elmahdy et al. 2024)"}
    assert [row[1:3] for row in published][:3] == [
        ("XLM-R", "X-X-mono"),
        ("XLM-R", "X-Y"),
        ("XLM-R", "Hybrid"),
    ]
    # Table 1's printed values (XQuAD-R Mo./Cr./Mul. only: the synthetic task is xquad-r).
    assert published[0][4:7] == (0.792, 0.674, 0.547) and published[5][4:7] == (0.817, 0.767, 0.682)
    # The paper's rows stand only beside the evaluation of all its languages, not the de,en one.
    assert all(row[7:] == (None, None, None) for row in published)
    i, _ = _row(table, "model-a")
    assert (
        table.mark(i, 4) == ""
    )  # the only measured row in its column: not ranked against the paper
    labse_hybrid = len(table.rows) - 1
    assert table.mark(labse_hybrid, 4) == BEST and table.sections  # best among reference rows
    rd = _table(doc, "Language bias")
    assert [row[4] for row in rd.rows if row[0] != "measured"] == [410, 295, 287, 262, 225, 221]
    titles = [t.title for t in doc.tables]
    assert (
        "Table 3 — XLM-R on XQuAD-R, MAP" in titles
        and "Table 7 — average rank distance, XQuAD-R (multilingual setting)" in titles
        and not any("MLQA-R" in t for t in titles)
    )
    assert (
        _table(doc, "Table 5 — LaBSE on XQuAD-R, MAP").source == "published (Elmahdy et al. 2024)"
    )


def test_rows_grouped_by_base_model_then_regime():
    cells = lareqa_cells(
        {"de": 0.5, "en": 0.5}, {("de", "en"): 0.5, ("en", "de"): 0.5}, {"de": 0.5, "en": 0.5}
    )
    records = [
        (Path(f"{m}.json"), make_record(m, cells, regime=regime, base_model=base))
        for m, regime, base in [
            ("z-hyb", "hybrid", "xlmr"),
            ("plain", None, None),
            ("a-xy", "x-y", "xlmr"),
            ("b-mono", "x-x-mono", "xlmr"),
            ("c-mono", "x-x-mono", "labse"),
        ]
    ]
    table = _table(build_leaderboard(collect(records), published=False), "mAP")
    assert [(row[1], row[2], row[3]) for row in table.rows] == [
        ("labse", "X-X-mono", "c-mono"),
        ("plain", "—", "plain"),
        ("xlmr", "X-X-mono", "b-mono"),
        ("xlmr", "X-Y", "a-xy"),
        ("xlmr", "Hybrid", "z-hyb"),
    ]
    assert table.sections == {1, 2}


def test_different_evaluations_are_never_ranked_together():
    cells = lareqa_cells({"de": 0.5, "en": 0.5}, {}, {})
    records = [
        (Path("a.json"), make_record("a", cells)),
        (Path("b.json"), make_record("b", cells, version="2")),
        (Path("c.json"), make_record("c", cells, data="other")),
    ]
    collection = collect(records)
    data = {s.system.model: dict(s.signature)["data"] for s in collection.scores}
    assert data["a"] != data["c"]
    assert {s.system.model: s.evaluation for s in collection.scores} == {
        "a": f"task version 1; data {data['a']}",
        "b": "task version 2",  # the version tells it apart: no checksum needed
        "c": f"task version 1; data {data['c']}",
    }
    assert any(
        n.startswith("xquad-r: records differ in task version (1 / 2), data (")
        and "never averaged" in n
        for n in collection.notes
    )
    table = _table(build_leaderboard(collection, published=True), "mAP")
    assert len({c.group for c in table.columns[4:]}) == 3  # one column group per evaluation
    for i, row in enumerate(table.rows):
        if (
            row[0] == "measured"
        ):  # values only in the row's own evaluation, so never ranked together
            assert sum(v is not None for v in row[4:]) == 1
            assert all(table.mark(i, j) == "" for j in range(4, len(row)))
    with pytest.raises(DataError, match=r"evaluated differently on xquad-r \(task version: 1 vs 2"):
        check_comparable(collection.scores[0], collection.scores[1])


def test_subset_of_languages_is_its_own_evaluation():
    full = make_record("full", lareqa_cells({"de": 0.5, "en": 0.7}, {}, {}))
    part = make_record("part", lareqa_cells({"en": 0.9}, {}, {}), languages=("en",))
    collection = collect([(Path("f.json"), full), (Path("p.json"), part)])
    assert {s.system.model: s.evaluation for s in collection.scores} == {"full": "", "part": "en"}
    table = _table(build_leaderboard(collection, published=False), "mAP")
    assert [c.group for c in table.columns[4:]] == ["XQuAD-R"] * 3 + ["XQuAD-R (en)"] * 3
    assert _row(table, "part")[1][4:] == (None, None, None, 0.9, None, None)  # never mixed


def test_a_subset_says_so_in_words_also_when_alone():
    """A 3-language record read 'XQuAD-R Mo.' when it was the only one; the data checksum of a
    subset (fewer files read) is not named when its languages tell it apart."""
    task = ("ar", "de", "en", "zh")
    part = make_record(
        "part",
        lareqa_cells({"en": 0.9, "de": 0.8, "zh": 0.7}, {}, {}),
        task_languages=task,
        languages=("en", "de", "zh"),
    )
    alone = collect([(Path("p.json"), part)])
    table = _table(build_leaderboard(alone, published=False), "mAP")
    assert {c.group for c in table.columns[4:]} == {"XQuAD-R (en, de, zh)"}
    full = make_record(
        "full", lareqa_cells(dict.fromkeys(task, 0.5), {}, {}), data="all4", task_languages=task
    )
    both = collect([(Path("p.json"), part), (Path("f.json"), full)])
    assert sorted(s.task_label for s in both.scores) == ["XQuAD-R", "XQuAD-R (en, de, zh)"]


def test_duplicate_records_combine_and_conflicts_refuse():
    a = make_record("m", lareqa_cells({"de": 0.5, "en": 0.7}, {}, {}))
    extra = make_record(
        "m", {("mono", "de", "de"): {"R@1": 0.25}, ("mono", "en", "en"): {"R@1": 0.75}}
    )
    (scores,) = collect([(Path("1.json"), a), (Path("2.json"), extra)]).scores
    assert (
        scores.value("mono", "MAP", "de") == 0.5 and scores.statistic("mean", "mono", "R@1") == 0.5
    )
    clash = make_record("m", lareqa_cells({"de": 0.6, "en": 0.7}, {}, {}))
    with pytest.raises(DataError, match="mono/MAP/de = 0.6 disagrees with 0.5"):
        collect([(Path("1.json"), a), (Path("3.json"), clash)])


MIRACL_18 = (
    "ar",
    "bn",
    "de",
    "en",
    "es",
    "fa",
    "fi",
    "fr",
    "hi",
    "id",
    "ja",
    "ko",
    "ru",
    "sw",
    "te",
    "th",
    "yo",
    "zh",
)
PAPER_15 = (
    "sw",
    "bn",
    "hi",
    "ko",
    "th",
    "te",
    "fi",
    "ja",
    "es",
    "fr",
    "ru",
    "zh",
    "fa",
    "ar",
    "id",
)


def _miracl(model: str, **kwargs):
    # nDCG@10: 0.1 for ten of the paper's languages, 0.6 for five, 0.9 for en, de and yo.
    values = {lang: 0.1 if i < 10 else 0.6 for i, lang in enumerate(PAPER_15)} | dict.fromkeys(
        ("en", "de", "yo"), 0.9
    )
    cells = {("mono", lang, lang): {"nDCG@10": v, "R@100": 1.0 - v} for lang, v in values.items()}
    return make_record(
        model, cells, task="miracl/dev", family="miracl", task_languages=MIRACL_18, **kwargs
    )


def test_miracl_headline_is_over_the_papers_15_languages():
    doc = build_leaderboard(collect([(Path("m.json"), _miracl("m"))]), published=True)
    table = _table(doc, "MIRACL dev: mean and median")
    assert [c.heading for c in table.columns[4:]] == [
        f"MIRACL dev, the paper's 15 languages {m} {s}"
        for m in ("nDCG@10", "R@100")
        for s in ("mean", "median")
    ]
    _, row = _row(table, "m")
    # mean (10 × 0.1 + 5 × 0.6) / 15; median 0.1; en, de and yo (0.9) are not among the 15
    assert row[4:] == pytest.approx((4.0 / 15, 0.1, 1 - 4.0 / 15, 0.9))
    published = [r for r in table.rows if r[0] != "measured"]
    assert [r[4:] for r in published][2] == (
        0.4054,
        0.4071,
        0.7628,
        0.7958,
    )  # XLM-R hybrid, Table 12
    per_language = _table(doc, "m on MIRACL dev, nDCG@10 and R@100")
    assert [r[0] for r in per_language.rows] == [*MIRACL_18, "Mean", "Median"]  # all 18 measured
    assert per_language.rows[-2][1] == pytest.approx((4.0 + 2.7) / 18)
    assert any(t.title.startswith("Table 12") for t in doc.tables)


def test_records_not_comparable_with_the_paper_get_no_reference_rows():
    record = _miracl(
        "m",
        extra={
            "comparable_with_published": False,
            "not_comparable_because": ["sw: the corpus has 10 passages, MIRACL v1.0 has 131,924"],
        },
    )
    doc = build_leaderboard(collect([(Path("m.json"), record)]), published=True)
    assert all(row[0] == "measured" for row in _table(doc, "MIRACL dev").rows)
    assert any(
        "not comparable with published numbers: sw: the corpus has 10 passages" in n
        for n in doc.notes
    )


def test_names_are_escaped_in_markdown_and_latex():
    cells = lareqa_cells({"de": 0.5, "en": 0.5}, {}, {})
    records = [
        (Path("s.json"), make_record("<script>alert(1)</script>", cells)),
        (Path("x.json"), make_record("50%_{x}", cells)),
    ]
    doc = build_leaderboard(collect(records), published=False)
    latex = render_latex(doc)
    assert (
        r"50\%\_\{x\}" in latex
        and r"\textless{}script\textgreater{}" in latex
        and "<script>" not in latex
    )
    markdown = render_markdown(doc)
    assert r"\<script\>alert(1)\</script\>" in markdown and r"50%\_{x}" in markdown


def test_same_records_give_byte_identical_output(tmp_path, two_models):
    for record in two_models:
        store(tmp_path / "results", record)
    outputs = []
    for _ in range(2):
        collection = load_collection(tmp_path / "results")
        doc = build_leaderboard(collection)
        outputs.append(
            (
                render_markdown(doc),
                render_latex(doc),
                leaderboard_csv(collection),
                render_csv(doc.tables[0]),
            )
        )
    assert outputs[0] == outputs[1]
    # Record order on disk does not matter either.
    shuffled = collect(
        list(reversed([(p, r) for p, r in load_collection_records(tmp_path / "results")]))
    )
    assert render_markdown(build_leaderboard(shuffled)) == outputs[0][0]


def test_other_json_beside_the_records_is_passed_over_but_a_torn_record_is_not(
    tmp_path, two_models
):
    for record in two_models:
        store(tmp_path / "results", record)
    (tmp_path / "results" / "timings.json").write_text('{"stages": {}}', encoding="utf-8")
    assert len(load_collection_records(tmp_path / "results")) == 2
    (tmp_path / "results" / "torn.json").write_text('{"schema_version": 1, "ce', encoding="utf-8")
    with pytest.raises(DataError, match="torn.json: not a readable xret result record"):
        load_collection_records(tmp_path / "results")


def load_collection_records(root):
    from xret.results.store import ResultStore

    return list(ResultStore(root).records())


def test_csv_lists_every_number_with_full_precision(two_models):
    text = leaderboard_csv(collect([(Path("a.json"), two_models[0])]), published=False)
    lines = text.splitlines()
    assert (
        lines[0]
        == "source,base_model,regime,model,revision,task,evaluation,setting,measure,language,value"
    )
    assert "measured,base,x-y,model-a,r1,xquad-r,,cross,MAP,de,0.5" in lines
    assert "measured,base,x-y,model-a,r1,xquad-r,,cross,MAP,mean,0.4" in lines
    assert "measured,base,x-y,model-a,r1,xquad-r,,multi,RD,median,15.0" in lines
    with_paper = leaderboard_csv(collect([(Path("a.json"), two_models[0])]), published=True)
    assert (
        "published (Elmahdy et al. 2024),XLM-R,x-x-mono,XLM-R,,xquad-r,,multi,MAP,mean,0.5479"
        in with_paper
    )
    assert ",mlqa-r," not in with_paper  # reference numbers only for the tasks measured


def test_table_csv_keeps_blanks_blank(two_models):
    doc = build_leaderboard(
        collect([(Path("a.json"), two_models[0]), (Path("b.json"), two_models[1])]), published=False
    )
    lines = render_csv(doc.tables[0]).splitlines()
    assert lines[0] == "source,base model,regime,model,XQuAD-R Mo.,XQuAD-R Cr.,XQuAD-R Mul."
    assert lines[2] == "measured,base,Hybrid,model-b,0.8,0.2,"


def test_marks_tie_at_shown_precision():
    from xret.leaderboards.table import Column, best_marks

    columns = (Column("x", digits=3), Column("rd", digits=0, higher_is_better=False))
    rows = ((0.8001, 12.0), (0.8004, 11.6), (0.7, None))
    marks = best_marks(rows, columns, [[(0, 0), (1, 0), (2, 0)], [(0, 1), (1, 1), (2, 1)]])
    assert [m[0] for m in marks] == [BEST, BEST, SECOND]  # 0.800 and 0.800 tie
    assert [m[1] for m in marks] == [BEST, BEST, ""]  # 12 and 12 tie; a blank is never ranked


def test_scores_are_frozen(two_models):
    (scores,) = collect([(Path("a.json"), two_models[0])]).scores
    with pytest.raises(dataclasses.FrozenInstanceError):
        scores.task = "other"  # type: ignore[misc]


HOSTILE = "evil\r\n## injected\n\\end{table}\x1b[31m"


def test_control_characters_stay_inside_their_cell_in_every_format(two_models):
    from xret.leaderboards.html import render_html

    cells = lareqa_cells({"de": 0.5, "en": 0.5}, {}, {})
    records = [(Path("a.json"), make_record(HOSTILE, cells)), (Path("b.json"), two_models[0])]
    collection = collect(records)
    doc = build_leaderboard(collection, published=False)
    markdown, latex = render_markdown(doc), render_latex(doc)
    for text in (markdown, latex):  # the name stays on one line, whole
        assert all("evil  " in line for line in text.splitlines() if "injected" in line)
        assert "\r" not in text and "\x1b" not in text
    assert r"\textbackslash{}end\{table\}" in latex
    page = render_html(doc)
    assert "\r" not in page and "\x1b" not in page and "evil  ## injected" in page
    for text in (leaderboard_csv(collection, published=False), render_csv(doc.tables[0])):
        assert "\r" not in text and "\x1b" not in text
        assert all(line.count(",") == text.splitlines()[0].count(",") for line in text.splitlines())


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+cmd", "-2+cmd", "@SUM(A1)"])
def test_csv_neutralises_formulas_but_not_negative_numbers(name):
    from xret.leaderboards.table import Column, Table

    table = Table("t", (Column("model"), Column("delta", digits=3)), ((name, -0.25),))
    line = render_csv(table).splitlines()[1]
    assert line.startswith(("'" + name[0], "\"'" + name[0])) and line.endswith(",-0.25")


def test_rows_of_different_precision_are_labelled(tmp_path):
    """An fp32 and a bf16 record of one model sit in two rows, each saying its precision; a model
    run at one precision only keeps its plain name."""
    from xret.leaderboards.scores import collect
    from xret.results.record import (
        CellScores,
        CoverageSection,
        ModelSection,
        OptionsSection,
        ProvenanceSection,
        ResultRecord,
        TaskSection,
    )

    def record(name: str, precision: str, value: float) -> ResultRecord:
        cell = CellScores("mono", "en", "en", 1, 0, {"MAP": value})
        return ResultRecord(
            key=f"{name}/{precision}",
            model=ModelSection(name=name, revision="r"),
            task=TaskSection(name="lareqa:toy", languages=("en",), version="1"),
            options=OptionsSection(),
            coverage=CoverageSection(),
            cells=(cell,),
            by_language={"mono": {"MAP": {"en": value}}},
            summary={"macro": {"mono": {"MAP": value}}},
            provenance=ProvenanceSection(precision=precision),
        )

    records = [
        record("m", "fp32", 0.5),
        record("m", "bf16-autocast", 0.49),
        record("other", "fp32", 0.4),
    ]
    labels = sorted(
        s.system.model
        for s in collect([(tmp_path / f"{i}.json", r) for i, r in enumerate(records)]).scores
    )
    assert labels == ["m [bf16-autocast]", "m [fp32]", "other"]


def test_bias_table_holds_the_panel_of_measured_records():
    """A table of the bias measures the records hold, RD first, each with its direction; the
    paper's rows stay out (it measured RD only), and records without the panel get none."""
    from .test_heatmap import _panel_record

    record = _panel_record()
    doc = build_leaderboard(collect([(Path("a.json"), record)]), published=True)
    table = _table(doc, "Language bias panel")
    labels = [c.label for c in table.columns[4:]]
    assert labels == ["RD", "PEER@10", "LangR@10", "Consist@10"]  # the measure table's order
    assert [row[3] for row in table.rows] == ["m"]
    assert table.rows[0][4:] == pytest.approx((10.0, 0.5, 0.6, -0.2))  # means over de, en
    assert [c.higher_is_better for c in table.columns[4:]] == [False, True, True, True]
    plain = build_leaderboard(
        collect(
            [(Path("b.json"), make_record("p", uniform_cells(("de", "en"), 0.5, 0.4, 0.3, 9.0)))]
        )
    )
    assert not [t for t in plain.tables if t.title.startswith("Language bias panel")]
