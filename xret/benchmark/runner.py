"""``xret bench``: one function from a config value to stored result records.

The main path, top to bottom (``run_bench``), each step a function of the values before it:

    resolve_model   the model spec, its provider and the device (once per bench)
    per task:
      plan_task     languages, settings, measures, options, data checksums -> result key
      (skip)        a result already stored under that key (unless ``overwrite``)
      bench_task    load -> encode -> rank -> measure -> [runs] -> record -> store

How a family loads, encodes, ranks and measures is its strategy's (xret.benchmark.strategies:
exhaustive or top-k), built from that family's options alone; the order is the runner's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from xret import defaults
from xret.benchmark.cache import EmbeddingCache
from xret.benchmark.engine import BatchPolicy, EmbeddingEngine, EngineUsage
from xret.benchmark.engines import EngineFactory, InProcessEngines, Model
from xret.benchmark.evaluate import CellResult, cell_scores
from xret.benchmark.exhaustive import ExhaustiveOptions
from xret.benchmark.strategies import Plan, RecordFacts, Stages, Strategy, Workspace, strategy_for
from xret.benchmark.topk import CorpusOptions
from xret.errors import XretError
from xret.measures.table import Measure, parse_measures
from xret.models import model_spec
from xret.models.providers import get_provider
from xret.models.spec import ModelSpec, recorded_source
from xret.progress import stage_lines
from xret.provenance import environment
from xret.results.aggregate import by_language, summarise
from xret.results.record import (
    CoverageSection,
    ModelSection,
    OptionsSection,
    ProvenanceSection,
    ResultRecord,
    TaskSection,
)
from xret.results.runs import runs_dir, staged_runs
from xret.results.store import ResultStore, load_per_query, result_key
from xret.results.supersede import (
    Drift,
    check_reproduced,
    discard_record,
    find_superseded,
    keep_stored,
    supersedes,
)
from xret.tasks import data_checksums, get_task
from xret.tasks.spec import CandidateText, Ranking, Setting, TaskSpec


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
    candidate_text: CandidateText = CandidateText(defaults.CANDIDATE_TEXT)
    corpus: CorpusOptions = field(default_factory=CorpusOptions)
    query_prompt: str | None = None
    document_prompt: str | None = None
    """Prompt overrides (None: the model spec's own prompts)."""
    device: str | None = None
    precision: str | None = None
    """auto (None), fp32, bf16 or fp16: resolved with the device (xret.runtime.device)."""
    batch: BatchPolicy | None = None
    """None: the device's defaults (BatchPolicy.for_device)."""
    overwrite: bool = False
    progress: bool = True
    task_files: tuple[Path, ...] = ()
    """Task files (``--task-file``) whose tasks ``tasks`` may name."""
    save_run: bool = False
    """Write each cell's TREC run and qrels beside the record (xret.results.runs)."""
    accept_drift: float | None = None
    """Let a record gain measures although its numbers moved by at most this much
    (xret.results.supersede): they are kept as stored."""
    engines: EngineFactory = InProcessEngines()
    """Where encoding and exact search run: this process, or Ray (xret.cluster.RayEngines)."""


@dataclass(frozen=True)
class BenchOutcome:
    path: Path
    record: ResultRecord
    skipped: bool


@dataclass(frozen=True)
class TaskPlan:
    """One task's evaluation, decided before any vector is computed."""

    task: TaskSpec
    spec: ModelSpec
    """The model with the prompts used on this task."""
    languages: tuple[str, ...]
    settings: tuple[Setting, ...]
    measures: tuple[Measure, ...]
    strategy: Strategy
    plan: Plan
    key: str
    identity: dict
    """What the key hashes (xret.benchmark.runner.result_identity)."""

    def key_with(self, measures) -> str:
        """The key of this evaluation with another measure list."""
        options = {**self.identity["options"], "measures": list(measures)}
        identity = {**self.identity, "options": options}
        return result_key(self.plan.name, self.spec.name, self.spec.revision or "unknown", identity)


def run_bench(config: BenchConfig, log: Callable[[str], None] = print) -> list[BenchOutcome]:
    model = resolve_model(config, log)
    cache = EmbeddingCache(config.cache_dir / "embeddings")
    engines: dict[ModelSpec, EmbeddingEngine] = {}  # one per prompt pair: tasks' prompts differ
    store = ResultStore(config.results_dir)
    outcomes = []
    for name in config.tasks:
        planned = plan_task(config, get_task(name, config.task_files), model, log)
        if store.has(planned.key) and not config.overwrite:
            outcomes.append(skipped(store, planned, config.save_run, log))
            continue
        if planned.spec not in engines:
            engines[planned.spec] = build_engine(planned.spec, model, config, cache, log)
        previous = None if config.overwrite else superseded(store, planned)
        engine = engines[planned.spec]
        outcomes.append(
            bench_task(planned, engine, store, config.save_run, log, previous, config.accept_drift)
        )
    return outcomes


def resolve_model(config: BenchConfig, log: Callable[[str], None]) -> Model:
    """The spec as its provider resolves it (revision, dimension), and where it runs: the device
    is decided before any cache lookup, because its dtype is part of every cache key."""
    spec = config.model if isinstance(config.model, ModelSpec) else model_spec(config.model)
    provider = get_provider(spec.provider)
    resolved = provider.resolve(spec, config.cache_dir)
    if resolved.caveat:
        log(f"warning: {resolved.caveat}")
    device = config.engines.device(provider, config.device, config.precision)
    policy = config.batch or BatchPolicy.for_device(device.is_cuda)
    return Model(resolved, provider, device, policy)


def plan_task(config: BenchConfig, task: TaskSpec, model: Model, log) -> TaskPlan:
    """What ``task`` is evaluated with, and the key its result is stored under."""
    spec = _with_prompts(model.spec, config, task)
    languages = task.check_languages(config.languages)
    settings = task.check_settings(config.settings)
    measures = parse_measures(config.measures or task.measures)
    workspace = Workspace(config.data_dir, config.cache_dir, log)
    strategy = strategy_for(task.ranking)(family_options(config, task.ranking), workspace)
    shared = {
        "task_version": task.version,
        "languages": list(languages),
        "settings": [str(s) for s in settings],
        "measures": [str(m) for m in measures],
        "prompts": {"query": spec.query_prompt, "document": spec.document_prompt},
    }
    plan = strategy.plan(task, languages, measures, shared)  # the family's refusals first
    for measure in parse_measures(config.measures or ()):  # asked for, it must have a cell
        if measure.family.multilingual_only and Setting.MULTI not in settings:
            raise XretError(
                f"{task.name}: {measure} is measured on the multilingual pool only; the settings "
                f"asked for ({', '.join(settings)}) have none: add -s multi or drop {measure}"
            )
    data = data_checksums(task, languages, config.cache_dir)
    identity = result_identity(spec, model.device.key, data, plan)
    key = result_key(plan.name, spec.name, spec.revision or "unknown", identity)
    return TaskPlan(task, spec, languages, settings, measures, strategy, plan, key, identity)


def family_options(config: BenchConfig, ranking: Ranking) -> ExhaustiveOptions | CorpusOptions:
    """The options a family reads, and only those (strategies.check_flags says which a user set
    in vain). ``--depth`` is the exhaustive families' only for the depth of saved runs."""
    if ranking in (Ranking.TOP_K, Ranking.POOLED_TOP_K):
        return config.corpus
    return ExhaustiveOptions(
        candidate_text=config.candidate_text,
        title=config.corpus.title,
        run_depth=config.corpus.depth,
    )


def result_identity(spec: ModelSpec, precision: str, task_data: dict[str, str], plan: Plan) -> dict:
    """Everything that identifies a result, hashed into its key: the model's vectors (provider,
    source, revision, prompts, length, similarity, dtype), every data file and corpus shard by
    content, and every option that changes a number."""
    return {
        "model": spec.identity(precision),
        "data": {**task_data, **plan.data},
        "options": plan.options,
    }


def skipped(store: ResultStore, planned: TaskPlan, save_run: bool, log) -> BenchOutcome:
    path, name = store.json_path(planned.key), planned.plan.name
    log(f"{name}: already done ({path}); --overwrite to redo")
    if save_run and not runs_dir(path).is_dir():
        log(f"{name}: no runs were saved with it; --overwrite --save-run writes them")
    return BenchOutcome(path, store.load(planned.key), skipped=True)


def superseded(store: ResultStore, planned: TaskPlan) -> tuple[Path, ResultRecord] | None:
    """A stored record this bench extends: the same evaluation with a subset of its measures
    (xret.results.supersede)."""
    wanted = [str(m) for m in planned.measures]
    return find_superseded(store, planned.key, planned.plan.name, wanted, planned.key_with)


def build_engine(
    spec: ModelSpec, model: Model, config: BenchConfig, cache: EmbeddingCache, log
) -> EmbeddingEngine:
    """The embedding engine of ``spec``: in this process (the model loaded on first need), or
    encoding on Ray."""
    return config.engines.engine(spec, model, config.cache_dir, cache, config.progress, log)


def bench_task(
    planned: TaskPlan,
    engine: EmbeddingEngine,
    store: ResultStore,
    save_run: bool,
    log,
    previous: tuple[Path, ResultRecord] | None = None,
    accept_drift: float | None = None,
) -> BenchOutcome:
    """Load, encode, rank, measure, [save runs,] record, store: the stages of one task.
    ``previous``: a stored record with fewer measures that this one replaces once its numbers
    are reproduced."""
    strategy, stage = planned.strategy, Stages()
    start, before = time.perf_counter(), engine.usage()
    zeros_before = engine.zero_vectors
    with staged_runs(store.json_path(planned.key), planned.spec.name, save_run) as runs:
        with stage("load_data"):
            loaded = strategy.load(
                planned.task, planned.languages, planned.settings, planned.measures
            )
        with stage("embed"):
            encoded = strategy.encode(loaded, engine)
        zeros = engine.zero_vectors - zeros_before
        if zeros:
            log(
                f"xret: warning: {planned.plan.name}: model {planned.spec.name} gave {zeros:,} "
                "all-zero vectors; they score 0 against everything, so their rankings are ties "
                "in candidate order"
            )
        with stage("search"):
            ranked = strategy.rank(loaded, encoded, engine, stage)
        with stage("measures"):
            results = strategy.measure(loaded, ranked, planned.measures)
        if runs is not None:
            with stage("runs"):
                strategy.save_runs(loaded, encoded, ranked, runs)
        facts = strategy.facts(loaded, ranked)
        used = engine.usage().since(before)
        seconds = timings(stage.seconds, used)
        note = {} if previous is None else {"supersedes": supersedes(previous[1])}
        record = task_record(planned, facts, results, engine, used, seconds, note)
        writing = time.perf_counter()
        table = _per_query_table(results)
        if previous is not None:
            old_path, old = previous
            stored = load_per_query(old_path, old)
            drift = check_reproduced(old_path, old, stored, record, table, accept_drift)
            if not drift.exact:
                record, table = keep_stored(old, stored, record, table, drift)
        path = store.write(record, table)
    log(f"{planned.plan.name}: wrote {path}")
    if previous is not None:
        discard_record(*previous)
        log(f"{planned.plan.name}: replaces {old_path} ({_reproduced(drift)})")
    logged = {**seconds, "write": time.perf_counter() - writing}  # the log's: the record is out
    for line in stage_lines(planned.plan.name, logged, time.perf_counter() - start):
        log(line)
    for line in _written(planned.plan.name, path, record, save_run):
        log(line)
    return BenchOutcome(path, record, skipped=False)


def _reproduced(drift: Drift) -> str:
    counts = f"{drift.numbers:,} numbers and {drift.per_query:,} per-query values"
    if drift.exact:
        return f"its {counts} reproduced exactly"
    return (
        f"its {counts} kept as stored; evaluated again, {drift.moved:,} and "
        f"{drift.per_query_moved:,} of them moved, by at most {drift.largest:.2g}"
    )


def _written(name: str, path: Path, record: ResultRecord, save_run: bool) -> list[str]:
    """Where a task's outputs went, with their sizes, as its last lines (a run's 57 MB of runs
    went unsaid)."""
    lines = [f"{name}: the record {path}"]
    if record.per_query:
        per_query = path.parent / record.per_query
        lines.append(f"  per-query scores: {per_query} ({_size(per_query.stat().st_size)})")
    runs = runs_dir(path)
    if save_run:
        files = [f for f in runs.iterdir() if f.is_file()]
        total = _size(sum(f.stat().st_size for f in files))
        lines.append(f"  TREC runs and qrels: {runs}/ ({len(files)} files, {total})")
    return lines


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def timings(stages: dict[str, float], used: EngineUsage) -> dict[str, float]:
    """Seconds per stage, in the order they ran, with ``embed`` split into loading the model,
    encoding and the rest (cache lookups, reading a corpus)."""
    embed = {
        "load_model": used.load_seconds,
        "encode": used.stats.seconds,
        "embed_other": max(0.0, stages.get("embed", 0.0) - used.load_seconds - used.stats.seconds),
    }
    out: dict[str, float] = {}
    for name, seconds in stages.items():
        out.update(embed if name == "embed" else {name: seconds})
    return {**out, **embed}


def task_record(
    planned: TaskPlan,
    facts: RecordFacts,
    results: tuple[CellResult, ...],
    engine: EmbeddingEngine,
    used: EngineUsage,
    seconds: dict[str, float],
    provenance_extras: dict | None = None,
) -> ResultRecord:
    """The record of one evaluation, built once from the values of its stages."""
    task, spec = planned.task, planned.spec
    cells = cell_scores(results)
    per_language = by_language(cells)
    return ResultRecord(
        key=planned.key,
        model=model_record(spec),
        task=TaskSection(
            name=task.name,
            family=task.family,
            version=task.version,
            languages=task.languages,
            data=dict(facts.checksums),
            counts=facts.counts,
            licence=task.licence,
            extras=facts.task,
        ),
        options=OptionsSection.from_dict({**planned.plan.options, **facts.policy}, "options"),
        coverage=CoverageSection(
            declared=spec.languages is not None,
            uncovered_languages=tuple(x for x in planned.languages if spec.covers(x) is False),
        ),
        cells=cells,
        by_language=per_language,
        summary=summarise(per_language, task.aggregates),
        provenance=ProvenanceSection(
            **environment(),
            **engine.placement_facts(),
            device=_producers(used.producers),
            dtype=engine.device.dtype,
            precision=engine.device.precision,
            timings=seconds,
            encode=used.stats.as_dict(),
            extras=provenance_extras or {},
        ),
        per_query=f"{planned.key.rsplit('/', 1)[-1]}.queries.csv.gz",
        extra=facts.extra,
    )


def model_record(spec: ModelSpec) -> ModelSection:
    """The record's ``model`` section; no machine paths (local folders as ``local:<name>``)."""
    return ModelSection(
        name=spec.name,
        display_name=spec.display_name or spec.name,
        provider=spec.provider,
        source=recorded_source(spec.source),
        revision=spec.revision,
        dim=spec.dim,
        max_seq_length=spec.max_seq_length,
        similarity=spec.similarity,
        prompts={"query": spec.query_prompt, "document": spec.document_prompt},
        languages=tuple(sorted(spec.languages)) if spec.languages is not None else None,
        licence=spec.licence,
        base_model=spec.base_model,
        regime=spec.regime,
        alpha=spec.alpha,
    )


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


def _producers(devices: tuple[str, ...]) -> str:
    """Where a task's vectors were computed: this run's device, or as the cache recorded it."""
    return ", ".join(sorted(set(devices))) or "none (nothing was embedded)"


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
