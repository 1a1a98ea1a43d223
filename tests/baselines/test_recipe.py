"""TrainConfig checks and the guarded training data of the real sources."""

from __future__ import annotations

import pytest

from xret.baselines.recipe import TrainConfig, load_training_data
from xret.baselines.samplers import Sampling
from xret.errors import DataError, TrainingError, UnknownNameError


def make(**changes) -> TrainConfig:
    return TrainConfig(**{"base": "m", "sampling": "hybrid", "sources": ("s",), **changes})


def test_paper_defaults_and_resolved_alpha():
    config = make()
    assert (config.learning_rate, config.weight_decay, config.batch_size) == (3e-5, 0.01, 100)
    assert config.sampling is Sampling.HYBRID and config.alpha == 0.5
    assert make(alpha=1).alpha == 1.0 and make(sampling="x-y").alpha is None
    assert make(steps=64).warmup_steps == 7
    assert make().to_dict()["sampling"] == "hybrid"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sampling": "x-x-mono", "alpha": 0.5}, "applies to hybrid sampling only"),
        ({"alpha": 1.5}, r"\[0, 1\]"),
        ({"alpha": True}, r"\[0, 1\]"),
        ({"sources": ()}, "no training data"),
        ({"sources": ("s", "s")}, "named twice"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"learning_rate": 0.0}, "learning_rate 0.0 is out of range"),
        ({"warmup_ratio": 1.0}, "warmup_ratio"),
        ({"scale": float("nan")}, "scale"),
    ],
)
def test_invalid_settings_say_which(changes, message):
    with pytest.raises(TrainingError, match=message):
        make(**changes)


def test_unknown_sampling_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'x-y'"):
        make(sampling="x_y")


@pytest.mark.realdata
def test_the_reproduction_data_after_the_guard(data_dir, tmp_path):
    config = make(sources=("squad-it-es", "mlqa-dev"), exclude=("xquad-r",))
    data = load_training_data(config, data_dir, tmp_path)
    summary = data.summary()["sources"]
    assert summary["squad-it-es"]["removed_by_guard"] == 1000
    assert summary["squad-it-es"]["questions_per_language"] == {"es": 5851, "it": 6830}
    assert summary["squad-it-es"]["items_in_two_or_more_languages"] == 4029
    assert summary["mlqa-dev"]["removed_by_guard"] == 0 and summary["mlqa-dev"]["items"] == 1148


@pytest.mark.realdata
def test_mlqa_dev_is_refused_while_mlqa_r_is_evaluated(data_dir, tmp_path):
    with pytest.raises(DataError, match="'mlqa-dev' has no question left"):
        load_training_data(make(sources=("mlqa-dev",)), data_dir, tmp_path)
