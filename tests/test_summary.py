"""The table ``xret bench`` prints: readable in 80 columns when written to a log or a pipe."""

from __future__ import annotations

from xret.results.record import (
    CoverageSection,
    ModelSection,
    OptionsSection,
    ProvenanceSection,
    ResultRecord,
    TaskSection,
)
from xret.results.summary import print_summary

MACRO = {
    "mono": {"MAP": 0.80012, "R@1": 0.7},
    "cross": {"MAP": 0.64, "R@1": 0.5},
    "multi": {"MAP": 0.298, "R@10": 0.61, "RD": 947.84},
}


def _record(task: str, model: str, **changes) -> ResultRecord:
    fields = dict(
        key=f"{model}/{task}",
        model=ModelSection(name=model),
        task=TaskSection(name=task),
        options=OptionsSection(),
        coverage=CoverageSection(),
        cells=(),
        by_language={},
        summary={"macro": MACRO},
        provenance=ProvenanceSection(),
    )
    return ResultRecord(**{**fields, **changes})


def test_summary_fits_80_columns_in_a_log(capsys):
    records = [
        _record("xquad-r", "xret.testing:HashEncoder"),
        _record("xquad-r", "a-sentence-transformers-model-with-a-very-long-name"),
        _record("lareqa:my-own-lareqa-format-data", "me5-small-q4"),
        _record(
            "miracl/sw/dev",
            "me5-small-q4",
            options=OptionsSection(ranking="top-k", measures=("nDCG@10",)),
            summary={"mean-1": {"mono": {"nDCG@10": 0.5}}},
        ),
    ]
    print_summary(records)
    out = capsys.readouterr().out  # captured: not a terminal
    assert max(map(len, out.splitlines())) <= 80
    lines = out.splitlines()
    assert "xquad-r: macro average over languages" in out
    assert "lareqa:my-own-lareqa-format-data: macro average over languages" in out
    # Both xquad-r models under one header, numbers unabridged; the long name wraps.
    row = next(line for line in lines if line.startswith("xret.testing:HashEncoder"))
    assert row.split()[1:] == ["0.8001", "0.6400", "0.2980", "0.7000", "0.5000", "0.6100", "947.8"]
    assert "a-sentence-transformers-model-with-a-very-long-name" in "".join(
        line.split("  ")[0] for line in lines
    )
    assert "monolingual corpus retrieval" in out and "0.5000" in out
    assert "RD rank distance" in out


def test_settings_that_were_not_run_get_no_column(capsys):
    print_summary([_record("xquad-r", "m", summary={"macro": {"mono": {"MAP": 0.79, "R@1": 0.7}}})])
    header = capsys.readouterr().out.splitlines()[1:3]
    assert header[0].split() == ["MAP", "R@1"] and header[1].split() == ["model", "Mo.", "Mo."]


def test_bias_panel_gets_its_own_table_in_80_columns(capsys):
    panel = {"nRD": 0.0312, "Excess@10": 0.1234, "PEER@10": 0.456, "WrongSame": 0.05}
    panel |= {"Consist@10": -0.123, "FirstOther": 4.5}
    macro = {**MACRO, "multi": {**MACRO["multi"], **panel}}
    print_summary(
        [
            _record("xquad-r", "xret.testing:HashEncoder", summary={"macro": macro}),
            _record("xquad-r", "me5-small-q4"),  # a record from before the panel: blanks
        ]
    )
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 80
    assert "xquad-r: language bias, multilingual pool" in out
    row = [line for line in out.splitlines() if line.startswith("xret.testing:HashEncoder")][1]
    assert row.split()[1:] == ["947.8", "0.031", "0.123", "0.456", "0.050", "-0.123"]
    assert "PEER language fairness p" in out
    # Without the panel (RD only) there is no second table.
    print_summary([_record("xquad-r", "me5-small-q4")])
    assert "language bias, multilingual pool" not in capsys.readouterr().out


def test_bench_ci_prints_each_headline_value_with_its_interval(capsys):
    record = _record("xquad-r", "m")
    bounds = {
        ("macro", "mono", "MAP"): (0.78123, 0.81234),
        ("macro", "multi", "RD"): (901.2, 990.7),
    }
    print_summary([record], [bounds])
    out = capsys.readouterr().out
    assert "95 % intervals" in out and max(len(line) for line in out.splitlines()) <= 80
    assert any(
        line.split() == ["xquad-r", "m", "MAP", "Mo.", "0.8001", "0.7812", "0.8123"]
        for line in out.splitlines()
    )
    assert any(
        line.split() == ["xquad-r", "m", "RD", "Mul.", "947.8", "901.2", "990.7"]
        for line in out.splitlines()
    )
    assert "Cr." not in out.split("95 % intervals")[1]  # a value without an interval: no row


def test_bench_ci_gives_the_bias_columns_their_intervals(capsys):
    macro = {**MACRO, "multi": {**MACRO["multi"], "PEER@10": 0.456, "nRD": 0.0312}}
    record = _record("xquad-r", "m", summary={"macro": macro})
    bounds = {("macro", "multi", "PEER@10"): (0.41, 0.5), ("macro", "multi", "nRD"): (0.03, 0.033)}
    print_summary([record], [bounds])
    lines = capsys.readouterr().out.split("95 % intervals")[1].splitlines()
    assert ["xquad-r", "m", "PEER@10", "Mul.", "0.456", "0.410", "0.500"] in [
        s.split() for s in lines
    ]
    assert ["xquad-r", "m", "nRD", "Mul.", "0.031", "0.030", "0.033"] in [s.split() for s in lines]
