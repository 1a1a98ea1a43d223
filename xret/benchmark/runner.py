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
from xret.benchmark.device import pick_device
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
from xret.benchmark.evaluate import CellResult
from xret.benchmark.measures import parse_measures
from xret.benchmark.pools import PoolSpec
from xret.benchmark.search import IndexSpec
from xret.benchmark.strategies import Job, Stages, Strategy, strategy_for
from xret.models import model_spec
from xret.models.providers import get_provider
from xret.models.spec import ModelSpec, recorded_source
from xret.provenance import environment
from xret.results.record import ResultRecord
from xret.results.store import ResultStore, result_key
from xret.tasks import get_task
from xret.tasks.spec import CandidateText, Setting


@dataclass(frozen=True)
class CorpusOptions:
    """Options of corpus tasks (top-k strategy, e.g. MIRACL); other tasks ignore them."""

    corpus_dir: Path | None = None
    """Local copy of the corpora (``<dir>/miracl-corpus-v1.0-<lang>/docs-<i>.jsonl.gz``)."""
    pool: PoolSpec = field(default_factory=PoolSpec)
    index: IndexSpec = field(default_factory=IndexSpec)
    depth: int = 100
    """Hits kept per query (k); at least the largest measure cutoff."""
    title: bool = True
    """Encode a passage as ``title text`` (True) or ``text`` alone."""


@dataclass(frozen=True)
class BenchConfig:
    model: str
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
        "similarity": spec.similarity,
        "prompts": {"query": spec.query_prompt, "document": spec.document_prompt},
        "languages": sorted(spec.languages) if spec.languages is not None else None,
        "licence": spec.licence,
        "base_model": spec.base_model,
        "regime": spec.regime,
        "alpha": spec.alpha,
    }


def run_bench(config: BenchConfig, log: Callable[[str], None] = print) -> list[BenchOutcome]:
    spec = model_spec(config.model)
    provider = get_provider(spec.provider)
    spec = _with_prompts(provider.resolve(spec, config.cache_dir), config)
    used_device: list[str] = []

    def load_encoder():
        device = pick_device(config.device, config.precision)
        used_device.append(device.name)
        engine.policy = config.batch or BatchPolicy.for_device(device.is_cuda)
        log(f"loading {spec.name} on {device.name} ({device.precision})")
        return provider.load(spec, device, config.cache_dir)

    engine = EmbeddingEngine(
        spec, load_encoder, EmbeddingCache(config.cache_dir / "embeddings"), config.batch or BatchPolicy(),
        config.progress,
    )
    store = ResultStore(config.results_dir)
    outcomes = []
    for name in config.tasks:
        task = get_task(name)
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
        key = result_key(plan.name, spec.name, spec.revision or "unknown", plan.options)
        if store.has(key) and not config.overwrite:
            outcomes.append(BenchOutcome(store.json_path(key), store.load(key), skipped=True))
            log(f"{plan.name}: already done ({store.json_path(key)}); --overwrite to redo")
            continue
        job = Job(config, task, spec, languages, settings, measures, plan.options, log)
        record, per_query = _bench_task(job, strategy, engine, key)
        record = replace(record, provenance={**record.provenance, "device": _device(used_device)})
        start = time.perf_counter()
        path = store.write(record, per_query)
        log(f"{plan.name}: wrote {path} in {time.perf_counter() - start:.2f} s")
        outcomes.append(BenchOutcome(path, record, skipped=False))
    return outcomes


def _with_prompts(spec: ModelSpec, config: BenchConfig) -> ModelSpec:
    """The spec with the user's prompt overrides (they change the embeddings' cache namespace)."""
    changes = {}
    if config.query_prompt is not None:
        changes["query_prompt"] = config.query_prompt
    if config.document_prompt is not None:
        changes["document_prompt"] = config.document_prompt
    return replace(spec, **changes) if changes else spec


def _device(used: list[str]) -> str:
    return used[0] if used else "none (every embedding was cached)"


def _bench_task(job: Job, strategy: Strategy, engine: EmbeddingEngine, key: str):
    stage = Stages()
    before = replace(engine.stats)
    load_before = engine.load_seconds
    evaluation = strategy.evaluate(job, engine, stage)
    timings = dict(stage.seconds)
    timings["load_model"] = engine.load_seconds - load_before
    encoded = engine.stats.minus(before)
    timings["encode"] = encoded.seconds
    timings["embed_other"] = max(0.0, timings.pop("embed", 0.0) - timings["load_model"] - timings["encode"])
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
