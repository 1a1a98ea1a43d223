"""``xret train`` end to end on a tiny BERT and inline SQuAD files: the folder loads, its spec
carries the regime, an interrupted run resumes to the same weights, bad input gives one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xret.baselines.recipe import TrainConfig
from xret.baselines.train import CHECKPOINTS, RunOptions, train
from xret.errors import MissingPackageError, TrainingError
from xret.models import model_spec
from xret.models.trained import SPEC_FILE
from xret.results.store import load_record
from xret.testing import tiny_sentence_transformer, write_lareqa_task, write_squad

N_QUESTIONS = 10
PROMPTS = {"query": "query: ", "document": "passage: "}
ST_CONFIG = "sentence_bert_config.json"
NO_POOLER = {"add_pooling_layer": False}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """A tiny model gains nothing from threads, and on a loaded machine the OpenMP barriers
    between two threads cost a hundred times the arithmetic."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return tiny_sentence_transformer(tmp_path_factory.mktemp("tiny"), PROMPTS)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Training files, and a toy evaluation task sharing the question ids q0 and q1."""
    root = tmp_path_factory.mktemp("world")
    paragraphs = {
        lang: [
            {
                "sentences": [f"Eval {lang} a.", f"Eval {lang} b."],
                "questions": [("q0", f"{lang} eval 0?", 0), ("q1", f"{lang} eval 1?", 1)],
            }
        ]
        for lang in ("en", "de")
    }
    return {
        "data": write_squad(root / "toy-qa"),
        "eval": f"lareqa:{write_lareqa_task(root / 'toy-eval', paragraphs)}",
        "one_language": write_squad(root / "english-only", langs=("en",)),
        "cache": root / "cache",
    }


def config(tiny_base, world, **changes) -> TrainConfig:
    settings = {
        "base": str(tiny_base),
        "sampling": "hybrid",
        "sources": (str(world["data"]),),
        "exclude": (world["eval"],),
        "steps": 4,
        "batch_size": 4,
        "seed": 3,
        "max_seq_length": 32,
    }
    return TrainConfig(**{**settings, **changes})


def options(world, output: Path, **changes) -> RunOptions:
    return RunOptions(
        **{
            "output": output,
            "cache_dir": world["cache"],
            "device": "cpu",
            "save_steps": 2,
            "progress": False,
            **changes,
        }
    )


def weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def test_trained_folder_loads_and_its_spec_carries_the_regime(tiny_base, world, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "hybrid"
    outcome = train(config(tiny_base, world), options(world, out), log=lambda _: None)
    assert not outcome.skipped and not (out / CHECKPOINTS).exists()

    model = SentenceTransformer(str(out), device="cpu")
    assert model.encode(["query: hola"]).shape == (1, 32)
    assert model.prompts == PROMPTS and model.max_seq_length == 48  # the base's, not training's 32
    assert json.loads((out / ST_CONFIG).read_text())["model_kwargs"] == NO_POOLER
    spec = model_spec(str(out))
    assert (spec.regime, spec.alpha, spec.base_model) == ("hybrid", 0.5, "tiny-bert")
    assert (spec.query_prompt, spec.document_prompt) == ("query: ", "passage: ")

    training = json.loads((out / SPEC_FILE).read_text())["training"]
    assert training["config"]["steps"] == 4 and training["config"]["scale"] == 20.0
    source = training["data"]["sources"]["toy-qa"]
    assert source["removed_by_guard"] == 2 and source["items"] == N_QUESTIONS - 2
    assert sum(training["batches"]["by_kind"].values()) == 4

    again = train(config(tiny_base, world), options(world, out), log=lambda _: None)
    assert again.skipped and again.model_file == outcome.model_file
    with pytest.raises(TrainingError, match=r"another run \(steps 4 -> 6\)"):
        train(config(tiny_base, world, steps=6), options(world, out), log=lambda _: None)


class _Interrupt(Exception):
    pass


def _interrupt_after(step: int):
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == step:
                raise _Interrupt(step)

    return Interrupt()


def test_an_interrupted_run_resumes_to_the_same_weights(tiny_base, world, tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    train(config(tiny_base, world, steps=6), options(world, whole), log=lambda _: None)
    # Interrupted during step 5, after the checkpoint of step 4.
    with pytest.raises(_Interrupt):
        train(
            config(tiny_base, world, steps=6),
            options(world, broken),
            log=lambda _: None,
            callbacks=[_interrupt_after(5)],
        )
    assert (broken / CHECKPOINTS / "checkpoint-4").is_dir() and not (broken / SPEC_FILE).exists()
    logs: list[str] = []
    outcome = train(config(tiny_base, world, steps=6), options(world, broken), log=logs.append)
    assert "resuming from checkpoint-4" in logs
    assert outcome.model_file["training"]["run"]["resumed_from_step"] == 4
    expected, got = weights(whole), weights(broken)
    assert expected.keys() == got.keys()
    # Bit-identical on CPU: same batches, optimizer, schedule and dropout RNG after the resume.
    assert all(expected[name].equal(got[name]) for name in expected)


def test_cli_train_then_bench_groups_the_record_by_regime(
    tiny_base, world, tmp_path, monkeypatch, xret_cli
):
    monkeypatch.setenv("XRET_CACHE_DIR", str(world["cache"]))
    monkeypatch.setenv("XRET_RESULTS_DIR", str(tmp_path / "results"))
    out = tmp_path / "x-y"
    code, _, err = xret_cli(
        "train",
        "--base",
        str(tiny_base),
        "--sampling",
        "x-y",
        "--data",
        str(world["data"]),
        "--exclude",
        world["eval"],
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "-o",
        str(out),
        "-q",
    )
    assert code == 0, err
    code, _, err = xret_cli("bench", "-m", str(out), "-t", world["eval"], "-q")
    assert code == 0, err
    (path,) = (tmp_path / "results").rglob("*.json")
    model = load_record(path).model
    assert (model.regime, model.alpha, model.base_model) == ("x-y", None, "tiny-bert")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sampling", "hybird"], "unknown sampling 'hybird'; did you mean 'hybrid'?"),
        (
            ["--sampling", "x-y", "--data", "{one_language}"],
            "x-y sampling needs items in two languages; the data has only the language 'en'",
        ),
        (["--batch-size", "9"], "batch size 9 exceeds the 8 distinct question/passage texts"),
        (["--sampling", "x-y", "--alpha", "0.3"], "--alpha applies to hybrid sampling only"),
        (
            ["--data", "squad-it"],
            "unknown training source (or directory) 'squad-it'; did you mean 'squad-it-es'?",
        ),
        (["--exclude", "xquad"], "unknown task 'xquad'; did you mean 'xquad-r'?"),
        (["--steps", "0"], "steps must be a positive integer, not 0"),
    ],
)
def test_bad_input_gives_one_line_before_any_model_loads(world, tmp_path, xret_cli, args, message):
    defaults = {
        "--base": "no-such-model",
        "--sampling": "hybrid",
        "--data": str(world["data"]),
        "--exclude": world["eval"],
        "--batch-size": "4",
        "-o": str(tmp_path / "out"),
    }
    given = dict(zip(args[::2], args[1::2]))
    argv = [x for k, v in {**defaults, **given}.items() for x in (k, v.format(**world))]
    code, _, err = xret_cli("train", *argv)
    assert code == 2 and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_training_run_is_refused(world, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(TrainingError, match="not empty and holds no xret training run"):
        train(config("xret.testing:HashEncoder", world), options(world, out), log=lambda _: None)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_an_output_that_is_a_file_is_refused(world, tmp_path):
    out = tmp_path / "model.bin"
    out.write_text("mine")
    with pytest.raises(TrainingError, match="model.bin is a file; choose a new or empty folder"):
        train(config("xret.testing:HashEncoder", world), options(world, out), log=lambda _: None)
    assert out.read_text() == "mine"


def test_a_torn_checkpoint_state_is_passed_over_on_resume(tmp_path):
    """The trainer writes trainer_state.json last: a torn one marks an unfinished checkpoint,
    and resuming starts from the one before (it used to crash the trainer)."""
    from xret.baselines.train import _last_checkpoint

    for step, state in ((10, '{"global_step": 10}'), (20, '{"global_st'), (30, None)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if state is not None:
            (folder / "trainer_state.json").write_text(state)
    assert _last_checkpoint(tmp_path) == tmp_path / "checkpoint-10"


@pytest.mark.parametrize("name", [f"{CHECKPOINTS}/run.json", SPEC_FILE])
def test_a_corrupt_run_or_model_file_is_one_line(world, tmp_path, name):
    out = tmp_path / "torn"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_text("{")
    with pytest.raises(TrainingError, match="unreadable"):
        train(config("xret.testing:HashEncoder", world), options(world, out), log=lambda _: None)


def test_missing_trainer_packages_are_one_line_naming_the_extra(world, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "accelerate" else real(name, *a),
    )
    with pytest.raises(
        MissingPackageError,
        match=r"xret train needs the package 'accelerate'.*pip install 'xret\[train\]'",
    ):
        train(
            config("xret.testing:HashEncoder", world),
            options(world, tmp_path / "out"),
            log=lambda _: None,
        )
    assert not (tmp_path / "out").exists()
