"""Properties of the batch samplers: shape, language rules, statistics, determinism, resume, errors.

Statistical checks draw >= 2,000 batches and allow 4 binomial standard deviations, so a correct
sampler fails one of them with probability below 1e-4 (and the seeds are fixed, so never flakily).
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xret.baselines.data import ParallelItem, QAPair
from xret.baselines.samplers import Batch, PairBatchSampler, SamplerState, Sampling
from xret.errors import SamplingError, UnknownNameError

LANGS = ("ar", "de", "en", "es")


def make_item(
    source: str, n: int, langs, group: int | None = None, shared: str = "passage"
) -> ParallelItem:
    """Item ``n``; items of a ``group`` share their passage (or question) text per language."""
    pairs = {}
    for lang in langs:
        question, passage = f"q {source} {n} {lang}", f"p {source} {n} {lang}"
        if group is not None and shared == "passage":
            passage = f"p {source} g{group} {lang}"
        if group is not None and shared == "question":
            question = f"q {source} g{group} {lang}"
        pairs[lang] = QAPair(question, passage)
    return ParallelItem(
        f"{source}-{n}" if group is None else f"{source}-{n}-g{group}", source, "article", pairs
    )


@st.composite
def corpora(draw, min_langs: int = 1):
    """Sources of items, some of whose passage (or question) texts repeat."""
    shared = draw(st.sampled_from(["passage", "question"]))
    sources = {}
    for s in range(draw(st.integers(1, 3))):
        name = f"src{s}"
        n_groups = draw(st.integers(2, 8))
        items = []
        for n in range(draw(st.integers(n_groups, 24))):
            langs = draw(st.sets(st.sampled_from(LANGS), min_size=min_langs, max_size=len(LANGS)))
            items.append(make_item(name, n, sorted(langs), group=n % n_groups, shared=shared))
        sources[name] = items
    return sources


def groups(items) -> int:
    """Distinct groups among ``items``: a batch holds one item of each, greedy finds one of each."""
    return len({item.id.rsplit("-", 1)[1] for item in items})


def max_batch(sources, alpha: float) -> int:
    """The largest batch size every pool that ``alpha`` uses can always fill."""
    limits = []
    for items in sources.values():
        if alpha > 0:
            for lang in {lang for item in items for lang in item.by_language}:
                limits.append(groups([i for i in items if lang in i.by_language]))
        cross = [i for i in items if len(i.by_language) > 1]
        if alpha < 1 and cross:
            limits.append(groups(cross))
    return min(limits)


def texts_unique(batch: Batch) -> bool:
    queries = [p.query_text for p in batch.pairs]
    passages = [p.passage_text for p in batch.pairs]
    return len(set(queries)) == len(queries) and len(set(passages)) == len(passages)


def check_pairs_belong_to_items(batch: Batch, sources) -> None:
    by_id = {item.id: item for item in sources[batch.source]}
    for pair in batch.pairs:
        item = by_id[pair.item_id]
        assert item.by_language[pair.query_lang].question == pair.query_text
        assert item.by_language[pair.passage_lang].passage == pair.passage_text


@settings(max_examples=60, deadline=None)
@given(corpora(), st.sampled_from([Sampling.X_X_MONO, Sampling.HYBRID]), st.data())
def test_mono_batches_are_full_pure_and_free_of_duplicates(sources, sampling, data):
    alpha = 1.0 if sampling is Sampling.X_X_MONO else data.draw(st.floats(0.05, 1.0))
    if alpha < 1 and not any(len(i.by_language) > 1 for items in sources.values() for i in items):
        alpha = 1.0
    size = data.draw(st.integers(1, max_batch(sources, alpha)))
    sampler = PairBatchSampler(
        sources,
        sampling,
        batch_size=size,
        alpha=None if sampling is Sampling.X_X_MONO else alpha,
        state=SamplerState(data.draw(st.integers(0, 2**32))),
    )
    for batch in sampler.batches(20):
        assert len(batch.pairs) == size
        assert len({p.item_id for p in batch.pairs}) == size
        assert texts_unique(batch)
        check_pairs_belong_to_items(batch, sources)
        if batch.kind is Sampling.X_X_MONO:
            assert (
                len({p.query_lang for p in batch.pairs} | {p.passage_lang for p in batch.pairs})
                == 1
            )


@settings(max_examples=60, deadline=None)
@given(corpora(min_langs=2), st.integers(0, 2**32), st.data())
def test_x_y_batches_never_pair_a_language_with_itself(sources, seed, data):
    size = data.draw(st.integers(1, max_batch(sources, 0.0)))
    sampler = PairBatchSampler(sources, "x-y", batch_size=size, state=SamplerState(seed))
    for batch in sampler.batches(20):
        assert batch.kind is Sampling.X_Y
        assert len(batch.pairs) == size
        assert all(p.query_lang != p.passage_lang for p in batch.pairs)
        assert texts_unique(batch)
        check_pairs_belong_to_items(batch, sources)


def within_4_sigma(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= 4 * math.sqrt(n * p * (1 - p))


def bilingual_source(name: str, n: int, langs=("de", "en")) -> list[ParallelItem]:
    return [make_item(name, i, langs) for i in range(n)]


N_BATCHES = 2000


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.8])
def test_hybrid_mono_fraction_is_alpha(alpha):
    sampler = PairBatchSampler(
        {"a": bilingual_source("a", 12)}, "hybrid", batch_size=3, alpha=alpha
    )
    mono = sum(b.kind is Sampling.X_X_MONO for b in sampler.batches(N_BATCHES))
    assert within_4_sigma(mono, N_BATCHES, alpha)


@pytest.mark.parametrize("alpha, kind", [(1.0, Sampling.X_X_MONO), (0.0, Sampling.X_Y)])
def test_hybrid_at_the_ends_is_pure(alpha, kind):
    sampler = PairBatchSampler(
        {"a": bilingual_source("a", 12)}, "hybrid", batch_size=3, alpha=alpha
    )
    assert {b.kind for b in sampler.batches(300)} == {kind}


def test_hybrid_at_the_ends_equals_the_pure_regimes():
    sources = {"a": bilingual_source("a", 12), "b": bilingual_source("b", 5, ("ar", "en", "es"))}
    for alpha, regime in [(1.0, "x-x-mono"), (0.0, "x-y")]:
        hybrid = PairBatchSampler(
            sources, "hybrid", batch_size=3, alpha=alpha, state=SamplerState(5)
        )
        pure = PairBatchSampler(sources, regime, batch_size=3, state=SamplerState(5))
        assert hybrid.batches(50) == pure.batches(50)


def test_hybrid_alpha_defaults_to_the_papers_half():
    assert PairBatchSampler({"a": bilingual_source("a", 4)}, "hybrid", batch_size=2).alpha == 0.5


@pytest.mark.parametrize("sampling", ["x-x-mono", "x-y"])
def test_sources_are_drawn_in_proportion_to_their_usable_items(sampling):
    # For X-Y only items in two languages count: "mixed" has 40 items but 10 bilingual ones.
    mixed = bilingual_source("mixed", 10) + [make_item("mixed", i, ["en"]) for i in range(10, 40)]
    sources = {
        "small": bilingual_source("small", 10),
        "mixed": mixed,
        "large": bilingual_source("large", 60),
    }
    usable = {"small": 10, "mixed": 40 if sampling == "x-x-mono" else 10, "large": 60}
    sampler = PairBatchSampler(sources, sampling, batch_size=2, state=SamplerState(3))
    counts = Counter(b.source for b in sampler.batches(N_BATCHES))
    total = sum(usable.values())
    for name, size in usable.items():
        assert within_4_sigma(counts[name], N_BATCHES, size / total), (name, counts)


def test_mono_language_is_uniform_over_the_sources_languages():
    # "en" has 4x the items of "ar": a size-weighted choice would fail this.
    items = [make_item("a", i, ["ar", "en"] if i < 5 else ["en"]) for i in range(20)]
    sampler = PairBatchSampler({"a": items}, "x-x-mono", batch_size=2, state=SamplerState(1))
    counts = Counter(b.pairs[0].query_lang for b in sampler.batches(N_BATCHES))
    assert within_4_sigma(counts["ar"], N_BATCHES, 0.5), counts


def test_x_y_language_pair_is_uniform_over_the_items_ordered_pairs():
    sampler = PairBatchSampler(
        {"a": bilingual_source("a", 8, ("ar", "de", "en"))}, "x-y", batch_size=1
    )
    counts = Counter(
        (b.pairs[0].query_lang, b.pairs[0].passage_lang) for b in sampler.batches(N_BATCHES * 3)
    )
    assert len(counts) == 6
    assert all(within_4_sigma(c, N_BATCHES * 3, 1 / 6) for c in counts.values()), counts


RICH = {"a": bilingual_source("a", 30, ("de", "en", "es")), "b": bilingual_source("b", 20)}


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(list(Sampling)), st.integers(0, 2**32), st.integers(1, 8))
def test_same_seed_same_stream_other_seed_other_stream(sampling, seed, size):
    first = PairBatchSampler(RICH, sampling, batch_size=size, state=SamplerState(seed)).batches(10)
    again = PairBatchSampler(RICH, sampling, batch_size=size, state=SamplerState(seed)).batches(10)
    other = PairBatchSampler(RICH, sampling, batch_size=size, state=SamplerState(seed + 1)).batches(
        10
    )
    assert first == again
    assert first != other


def test_stream_does_not_depend_on_the_order_items_come_in():
    shuffled = {"b": RICH["b"][::-1], "a": RICH["a"][7:] + RICH["a"][:7]}
    ours = PairBatchSampler(RICH, "hybrid", batch_size=4, state=SamplerState(9)).batches(30)
    theirs = PairBatchSampler(shuffled, "hybrid", batch_size=4, state=SamplerState(9)).batches(30)
    assert ours == theirs


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(list(Sampling)), st.integers(0, 2**32), st.integers(0, 30), st.integers(1, 10)
)
def test_resume_from_saved_state_continues_the_same_stream(sampling, seed, done, more):
    sampler = PairBatchSampler(RICH, sampling, batch_size=4, state=SamplerState(seed))
    sampler.batches(done)
    saved = json.dumps(sampler.state.to_dict())
    assert sampler.state == SamplerState(seed, done)
    expected = sampler.batches(more)
    resumed = PairBatchSampler(
        RICH, sampling, batch_size=4, state=SamplerState.from_dict(json.loads(saved))
    )
    assert resumed.batches(more) == expected
    assert [b.index for b in expected] == list(range(done, done + more))
    uninterrupted = PairBatchSampler(RICH, sampling, batch_size=4, state=SamplerState(seed))
    assert uninterrupted.batches(done + more)[done:] == expected


def test_batch_by_index_does_not_move_the_stream():
    sampler = PairBatchSampler(RICH, "hybrid", batch_size=4)
    peek = sampler.batch(3)
    assert sampler.state.batches_drawn == 0
    assert list(zip(range(4), sampler, strict=False))[3][1] == peek


def test_greedy_that_cannot_fill_a_batch_says_so():
    # Two texts on each side pass the up-front check, but drawing (q1, p1) first leaves nothing.
    items = [
        ParallelItem("1", "s", "t", {"en": QAPair("q1", "p1")}),
        ParallelItem("2", "s", "t", {"en": QAPair("q1", "p2")}),
        ParallelItem("3", "s", "t", {"en": QAPair("q2", "p1")}),
    ]
    sampler = PairBatchSampler({"s": items}, "x-x-mono", batch_size=2)
    outcomes = []
    for index in range(40):
        try:
            outcomes.append({p.item_id for p in sampler.batch(index).pairs})
        except SamplingError as err:
            assert (
                "\n" not in str(err)
                and f"batch {index}" in str(err)
                and "lower the batch size" in str(err)
            )
            outcomes.append(None)
    assert None in outcomes and {"2", "3"} in outcomes
    assert all(o in (None, {"2", "3"}) for o in outcomes)


def raises_one_line(error, call, *fragments):
    with pytest.raises(error) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_unknown_sampling_name():
    raises_one_line(
        UnknownNameError, lambda: Sampling.parse("x-x"), "unknown sampling 'x-x'", "x-x-mono"
    )
    assert Sampling.parse("hybrid") is Sampling.HYBRID is Sampling.parse(Sampling.HYBRID)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan"), True, "0.5"])
def test_alpha_outside_the_unit_interval(alpha):
    raises_one_line(
        SamplingError,
        lambda: PairBatchSampler(RICH, "hybrid", batch_size=2, alpha=alpha),
        "alpha",
        "[0, 1]",
    )


@pytest.mark.parametrize("sampling", ["x-x-mono", "x-y"])
def test_alpha_only_for_hybrid(sampling):
    raises_one_line(
        SamplingError,
        lambda: PairBatchSampler(RICH, sampling, batch_size=2, alpha=0.5),
        "hybrid sampling only",
    )


ENGLISH_ONLY = {"en": [make_item("en", i, ["en"]) for i in range(10)]}


@pytest.mark.parametrize("sampling, alpha", [("x-y", None), ("hybrid", 0.5), ("hybrid", 0.99)])
def test_single_language_data_cannot_give_x_y_batches(sampling, alpha):
    raises_one_line(
        SamplingError,
        lambda: PairBatchSampler(ENGLISH_ONLY, sampling, batch_size=2, alpha=alpha),
        "two languages",
        "only the language 'en'",
    )


def test_languages_that_never_share_an_item_cannot_give_x_y_batches():
    apart = {"s": [make_item("s", 0, ["en"]), make_item("s", 1, ["de"])]}
    raises_one_line(
        SamplingError,
        lambda: PairBatchSampler(apart, "x-y", batch_size=1),
        "no item in two languages",
    )


def test_single_language_is_fine_for_mono_and_hybrid_alpha_one():
    for sampler in (
        PairBatchSampler(ENGLISH_ONLY, "x-x-mono", batch_size=10),
        PairBatchSampler(ENGLISH_ONLY, "hybrid", alpha=1.0, batch_size=10),
    ):
        batches = sampler.batches(3)
        assert len(batches) == 3 and {b.kind for b in batches} == {Sampling.X_X_MONO}
        for batch in batches:
            assert len(batch.pairs) == 10
            assert {(p.query_lang, p.passage_lang) for p in batch.pairs} == {("en", "en")}


def test_one_language_source_never_gives_x_y_batches_beside_a_parallel_one():
    sources = {**ENGLISH_ONLY, "par": bilingual_source("par", 10)}
    batches = PairBatchSampler(sources, "hybrid", batch_size=2).batches(400)
    assert {b.source for b in batches if b.kind is Sampling.X_Y} == {"par"}
    assert {b.source for b in batches if b.kind is Sampling.X_X_MONO} == {"en", "par"}


def test_batch_larger_than_a_languages_distinct_texts():
    # 6 German items but only 3 distinct passages among them.
    items = [make_item("s", i, ["de", "en"], group=i % 3) for i in range(6)]
    items += [make_item("s", i, ["en"]) for i in range(6, 12)]
    raises_one_line(
        SamplingError,
        lambda: PairBatchSampler({"s": items}, "x-x-mono", batch_size=4),
        "batch size 4",
        "3 distinct",
        "'de'",
        "'s'",
    )
    PairBatchSampler({"s": items}, "x-x-mono", batch_size=3).batches(5)


def test_batch_larger_than_a_sources_items_in_two_languages():
    items = bilingual_source("s", 3) + [make_item("s", i, ["en"]) for i in range(3, 20)]
    raises_one_line(
        SamplingError,
        lambda: PairBatchSampler({"s": items}, "x-y", batch_size=4),
        "batch size 4",
        "3 items",
        "'s'",
    )
    # Mono-only sampling never needs the bilingual pool.
    PairBatchSampler({"s": [*items, *bilingual_source("t", 0)]}, "x-x-mono", batch_size=3).batches(
        2
    )


@pytest.mark.parametrize("size", [0, -3, 2.0, None])
def test_batch_size_must_be_a_positive_integer(size):
    raises_one_line(
        SamplingError, lambda: PairBatchSampler(RICH, "x-y", batch_size=size), "batch size"
    )


@pytest.mark.parametrize("sources", [{}, {"a": []}])
def test_no_items(sources):
    raises_one_line(
        SamplingError,
        lambda: PairBatchSampler(sources, "x-x-mono", batch_size=1),
        "no training items",
    )


@pytest.mark.parametrize("seed, drawn", [(-1, 0), (0, -1), (1.5, 0), (0, "3"), (True, 0)])
def test_bad_sampler_state(seed, drawn):
    raises_one_line(SamplingError, lambda: SamplerState(seed, drawn), "non-negative integer")


def test_sampler_state_from_dict_needs_its_keys():
    raises_one_line(SamplingError, lambda: SamplerState.from_dict({"seed": 1}), "batches_drawn")
    assert SamplerState.from_dict({"seed": 1, "batches_drawn": 2}) == SamplerState(1, 2)
