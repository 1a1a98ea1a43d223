"""``xret bench``: one function from a config value to stored result records."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from xret.benchmark.aggregate import by_language, cell_scores, summarise
from xret.benchmark.cache import EmbeddingCache
from xret.benchmark.device import pick_device
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine
from xret.benchmark.evaluate import CellResult, measure_cell, task_ranks
from xret.benchmark.measures import parse_measures
from xret.models import model_spec
from xret.models.providers import get_provider
from xret.models.spec import ModelSpec, Role
from xret.provenance import environment
from xret.results.record import ResultRecord
from xret.results.store import ResultStore, result_key
from xret.tasks import get_task, load_task
from xret.tasks.lareqa import candidate_text
from xret.tasks.settings import build_cells
from xret.tasks.spec import CandidateText, Setting, TaskSpec


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
    device: str | None = None
    batch: BatchPolicy = field(default_factory=BatchPolicy)
    overwrite: bool = False
    progress: bool = True


@dataclass(frozen=True)
class BenchOutcome:
    path: Path
    record: ResultRecord
    skipped: bool


class _Stages:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def model_record(spec: ModelSpec) -> dict:
    local = not spec.source.startswith("pkg:") and Path(spec.source).expanduser().exists()
    return {
        "name": spec.name,
        "display_name": spec.display_name or spec.name,
        "provider": spec.provider,
        "source": f"local:{Path(spec.source).name}" if local else spec.source,
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
    spec = provider.resolve(spec, config.cache_dir)
    used_device: list[str] = []

    def load_encoder():
        device = pick_device(config.device)
        used_device.append(device.name)
        log(f"loading {spec.name} on {device.name} ({device.dtype})")
        return provider.load(spec, device, config.cache_dir)

    engine = EmbeddingEngine(
        spec, load_encoder, EmbeddingCache(config.cache_dir / "embeddings"), config.batch, config.progress
    )
    store = ResultStore(config.results_dir)
    outcomes = []
    for name in config.tasks:
        task = get_task(name)
        languages = task.check_languages(config.languages)
        settings = config.settings or task.settings
        measures = parse_measures(config.measures or task.measures)
        options = {
            "task_version": task.version,
            "languages": list(languages),
            "settings": [str(s) for s in settings],
            "measures": [str(m) for m in measures],
            "candidate_text": str(config.candidate_text),
            "prompts": {"query": spec.query_prompt, "document": spec.document_prompt},
        }
        key = result_key(task.name, spec.name, spec.revision or "unknown", options)
        if store.has(key) and not config.overwrite:
            outcomes.append(BenchOutcome(store.json_path(key), store.load(key), skipped=True))
            log(f"{task.name}: already done ({store.json_path(key)}); --overwrite to redo")
            continue
        record, per_query = _bench_task(config, task, spec, engine, languages, settings, measures, options, key)
        record = replace(record, provenance={**record.provenance, "device": _device(used_device)})
        start = time.perf_counter()
        path = store.write(record, per_query)
        log(f"{task.name}: wrote {path} in {time.perf_counter() - start:.2f} s")
        outcomes.append(BenchOutcome(path, record, skipped=False))
    return outcomes


def _device(used: list[str]) -> str:
    return used[0] if used else "none (every embedding was cached)"


def _bench_task(config, task: TaskSpec, spec, engine, languages, settings, measures, options, key):
    stage = _Stages()
    before = replace(engine.stats)
    load_before = engine.load_seconds
    with stage("load_data"):
        data = load_task(task, languages, config.data_dir, config.cache_dir)
        cells = build_cells(data, languages, settings)
    with stage("embed"):
        documents = engine.embed([candidate_text(d, config.candidate_text) for d in data.documents], Role.DOCUMENT)
        queries = engine.embed([q.text for q in data.queries], Role.QUERY)
    with stage("search"):
        ranks = task_ranks(data, cells, queries, documents)
    with stage("measures"):
        results: list[CellResult] = [measure_cell(data, c, r, measures) for c, r in zip(cells, ranks)]
    timings = dict(stage.seconds)
    timings["load_model"] = engine.load_seconds - load_before
    encoded = engine.stats.minus(before)
    timings["encode"] = encoded.seconds
    timings["embed_other"] = max(0.0, timings.pop("embed") - timings["load_model"] - timings["encode"])
    cells_out = cell_scores(results)
    per_language = by_language(cells_out)
    uncovered = [lang for lang in languages if spec.covers(lang) is False]
    record = ResultRecord(
        key=key,
        model=model_record(spec),
        task={
            "name": task.name,
            "family": task.family,
            "version": task.version,
            "languages": list(task.languages),
            "data": dict(data.checksums),
            "counts": {"queries": len(data.queries), "candidates": len(data.documents)},
            "licence": task.licence,
        },
        options={**options, "ties": "equal scores ranked by candidate order", "ranking": "exhaustive"},
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
    )
    return record, _per_query_table(results)


def _per_query_table(results: list[CellResult]):
    import pandas as pd

    frames = []
    for r in results:
        frame = pd.DataFrame({str(m): v for m, v in r.values.items()})
        frame.insert(0, "query_id", r.query_ids)
        frame.insert(0, "pool_language", r.cell.pool_language)
        frame.insert(0, "query_language", r.cell.query_language)
        frame.insert(0, "setting", str(r.cell.setting))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
