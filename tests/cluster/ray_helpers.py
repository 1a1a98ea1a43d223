"""Helpers of the Ray tests: a Ray engine over the hash encoder, a toy LAReQA task, and the check
that two result records hold the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from xret.benchmark.cache import EmbeddingCache
from xret.benchmark.engine import BatchPolicy
from xret.cluster import ClusterOptions
from xret.cluster.encode import ray_engine
from xret.models import model_spec
from xret.models.providers import get_provider
from xret.results.store import load_record
from xret.runtime.device import CPU
from xret.tasks.corpus import Corpus, find_shards
from xret.testing import write_lareqa_task

WORDS = "river city port market school hill lake road king song".split()


def numbers(value, path: str = "") -> dict[str, float | str]:
    """Every leaf of a record section by its path (numbers as floats, the rest as text)."""
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in numbers(item, f"{path}/{key}").items()
        }
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in numbers(item, f"{path}/{i}").items()
        }
    return {
        path: float(value) if isinstance(value, int | float) and value is not None else str(value)
    }


def assert_same_numbers(ours: Path, theirs: Path) -> None:
    a, b = load_record(ours), load_record(theirs)
    ours_json, theirs_json = json.loads(a.to_json()), json.loads(b.to_json())
    for section in ("cells", "by_language", "summary"):
        left, right = numbers(ours_json[section]), numbers(theirs_json[section])
        assert left.keys() == right.keys(), section
        for key, value in left.items():
            if isinstance(value, float):
                assert abs(value - right[key]) <= 1e-6 or (
                    np.isnan(value) and np.isnan(right[key])
                ), key
            else:
                assert value == right[key], key
    scores = [pd.read_csv(p.with_name(r.per_query)) for p, r in ((ours, a), (theirs, b))]
    pd.testing.assert_frame_equal(*scores, check_exact=False, atol=1e-6, rtol=0)


def hash_engine(cache_dir: Path, workers: int, model: str = "xret.testing:HashEncoder"):
    """A Ray engine over a hash encoder (the runtime must be up; it is joined, not started)."""
    spec = model_spec(model)
    spec = get_provider(spec.provider).resolve(spec, cache_dir)
    return ray_engine(
        spec,
        ClusterOptions(workers=workers),
        CPU,
        cache_dir,
        BatchPolicy(),
        EmbeddingCache(cache_dir / "embeddings"),
        progress=False,
    )


def toy_lareqa(root: Path, languages=("en", "de", "fr"), paragraphs: int = 5) -> Path:
    """A parallel LAReQA-format task: every language has the same paragraphs and questions."""
    rng = np.random.default_rng(0)
    shared = [[" ".join(rng.choice(WORDS, size=5)) for _ in range(3)] for _ in range(paragraphs)]
    return write_lareqa_task(
        root,
        {
            lang: [
                {
                    "sentences": [f"{s} {lang}" for s in sentences],
                    "questions": [
                        (f"q{p}-{i}", f"{sentences[i].split()[0]} {lang} ?", i) for i in range(2)
                    ],
                }
                for p, sentences in enumerate(shared)
            ]
            for lang in languages
        },
    )


def corpus_of(directory: Path) -> Corpus:
    return Corpus(name=directory.name, language="sw", shards=find_shards(directory))
