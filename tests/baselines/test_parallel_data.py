"""Loader, sentence rule and contamination guard on tiny inline SQuAD files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xret.baselines.data import (
    ParallelItem,
    PassageUnit,
    QAPair,
    drop_overlap,
    eval_keys,
    load_parallel,
    normalize_title,
    source_files,
    split_sentences,
)
from xret.errors import DataError, UnknownNameError

EN_CONTEXT = "Paris is big. It lies on the Seine. Its mayor is elected."
DE_CONTEXT = "Paris ist groß. Es liegt an der Seine. Sein Bürgermeister wird gewählt."


def qa(qid: str, question: str, start: int, text: str = "x", *more: dict) -> dict:
    return {
        "id": qid,
        "question": question,
        "answers": [{"text": text, "answer_start": start}, *more],
    }


def squad(title: str, context: str, qas: list[dict], breaks: list[list[int]] | None = None) -> dict:
    para: dict = {"context": context, "qas": qas}
    if breaks is not None:
        para["sentence_breaks"] = breaks
        para["sentences"] = [context[s:e] for s, e in breaks]
    return {"version": "1.1", "data": [{"title": title, "paragraphs": [para]}]}


def write(path: Path, data: dict) -> Path:
    text = json.dumps(data, ensure_ascii=False)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    en = squad(
        "Paris_city",
        EN_CONTEXT,
        [
            qa("q1", "Where?", EN_CONTEXT.index("Seine"), "Seine"),
            qa("q2", "Who?", EN_CONTEXT.index("mayor"), "mayor"),
        ],
        breaks=[[0, 13], [14, 35], [36, 57]],
    )
    # de has no sentence_breaks (own split), a gzip file, q1 and q3 but not q2.
    de = squad(
        "Paris (Stadt)",
        DE_CONTEXT,
        [qa("q3", "Wie?", 0, "Paris"), qa("q1", "Wo?", DE_CONTEXT.index("Seine"), "Seine")],
    )
    return {"en": write(tmp_path / "en.json", en), "de": write(tmp_path / "de.json.gz", de)}


def test_items_are_joined_by_id_and_sorted(files):
    data = load_parallel("toy", files)
    assert [item.id for item in data.items] == ["q1", "q2", "q3"]
    assert [item.languages for item in data.items] == [("de", "en"), ("en",), ("de",)]
    assert {item.source for item in data.items} == {"toy"}
    q1 = data.items[0]
    assert q1.by_language["en"] == QAPair("Where?", "It lies on the Seine.")
    assert q1.by_language["de"] == QAPair("Wo?", "Es liegt an der Seine.")
    assert data.unanswered == ()


def test_article_is_the_title_in_the_first_language_having_the_id(files):
    data = load_parallel("toy", files)
    assert [item.article for item in data.items] == ["Paris_city", "Paris_city", "Paris (Stadt)"]
    reversed_order = load_parallel("toy", {"de": files["de"], "en": files["en"]})
    assert reversed_order.items[0].article == "Paris (Stadt)"


def test_paragraph_unit_gives_the_whole_context(files):
    data = load_parallel("toy", files, unit=PassageUnit.PARAGRAPH)
    assert data.items[0].by_language["en"].passage == EN_CONTEXT
    assert data.items[0].by_language["de"].passage == DE_CONTEXT


def test_own_split_takes_every_sentence_the_answer_touches(tmp_path):
    context = "The U.S. Army won. Then it rested."
    start = context.index("U.S.")
    path = write(
        tmp_path / "x.json", squad("t", context, [qa("a", "Who won?", start, "U.S. Army")])
    )
    assert (
        load_parallel("s", {"en": path}).items[0].by_language["en"].passage == "The U.S. Army won."
    )


def test_empty_answers_are_skipped_and_unanswered_questions_reported(tmp_path):
    lost = {"text": "", "answer_start": -1}  # SQuAD-es marks a lost alignment like this
    context = "Uno. Dos tres."
    qas = [
        {"id": "a", "question": "¿Qué?", "answers": [lost, {"text": "Dos", "answer_start": 5}]},
        {"id": "b", "question": "¿Cuál?", "answers": [lost]},
    ]
    data = load_parallel("s", {"es": write(tmp_path / "es.json", squad("t", context, qas))})
    assert [item.id for item in data.items] == ["a"]
    assert data.items[0].by_language["es"].passage == "Dos tres."
    assert data.unanswered == (("es", "b"),)


def test_item_does_not_share_the_callers_mapping():
    langs = {"en": QAPair("q", "p")}
    item = ParallelItem("a", "s", "t", langs)
    langs["de"] = QAPair("q2", "p2")
    assert item.languages == ("en",)
    with pytest.raises(TypeError):
        item.by_language["fr"] = QAPair("q", "p")  # type: ignore[index]


def one_line_data_error(call, *fragments: str) -> None:
    with pytest.raises(DataError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.json"
    one_line_data_error(lambda: load_parallel("s", {"en": missing}), str(missing), "not found")


@pytest.mark.parametrize(
    "name, content", [("bad.json", b"{not json"), ("bad.json.gz", b"not gzip at all")]
)
def test_corrupt_file_names_the_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    one_line_data_error(lambda: load_parallel("s", {"en": path}), str(path), "cannot read JSON")


@pytest.mark.parametrize(
    "data", [{"data": [{"paragraphs": []}]}, {"data": [{"title": "t", "paragraphs": [{}]}]}, []]
)
def test_non_squad_json_names_the_file(tmp_path, data):
    path = write(tmp_path / "odd.json", data)  # type: ignore[arg-type]
    one_line_data_error(lambda: load_parallel("s", {"en": path}), str(path), "not SQuAD format")


@pytest.mark.parametrize("start", [-1, len(EN_CONTEXT), 10_000])
def test_answer_start_outside_the_context(tmp_path, start):
    path = write(tmp_path / "en.json", squad("t", EN_CONTEXT, [qa("q9", "?", start, "Seine")]))
    one_line_data_error(
        lambda: load_parallel("s", {"en": path}), str(path), "'q9'", f"answer_start {start}"
    )


def test_answer_start_in_no_sentence_break(tmp_path):
    path = write(
        tmp_path / "en.json", squad("t", EN_CONTEXT, [qa("q9", "?", 40, "y")], breaks=[[0, 13]])
    )
    one_line_data_error(
        lambda: load_parallel("s", {"en": path}), str(path), "'q9'", "sentence_breaks"
    )


def test_duplicate_question_id_in_one_file(tmp_path):
    path = write(tmp_path / "en.json", squad("t", EN_CONTEXT, [qa("q", "?", 0), qa("q", "??", 1)]))
    one_line_data_error(lambda: load_parallel("s", {"en": path}), str(path), "'q'", "twice")


def test_unknown_source_suggests_the_closest(tmp_path):
    with pytest.raises(UnknownNameError, match="did you mean 'squad-it-es'"):
        source_files("squad-it", tmp_path)
    assert (
        source_files("squad-it-es", tmp_path)["it"]
        == tmp_path / "squad-it" / "SQuAD_it-test.json.gz"
    )


def test_split_sentences_examples():
    text = "Hola. ¿Qué tal? Bien! ca. 1500 in Rome, e.g. here. 他来了。我走了。 Yes."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Hola.",
        "¿Qué tal?",
        "Bien! ca. 1500 in Rome, e.g. here.",
        "他来了。",
        "我走了。",
        "Yes.",
    ]
    assert split_sentences("  \n ") == []


@given(st.text(alphabet=st.sampled_from("ab. !?。\n1A"), max_size=40))
def test_split_sentences_cover_every_visible_character_once(text):
    spans = split_sentences(text)
    covered = [i for s, e in spans for i in range(s, e)]
    assert covered == sorted(set(covered))  # ordered, no overlap
    assert all(text[s:e] == text[s:e].strip() and e > s for s, e in spans)
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= set(covered)


def test_eval_keys_collects_ids_and_titles(files):
    keys = eval_keys(files.values())
    assert keys.question_ids == {"q1", "q2", "q3"}
    assert keys.articles == {"Paris_city", "Paris (Stadt)"}


def item(qid: str, article: str = "A") -> ParallelItem:
    return ParallelItem(qid, "s", article, {"en": QAPair(f"q{qid}", f"p{qid}")})


def test_drop_overlap_by_id_then_by_article():
    items = [
        item("1"),
        item("2", "Super Bowl _ 50"),
        item("3", "Other"),
        item("4", "super_bowl_50"),
    ]
    kept, dropped = drop_overlap(items, {"1", "4", "absent"}, {"Super_Bowl_50"})
    assert [i.id for i in kept] == ["3"]
    assert dropped.question_id == ("1", "4")  # "4" matches both reasons: listed once, by id
    assert dropped.article == ("2",)
    assert dropped.counts == {"question_id": 2, "article": 1, "kept": 1}
    assert json.loads(json.dumps(dropped.to_dict()))["article"] == ["2"]


def test_titles_normalize_case_and_underscores():
    assert normalize_title("Super Bowl _ 50") == normalize_title("super_bowl_50") == "super bowl 50"


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), st.sampled_from(["T", "U", "V"])),
        unique_by=lambda t: t[0],
    ),
    st.sets(st.sampled_from("abcxyz")),
    st.sets(st.sampled_from(["T", "W"])),
)
def test_drop_overlap_partitions_its_input(pairs, ids, titles):
    items = [item(qid, title) for qid, title in pairs]
    kept, dropped = drop_overlap(items, ids, titles)
    kept_ids = [i.id for i in kept]
    assert sorted(kept_ids + list(dropped.question_id) + list(dropped.article)) == sorted(
        q for q, _ in pairs
    )
    assert set(dropped.question_id) == {q for q, _ in pairs} & ids
    assert all(i.id not in ids and i.article not in titles for i in kept)
    assert dropped.kept == len(kept)
