"""Seeds as one row, and a leaderboard column's intervals, ranks and tied groups computed from
stored per-query scores: the plumbing from records to ``xret.measures`` (whose statistics are
checked in tests/measures)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xret.leaderboards.leaderboard import build_leaderboard, uncertainty_csv
from xret.leaderboards.scores import SeedCount, collect, load_collection, training_seed
from xret.leaderboards.table import render_markdown
from xret.leaderboards.uncertainty import Options, Target, estimates
from xret.results.topics import topic_ids

from .conftest import make_record, store

LANGUAGES = ("de", "en")
CELLS = [("mono", "de", "de"), ("mono", "en", "en"), ("cross", "de", "en"), ("cross", "en", "de")]


def _frame(rng, level: float, topics: int = 40) -> pd.DataFrame:
    """Per-query MAP of a parallel two-language task: a question is hard or easy in every
    language and pool (a topic effect), around ``level``."""
    effect = rng.normal(0, 0.15, topics)
    rows = [
        (s, q, p, f"{q}/t{t}", float(np.clip(level + effect[t] + rng.normal(0, 0.05), 0, 1)))
        for s, q, p in CELLS
        for t in range(topics)
    ]
    return pd.DataFrame(
        rows, columns=["setting", "query_language", "pool_language", "query_id", "MAP"]
    )


def _record(name: str, frame: pd.DataFrame, **kwargs):
    by_cell = frame.groupby(["setting", "query_language", "pool_language"])["MAP"]
    cells = {key: {"MAP": float(value)} for key, value in by_cell.mean().items()}
    (queries,) = set(by_cell.size())  # the record's n_queries agrees with its per-query table
    return make_record(name, cells, task_languages=LANGUAGES, n_queries=queries, **kwargs)


def _write(root: Path, systems: dict[str, float], seeds: int = 1, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for name, level in systems.items():
        for k in range(seeds):
            model = f"{name}__seed{k}" if seeds > 1 else name
            frame = _frame(rng, level + 0.002 * k)
            store(root, _record(model, frame, regime="x-y", base_model="b"), frame)


def test_training_seed_from_the_record_or_the_study_name():
    assert training_seed(make_record("m__x-y__seed2", {})) == 2
    assert training_seed(make_record("m", {}, extra={"seed": 7})) == 7
    assert training_seed(make_record("m__seedless", {})) is None


def test_seeds_form_one_row_unless_by_seed(tmp_path):
    cells = {k: {"MAP": 0.5} for k in CELLS}
    records = [
        (
            Path(f"{k}.json"),
            make_record(
                f"m__x-y__seed{k}", {**cells, CELLS[0]: {"MAP": v}}, regime="x-y", revision=f"r{k}"
            ),
        )
        for k, v in enumerate([0.2, 0.4, 0.9])
    ]
    (row,) = collect(records).scores
    assert row.system.model == "m__x-y" and row.seeds == (0, 1, 2)
    assert row.by_language["mono"]["MAP"]["de"] == pytest.approx(0.5)
    assert row.statistic("mean", "mono", "MAP") == pytest.approx((0.5 + 0.5) / 2)
    assert row.sd("mean", "mono", "MAP") == pytest.approx(np.std([0.35, 0.45, 0.7], ddof=1))
    assert len(collect(records, by_seed=True).scores) == 3
    table = build_leaderboard(collect(records), published=False).tables[0]
    assert table.rows[0][3] == "m__x-y (3 seeds)"


def test_topics_are_shared_question_ids_in_parallel_families_only():
    ids = pd.Series(["de/q1", "en/q1", "de/q2"])
    assert list(topic_ids(ids, "lareqa")) == ["q1", "q1", "q2"]
    assert list(topic_ids(ids, "miracl")) == ["de/q1", "en/q1", "de/q2"]


def test_a_column_ranks_and_groups_its_rows(tmp_path):
    _write(tmp_path, {"strong": 0.8, "twin-a": 0.5, "twin-b": 0.5005, "weak": 0.2})
    rows = list(load_collection(tmp_path).scores)
    target = Target("mono", "MAP", "mean", LANGUAGES)
    found = estimates(rows, [target], Options(resamples=500, seed=3))
    by_name = {rows[i].system.model: e for (i, _), e in found.items()}
    assert by_name["strong"].rank == 1 and (
        by_name["strong"].rank_low,
        by_name["strong"].rank_high,
    ) == (1, 1)
    assert by_name["weak"].rank == 4 and by_name["weak"].group == "c"
    assert by_name["twin-a"].group == by_name["twin-b"].group == "b"
    assert {by_name["twin-a"].rank_low, by_name["twin-b"].rank_high} == {2, 3}
    for i, row in enumerate(rows):
        e = found[(i, target)]
        assert (
            e.value == row.statistic("mean", "mono", "MAP")
            and e.seeds == SeedCount(1, 1)
            and e.sd is None
        )
        assert e.low <= e.value <= e.high
    assert estimates(rows, [target], Options(resamples=500, seed=3)) == found


def test_seed_rows_widen_with_the_seeds(tmp_path):
    _write(tmp_path / "one", {"m": 0.5})
    _write(tmp_path / "three", {"m": 0.5}, seeds=3)
    target = Target("cross", "MAP", "mean", LANGUAGES)
    (one,) = estimates(list(load_collection(tmp_path / "one").scores), [target], Options()).values()
    (three,) = estimates(
        list(load_collection(tmp_path / "three").scores), [target], Options()
    ).values()
    assert (
        three.seeds == SeedCount(3, 3) and three.sd is not None and three.sd > 0 and one.sd is None
    )
    assert three.low < three.value < three.high


def test_leaderboard_with_intervals_in_every_format(tmp_path, xret_cli):
    _write(tmp_path, {"m1": 0.6, "m2": 0.4}, seeds=2)
    doc = build_leaderboard(load_collection(tmp_path), published=False, uncertainty=Options(200))
    text = render_markdown(doc)
    assert "## XQuAD-R, Mo. MAP: intervals and ranks" in text
    assert "| m1 (2 seeds) |" in render_markdown(
        build_leaderboard(load_collection(tmp_path), published=False)
    )
    lines = uncertainty_csv(load_collection(tmp_path), Options(200)).splitlines()
    assert (
        lines[0].startswith("task,evaluation,setting,measure,statistic")
        and len(lines) == 1 + 2 * 2  # Mo. and Cr. (no multi cells) × 2 rows
    )
    for fmt in ("markdown", "latex", "csv", "html", "terminal"):
        code, out, err = xret_cli(
            "leaderboard", str(tmp_path), "--ci", "--resamples", "100", "-f", fmt
        )
        assert code == 0, err
        assert "0.6" in out
    code, out, _ = xret_cli("leaderboard", str(tmp_path), "--by-seed", "-f", "markdown")
    assert code == 0 and "seed1" in out
    code, _, err = xret_cli("leaderboard", str(tmp_path), "--ci", "--resamples", "0")
    assert code != 0 and "resamples must be positive" in err and err.count("\n") == 1


def test_html_shows_intervals_on_hover_and_as_tables(tmp_path):
    from xret.leaderboards.html import render_html

    from .test_html import _chromium

    _write(tmp_path / "results", {"m1": 0.6, "m2": 0.4}, seeds=3)
    doc = build_leaderboard(
        load_collection(tmp_path / "results"), published=False, uncertainty=Options(200)
    )
    page = render_html(doc)
    hover = re.findall(r'<td class="num" data-v="[^"]+" title="([^"]+)"', page)
    assert len(hover) == 4 and all(h.startswith("95 % interval ") for h in hover)
    assert re.search(r"; sd 0\.\d{3} over 3 seeds; rank 1 \(1–\d\); group a", hover[0])
    dom = _chromium(page, tmp_path)  # skips where Chromium is not installed
    assert "XQuAD-R, Mo. MAP: intervals and ranks" in dom and 'title="95 % interval' in dom


MULTI = [("multi", "de", "all"), ("multi", "en", "all")]


def _panel_seeds(root: Path, holding: range) -> None:
    """Seeds 0–2 of one model with MAP and RD; nRD (a panel measure) only in the seeds of
    ``holding``, as the study's seeds recorded before the bias panel existed."""
    rng = np.random.default_rng(5)
    for k in range(3):
        frame = _frame(rng, 0.5 + 0.01 * k)
        multi = _frame(rng, 0.4 + 0.02 * k)
        multi = multi[multi["setting"] == "mono"].assign(setting="multi", pool_language="all")
        multi["RD"] = 300 - 200 * multi["MAP"] + 7 * k
        if k in holding:
            multi = multi.assign(nRD=lambda f: f["RD"] / 1000)
        frame = pd.concat([frame, multi], ignore_index=True)
        columns = [c for c in ("MAP", "RD", "nRD") if c in frame]
        by_cell = frame.groupby(["setting", "query_language", "pool_language"])[columns]
        cells = {
            key: {m: float(v) for m, v in row.items() if not np.isnan(v)}
            for key, row in by_cell.mean().iterrows()
        }
        record = make_record(f"m__x-y__seed{k}", cells, regime="x-y", base_model="b", n_queries=40)
        store(root, record, frame)


def test_a_measure_some_seeds_lack_is_the_mean_sd_and_interval_of_the_others(tmp_path):
    """Seed 0 was recorded before nRD existed: the row's nRD is the mean, sd and interval of
    seeds 1 and 2 alone (the same as a row of only those two), labelled '2 of 3 seeds'."""
    _panel_seeds(tmp_path / "all", range(1, 3))
    (row,) = load_collection(tmp_path / "all").scores
    target = Target("multi", "nRD", "mean", LANGUAGES)
    per_seed = [row.per_seed("mean", "multi", "nRD")[k] for k in (1, 2)]
    assert set(row.per_seed("mean", "multi", "nRD")) == {1, 2}
    assert row.statistic("mean", "multi", "nRD") == pytest.approx(np.mean(per_seed))
    assert row.sd("mean", "multi", "nRD") == pytest.approx(np.std(per_seed, ddof=1))
    (found,) = estimates([row], [target], Options(300)).values()
    assert found.seeds == SeedCount(2, 3) and str(found.seeds) == "2 of 3 seeds"
    assert found.sd == pytest.approx(np.std(per_seed, ddof=1))

    # The same two seeds alone: value, sd and interval (its t term has 1 degree of freedom).
    for k in (1, 2):
        for path in (tmp_path / "all").rglob(f"m__x-y__seed{k}/**/*"):
            if path.is_file():
                target_path = tmp_path / "two" / path.relative_to(tmp_path / "all")
                target_path.parent.mkdir(parents=True, exist_ok=True)
                target_path.write_bytes(path.read_bytes())
    (two,) = load_collection(tmp_path / "two").scores
    (alone,) = estimates([two], [target], Options(300)).values()
    assert alone.seeds == SeedCount(2, 2)
    assert (found.value, found.sd, found.low, found.high) == pytest.approx(
        (alone.value, alone.sd, alone.low, alone.high), rel=1e-12
    )


def test_labels_say_how_many_seeds_hold_each_value(tmp_path):
    _panel_seeds(tmp_path, range(1, 3))
    doc = build_leaderboard(load_collection(tmp_path), published=False)
    by_title = {t.title.split(":")[0]: t for t in doc.tables}
    assert (
        by_title["mAP, macro average over languages (shape of the paper's Table 1)"].rows[0][3]
        == "m__x-y (3 seeds)"
    )
    panel = next(t for t in doc.tables if t.title.startswith("Language bias panel"))
    assert [c.label for c in panel.columns[4:]] == ["RD", "nRD"]
    assert panel.rows[0][3] == "m__x-y (2–3 of 3 seeds)"
    assert panel.notes == ("m__x-y: RD over 3 seeds; nRD over 2 of 3 seeds.",)
    assert "| m\\_\\_x-y (2–3 of 3 seeds) |" in render_markdown(doc)

    _panel_seeds(tmp_path / "one", range(1, 2))
    doc = build_leaderboard(load_collection(tmp_path / "one"), published=False)
    panel = next(t for t in doc.tables if t.title.startswith("Language bias panel"))
    assert panel.notes == ("m__x-y: RD over 3 seeds; nRD over 1 of 3 seeds.",)


def test_intervals_table_counts_the_seeds_that_hold_the_measure(tmp_path):
    """--ci on a headline column some seeds lack: the seeds cell says '2 of 3', the csv 2."""
    rng = np.random.default_rng(2)
    for k in range(3):
        frame = _frame(rng, 0.5 + 0.01 * k)
        if k == 0:  # a seed evaluated on Mo. only
            frame = frame[frame["setting"] == "mono"]
        store(tmp_path, _record(f"m__x-y__seed{k}", frame, regime="x-y", base_model="b"), frame)
    collection = load_collection(tmp_path)
    doc = build_leaderboard(collection, published=False, uncertainty=Options(200))
    table1 = doc.tables[0]
    assert table1.rows[0][3] == "m__x-y (2–3 of 3 seeds)"
    assert table1.notes == ("m__x-y: XQuAD-R Mo. over 3 seeds; XQuAD-R Cr. over 2 of 3 seeds.",)
    cross = next(t for t in doc.tables if t.title.startswith("XQuAD-R, Cr. MAP"))
    mono = next(t for t in doc.tables if t.title.startswith("XQuAD-R, Mo. MAP"))
    assert cross.rows[0][1] == "2 of 3 seeds" and mono.rows[0][1] == 3
    assert cross.rows[0][3] == pytest.approx(
        np.std(list(collection.scores[0].per_seed("mean", "cross", "MAP").values()), ddof=1)
    )
    lines = uncertainty_csv(collection, Options(200)).splitlines()
    assert [line.split(",")[10] for line in lines[1:]] == ["3", "2"]


def test_the_bias_panel_gets_intervals_and_ranks_too(tmp_path, xret_cli):
    """--ci covers the bias-panel table as well as the headline: a row per model and panel
    measure, the numbers being those of ``estimates`` for that column."""
    rng = np.random.default_rng(5)
    multi = [("multi", q, "all") for q in LANGUAGES]
    for name, level in {"fair": 0.1, "biased": 0.6}.items():
        rows = [
            (s, q, p, f"{q}/t{t}", float(rng.uniform(0, 1)), float(level + rng.normal(0, 0.05)))
            for s, q, p in multi
            for t in range(30)
        ]
        columns = ["setting", "query_language", "pool_language", "query_id", "MAP", "Excess@10"]
        frame = pd.DataFrame(rows, columns=columns)
        by_cell = frame.groupby(["setting", "query_language", "pool_language"])
        cells = {k: {m: float(v[m].mean()) for m in ("MAP", "Excess@10")} for k, v in by_cell}
        record = make_record(name, cells, task_languages=LANGUAGES, n_queries=30)
        store(tmp_path, record, frame)
    collection = load_collection(tmp_path)
    doc = build_leaderboard(collection, published=False, uncertainty=Options(300))
    (table,) = [t for t in doc.tables if "bias panel's intervals" in t.title]
    rows = list(collection.scores)
    target = Target("multi", "Excess@10", "mean", LANGUAGES)
    found = estimates(rows, [target], Options(300))
    expected = {
        rows[i].system.model: (f"{e.value:.3f}", f"{e.low:.3f}", f"{e.high:.3f}", e.rank, e.group)
        for (i, _), e in found.items()
    }
    shown = {r[0]: (r[3], r[5], r[6], r[7], r[10]) for r in table.rows if r[1] == "Excess@10"}
    assert shown == expected and shown["fair"][3] == 1  # lower Excess is less biased: rank 1
    lines = uncertainty_csv(collection, Options(300)).splitlines()
    assert sum(",Excess@10," in line for line in lines) == 2
    code, out, err = xret_cli("leaderboard", str(tmp_path), "--ci", "--resamples", "100")
    assert code == 0 and "the bias panel's intervals and ranks" in out, err
