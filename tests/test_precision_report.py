"""benchmarks/precision.py's deltas: per cell and per macro aggregate, other minus fp32."""

from __future__ import annotations

import pytest

from benchmarks.precision import deltas


def record(cells: dict, macro: dict) -> dict:
    return {
        "cells": [
            {"setting": s, "query_language": q, "pool_language": p, "values": v}
            for (s, q, p), v in cells.items()
        ],
        "summary": {"macro": macro},
    }


def test_deltas_are_per_cell_and_macro_and_skip_missing_measures():
    base = record(
        {
            ("mono", "en", "en"): {"MAP": 0.8, "R@1": 0.7},
            ("cross", "en", "de"): {"MAP": 0.6, "R@1": 0.5},
        },
        {"mono": {"MAP": 0.8}, "multi": {"MAP": 0.4, "RD": 50.0}},
    )
    other = record(
        {
            ("cross", "en", "de"): {"MAP": 0.59, "R@1": 0.5},
            ("mono", "en", "en"): {"MAP": 0.8005, "R@1": 0.7},
        },
        {"mono": {"MAP": 0.8005}, "multi": {"MAP": 0.41, "RD": 48.0}},
    )
    got = deltas(base, other)
    assert got["cells"]["mono:en>en"] == {"MAP": pytest.approx(0.0005), "R@1": 0.0}
    assert got["cells"]["cross:en>de"]["MAP"] == pytest.approx(-0.01)
    assert got["macro"]["multi"] == {"MAP": pytest.approx(0.01), "RD": -2.0}
    assert got["cell_MAP"]["min"] == pytest.approx(-0.01)
    assert got["cell_MAP"]["max"] == pytest.approx(0.0005)
