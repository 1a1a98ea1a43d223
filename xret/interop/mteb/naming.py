"""How xret's tasks, cells, measures and languages are named on the mteb side.

Pure functions of plain values (no mteb import), shared by the task adapter and the exporter so
that an mteb run of an xret task and an exported xret record land in the same file with the
same keys.

- One mteb task per (xret task, setting): ``xret-<task>-<setting>``; ``-ctx`` is added when
  candidates are encoded with their paragraph, and a multilingual task over a subset of the
  languages carries them (``xret-xquad-r-multi.de-en-zh``): its pool is a different one.
  Corpus tasks (MIRACL, one setting, ``mono``) add what changes the documents searched or their
  text: ``-notitle`` (passages without titles), ``-reduced-<N>-seed<S>`` (a reduced pool, never
  comparable with the full corpus) and ``-ivf`` / ``-hnsw`` (exported records of approximate
  searches): ``xret-miracl-dev-reduced-10000-seed0-mono``.
- One mteb subset (``hf_subset``) per cell: ``<query language>-<pool language>``
  (``en-en``, ``en-de``, ``en-all``), one split, ``test``.
- Scores: mteb's keys for the measures both compute (``ndcg_at_10``, ``recall_at_1``, …) and,
  for what mteb's evaluator lacks, ``map`` and ``mrr`` (full-ranking, uncut) and
  ``rank_distance`` (protocol.md §4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from xret.benchmark.pools import PoolSpec
from xret.errors import XretError
from xret.hashing import value_digest
from xret.measures.table import Measure, parse_measure
from xret.results.record import OptionsSection, TaskSection
from xret.tasks.spec import ALL_LANGUAGES, CandidateText, Setting

SPLIT = "test"
"""xret tasks have no splits: the whole set is the evaluation set, named like mteb's default."""

MAIN_SCORE = {Setting.MONO: "map", Setting.CROSS: "map", Setting.MULTI: "recall_at_10"}
"""The paper's headline measure per setting (protocol.md §3.2): MAP for Mo./Cr. (exact in mteb
because those rankings are exhaustive), R@10 for Mul. (exact at mteb's default depth of 1000)."""
TOP_K_MAIN_SCORE = "ndcg_at_10"
"""Corpus tasks (MIRACL, protocol.md §3.3): nDCG@10, as in the paper and mteb's MIRACLRetrieval."""


def main_score(setting: Setting, ranking: str = "exhaustive") -> str:
    """The main score of a setting of a task ranked ``exhaustive`` (LAReQA) or ``top-k``
    (MIRACL)."""
    return TOP_K_MAIN_SCORE if ranking == "top-k" else MAIN_SCORE[setting]


# xret measure name -> mteb key prefix (cutoff measures) or full key.
_CUTOFF_KEYS = {"nDCG": "ndcg_at", "R": "recall_at", "Hit": "hit_rate_at", "P": "precision_at"}
_PLAIN_KEYS = {"MAP": "map", "MRR": "mrr", "RD": "rank_distance"}


def score_key(measure: Measure | str) -> str:
    """The mteb score key of an xret measure: ``nDCG@10`` -> ``ndcg_at_10``, ``MAP`` -> ``map``;
    a bias-panel measure mteb has no key for gets ``xret_`` and its name (``PEER@10`` ->
    ``xret_peer_at_10``, docs/bias.md)."""
    measure = parse_measure(measure) if isinstance(measure, str) else measure
    if measure.cutoff is None:
        return _PLAIN_KEYS.get(measure.name, f"xret_{measure.name.lower()}")
    prefix = _CUTOFF_KEYS.get(measure.name, f"xret_{measure.name.lower()}_at")
    return f"{prefix}_{measure.cutoff}"


def task_name(
    task: str,
    setting: Setting,
    languages: tuple[str, ...],
    all_languages: tuple[str, ...],
    candidate_text: CandidateText = CandidateText.SENTENCE,
    variant: str = "",
) -> str:
    """The mteb task name of one setting of an xret task (``variant``: see ``corpus_variant``)."""
    name = f"xret-{_slug(task)}"
    if candidate_text is CandidateText.SENTENCE_CONTEXT:
        name += "-ctx"
    name += f"{variant}-{setting}"
    if setting is Setting.MULTI and tuple(languages) != tuple(all_languages):
        name += "." + "-".join(languages)
    return name


def corpus_variant(
    passage_text: str = "title+text", pool: Mapping | None = None, index: Mapping | None = None
) -> str:
    """The name part of a corpus task's options (``options.passage_text``, ``options.pool``,
    ``options.index`` of a record): empty for the defaults (titles, full corpus, exact search)."""
    part = "-notitle" if passage_text == "text" else ""
    label = PoolSpec(**pool).label() if pool else ""  # xret's own suffix for reduced-pool results
    if label:
        part += f"-{label}"
    if index and index.get("kind", "flat") != "flat":
        part += f"-{index['kind']}"
    return part


def record_task_name(task: TaskSection, options: OptionsSection, setting: Setting) -> str:
    """The mteb task name of one setting of a result record (its ``task`` and ``options``)."""
    variant, own = "", options.extras
    if options.ranking == "top-k":
        variant = corpus_variant(
            own.get("passage_text", "title+text"), own.get("pool"), own.get("index")
        )
    return task_name(
        task.name,
        setting,
        tuple(options.languages),
        tuple(task.languages),
        CandidateText(own.get("candidate_text", CandidateText.SENTENCE)),
        variant,
    )


def record_checksums(task: TaskSection) -> dict[str, str]:
    """What a record says was read: its data files and, for corpus tasks, every corpus shard
    (``<corpus name>/<shard>``, sha256 as found). The dataset revision is a digest of this."""
    checksums = dict(task.data)
    for corpus in (task.extras.get("corpus") or {}).values():
        checksums.update(corpus_checksums(corpus["name"], corpus.get("shards") or {}))
    return checksums


def corpus_checksums(corpus_name: str, shards: Mapping[str, str]) -> dict[str, str]:
    return {f"{corpus_name}/{shard}": digest for shard, digest in shards.items()}


def subset_name(query_language: str, pool_language: str) -> str:
    return f"{query_language}-{pool_language}"


def subset_languages(
    query_language: str, pool_language: str, languages: tuple[str, ...]
) -> list[str]:
    """mteb language codes of a subset: the query language first, then the pool's languages."""
    pool = languages if pool_language == ALL_LANGUAGES else (pool_language,)
    ordered = [query_language, *(lang for lang in pool if lang != query_language)]
    return [mteb_language(lang) for lang in ordered]


def dataset_revision(version: str, checksums: Mapping[str, str]) -> str:
    """The mteb ``dataset_revision``: the task version plus a digest of the exact files read."""
    digest = value_digest(dict(checksums))[:12]
    return f"xret-v{version}-{digest}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-") or "x"


# ISO 639-1 (xret's language codes) -> mteb's ISO 639-3 + ISO 15924 script. Explicit for every
# language of xret's tasks (XQuAD-R, MLQA-R, MIRACL); others are looked up in mteb's own tables.
_LANGUAGES = {
    "ar": "ara-Arab",
    "bn": "ben-Beng",
    "de": "deu-Latn",
    "el": "ell-Grek",
    "en": "eng-Latn",
    "es": "spa-Latn",
    "fa": "fas-Arab",
    "fi": "fin-Latn",
    "fr": "fra-Latn",
    "hi": "hin-Deva",
    "id": "ind-Latn",
    "it": "ita-Latn",
    "ja": "jpn-Jpan",
    "ko": "kor-Hang",
    "ro": "ron-Latn",
    "ru": "rus-Cyrl",
    "sw": "swa-Latn",
    "te": "tel-Telu",
    "th": "tha-Thai",
    "tr": "tur-Latn",
    "vi": "vie-Latn",
    "yo": "yor-Latn",
    "zh": "zho-Hans",
}


def mteb_language(code: str) -> str:
    """``en`` -> ``eng-Latn``; raises a one-line error for a code neither table knows."""
    found = _LANGUAGES.get(code) or _mteb_table_language(code)
    if found is None:
        raise XretError(f"language {code!r} has no ISO 639-3 + script code for mteb")
    return found


def mteb_languages(codes) -> list[str] | None:
    """Every code mapped, or None when any cannot be (a partial list would misstate coverage)."""
    out = []
    for code in sorted(codes):
        found = _LANGUAGES.get(code) or _mteb_table_language(code)
        if found is None:
            return None
        out.append(found)
    return out


def xret_language(code: str) -> str | None:
    """``eng-Latn`` (or ``eng``) -> ``en``; None when there is no two-letter code."""
    iso3 = code.split("-", 1)[0]
    for short, full in _LANGUAGES.items():
        if full.split("-", 1)[0] == iso3:
            return short
    return _iso3_to_iso1().get(iso3)


def _mteb_table_language(code: str) -> str | None:
    try:  # mteb's own ISO tables (data files of the pinned mteb version); absent without mteb
        from mteb.languages.iso_mappings import _hf_lang_to_iso_lang_script
    except ImportError:
        return None
    return _hf_lang_to_iso_lang_script(code) if len(code) == 2 else None


def _iso3_to_iso1() -> dict[str, str]:
    try:
        from mteb.languages.iso_mappings import _get_iso1_to_iso3
    except ImportError:
        return {}
    return {iso3: iso1 for iso1, iso3 in _get_iso1_to_iso3().items()}
