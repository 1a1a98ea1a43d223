"""Cross-check: mteb's evaluator and xret agree on XQuAD-R (MAP / nDCG@10 / R@1 and
the rest) to within 1e-4, cell by cell, on the same model and vectors.

The subset: paragraphs 45-64 of XQuAD-R (parallel across languages) in ar, de, en, ru: about
100 candidates and 95 questions per language. It contains duplicate candidates (ar and ru each
repeat a sentence), which tie exactly on both sides, and no candidate with surrounding
whitespace (mteb strips documents; xret encodes them as given). Every pool has at most 1000
candidates, so mteb's own ``map_at_1000`` is compared with xret's full-ranking MAP too.
"""

from __future__ import annotations

import pytest

pytest.importorskip("mteb", reason="mteb is an optional extra: pip install 'xret[mteb]'")

from xret.interop.mteb.crosscheck import format_table, run_crosscheck  # noqa: E402
from xret.testing import write_lareqa_subset, write_lareqa_task  # noqa: E402

from test_lareqa import PARAGRAPHS as TOY  # noqa: E402

PARAGRAPHS = slice(45, 65)
REQUIRED = {"map", "mrr", "ndcg_at_10", "recall_at_1", "recall_at_10", "map_at_1000"}
TOLERANCE = 1e-4  # the bar; in practice differences are mteb's 5-decimal rounding (< 5e-6)


def _check(model, languages, data_dir, tmp_path):
    root = write_lareqa_subset(
        data_dir / "xquad-r", languages, PARAGRAPHS, tmp_path / "xquad-r-45-64"
    )
    texts = [s for lang in languages for s in _sentences(root / f"{lang}.json")]
    assert all(t == t.strip() for t in texts)
    assert len(texts) > len(set(texts))  # duplicates included: tie handling is exercised
    check = run_crosscheck(
        model, f"lareqa:{root}", cache_dir=tmp_path / "cache", results_dir=tmp_path / "results"
    )
    print(
        f"\n{model} on XQuAD-R paragraphs 45-64, {','.join(languages)}:\n{format_table(check.rows)}"
    )
    assert check.mteb_encoded == 0  # mteb ranked exactly the vectors xret ranked
    for setting in ("mono", "cross", "multi"):
        assert REQUIRED <= {r.key for r in check.rows if r.setting == setting}
    worst = max(check.rows, key=lambda r: r.max_abs_diff)
    assert worst.max_abs_diff < TOLERANCE, worst
    return check


def _sentences(path):
    import json

    doc = json.loads(path.read_text(encoding="utf-8"))
    return [s for article in doc["data"] for p in article["paragraphs"] for s in p["sentences"]]


def test_toy_task_agrees_exactly(tmp_path):
    """Always on (no real data, no model): the toy task's duplicate English candidates tie, and
    both sides must order them alike."""
    toy = f"lareqa:{write_lareqa_task(tmp_path / 'toy', TOY)}"
    check = run_crosscheck(
        "xret.testing:HashEncoder",
        toy,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
    )
    assert check.mteb_encoded == 0
    for setting in ("mono", "cross", "multi"):
        assert REQUIRED <= {r.key for r in check.rows if r.setting == setting}
    for row in check.rows:
        limit = (
            1e-12 if row.key in ("map", "mrr") else 5e-6
        )  # mteb rounds its own scores to 5 decimals
        assert row.max_abs_diff <= limit, row


@pytest.mark.realdata
def test_hash_encoder_agrees_on_xquad_r(data_dir, tmp_path):
    _check("xret.testing:HashEncoder", ("ar", "de", "en", "ru"), data_dir, tmp_path)


@pytest.mark.realdata
@pytest.mark.slow
def test_minilm_agrees_on_xquad_r(data_dir, tmp_path):
    check = _check("minilm-en", ("ar", "en", "ru"), data_dir, tmp_path)
    assert check.record.provenance.encode["encoded"] > 0  # a real model ran (on the xret side only)
