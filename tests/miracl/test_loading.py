"""MIRACL task family: the language table, topic/qrel/corpus readers (real formats), bad input."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import pytest

from xret.errors import DataError
from xret.tasks import TASKS, get_task, load_task
from xret.tasks.corpus import find_shards, passage_text, read_shard
from xret.tasks.miracl import (
    LANGUAGES,
    PAPER_LANGUAGES,
    MiraclExpected,
    SplitCounts,
    read_qrels,
    read_topics,
)
from xret.tasks.records import Document
from xret.tasks.spec import Ranking
from xret.testing import toy_miracl, write_corpus, write_miracl_task


def test_family_is_generated_from_the_language_table():
    names = {name for name, _ in TASKS.items() if name.startswith("miracl/")}
    assert {"miracl/dev", "miracl/train"} <= names
    assert len([n for n in names if n.endswith("/dev")]) == 1 + 18
    assert len([n for n in names if n.endswith("/train")]) == 1 + 16
    dev = get_task("miracl/dev")
    assert dev.ranking is Ranking.TOP_K and len(dev.languages) == 18
    assert set(get_task("miracl/train").languages) == set(dev.languages) - {"de", "yo"}
    assert get_task("miracl/yo/dev").data_files == {
        "yo": (
            "miracl/topics/topics.miracl-v1.0-yo-dev.tsv",
            "miracl/qrels/qrels.miracl-v1.0-yo-dev.tsv",
        )
    }
    # protocol.md §2.2: the paper's 15 languages are all but en, de, yo; all 18 dev: 13,495
    # queries and 106,332,152 passages.
    assert set(PAPER_LANGUAGES) == set(dev.languages) - {"en", "de", "yo"}
    assert sum(lang.dev.topics for lang in LANGUAGES) == 13_495
    assert sum(lang.passages for lang in LANGUAGES) == 106_332_152


def test_aggregates_are_mean_and_median_over_15_and_18():
    aggregates = {a.name: a for a in get_task("miracl/dev").aggregates}
    assert set(aggregates) == {"mean-15", "median-15", "mean-18", "median-18"}
    assert aggregates["median-15"].statistic == "median" and set(
        aggregates["median-15"].languages
    ) == set(PAPER_LANGUAGES)
    assert all(a.complete for a in aggregates.values())
    assert get_task("miracl/sw/dev").aggregates == ()


def test_toy_task_loads_queries_qrels_and_corpus_shards(tmp_path, cache_dir):
    task_dir, corpus_dir = toy_miracl(
        tmp_path, languages=("sw", "th"), passages=12, shards=2, queries=3
    )
    task = get_task(f"miracl:{task_dir}")
    assert task.languages == ("sw", "th") and task.expected is None
    data = load_task(task, task.languages, None, cache_dir, corpus_dir)
    assert [q.id for q in data.queries][:3] == ["sw/1", "sw/11", "sw/21"]
    assert {q.language for q in data.queries} == {"sw", "th"}
    assert all(
        0 in rels.values() and 1 in rels.values() for rels in data.qrels.values()
    )  # judged negatives kept
    corpus = data.corpora["th"]
    assert corpus.name == "miracl-corpus-v1.0-th" and [p.name for p in corpus.shards] == [
        "docs-0.jsonl.gz",
        "docs-1.jsonl.gz",
    ]
    passages = list(corpus.passages())
    assert len(passages) == 12 and passages[0].id == "1#0" and passages[0].context == "th 0"
    assert set(data.checksums) == {
        f"{kind}/{kind}.miracl-v1.0-{lang}-dev.tsv"
        for kind in ("topics", "qrels")
        for lang in ("sw", "th")
    }
    # Without a corpus directory the topics and qrels still load.
    assert load_task(task, ("sw",), None, cache_dir).corpora == {}


def test_shards_are_read_in_numeric_order(tmp_path):
    write_corpus(
        tmp_path / "c", [[{"docid": f"{i}#0", "text": "t"}] for i in range(12)], gzipped=False
    )
    assert [p.name for p in find_shards(tmp_path / "c")][:3] == [
        "docs-0.jsonl",
        "docs-1.jsonl",
        "docs-2.jsonl",
    ]
    assert [p.name for p in find_shards(tmp_path / "c")][-2:] == ["docs-10.jsonl", "docs-11.jsonl"]


def test_passage_text_with_and_without_title():
    doc = Document(id="1#0", language="sw", text="Mji mkuu.", context="Nairobi")
    assert passage_text(doc, True) == "Nairobi Mji mkuu."
    assert passage_text(doc, False) == "Mji mkuu."
    assert passage_text(replace(doc, context=""), True) == "Mji mkuu."


@pytest.mark.parametrize(
    "content, message",
    [
        ("1\tquery one\n2 no tab here\n", r"topics.tsv:2: expected 'qid<TAB>query'"),
        ("1\tq\n1\tagain\n", r"topics.tsv:2: query id '1' occurs twice"),
        ("1\tq\n\t\n", r"topics.tsv:2: expected"),
    ],
)
def test_malformed_topics_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "topics.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        read_topics(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "content, message",
    [
        ("1\tQ0\t5#1\t1\n1\tQ0\t5#2\n", r"qrels.tsv:2: expected 'qid Q0 docid rel'"),
        ("1 Q0 5#1 1\n1 Q0 5#2 yes\n", r"qrels.tsv:2: expected"),
        ("1 Q0 5#1 -1\n", r"qrels.tsv:1: expected .* 0 <= rel"),
        ("1 Q0 5#1 1\n2 Q0 5#1 0\n1 Q0 5#1 0\n", r"qrels.tsv:3: query '1' judges '5#1' twice"),
    ],
)
def test_malformed_qrels_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "qrels.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_qrels(path)


def test_qrels_accept_tabs_or_spaces_and_keep_judged_negatives(tmp_path):
    path = tmp_path / "qrels.tsv"
    path.write_text("1\tQ0\t5#1\t1\n1 Q0 7#0 0\n", encoding="utf-8")
    assert read_qrels(path) == {"1": {"5#1": 1, "7#0": 0}}


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "docs-0.jsonl:2: not a corpus passage"),
        (
            '{"docid": "3#0", "title": "t"}',
            "docs-0.jsonl:2: not a corpus passage .*'text' is missing",
        ),
        ('{"docid": "3 0", "text": "x"}', "docs-0.jsonl:2: not a corpus passage .*'docid'"),
        ('["3#0", "x"]', "docs-0.jsonl:2: not a corpus passage .*not a JSON object"),
    ],
)
def test_malformed_corpus_lines_name_file_and_line(tmp_path, line, message):
    (tmp_path / "docs-0.jsonl").write_text(
        '{"docid": "1#0", "title": "a", "text": "b"}\n' + line + "\n"
    )
    with pytest.raises(DataError, match=message):
        list(read_shard(tmp_path / "docs-0.jsonl", "sw"))


def test_truncated_gzip_shard_is_a_data_error(tmp_path):
    (path,) = write_corpus(
        tmp_path, [[{"docid": f"{i}#0", "text": "word " * 50} for i in range(200)]]
    )
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DataError, match=r"docs-0.jsonl.gz: unreadable after line \d+"):
        list(read_shard(path, "sw"))


def test_corpus_directory_problems(tmp_path, cache_dir):
    task_dir, corpus_dir = toy_miracl(tmp_path, languages=("sw",), passages=6, shards=1, queries=1)
    task = get_task(f"miracl:{task_dir}")
    with pytest.raises(
        DataError, match="miracl-corpus-v1.0-sw: no corpus for sw; expected .* --languages"
    ):
        load_task(task, task.languages, None, cache_dir, tmp_path / "elsewhere")
    shard = corpus_dir / "miracl-corpus-v1.0-sw" / "docs-0.jsonl.gz"
    (shard.parent / "docs-0.jsonl").write_bytes(gzip.decompress(shard.read_bytes()))
    with pytest.raises(DataError, match="shard 0 exists twice"):
        load_task(task, task.languages, None, cache_dir, corpus_dir)


def test_pinned_counts_are_checked(tmp_path, cache_dir):
    task_dir, _ = toy_miracl(tmp_path, languages=("sw",), passages=6, shards=1, queries=2)
    task = get_task(f"miracl:{task_dir}")
    right = SplitCounts(topics=2, judgements=8, relevant=4)
    pinned = replace(task, expected=MiraclExpected(counts={"sw": right}, passages={"sw": 6}))
    assert len(load_task(pinned, ("sw",), None, cache_dir).queries) == 2
    wrong = replace(
        task, expected=MiraclExpected(counts={"sw": replace(right, relevant=5)}, passages={"sw": 6})
    )
    with pytest.raises(
        DataError,
        match=r"sw: 2 topics, 8 judgements \(4 relevant\) found; the task pins 2, 8 \(5\)",
    ):
        load_task(wrong, ("sw",), None, cache_dir)


def test_custom_task_needs_topics(tmp_path):
    write_miracl_task(tmp_path / "t", {}, {})
    with pytest.raises(DataError, match="no topics/topics.miracl-v1.0-<lang>-dev.tsv files"):
        get_task(f"miracl:{tmp_path / 't'}")


# protocol.md §2.2 (dev) and shared/data/README.md (train): topics, judgements, relevant.
DEV = {
    "ar": (2896, 29197, 5658),
    "bn": (411, 4206, 863),
    "de": (305, 3144, 811),
    "en": (799, 8350, 2326),
    "es": (648, 6443, 2987),
    "fa": (632, 6571, 1314),
    "fi": (1271, 12008, 2447),
    "fr": (343, 3429, 731),
    "hi": (350, 3494, 752),
    "id": (960, 9668, 3088),
    "ja": (860, 8354, 1790),
    "ko": (213, 3057, 547),
    "ru": (1252, 13100, 3560),
    "sw": (482, 5092, 910),
    "te": (828, 1606, 854),
    "th": (733, 7573, 1343),
    "yo": (119, 1188, 144),
    "zh": (393, 3928, 994),
}


def _counts(data, language):
    qrels = [data.qrels[q.id] for q in data.queries if q.language == language]
    return (
        len(qrels),
        sum(len(r) for r in qrels),
        sum(g > 0 for r in qrels for g in r.values()),
    )


@pytest.mark.realdata
def test_real_dev_topics_and_qrels_match_the_protocol(data_dir, cache_dir):
    task = get_task("miracl/dev")
    data = load_task(task, task.languages, data_dir, cache_dir)
    assert {lang: _counts(data, lang) for lang in task.languages} == DEV
    assert len(data.queries) == 13_495
    # The 16 known languages: 13,071 queries and 126,076 judgements (project-miracl README).
    known = [lang for lang in task.languages if lang not in ("de", "yo")]
    assert (
        sum(DEV[lang][0] for lang in known) == 13_071
        and sum(DEV[lang][1] for lang in known) == 126_076
    )
    assert all(
        any(g > 0 for g in data.qrels[q.id].values()) for q in data.queries
    )  # no query without a relevant


@pytest.mark.realdata
def test_real_train_topics_and_qrels_load(data_dir, cache_dir):
    task = get_task("miracl/train")
    data = load_task(task, task.languages, data_dir, cache_dir)
    assert len(data.queries) == 40_203 and len(task.languages) == 16
    assert _counts(data, "sw") == (1901, 9359, 2687)


def test_pins_exist_for_every_miracl_file():
    from xret.tasks.artifacts import pinned

    files = {
        p
        for name, spec in TASKS.items()
        if spec.family == "miracl"
        for p in spec.files_for(spec.languages)
    }
    assert len(files) == 2 * (18 + 16)
    for path in files:
        assert pinned(path).url.startswith(
            "https://raw.githubusercontent.com/castorini/anserini-tools/5b819c1a45c8a0a3ec9426f476694f44a29dfaf3/"
        )
    assert json.dumps(sorted(files))  # all JSON-serialisable strings
