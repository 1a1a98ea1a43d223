"""``xret compare A B C …``: every pair on the same topics, Holm over the whole report.

Oracles: ranx 0.3.21 (its paired t-test and Fisher randomisation test, and ``ranx.compare`` end to
end on unclustered runs), scipy's ``ttest_rel``, statsmodels' cluster-robust least squares for
the clustered t and its ``multipletests`` for Holm."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from xret.errors import DataError, XretError
from xret.leaderboards.compare import align, compare_frames, compare_records, comparison_document
from xret.leaderboards.table import print_document
from xret.measures.paired import (
    PairedTest,
    holm,
    paired_tests,
    randomisation_p_values,
    student_t,
)

from .conftest import make_record, store

ranx = pytest.importorskip("ranx")
statsmodels_api = pytest.importorskip("statsmodels.api")
multitest = pytest.importorskip("statsmodels.stats.multitest")


def _unclustered(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """D and V of one plain mean over n independent queries."""
    n = len(values)
    return (values / n)[:, None], np.full((n, 1), 1 / n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_student_t_is_scipy_and_ranx_on_unclustered_scores(seed):
    from ranx.statistical_tests import paired_student_t_test

    rng = np.random.default_rng(seed)
    a = rng.random(50)
    b = np.clip(a - 0.03 + rng.normal(0, 0.1, 50), 0, 1)
    D, V = _unclustered(a - b)
    ours = student_t(D, V)
    expected = scipy.stats.ttest_rel(a, b)
    assert ours.t[0] == pytest.approx(expected.statistic, abs=1e-9) and ours.df[0] == 49
    (result,) = paired_tests(D, V, resamples=1, seed=0, confidence=0.95, test=PairedTest.STUDENT)
    ranx_p, _ = paired_student_t_test(a, b)
    assert result.p_value == pytest.approx(ranx_p, abs=1e-9)
    interval = expected.confidence_interval(0.95)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high), abs=1e-9)


def test_clustered_student_t_is_cluster_robust_least_squares():
    """Topics of 1-4 rows with unequal weights (a macro average): statsmodels' WLS on an intercept
    with CR1 cluster-robust errors gives the same estimate, t and p."""
    rng = np.random.default_rng(3)
    topic = np.repeat(np.arange(40), rng.integers(1, 5, 40))
    weight = rng.uniform(0.5, 2, len(topic))
    weight /= weight.sum()
    diff = 0.02 + rng.normal(0, 0.1, 40)[topic] + rng.normal(0, 0.05, len(topic))
    D = np.bincount(topic, weights=weight * diff)[:, None]
    V = np.bincount(topic, weights=weight)[:, None]
    fit = statsmodels_api.WLS(diff, np.ones(len(diff)), weights=weight).fit(
        cov_type="cluster", cov_kwds={"groups": topic}, use_t=True
    )
    ours = student_t(D, V)
    assert D.sum() == pytest.approx(fit.params[0], abs=1e-12)
    assert ours.t[0] == pytest.approx(fit.tvalues[0], abs=1e-9)
    assert ours.df[0] == fit.df_resid_inference == 39
    (result,) = paired_tests(D, V, resamples=1, seed=0, confidence=0.95, test=PairedTest.STUDENT)
    assert result.p_value == pytest.approx(fit.pvalues[0], abs=1e-9)
    low, high = fit.conf_int(0.05)[0]
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-9)


def test_student_t_without_variance():
    D, V = _unclustered(np.zeros(5))
    shifted = _unclustered(np.full(5, 0.1))[0]
    same, certain = (
        paired_tests(d, V, resamples=1, seed=0, confidence=0.95, test=PairedTest.STUDENT)[0]
        for d in (D, shifted)
    )
    assert (same.p_value, same.ci_low, same.ci_high) == (1.0, 0.0, 0.0)
    assert certain.p_value < 1e-12 and certain.delta == pytest.approx(0.1)


@pytest.mark.parametrize("shift", [0.02, 0.05])
def test_randomisation_is_ranx_fisher_within_monte_carlo_error(shift):
    from ranx.statistical_tests import fisher_randomization_test

    rng = np.random.default_rng(11)
    a = rng.random(80)
    b = np.clip(a - shift + rng.normal(0, 0.15, 80), 0, 1)
    resamples = 20_000
    ours = randomisation_p_values(_unclustered(a - b)[0], resamples, np.random.default_rng(5))[0]
    theirs, _ = fisher_randomization_test(a, b, resamples, 0.05, 42)
    assert 0.005 < theirs < 0.995  # room for Monte Carlo error on both sides
    # Each estimate has standard error sqrt(p (1 - p) / resamples); allow 4 of their combined one.
    assert abs(ours - theirs) < 4 * np.sqrt(2 * theirs * (1 - theirs) / resamples)


def test_holm_is_statsmodels():
    rng = np.random.default_rng(2)
    for size in (1, 2, 7, 30):
        p = rng.uniform(0, 0.2, size) ** 2
        p[rng.random(size) < 0.3] = p[0]  # ties
        _, expected, _, _ = multitest.multipletests(p, alpha=0.05, method="holm")
        assert holm(p) == pytest.approx(expected, abs=1e-15)


# --- N systems on synthetic per-query scores -----------------------------------------------------


def _system(shift: float, noise: float, n: int = 40, seed: int = 0) -> pd.DataFrame:
    """Per-query MAP on a two-language parallel task: a shared topic effect plus noise."""
    base = np.random.default_rng(0).random(n)  # the topics' difficulty, shared by every system
    rng = np.random.default_rng(seed)
    rows = []
    for setting, cells in (
        ("mono", [("de", "de"), ("en", "en")]),
        ("cross", [("de", "en"), ("en", "de")]),
    ):
        for q, p in cells:
            for i in range(n):
                value = float(np.clip(base[i] + shift + rng.normal(0, noise), 0, 1))
                rows.append((setting, q, p, f"{q}/q{i}", value))
    return pd.DataFrame(
        rows, columns=["setting", "query_language", "pool_language", "query_id", "MAP"]
    )


def _many(frames, names, test=PairedTest.RANDOMISATION, resamples=2000):
    return compare_frames(
        align(frames, "MAP", None, names),
        names=names,
        task="toy",
        family="lareqa",
        measure="MAP",
        alpha=0.05,
        resamples=resamples,
        seed=1,
        test=test,
    )


@pytest.mark.parametrize("test", list(PairedTest))
def test_each_pair_is_its_two_system_comparison_and_holm_covers_the_report(test):
    frames = [_system(0.1, 0.05, seed=1), _system(0.0, 0.05, seed=2), _system(0.01, 0.2, seed=3)]
    names = ("x", "y", "z")
    many = _many(frames, names, test)
    assert [(r.setting, r.a, r.b) for r in many.settings] == [
        (s, a, b) for s in ("mono", "cross") for a, b in (("x", "y"), ("x", "z"), ("y", "z"))
    ]
    assert many.pairs == ()  # per language pair only for two systems
    for i, j in ((0, 1), (0, 2), (1, 2)):
        alone = _many([frames[i], frames[j]], (names[i], names[j]), test)
        rows = [r for r in many.settings if (r.a, r.b) == (names[i], names[j])]
        for row, single in zip(rows, alone.settings):
            assert (row.delta, row.ci_low, row.ci_high, row.p_value) == pytest.approx(
                (single.delta, single.ci_low, single.ci_high, single.p_value), abs=1e-12
            )
            assert (row.mean_a, row.mean_b) == (
                many.means[row.a][row.setting],
                many.means[row.b][row.setting],
            )
    raw = [r.p_value for r in many.settings]
    _, expected, _, _ = multitest.multipletests(raw, method="holm")
    assert [r.p_holm for r in many.settings] == pytest.approx(expected, abs=1e-15)
    winners = {(r.a, r.b, r.setting): r.winner for r in many.settings}
    assert winners[("x", "y", "mono")] == "A" and winners[("y", "z", "cross")] == ""


def test_topics_are_clustered_across_languages_and_queries_stand_alone_elsewhere():
    frames = [_system(0.05, 0.1, seed=1), _system(0.0, 0.1, seed=2)]
    aligned = align(frames, "MAP", None, ("a", "b"))

    def run(family):
        return compare_frames(
            aligned,
            names=("a", "b"),
            task="toy",
            family=family,
            measure="MAP",
            alpha=0.05,
            resamples=100,
            seed=0,
            test=PairedTest.STUDENT,
        )

    # lareqa: de/q3 and en/q3 are one question (40 topics); miracl: 80 separate queries.
    assert (run("lareqa").topics, run("miracl").topics) == (40, 80)


def test_ranx_compare_end_to_end_on_unclustered_runs():
    """Three runs scored by ranx; its compare's t-test p-values are ours to 1e-9 when every query
    is its own topic, and its Fisher p-values within Monte Carlo error."""
    rng = np.random.default_rng(4)
    qrels = {f"q{i}": {f"d{j}": 1 for j in rng.choice(30, 2, replace=False)} for i in range(60)}
    runs = [
        ranx.Run(
            {
                q: {
                    f"d{j}": float(rng.random() + (k * 0.08 if f"d{j}" in judged else 0))
                    for j in range(30)
                }
                for q, judged in qrels.items()
            },
            name=f"s{k}",
        )
        for k in range(3)
    ]
    Q = ranx.Qrels(qrels)
    frames = []
    for run in runs:
        scores = ranx.evaluate(Q, run, "map", return_mean=False)
        frames.append(
            pd.DataFrame(
                {
                    "setting": "mono",
                    "query_language": "xx",
                    "pool_language": "xx",
                    "query_id": [f"xx/{q}" for q in Q.keys()],
                    "MAP": scores,
                }
            )
        )
    names = ("s0", "s1", "s2")
    aligned = align(frames, "MAP", None, names)

    def ours(test, resamples):
        return compare_frames(
            aligned,
            names=names,
            task="toy",
            family="miracl",  # each query its own topic, as ranx
            measure="MAP",
            alpha=0.05,
            resamples=resamples,
            seed=0,
            test=test,
        )

    student = ranx.compare(Q, runs, ["map"], stat_test="student")
    for row in ours(PairedTest.STUDENT, 1).settings:
        expected = student.comparisons[(row.a, row.b)]["map"]["p_value"]
        assert row.p_value == pytest.approx(expected, abs=1e-9)
    fisher = ranx.compare(Q, runs, ["map"], stat_test="fisher", n_permutations=20_000)
    for row in ours(PairedTest.RANDOMISATION, 20_000).settings:
        expected = fisher.comparisons[(row.a, row.b)]["map"]["p_value"]
        assert (
            abs(row.p_value - expected) < 4 * np.sqrt(2 * expected * (1 - expected) / 20_000) + 3e-4
        )


# --- records, report, terminal ---------------------------------------------------------------


def test_records_of_three_systems_and_a_refusal(tmp_path):
    cells = {("mono", "de", "de"): {"MAP": 0.5}, ("mono", "en", "en"): {"MAP": 0.5}}
    frames = [
        _system(s, 0.05, seed=i)[lambda f: f.setting == "mono"]
        for i, s in enumerate((0.0, 0.2, 0.1))
    ]
    records = [make_record(name, cells) for name in ("a", "b", "c")]
    stored = [(store(tmp_path, r, f), r) for r, f in zip(records, frames)]
    result = compare_records(
        stored, measure="MAP", settings=None, alpha=0.05, resamples=500, seed=0
    )
    assert result.systems == ("a", "b", "c") and len(result.settings) == 3
    assert {(r.a, r.b): r.winner for r in result.settings} == {
        ("a", "b"): "B",
        ("a", "c"): "B",
        ("b", "c"): "A",
    }
    short = frames[2][frames[2].query_id != "en/q5"]
    stored[2] = (store(tmp_path / "other", records[2], short), records[2])
    with pytest.raises(DataError, match=r"^a and c were evaluated on different query sets"):
        compare_records(stored, measure="MAP", settings=None, alpha=0.05, resamples=10, seed=0)


def _numbers(doc) -> set[str]:
    return {
        t.text(i, j)
        for t in doc.tables
        for i in range(len(t.rows))
        for j in range(len(t.columns))
        if t.columns[j].numeric and t.text(i, j)
    }


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("systems", [2, 5])
def test_the_terminal_keeps_every_number_at_any_width(width, systems):
    from rich.console import Console

    frames = [_system(0.02 * k, 0.1, seed=k) for k in range(systems)]
    names = tuple(f"system-{k}" for k in range(systems))
    doc = comparison_document(_many(frames, names, resamples=200))
    console = Console(width=width, record=True, file=open("/dev/null", "w"))
    print_document(doc, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    tokens = set(re.findall(r"\S+", text))
    missing = {n for n in _numbers(doc) if n not in tokens}
    assert not missing, f"numbers cut or wrapped at {width} columns: {sorted(missing)[:5]}"
    assert "…" not in text


def test_the_command_and_the_python_api(tmp_path, xret_cli):
    import xret

    cells = {("mono", "de", "de"): {"MAP": 0.5}, ("mono", "en", "en"): {"MAP": 0.5}}
    for i, shift in enumerate((0.0, 0.2, 0.1)):
        frame = _system(shift, 0.05, seed=i)[lambda f: f.setting == "mono"]
        store(tmp_path, make_record(f"m{i}", cells), frame)
    args = ["--results-dir", str(tmp_path), "--resamples", "300"]
    code, out, err = xret_cli("compare", "m0", "m1", "m2", *args, "--format", "markdown")
    assert code == 0, err
    assert "# 3 systems on xquad-r: MAP" in out and "| a | m0 |" in out
    assert "Holm's correction over the 3 tests (pairs × settings)" in out
    code, out, err = xret_cli("compare", "m0", "m1", "m2", *args, "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 1 + 3  # header, the 3 pairs' tests
    code, out, err = xret_cli("compare", "m0", "m2", *args, "--test", "student")
    assert code == 0 and "Paired Student t-test over topics (40 topics" in out
    code, _, err = xret_cli("compare", "m0", *args)
    assert code != 0 and "compare needs two systems or more" in err and "Traceback" not in err
    found = xret.compare(["m0", "m1", "m2"], tmp_path, resamples=300, test="student")
    assert found.systems == ("m0", "m1", "m2") and found.test == "student"
    assert found.means["m1"]["mono"] > found.means["m2"]["mono"] > found.means["m0"]["mono"]
    with pytest.raises(XretError, match="a list of two or more systems"):
        xret.compare("m0", tmp_path)
