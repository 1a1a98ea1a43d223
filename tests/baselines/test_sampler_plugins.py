"""Batch samplers beyond the three regimes: a class in place of the enum, or a plugin's name."""

from __future__ import annotations

import pytest

from xret.baselines.data import ParallelItem, QAPair
from xret.baselines.recipe import TrainConfig
from xret.baselines.samplers import (
    Batch,
    CustomSampling,
    SamplerState,
    Sampling,
    TrainingPair,
    make_sampler,
)
from xret.errors import UnknownNameError
from xret.plugins import PluginError


class EnglishFirst:
    """Every batch: the first ``batch_size`` items, English question to English passage."""

    name = "english-first"

    def __init__(self, sources, *, batch_size, alpha, state):
        self.items = [item for items in sources.values() for item in items][:batch_size]
        self.alpha, self.state = alpha, state

    def batches(self, n):
        pairs = tuple(
            TrainingPair(
                i.by_language["en"].question, "en", i.by_language["en"].passage, "en", i.id
            )
            for i in self.items
        )
        return tuple(Batch(k, "s", Sampling.X_X_MONO, pairs) for k in range(n))


SOURCES = {
    "s": [ParallelItem(str(i), "s", "t", {"en": QAPair(f"q{i}", f"p{i}")}) for i in range(3)]
}


def make(sampling, **changes) -> TrainConfig:
    return TrainConfig(base="m", sampling=sampling, sources=("s",), **changes)


def test_a_class_takes_the_place_of_a_regime():
    config = make(EnglishFirst, alpha=0.3)
    assert config.sampling == CustomSampling("english-first", EnglishFirst)
    assert config.to_dict()["sampling"] == "english-first" and config.alpha == 0.3
    sampler = make_sampler(
        SOURCES, config.sampling, batch_size=2, alpha=config.alpha, state=SamplerState(0)
    )
    assert isinstance(sampler, EnglishFirst) and sampler.alpha == 0.3
    (batch,) = sampler.batches(1)
    assert [p.item_id for p in batch.pairs] == ["0", "1"]
    # The built-in regimes are unchanged.
    assert make("x-y").sampling is Sampling.X_Y


@pytest.fixture
def plugin_site(tmp_path, monkeypatch):
    def install(name: str, target: str) -> None:
        info = tmp_path / f"{name}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[xret.samplers]\n{target}\n")

    monkeypatch.syspath_prepend(str(tmp_path))
    return install


def test_a_plugin_sampler_is_found_by_name(plugin_site):
    plugin_site("english", f"english-first = {__name__}:EnglishFirst")
    assert make("english-first").sampling == CustomSampling("english-first", EnglishFirst)
    with pytest.raises(UnknownNameError, match="did you mean 'english-first'"):
        make("english-frist")


def test_a_plugin_may_not_redefine_a_regime(plugin_site):
    plugin_site("dup", f"hybrid = {__name__}:EnglishFirst")
    with pytest.raises(PluginError, match="sampling 'hybrid' is defined twice"):
        make("x-y")
