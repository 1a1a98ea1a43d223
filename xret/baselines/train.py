"""``xret train``: one function from a ``TrainConfig`` to a model folder.

The folder is an ordinary sentence-transformers model plus ``xret-model.json`` (written last, so
its presence means the model is complete). While a run is under way, ``checkpoints/`` holds the
trainer's checkpoints and ``checkpoints/run.json`` the run they belong to. Rerunning the same run
resumes from the newest complete checkpoint with the batches at the same position: batch ``i`` is
a pure function of the data, the seed and ``i`` (``PairBatchSampler``), the trainer takes the
batches in order (``FixedBatches``), and it restores its optimizer, schedule and RNG states itself.
Rerunning a finished run does nothing; a different run into the same folder is refused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xret.baselines.recipe import TrainConfig, TrainingData, load_training_data
from xret.baselines.samplers import SamplerState, Sampling, make_sampler
from xret.baselines.trainer_feed import FixedBatches, trainer_columns
from xret.errors import MissingPackageError, ModelError, TrainingError
from xret.io import atomic_write_text, output_error
from xret.models import model_spec
from xret.models.providers import get_provider
from xret.models.providers.st import SentenceTransformerEncoder
from xret.models.spec import ModelSpec
from xret.models.trained import FORMAT, SPEC_FILE
from xret.provenance import environment
from xret.runtime.device import Device, pick_device

CHECKPOINTS = "checkpoints"
RUN_FILE = "run.json"


@dataclass(frozen=True)
class RunOptions:
    """Where and how a run happens; none of it changes the model it trains."""

    output: Path
    cache_dir: Path
    data_dir: Path | None = None
    device: str = "auto"
    save_steps: int = 100
    keep_checkpoints: int = 2
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("save_steps", "keep_checkpoints"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise TrainingError(f"{name} must be a positive integer, not {value!r}")


@dataclass(frozen=True)
class TrainOutcome:
    output: Path
    model_file: dict
    """The content of ``xret-model.json``."""
    skipped: bool
    """True when the folder already held this run's finished model."""


def train(
    config: TrainConfig,
    options: RunOptions,
    log: Callable[[str], None] = print,
    callbacks: Sequence[object] = (),
) -> TrainOutcome:
    """Train ``config`` into ``options.output`` (resuming or skipping as the folder says).

    ``callbacks`` are extra ``transformers.TrainerCallback``s (tests use one to interrupt a run).
    """
    started = time.perf_counter()
    _require_training_packages()
    output = options.output
    data = load_training_data(config, options.data_dir, options.cache_dir)
    # Bad settings for this data (one language for X-Y, too large a batch) fail here, before
    # anything is written or loaded.
    sampler = make_sampler(
        data.items(),
        config.sampling,
        batch_size=config.batch_size,
        alpha=config.alpha,
        state=SamplerState(config.seed),
    )
    batches = sampler.batches(config.steps)
    base = _resolved_base(config, options.cache_dir)
    provider = get_provider(base.provider)
    identity = _identity(config.to_dict(), base.revision, _data_files(data.summary()))

    finished = _finished(output, identity)
    if finished is not None:
        log(f"{output}: already trained; nothing to do")
        return TrainOutcome(output, finished, skipped=True)
    resume = _prepare(output, identity)
    device = pick_device(options.device)

    log(f"loading base model {base.name}")
    encoder = provider.load(base, Device("cpu", "float32"), options.cache_dir)
    if not isinstance(encoder, SentenceTransformerEncoder):
        raise ModelError(
            f"model {base.name} cannot be trained: its provider {base.provider!r} does not "
            "give a sentence-transformers model"
        )
    model = encoder.model
    base_folder = Path(model[0].auto_model.name_or_path)
    eval_max_length = model.max_seq_length
    model.max_seq_length = config.max_seq_length
    if not options.progress:  # no bar: a line every logging interval instead, for log files
        callbacks = (*callbacks, _step_logger(log))
    trainer = _trainer(config, options, base, model, trainer_columns(batches), device, callbacks)
    if resume is not None:
        _keep_model_kwargs(base_folder, resume)  # the trainer reloads the checkpoint's folder
        log(f"resuming from {resume.name}")
    log(
        f"training {config.sampling.value} from {base.name}: {config.steps} steps of "
        f"{config.batch_size} pairs on {device.name}"
    )
    train_start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    train_seconds = time.perf_counter() - train_start
    resumed_step = int(resume.name.rsplit("-", 1)[1]) if resume else 0

    # The folder is evaluated with the base model's length limit and prompts, not training's.
    model.max_seq_length = eval_max_length
    model.prompts = _prompts(base, document_key="document")
    try:
        model.save(str(output))
    except OSError as err:
        raise output_error(output, err) from None
    _keep_model_kwargs(base_folder, output)
    model_file = _model_file(
        config,
        base,
        data,
        batches,
        sampler.state.to_dict(),
        {
            "device": device.name,
            "resumed_from_step": resumed_step or None,
            "steps_this_run": config.steps - resumed_step,
            "train_seconds": round(train_seconds, 1),
            "steps_per_second": round((config.steps - resumed_step) / train_seconds, 4),
            "wall_seconds": round(time.perf_counter() - started, 1),
            "mean_loss_this_run": result.training_loss,
        },
    )
    _write_json(output / SPEC_FILE, model_file)
    shutil.rmtree(output / CHECKPOINTS)
    log(f"wrote {output} ({model_file['training']['run']['steps_per_second']} steps/s)")
    return TrainOutcome(output, model_file, skipped=False)


def training_key(config: TrainConfig, data_dir: Path | None, cache_dir: Path) -> str:
    """A digest of what makes two runs the same run (the recipe, the base weights, the data
    bytes), computed without training: a study uses it to know that a committed record belongs
    to this cell even when the trained model is not on this machine."""
    data = load_training_data(config, data_dir, cache_dir)
    base = _resolved_base(config, cache_dir)
    identity = _identity(config.to_dict(), base.revision, _data_files(data.summary()))
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _resolved_base(config: TrainConfig, cache_dir: Path) -> ModelSpec:
    spec = model_spec(config.base)
    return get_provider(spec.provider).resolve(spec, cache_dir)


TRAINING_PACKAGES = ("accelerate", "datasets")
"""What sentence-transformers' trainer needs beyond the core install (the ``train`` extra)."""


def _require_training_packages() -> None:
    for package in TRAINING_PACKAGES:
        if importlib.util.find_spec(package) is None:
            raise MissingPackageError(package, "xret train", "'xret[train]'")


def _trainer(config, options, base, model, columns, device, callbacks):
    import datasets
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    args = SentenceTransformerTrainingArguments(
        output_dir=str(options.output / CHECKPOINTS),
        max_steps=config.steps,
        per_device_train_batch_size=config.batch_size,
        batch_sampler=FixedBatches(config.batch_size),
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_steps,
        lr_scheduler_type="linear",
        optim="adamw_torch",
        seed=config.seed,
        prompts=_prompts(base, document_key="passage") or None,
        save_strategy="steps",
        save_steps=options.save_steps,
        save_total_limit=options.keep_checkpoints,
        logging_steps=min(10, config.steps),
        report_to="none",
        disable_tqdm=not options.progress,
        use_cpu=not device.is_cuda,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=datasets.Dataset.from_dict(columns),
        loss=MultipleNegativesRankingLoss(model, scale=config.scale),
        callbacks=list(callbacks),
    )
    if not options.progress:
        # Without its bar the trainer prints every log dict instead; quiet means quiet (the study
        # prints one line per cell). The losses stay in each checkpoint's trainer_state.json.
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    return trainer


def _step_logger(log: Callable[[str], None]):
    """A trainer callback that logs ``step i/n, loss x, about t left`` at each logging step. The
    time left is priced by the steps of this run so far (a resumed run's earlier steps took no
    time here)."""
    from transformers import TrainerCallback

    class StepLog(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.first_step, self.started = state.global_step, time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs:
                return
            done = state.global_step - self.first_step
            seconds = (time.perf_counter() - self.started) / max(done, 1)
            left = round(seconds * (state.max_steps - state.global_step))
            log(
                f"step {state.global_step}/{state.max_steps}, loss {logs['loss']:.4f}, "
                f"about {left // 60} min {left % 60:02d} s left"
            )

    return StepLog()


def _keep_model_kwargs(base_folder: Path, output: Path) -> None:
    """Carry the base folder's ``model_kwargs`` into a folder saved from the model, where
    sentence-transformers 6 leaves them out. Without me5-small-q4's ``add_pooling_layer: false``
    a checkpoint reloads with a pooler the model lacks (and resuming fails), and the trained
    folder loads with a freshly initialised, unused one."""
    config_name = "sentence_bert_config.json"
    if not (base_folder / config_name).is_file():
        return
    kwargs = json.loads((base_folder / config_name).read_text()).get("model_kwargs")
    if kwargs:
        config = json.loads((output / config_name).read_text())
        merged = {**config, "model_kwargs": kwargs}
        atomic_write_text(output / config_name, json.dumps(merged, indent=2))


def _prompts(spec: ModelSpec, document_key: str) -> dict[str, str]:
    """The base model's prompts, keyed by the training column (``passage``) or by the prompt
    name the saved folder uses (``document``)."""
    prompts = {"query": spec.query_prompt, document_key: spec.document_prompt}
    return {key: value for key, value in prompts.items() if value}


def _identity(config: dict, base_revision: str | None, data_files: dict) -> dict:
    """What makes two runs the same run: the recipe, the base weights and the data bytes."""
    identity = {"config": config, "base_revision": base_revision, "data_sha256": data_files}
    return json.loads(json.dumps(identity))


def _data_files(summary: dict) -> dict:
    return {name: source["files_sha256"] for name, source in summary["sources"].items()}


def _finished(output: Path, identity: dict) -> dict | None:
    """The model file of a finished run in ``output``, or None when there is none."""
    path = output / SPEC_FILE
    if not path.is_file():
        return None
    stored = _read_json(path)
    try:
        training = stored["training"]
        done = _identity(
            training["config"], stored["base_model"]["revision"], _data_files(training["data"])
        )
    except (KeyError, TypeError, AttributeError) as err:
        raise TrainingError(
            f"{path}: not an xret model file ({err!r}); use another --output"
        ) from None
    if done != identity:
        raise TrainingError(
            f"{output} already holds a model of another run ({_differences(done, identity)}); "
            "choose another --output"
        )
    shutil.rmtree(output / CHECKPOINTS, ignore_errors=True)  # left by an interrupted clean-up
    return stored


def _prepare(output: Path, identity: dict) -> Path | None:
    """Claim ``output`` for this run; the checkpoint to resume from, if any."""
    run_file = output / CHECKPOINTS / RUN_FILE
    if run_file.is_file():
        stored = _read_json(run_file)
        if stored != identity:
            raise TrainingError(
                f"{output} holds checkpoints of another run ({_differences(stored, identity)}); "
                "choose another --output, or delete the folder to start over"
            )
        return _last_checkpoint(run_file.parent)
    if output.exists() and any(output.iterdir()):
        raise TrainingError(
            f"{output} is not empty and holds no xret training run; choose a new or empty --output"
        )
    _write_json(run_file, identity)
    return None


def _last_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint: the trainer writes ``trainer_state.json`` last."""
    steps = [
        (int(path.name.rsplit("-", 1)[1]), path)
        for path in folder.glob("checkpoint-*")
        if path.name.rsplit("-", 1)[1].isdigit() and (path / "trainer_state.json").is_file()
    ]
    return max(steps)[1] if steps else None


def _differences(old: dict, new: dict) -> str:
    """The settings in which two run identities differ, e.g. ``steps 200 -> 300``."""
    flat_old, flat_new = _flatten(old), _flatten(new)
    keys = sorted(
        k for k in flat_old.keys() | flat_new.keys() if flat_old.get(k) != flat_new.get(k)
    )
    return "; ".join(
        f"{k.rsplit('.', 1)[-1]} {flat_old.get(k)} -> {flat_new.get(k)}" for k in keys[:3]
    )


def _flatten(value: dict, prefix: str = "") -> dict:
    out = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update(_flatten(item, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = item
    return out


def _model_file(
    config: TrainConfig,
    base: ModelSpec,
    data: TrainingData,
    batches,
    sampler_state: dict,
    run: dict,
) -> dict:
    kinds = Counter(batch.kind.value for batch in batches)
    sources = Counter(batch.source for batch in batches)
    regime = config.sampling.value + (f" α={config.alpha:g}" if config.alpha is not None else "")
    return {
        "format": FORMAT,
        "display_name": f"{base.display_name or base.name} + {regime}",
        "base_model": {
            "name": base.name,
            "revision": base.revision,
            "display_name": base.display_name,
        },
        "regime": config.sampling.value,
        "alpha": config.alpha,
        "dim": base.dim,
        "licence": base.licence,
        "languages": None if base.languages is None else sorted(base.languages),
        "training": {
            "config": config.to_dict(),
            "loss": (
                "sentence-transformers MultipleNegativesRankingLoss: InfoNCE over cosine x scale, "
                "the other pairs' passages of the batch as negatives"
            ),
            "optimizer": (
                "AdamW (torch); linear warm-up then linear decay to 0; "
                "no weight decay on biases and LayerNorm weights"
            ),
            "prompts": {"query": base.query_prompt, "passage": base.document_prompt},
            "data": data.summary(),
            "batches": {
                "by_kind": {
                    kind.value: kinds.get(kind.value, 0)
                    for kind in (Sampling.X_X_MONO, Sampling.X_Y)
                },
                "by_source": dict(sorted(sources.items())),
                "sampler_state": sampler_state,
            },
            "run": run,
        },
        "provenance": environment(),
    }


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TrainingError(f"{path}: unreadable ({err}); use another --output") from None


def _write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
