"""Pooled MIRACL-format tasks (``TASK+LANG…``): several corpora searched as one pool, against
independent oracles: an exhaustive numpy search over the concatenated corpora, and the bias
panel computed by hand on a seven-passage pool."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import pytrec_eval

from xret.benchmark.runner import BenchConfig, CorpusOptions, run_bench
from xret.errors import DataError, UnknownNameError, XretError
from xret.models.providers.objects import object_spec
from xret.results.runs import runs_dir
from xret.results.store import load_per_query
from xret.tasks import get_task
from xret.tasks.corpus import find_shards, passage_text, read_shard
from xret.testing import HashEncoder, toy_miracl, write_corpus, write_miracl_task

MODEL = "xret.testing:HashEncoder"
POOL = ("ru", "sw", "th")


@pytest.fixture
def toy(tmp_path):
    """sw, ru and th corpora whose docids collide across languages (``1#0`` in each)."""
    task_dir, corpus_dir = toy_miracl(tmp_path / "data", passages=45, shards=3, queries=6)
    # An sw passage copied into th's corpus: an exact tie across languages (sw ranks first).
    first = next(read_shard(find_shards(corpus_dir / "miracl-corpus-v1.0-sw")[0], "sw"))
    copy = {"docid": "copy#0", "title": first.context, "text": first.text}
    write_corpus(corpus_dir / "miracl-corpus-v1.0-th" / "extra", [[copy]])
    for shard in find_shards(corpus_dir / "miracl-corpus-v1.0-th" / "extra"):
        shard.rename(corpus_dir / "miracl-corpus-v1.0-th" / "docs-9.jsonl.gz")
    return task_dir, corpus_dir


def bench(tmp_path, task, corpus_dir, model=MODEL, languages=("sw",), **options):
    config = BenchConfig(
        model=model,
        tasks=(task,),
        languages=languages,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        corpus=CorpusOptions(corpus_dir=corpus_dir, **options.pop("corpus", {})),
        progress=False,
        **options,
    )
    (outcome,) = run_bench(config, log=lambda m: None)
    return outcome


def read_run(path):
    run: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        qid, _, doc, rank, _, _ = line.split()
        run.setdefault(qid, []).append(doc)
        assert len(run[qid]) == int(rank)
    return run


def oracle(task_dir, corpus_dir, k):
    """Every passage of the three corpora, concatenated in pool order (ru, sw, th; each in
    corpus order), scored with numpy; ranked by score, then pool position."""
    passages = [
        (lang, d)
        for lang in POOL
        for p in find_shards(corpus_dir / f"miracl-corpus-v1.0-{lang}")
        for d in read_shard(p, lang)
    ]
    vectors = HashEncoder().encode([passage_text(d, True) for _, d in passages])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    topics = dict(
        line.split("\t")
        for line in (task_dir / "topics" / "topics.miracl-v1.0-sw-dev.tsv").read_text().splitlines()
    )
    run = {}
    for qid, text in topics.items():
        q = HashEncoder().encode([text])[0]
        scores = vectors @ (q / np.linalg.norm(q))
        order = sorted(range(len(passages)), key=lambda i: (-scores[i], i))[:k]
        run[f"sw/{qid}"] = [f"{passages[i][0]}/{passages[i][1].id}" for i in order]
    qrels = {}
    for line in (task_dir / "qrels" / "qrels.miracl-v1.0-sw-dev.tsv").read_text().splitlines():
        qid, _, doc, rel = line.split()
        qrels.setdefault(f"sw/{qid}", {})[f"sw/{doc}"] = int(rel)
    return run, qrels


def test_pooled_top_k_is_an_exhaustive_search_over_the_concatenated_corpora(tmp_path, toy):
    task_dir, corpus_dir = toy
    outcome = bench(tmp_path, f"miracl:{task_dir}+ru+th", corpus_dir, save_run=True)
    run = read_run(runs_dir(outcome.path) / "multi__sw__all.run")
    expected, qrels = oracle(task_dir, corpus_dir, 100)
    assert run == expected
    # Namespaced docids: 1#0 of ru, sw and th are three passages, judged in sw only.
    assert {"ru/1#0", "sw/1#0", "th/1#0"} <= {d for docs in run.values() for d in docs}
    tied = [docs for docs in run.values() if "th/copy#0" in docs]
    assert tied and all(d.index("sw/1#0") + 1 == d.index("th/copy#0") for d in tied)
    per_query = load_per_query(outcome.path, outcome.record).set_index("query_id")
    scored = {q: {d: float(len(docs) - r) for r, d in enumerate(docs)} for q, docs in run.items()}
    measured = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(scored)
    for qid, values in measured.items():
        assert per_query.loc[qid, "nDCG@10"] == pytest.approx(values["ndcg_cut_10"], abs=1e-6)
        assert per_query.loc[qid, "R@100"] == pytest.approx(values["recall_100"], abs=1e-6)
    record = outcome.record
    assert record.task.counts == {"queries": 6, "candidates": 136}
    assert record.extra["pool"]["passages"] == {"ru": 45, "sw": 45, "th": 46}
    assert set(record.task.extras["corpus"]) == set(POOL)
    assert "docs-9.jsonl.gz" in record.task.extras["corpus"]["th"]["shards"]
    assert record.options.extras["corpus_languages"] == list(POOL)
    assert record.extra["comparable_with_published"] is False
    assert [(c.setting, c.query_language, c.pool_language) for c in record.cells] == [
        ("multi", "sw", "all")
    ]
    # Excess@10 is Same@10 minus sw's share of every pooled passage (45 of 136).
    same, excess = per_query["Same@10"], per_query["Excess@10"]
    np.testing.assert_allclose(excess, same - 45 / 136, atol=1e-6)
    for qid, docs in run.items():
        assert same[qid] == pytest.approx(sum(d.startswith("sw/") for d in docs[:10]) / 10)


class AngleEncoder(HashEncoder):
    """A text ``a=<degrees>`` is the unit vector at that angle: scores are cosines of angle
    differences, so rankings can be worked out by hand."""

    dim = 2
    revision = "angle-1"

    def encode(self, texts, role=None):
        angles = np.radians([float(re.search(r"a=(\d+)", t)[1]) for t in texts])
        return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


def angle_task(root):
    """A seven-passage pool: ru C 20°, D 70°; sw A 10°, B 50°; th E 35°, F 85° and G 50°, the
    text of sw's B (a tie). ru's C and D share the docids of sw's A and B."""
    corpora = {
        "ru": [("1#0", 20), ("2#0", 70)],
        "sw": [("1#0", 10), ("2#0", 50)],
        "th": [("5#0", 35), ("6#0", 85), ("7#0", 50)],
    }
    for lang, rows in corpora.items():
        passages = [{"docid": d, "title": "", "text": f"a={a}"} for d, a in rows]
        write_corpus(root / "corpus" / f"miracl-corpus-v1.0-{lang}", [passages])
    topics = {"sw": {"1": "a=0", "2": "a=90", "3": "a=57"}, "ru": {"4": "a=22"}}
    qrels = {
        "sw": {"1": {"1#0": 1}, "2": {"2#0": 1}, "3": {"1#0": 1}},
        "ru": {"4": {"1#0": 1}},
    }
    return write_miracl_task(root / "task", topics, qrels), root / "corpus"


def test_the_panel_of_a_pooled_corpus_by_hand(tmp_path):
    """Pool order ru C D, sw A B, th E F G (shares 2/7, 2/7, 3/7). Rankings:
    q1 (0°)  A C E B G D F: relevant A first: RightSame; Same@2 1/2.
    q2 (90°) F D B G E C A: relevant B third (nDCG 1/log2 4 = 0.5: ru's D, docid 2#0 too, is
             not relevant); F is th: WrongOther; Same@2 0.
    q3 (57°) B G D E F C A: B and G tie, B first (sw before th): WrongSame; Same@2 1/2;
             relevant A last: nDCG@10 1/log2 8.
    q4 (ru, 22°) C A E B G D F: RightSame; Same@2 1/2.
    PEER@2: a level with one language, or nothing in the top 2, has p = 1; q2's and q3's
    non-relevant level holds two languages at ranks 1 and 2: H = 1 on 1 degree of freedom,
    p = erfc(√½), so PEER@2 = (1 + erfc(√½))/2 for them and 1 for q1 and q4."""
    task_dir, corpus_dir = angle_task(tmp_path / "data")
    encoder = AngleEncoder()  # held: xret keeps in-memory models by weak reference
    model = object_spec(encoder, "angle")
    measures = ("nDCG@10", "Same@2", "Excess@2", "RightSame", "RightOther", "WrongSame")
    measures += ("WrongOther", "PEER@2")
    outcome = bench(
        tmp_path,
        f"miracl:{task_dir}+th",
        corpus_dir,
        model=model,
        languages=None,
        measures=measures,
    )
    per_query = load_per_query(outcome.path, outcome.record).set_index("query_id")
    peer = (1 + math.erfc(math.sqrt(0.5))) / 2
    by_hand = {
        "sw/1": (1, 1 / 2, 1 / 2 - 2 / 7, 1, 0, 0, 0, 1),
        "sw/2": (0.5, 0, -2 / 7, 0, 0, 0, 1, peer),
        "sw/3": (1 / math.log2(8), 1 / 2, 1 / 2 - 2 / 7, 0, 0, 1, 0, peer),
        "ru/4": (1, 1 / 2, 1 / 2 - 2 / 7, 1, 0, 0, 0, 1),
    }
    for qid, values in by_hand.items():
        got = per_query.loc[qid, list(measures)].to_numpy(dtype=float)
        np.testing.assert_allclose(got, values, atol=1e-6, err_msg=qid)
    sw = outcome.record.cell("multi", "sw", "all").values
    assert sw["Same@2"] == pytest.approx(1 / 3) and sw["Excess@2"] == pytest.approx(1 / 3 - 2 / 7)
    assert [sw[m] for m in ("RightSame", "WrongSame", "WrongOther")] == pytest.approx([1 / 3] * 3)


def test_a_pool_of_one_corpus_gives_the_monolingual_numbers_exactly(tmp_path, toy):
    task_dir, corpus_dir = toy
    mono = bench(tmp_path, f"miracl:{task_dir}", corpus_dir)
    pooled = bench(tmp_path, f"miracl:{task_dir}+sw", corpus_dir)
    assert pooled.record.provenance.encode["encoded"] == 0  # the monolingual task's store
    mono_cell = mono.record.cell("mono", "sw", "sw").values
    pooled_cell = pooled.record.cell("multi", "sw", "all").values
    assert {m: pooled_cell[m] for m in ("nDCG@10", "R@100")} == mono_cell
    a = load_per_query(mono.path, mono.record).set_index("query_id")
    b = load_per_query(pooled.path, pooled.record).set_index("query_id")
    assert a[["nDCG@10", "R@100"]].equals(b[["nDCG@10", "R@100"]])
    assert (b["Same@10"] == 1).all() and (b["Excess@10"] == 0).all()


class Interrupted(Exception):
    pass


class KilledEncoder(HashEncoder):
    """Records what it encodes; raises once ``fail_after`` texts are done (a kill mid-run)."""

    revision = "killed-1"

    def __init__(self):
        self.fail_after: int | None = None
        self.encoded: list[str] = []

    def encode(self, texts, role=None):
        if self.fail_after is not None and len(self.encoded) + len(texts) > self.fail_after:
            raise Interrupted
        self.encoded += texts
        return super().encode(texts, role)


def test_a_killed_pooled_run_resumes_without_encoding_a_finished_shard_again(tmp_path, toy):
    task_dir, corpus_dir = toy
    encoder = KilledEncoder()
    model = object_spec(encoder, "killed")
    task = f"miracl:{task_dir}+ru+th"
    # 6 queries, then ru's 45 passages (3 shards), then sw: killed inside sw's second shard.
    encoder.fail_after = 6 + 45 + 20
    with pytest.raises(Interrupted):
        bench(tmp_path, task, corpus_dir, model=model)
    before = set(encoder.encoded)
    encoder.fail_after, encoder.encoded = None, []
    resumed = bench(tmp_path, task, corpus_dir, model=model)
    passages = {
        lang: [
            [passage_text(d, True) for d in read_shard(p, lang)]
            for p in find_shards(corpus_dir / f"miracl-corpus-v1.0-{lang}")
        ]
        for lang in POOL
    }
    finished = passages["ru"][0] + passages["ru"][1] + passages["ru"][2] + passages["sw"][0]
    assert set(finished) <= before
    # Only what was not finished: sw's last two shards and th (one th passage is a copy of an
    # sw one); the queries come from the text cache.
    rest = passages["sw"][1] + passages["sw"][2] + [t for shard in passages["th"] for t in shard]
    assert sorted(encoder.encoded) == sorted(rest)
    fresh = bench(tmp_path / "fresh", task, corpus_dir)  # uninterrupted, the plain HashEncoder
    assert resumed.record.cells[0].values == fresh.record.cells[0].values


@pytest.mark.parametrize(
    "name, error, message",
    [
        ("miracl/sx/dev+en", UnknownNameError, "unknown task 'miracl/sx/dev'; did you mean"),
        ("miracl/sw/dev+xn", UnknownNameError, "unknown MIRACL corpus language 'xn'"),
        ("miracl/sw/dev+en+en", DataError, "names a corpus language twice"),
        ("miracl/sw/dev+", DataError, "'' is not a language code"),
        ("miracl/sw/dev+e/n", UnknownNameError, "unknown task 'miracl/sw/dev+e/n'"),
        ("xquad-r+en", DataError, "only MIRACL-format tasks pool corpora"),
    ],
)
def test_bad_pooled_names_are_one_line(name, error, message):
    with pytest.raises(error, match=re.escape(message)):
        get_task(name)


def test_pooled_names(tmp_path, toy):
    task = get_task("miracl/sw/dev+yo+en")
    assert (task.name, task.languages, task.pool) == ("miracl/sw/dev+en+yo", ("sw",), ("en", "yo"))
    assert task.corpus_languages(task.languages) == ("en", "sw", "yo")
    assert task.expected.passages == {"sw": 131_924, "en": 32_893_221, "yo": 49_043}
    custom = get_task(f"miracl:{toy[0]}+th")
    assert custom.languages == POOL and custom.corpus_languages(("sw",)) == ("sw", "th")
    assert get_task("miracl/dev+sw").corpus_languages(("de", "sw")) == ("de", "sw")


@pytest.mark.parametrize(
    "measure, why",
    [
        ("RD", "needs relevant candidates in several languages"),
        ("FirstOther", "needs relevant candidates in several languages"),
        ("LangR@10", "needs relevant candidates in several languages"),
        ("HitGap@10", "needs relevant candidates in several languages"),
        ("Consist@10", "needs parallel queries"),
        ("Same@200", "looks deeper than --depth 100"),
    ],
)
def test_measures_a_pooled_corpus_cannot_give_are_refused(tmp_path, toy, measure, why):
    with pytest.raises(XretError, match=re.escape(f"{measure} {why}")):
        bench(tmp_path, f"miracl:{toy[0]}+th", toy[1], measures=("nDCG@10", measure))


def test_the_bench_prints_the_pool_and_the_blank_measures_once(
    tmp_path, toy, xret_cli, monkeypatch
):
    task_dir, corpus_dir = toy
    monkeypatch.setenv("XRET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    code, out, err = xret_cli(
        *("bench", "-m", MODEL, "-t", f"miracl:{task_dir}+ru+th", "-l", "sw"),
        *("--corpus-dir", str(corpus_dir), "-q"),
    )
    assert code == 0, err
    assert "pooled corpus retrieval" in out and "language bias, one pool" in out
    assert "Excess" in out and "WrongOther" in out
    assert out.count("RD, nRD, FirstOther, HitGap@10, LangR@10 blank") == 1
    assert out.count("Consist@10 blank: each needs parallel queries") == 1
    assert max(map(len, out.splitlines())) <= 80
    code, out, _ = xret_cli("tasks")
    assert code == 0 and "TASK+LANG[+LANG…]" in out


@pytest.mark.realdata
def test_real_yoruba_topics_pooled_with_a_generated_swahili_corpus(data_dir, tmp_path):
    """The pinned yo dev topics/qrels, a generated yo corpus holding every judged passage and a
    generated sw corpus: all 119 queries scored; the sw passages, unjudged, only push down."""
    from xret.tasks.miracl import read_qrels, read_topics

    topics = read_topics(data_dir / "miracl/topics/topics.miracl-v1.0-yo-dev.tsv")
    qrels = read_qrels(data_dir / "miracl/qrels/qrels.miracl-v1.0-yo-dev.tsv")
    text = {
        doc: topics[q] if rel else "ọ̀rọ̀ mìíràn" for q, d in qrels.items() for doc, rel in d.items()
    }
    rows = [{"docid": doc, "title": "", "text": t} for doc, t in sorted(text.items())]
    write_corpus(tmp_path / "corpus" / "miracl-corpus-v1.0-yo", [rows[::2], rows[1::2]])
    sw = [
        {"docid": doc, "title": "", "text": f"{topics[q]} habari"}
        for q, d in qrels.items()
        for doc in d
    ]
    write_corpus(tmp_path / "corpus" / "miracl-corpus-v1.0-sw", [sw[:500], sw[500:1000]])
    outcome = bench(
        tmp_path, "miracl/yo/dev+sw", tmp_path / "corpus", data_dir=data_dir, languages=None
    )
    record = outcome.record
    cell = record.cell("multi", "yo", "all")
    assert (cell.n_queries, cell.excluded) == (119, 0)
    assert record.extra["pool"]["passages"] == {"sw": 1000, "yo": len(rows)}
    assert record.task.extras["corpus"]["sw"]["expected_passages"] == 131_924
    assert 0 < cell.values["Same@10"] < 1 and cell.values["R@100"] > 0.3
    assert cell.values["Excess@10"] == pytest.approx(
        cell.values["Same@10"] - len(rows) / (len(rows) + 1000)
    )


def test_the_leaderboard_shows_a_pooled_task_with_its_panel(tmp_path, toy):
    from xret.api import leaderboard

    task_dir, corpus_dir = toy
    pooled = bench(tmp_path, f"miracl:{task_dir}+ru+th", corpus_dir, languages=None).record
    page = leaderboard(tmp_path / "results", published=False)
    nd = pooled.summary["mean-3"]["multi"]["nDCG@10"]
    headline = page.split("## MIRACL dev: mean and median over languages")[1].split("##")[0]
    assert f"| {nd:.4f} |" in headline
    panel = page.split("## Language bias panel, miracl:task+ru+th")[1].split("##")[0]
    assert "Excess@10" in panel and f"{pooled.summary['mean-3']['multi']['Excess@10']:.3f}" in panel
    assert "language bias in one pool (measured)" in page
    assert "Consist@10 blank: each needs parallel queries" in page
