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
