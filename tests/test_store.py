"""The per-query table is written as exactly the text pandas writes with ``float_format="%.6g"``."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd

from xret.results.record import (
    CellScores,
    CoverageSection,
    ModelSection,
    OptionsSection,
    ProvenanceSection,
    ResultRecord,
    TaskSection,
)
from xret.results.store import FLOAT_FORMAT, ResultStore, load_per_query

AWKWARD = [0.0, -0.0, 1.0, 1 / 3, 2 / 3, 0.1 + 0.2, 1e-7, 5e-324, 1e300, 123456.5, 1234567.0]
AWKWARD += [0.0457189, 0.04571885, 2.0**-20, 11210.909090909091, 6133.0, float("nan"), 0.5]


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 4000
    values = np.concatenate([AWKWARD, rng.random(n - len(AWKWARD))])
    reciprocal = 1.0 / rng.integers(1, 13_000, n)
    distance = np.where(rng.random(n) < 0.7, np.nan, rng.integers(0, 13_000, n).astype(float))
    ids = [f"q{i}" for i in range(n - 3)] + ["with,comma", 'with "quote"', "ünïcode"]
    return pd.DataFrame(
        {
            "setting": "multi",
            "query_language": "de",
            "pool_language": "all",
            "query_id": ids,
            "MAP": values,
            "R@1": rng.integers(0, 2, n).astype(float),
            "nDCG@10": reciprocal,
            "RD": distance,
            "single": np.where(np.abs(values) < 1e30, values, 0.5).astype(np.float32),
        }
    )


def _record(per_query: str) -> ResultRecord:
    return ResultRecord(
        key="m/r/t__0123456789",
        model=ModelSection(name="m"),
        task=TaskSection(name="t"),
        options=OptionsSection(),
        coverage=CoverageSection(declared=False),
        cells=(CellScores("multi", "de", "all", n_queries=4000, excluded=0, values={}),),
        by_language={},
        summary={},
        provenance=ProvenanceSection(),
        per_query=per_query,
    )


def test_per_query_text_is_what_pandas_float_format_writes(tmp_path):
    frame = _frame()
    before = frame.copy(deep=True)
    store = ResultStore(tmp_path)
    record = _record("t__0123456789.queries.csv.gz")
    path = store.write(record, frame)
    stored = store.per_query_path("m/r/t__0123456789").read_bytes()
    assert gzip.decompress(stored).decode("utf-8") == frame.to_csv(
        index=False, float_format=FLOAT_FORMAT
    )
    # Neither a (temporary) file name nor a time in the header: the same scores, the same bytes.
    assert stored[3] & 0x08 == 0 and stored[4:8] == bytes(4)
    pd.testing.assert_frame_equal(frame, before)  # the caller's table is left as it was
    back = load_per_query(path, record)
    assert np.array_equal(back["RD"].isna(), frame["RD"].isna())
    assert np.allclose(back["MAP"], frame["MAP"], rtol=1e-5, equal_nan=True)


def test_per_query_text_is_what_pandas_writes():
    """The store's CSV writer gives to_csv's bytes: quoting, blanks, -0.0, exponents."""
    import numpy as np
    import pandas as pd

    from xret.results.store import FLOAT_FORMAT, _csv_text

    frame = pd.DataFrame(
        {
            "setting": ["multi", "multi", "cross", "mono"],
            "query_id": ["en/a,b", 'de/"q"', "ar/x\ny", "zh/1"],
            "MAP": [0.5, -0.0, np.nan, 1e-9],
            "RD": [1234567.0, 0.0, 3.0, np.nan],
        }
    )
    assert _csv_text(frame) == frame.to_csv(index=False, float_format=FLOAT_FORMAT)


def _string_check(frame, cells) -> str:
    """The check on the string key columns directly (the slow original): its error, or ''."""
    keys = ["setting", "query_language", "pool_language", "query_id"]
    twice = frame.duplicated(keys)
    if twice.any():
        setting, query, pool, qid = frame.loc[twice.idxmax(), keys]
        return f"query {qid} of {setting} {query}→{pool} has more than one row ({twice.sum()}"
    rows = frame.groupby(keys[:3]).size().to_dict()
    for cell in cells:
        found = rows.pop((cell.setting, cell.query_language, cell.pool_language), 0)
        if found != cell.n_queries:
            return f"{found} rows for {cell.setting} {cell.query_language}→{cell.pool_language},"
    return "rows for {} {}→{}, a cell".format(*next(iter(rows))) if rows else ""


def test_per_query_check_on_integer_codes_matches_the_string_check(tmp_path):
    """Keys that collide when glued together ('a'+'bc' = 'ab'+'c'), repeats, missing and foreign
    cells: the same verdict and message as checking the strings themselves."""
    from types import SimpleNamespace

    from xret.errors import DataError
    from xret.results.store import _check_against_record

    rng = np.random.default_rng(1)
    for trial in range(60):
        n = int(rng.integers(1, 40))
        frame = pd.DataFrame(
            {
                "setting": rng.choice(["a", "ab", "mono"], n),
                "query_language": rng.choice(["bc", "c", "xx"], n),
                "pool_language": rng.choice(["bc", "c"], n),
                "query_id": rng.choice(["q1", "q10", "1q"], n) if trial % 2 else np.arange(n),
            }
        ).astype(str)
        counts = frame.groupby(["setting", "query_language", "pool_language"]).size()
        cells = [
            SimpleNamespace(setting=s, query_language=q, pool_language=p, n_queries=int(c))
            for (s, q, p), c in counts.items()
            if rng.random() < 0.9
        ]
        if cells and rng.random() < 0.2:
            cells[0].n_queries += 1
        expected = _string_check(frame, cells)
        try:
            _check_against_record(tmp_path, frame, SimpleNamespace(cells=cells))
            message = ""
        except DataError as err:
            message = str(err)
        assert (expected in message) if expected else message == "", (expected, message)


def test_the_fast_reader_gives_what_the_c_reader_gives():
    """load_per_query reads with pyarrow (types given); the committed XQuAD-R table, read by
    pandas' C reader with nothing assumed, must come out the same value for value."""
    from pathlib import Path

    from xret.results.store import load_record

    root = Path(__file__).parents[1] / "results" / "me5-small-q4" / "20eca9c7604e"
    [path] = root.glob("xquad-r__*.json")
    record = load_record(path)
    fast = load_per_query(path, record)
    slow = pd.read_csv(path.parent / record.per_query, dtype=str, keep_default_na=False)
    assert list(fast.columns) == list(slow.columns) and len(fast) == len(slow) > 300_000
    for column in fast.columns:
        if column in ("setting", "query_language", "pool_language", "query_id"):
            assert fast[column].astype(str).tolist() == slow[column].tolist()
        else:  # the store's text, parsed by Python's float(): correctly rounded
            expected = np.array([float(v) if v else np.nan for v in slow[column]])
            np.testing.assert_array_equal(fast[column].to_numpy(), expected)
    subset = load_per_query(path, record, ["MAP", "PEER@10"])
    assert list(subset.columns) == [
        "setting",
        "query_language",
        "pool_language",
        "query_id",
        "MAP",
        "PEER@10",
    ]


def test_without_pyarrow_the_c_reader_reads_the_same(monkeypatch):
    """pyarrow is an optional dependency: a core install reads per-query tables all the same."""
    import sys
    from pathlib import Path

    from xret.results.store import load_record

    root = Path(__file__).parents[1] / "results" / "minilm-en" / "b86995e3c600"
    [path] = root.glob("mlqa-r__*.json")
    record = load_record(path)
    fast = load_per_query(path, record)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    slow = load_per_query(path, record)
    pd.testing.assert_frame_equal(fast, slow)
