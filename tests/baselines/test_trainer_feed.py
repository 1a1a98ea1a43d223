"""The trainer sees exactly the sampled batches, in order."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from xret.baselines.data import ParallelItem, QAPair
from xret.baselines.samplers import PairBatchSampler, SamplerState
from xret.baselines.trainer_feed import FixedBatches, trainer_columns
from xret.errors import SamplingError

ITEMS = [
    ParallelItem(
        str(i),
        "s",
        "t",
        {lang: QAPair(f"q{i}{lang}", f"p{i}{lang}") for lang in ("de", "en", "es")},
    )
    for i in range(12)
]


def test_trainer_rows_come_back_as_the_sampled_batches():
    from torch.utils.data import DataLoader

    batches = PairBatchSampler({"s": ITEMS}, "hybrid", batch_size=4, state=SamplerState(2)).batches(
        25
    )
    columns = trainer_columns(batches)
    assert list(columns) == ["query", "passage"]  # the trainer reads the first column as the anchor
    rows = list(zip(columns["query"], columns["passage"], strict=True))
    sampler = FixedBatches(4)(
        rows, batch_size=4, drop_last=False, valid_label_columns=None, generator=None, seed=0
    )
    seen = list(DataLoader(rows, batch_sampler=sampler, collate_fn=list))
    assert seen == [[(p.query_text, p.passage_text) for p in b.pairs] for b in batches]


def test_fixed_batches_survives_pickling_as_checkpoints_do():
    assert pickle.loads(pickle.dumps(FixedBatches(8))) == FixedBatches(8)


def test_fixed_batches_refuses_a_different_trainer_batch_size():
    with pytest.raises(
        SamplingError, match="trainer's batch size is 8, but the batches were sampled with 4"
    ):
        FixedBatches(4)(list(range(16)), batch_size=8, drop_last=False)


def test_fixed_batches_refuses_a_partial_batch():
    with pytest.raises(SamplingError, match="10 training rows are not whole batches of 4"):
        FixedBatches(4)(list(range(10)), batch_size=4, drop_last=False)


def test_sampling_imports_no_torch():
    code = (
        "import sys, xret.baselines.samplers, xret.baselines.trainer_feed; "
        "sys.exit('torch' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
