"""``xret bench``: one function from a config value to stored result records.

The runner does what every task shares: resolve the model, build the embedding engine, derive
each result's key, skip finished results, assemble and store the record. How a task is ranked
and measured is its family's strategy (xret.benchmark.strategies).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from xret.benchmark.aggregate import by_language, cell_scores, summarise
from xret.benchmark.cache import EmbeddingCache
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
from xret.benchmark.evaluate import CellResult
from xret.benchmark.measures import parse_measures
from xret.benchmark.pools import PoolSpec
from xret.benchmark.search import IndexSpec
from xret.benchmark.strategies import Job, Plan, Stages, Strategy, strategy_for
from xret.cluster.runtime import ClusterOptions
from xret.defaults import DEPTH
from xret.models import model_spec
from xret.models.providers import device_for, get_provider
from xret.models.spec import ModelSpec, recorded_source
from xret.progress import stage_lines
from xret.provenance import environment
from xret.results.record import ResultRecord
from xret.results.runs import runs_dir, staged_runs
from xret.results.store import ResultStore, result_key
from xret.tasks import data_checksums, get_task
from xret.tasks.spec import CandidateText, Setting, TaskSpec


@dataclass(frozen=True)
class CorpusOptions:
    """Options of corpus tasks (top-k strategy, e.g. MIRACL); other tasks ignore them."""

    corpus_dir: Path | None = None
    """Local copy of the corpora (``<dir>/miracl-corpus-v1.0-<lang>/docs-<i>.jsonl.gz``)."""
    pool: PoolSpec = field(default_factory=PoolSpec)
    index: IndexSpec = field(default_factory=IndexSpec)
    depth: int = DEPTH
    """Hits kept per query (k); at least the largest measure cutoff."""
    title: bool = True
    """Encode a passage as ``title text`` (True) or ``text`` alone."""


@dataclass(frozen=True)
class BenchConfig:
    model: str | ModelSpec
    """What --model takes, or a spec (an in-memory model: xret.models.providers.objects)."""
    tasks: tuple[str, ...]
    cache_dir: Path
    results_dir: Path
    data_dir: Path | None = None
    languages: tuple[str, ...] | None = None
    settings: tuple[Setting, ...] | None = None
    measures: tuple[str, ...] | None = None
    candidate_text: CandidateText = CandidateText.SENTENCE
    corpus: CorpusOptions = field(default_factory=CorpusOptions)
    query_prompt: str | None = None
    document_prompt: str | None = None
    """Prompt overrides (None: the model spec's own prompts)."""
    device: str | None = None
    precision: str | None = None
    """auto (None), fp32, bf16 or fp16: resolved with the device (xret.benchmark.device)."""
    batch: BatchPolicy | None = None
    """None: the device's defaults (BatchPolicy.for_device)."""
    overwrite: bool = False
    progress: bool = True
    task_files: tuple[Path, ...] = ()
    """Task files (``--task-file``) whose tasks ``tasks`` may name."""
    save_run: bool = False
    """Write each cell's TREC run and qrels beside the record (xret.results.runs)."""
    cluster: ClusterOptions | None = None
    """Encode and search on Ray (xret.cluster); None: in this process."""


@dataclass(frozen=True)
class BenchOutcome:
    path: Path
    record: ResultRecord
    skipped: bool


def model_record(spec: ModelSpec) -> dict:
    """The record's ``model`` block; no machine paths (local folders as ``local:<name>``)."""
    return {
        "name": spec.name,
        "display_name": spec.display_name or spec.name,
        "provider": spec.provider,
        "source": recorded_source(spec.source),
        "revision": spec.revision,
        "dim": spec.dim,
        "max_seq_length": spec.max_seq_length,
        "similarity": spec.similarity,
        "prompts": {"query": spec.query_prompt, "document": spec.document_prompt},
        "languages": sorted(spec.languages) if spec.languages is not None else None,
        "licence": spec.licence,
        "base_model": spec.base_model,
        "regime": spec.regime,
        "alpha": spec.alpha,
    }


def run_bench(config: BenchConfig, log: Callable[[str], None] = print) -> list[BenchOutcome]:
    model = config.model if isinstance(config.model, ModelSpec) else model_spec(config.model)
    provider = get_provider(model.provider)
    resolved = provider.resolve(model, config.cache_dir)
    if resolved.caveat:
        log(f"warning: {resolved.caveat}")
    if config.cluster is None:
        device = device_for(provider, config.device, config.precision)
    else:
        from xret.cluster.encode import cluster_device, ray_engine

        device = cluster_device(config.cluster, provider, config.device, config.precision)
    policy = config.batch or BatchPolicy.for_device(device.is_cuda)
    cache = EmbeddingCache(config.cache_dir / "embeddings")
    engines: dict[ModelSpec, EmbeddingEngine] = {}

    def engine_for(spec: ModelSpec) -> EmbeddingEngine:
        """One engine per prompt pair (a task's prompts policy may differ from another's)."""
        if spec in engines:
            return engines[spec]
        if config.cluster is not None:
            engines[spec] = ray_engine(
                spec, config.cluster, device, config.cache_dir, policy, cache, config.progress
            )
            return engines[spec]

        def load_encoder():
            log(f"loading {spec.name} on {device.name} ({device.precision})")
            return provider.load(spec, device, config.cache_dir)

        engines[spec] = EmbeddingEngine(spec, load_encoder, cache, policy, config.progress, device)
        return engines[spec]

    store = ResultStore(config.results_dir)
    outcomes = []
    for name in config.tasks:
        task = get_task(name, config.task_files)
        spec = _with_prompts(resolved, config, task)
        languages = task.check_languages(config.languages)
        settings = task.check_settings(config.settings)
        measures = parse_measures(config.measures or task.measures)
        strategy = strategy_for(task.ranking)
        options = {
            "task_version": task.version,
            "languages": list(languages),
            "settings": [str(s) for s in settings],
            "measures": [str(m) for m in measures],
            "prompts": {"query": spec.query_prompt, "document": spec.document_prompt},
        }
        plan = strategy.plan(config, task, measures, options)
        data = data_checksums(task, languages, config.cache_dir)
        identity = result_identity(spec, device.key, data, plan)
        key = result_key(plan.name, spec.name, spec.revision or "unknown", identity)
        if store.has(key) and not config.overwrite:
            outcomes.append(BenchOutcome(store.json_path(key), store.load(key), skipped=True))
            log(f"{plan.name}: already done ({store.json_path(key)}); --overwrite to redo")
            if config.save_run and not runs_dir(store.json_path(key)).is_dir():
                log(f"{plan.name}: no runs were saved with it; --overwrite --save-run writes them")
            continue
        with staged_runs(store.json_path(key), spec.name, config.save_run) as runs:
            job = Job(config, task, spec, languages, settings, measures, plan.options, log, runs)
            start = time.perf_counter()
            record, per_query = _bench_task(job, strategy, engine_for(spec), key)
            writing = time.perf_counter()
            path = store.write(record, per_query)
        log(f"{plan.name}: wrote {path}")
        timings = {**record.provenance["timings"], "write": time.perf_counter() - writing}
        for line in stage_lines(plan.name, timings, time.perf_counter() - start):
            log(line)
        outcomes.append(BenchOutcome(path, record, skipped=False))
    return outcomes


def result_identity(spec: ModelSpec, precision: str, task_data: dict[str, str], plan: Plan) -> dict:
    """Everything that identifies a result, hashed into its key: the model's vectors (provider,
    source, revision, prompts, length, similarity, dtype), every data file and corpus shard by
    content, and every option that changes a number."""
    return {
        "model": spec.identity(precision),
        "data": {**task_data, **plan.data},
        "options": plan.options,
    }


def _with_prompts(spec: ModelSpec, config: BenchConfig, task: TaskSpec) -> ModelSpec:
    """The spec with the prompts used on ``task``: the user's override, else the task's policy,
    else the model's own (a change of prompt changes the embeddings' cache namespace)."""
    changes = {}
    for role, override, policy in (
        ("query_prompt", config.query_prompt, task.prompts.query),
        ("document_prompt", config.document_prompt, task.prompts.document),
    ):
        chosen = override if override is not None else policy
        if chosen is not None:
            changes[role] = chosen
    return replace(spec, **changes) if changes else spec


def _producers(devices: list[str]) -> str:
    """Where a task's vectors were computed: this run's device, or as the cache recorded it."""
    return ", ".join(sorted(set(devices))) or "none (nothing was embedded)"


def _bench_task(job: Job, strategy: Strategy, engine: EmbeddingEngine, key: str):
    stage = Stages()
    before = replace(engine.stats)
    load_before = engine.load_seconds
    producers_before = len(engine.producers)
    evaluation = strategy.evaluate(job, engine, stage)
    load_model = engine.load_seconds - load_before
    encoded = engine.stats.minus(before)
    embed = {
        "load_model": load_model,
        "encode": encoded.seconds,
        "embed_other": max(0.0, stage.seconds.get("embed", 0.0) - load_model - encoded.seconds),
    }
    timings = {}
    for name, seconds in stage.seconds.items():  # in the order the stages ran
        timings.update(embed if name == "embed" else {name: seconds})
    timings.update(embed)
    cells_out = cell_scores(evaluation.results)
    per_language = by_language(cells_out)
    task, spec = job.task, job.model
    uncovered = [lang for lang in job.languages if spec.covers(lang) is False]
    record = ResultRecord(
        key=key,
        model=model_record(spec),
        task={
            "name": task.name,
            "family": task.family,
            "version": task.version,
            "languages": list(task.languages),
            "data": dict(evaluation.checksums),
            "counts": evaluation.counts,
            "licence": task.licence,
            **evaluation.task,
        },
        options={**job.options, **evaluation.policy},
        coverage={
            "declared": spec.languages is not None,
            "uncovered_languages": uncovered,
        },
        cells=cells_out,
        by_language=per_language,
        summary=summarise(per_language, task.aggregates),
        provenance={
            **environment(),
            **engine.placement_facts(),
            "device": _producers(engine.producers[producers_before:]),
            "dtype": engine.device.dtype,
            "precision": engine.device.precision,
            "timings": timings,
            "encode": encoded.as_dict(),
        },
        per_query=f"{key.rsplit('/', 1)[-1]}.queries.csv.gz",
        extra=evaluation.extra,
    )
    return record, _per_query_table(evaluation.results)


def _per_query_table(results: tuple[CellResult, ...]):
    import pandas as pd

    frames = []
    for r in results:
        frame = pd.DataFrame({str(m): v for m, v in r.values.items()})
        frame.insert(0, "query_id", r.query_ids)
        frame.insert(0, "pool_language", r.pool_language)
        frame.insert(0, "query_language", r.query_language)
        frame.insert(0, "setting", str(r.setting))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
