"""mteb metadata for xret tasks and models: ``TaskMetadata`` and ``ModelMeta`` built from plain
values (a task spec or the ``task`` / ``model`` blocks of a result record), honest about origin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from xret.interop.mteb.naming import (
    SPLIT,
    dataset_revision,
    main_score,
    mteb_languages,
    record_checksums,
    subset_languages,
    subset_name,
)
from xret.results.record import ModelSection, OptionsSection, TaskSection
from xret.tasks.spec import Setting, TaskSpec

# A backslash at a line's end continues the line: the value is the one-line-per-field entry.
_LAREQA_BIBTEX = """@inproceedings{roy-etal-2020-lareqa,
  author = {Roy, Uma and Constant, Noah and Al-Rfou, Rami and Barua, Aditya and Phillips, Aaron \
and Yang, Yinfei},
  booktitle = {Proceedings of the 2020 Conference on Empirical Methods in Natural Language \
Processing (EMNLP)},
  title = {{LAReQA}: Language-Agnostic Answer Retrieval from a Multilingual Pool},
  year = {2020},
}"""

# Per registered task: what mteb's metadata asks for and xret's spec does not carry.
_ORIGIN = {
    "xquad-r": {
        "reference": "https://github.com/google-research-datasets/lareqa",
        "bibtex_citation": _LAREQA_BIBTEX,
        "sample_creation": "human-translated",
        "domains": ["Encyclopaedic", "Written"],
        "annotations_creators": "human-annotated",
    },
    "mlqa-r": {
        "reference": "https://github.com/google-research-datasets/lareqa",
        "bibtex_citation": _LAREQA_BIBTEX,
        "sample_creation": "multiple",
        "domains": ["Encyclopaedic", "Written"],
        "annotations_creators": "human-annotated",
    },
}

_MIRACL_BIBTEX = """@article{10.1162/tacl_a_00595,
  author = {Zhang, Xinyu and Thakur, Nandan and Ogundepo, Odunayo and Kamalloo, Ehsan and \
Alfonso-Hermelo, David and Li, Xiaoguang and Liu, Qun and Rezagholizadeh, Mehdi and Lin, Jimmy},
  doi = {10.1162/tacl_a_00595},
  journal = {Transactions of the Association for Computational Linguistics},
  pages = {1114-1131},
  title = {{MIRACL}: A Multilingual Retrieval Dataset Covering 18 Diverse Languages},
  volume = {11},
  year = {2023},
}"""

# Per registered task family (its pinned tasks only: a user's own ``miracl:DIR`` gets none of it).
_FAMILY_ORIGIN = {
    "miracl": {
        "reference": "http://miracl.ai",
        "bibtex_citation": _MIRACL_BIBTEX,
        "sample_creation": "created",
        "domains": ["Encyclopaedic", "Written"],
        "annotations_creators": "expert-annotated",
        # The in-memory task holds Wikipedia passages (CC BY-SA) with the topics and qrels
        # (Apache-2.0); mteb's own MIRACLRetrieval declares the same data cc-by-sa-4.0. The
        # description carries xret's licence text in full.
        "license": "cc-by-sa-4.0",
        "task_subtypes": [],
    },
}

_SETTING_TEXT = {
    Setting.MONO: "monolingual: queries and candidate pool in the same language",
    Setting.CROSS: "cross-lingual: queries in one language, the pool of another (ordered pairs)",
    Setting.MULTI: "multilingual: queries in one language, one pool of every language's candidates",
}


@dataclass(frozen=True)
class TaskFacts:
    """What the metadata of an xret task is built from (a TaskSpec or a record's ``task`` block)."""

    name: str
    version: str
    description: str
    licence: str | None
    languages: tuple[str, ...]
    """The languages evaluated (the pool of the multilingual setting)."""
    checksums: Mapping[str, str]
    """Everything read: data files, and for corpus tasks ``<corpus>/<shard>`` (sha256 as found)."""
    family: str = ""
    ranking: str = "exhaustive"
    """``exhaustive`` (LAReQA pools) or ``top-k`` (a corpus: MIRACL)."""
    passage_text: str = "title+text"
    """Corpus tasks: what is encoded of a passage, ``title+text`` or ``text``."""
    pool: Mapping[str, Any] | None = None
    """Corpus tasks: ``{"kind": "full"}`` or
    ``{"kind": "reduced", "distractors": N, "seed": S}``."""
    depth: int | None = None
    """Corpus tasks: passages retrieved per query."""

    @classmethod
    def from_spec(
        cls, spec: TaskSpec, languages: tuple[str, ...], checksums: Mapping[str, str], **extra: Any
    ) -> TaskFacts:
        """The facts of a TaskSpec evaluated on ``languages`` (corpus tasks add their options)."""
        return cls(
            name=spec.name,
            version=spec.version,
            description=spec.description,
            licence=spec.licence,
            languages=languages,
            checksums=checksums,
            **extra,
        )

    @classmethod
    def from_record(cls, task: TaskSection, options: OptionsSection) -> TaskFacts:
        return cls(
            name=task.name,
            version=str(task.version),
            description=task.extras.get("description") or "",
            licence=task.licence,
            languages=tuple(options.languages),
            checksums=record_checksums(task),
            family=task.family or "",
            ranking=options.ranking or "exhaustive",
            passage_text=options.extras.get("passage_text") or "title+text",
            pool=options.extras.get("pool"),
            depth=options.extras.get("depth"),
        )

    @property
    def reduced(self) -> bool:
        return bool(self.pool) and self.pool.get("kind") == "reduced"


def mteb_licence(text: str | None) -> str:
    """``CC BY-NC 4.0 (non-commercial)`` -> ``cc-by-nc-4.0``; ``MIT`` -> ``mit``; else
    ``not specified``."""
    if not text:
        return "not specified"
    from mteb.types._metadata import Licenses

    known = set(get_args(Licenses))
    cc = re.search(r"cc[ -]?(by(?:[ -](?:nc|sa|nd))*)[ -]?(\d\.\d)", text, re.IGNORECASE)
    candidates = [text.strip().lower()]
    if cc:
        candidates.insert(0, f"cc-{re.sub(r'[ ]', '-', cc.group(1).lower())}-{cc.group(2)}")
    return next((c for c in candidates if c in known), "not specified")


def task_metadata(
    facts: TaskFacts, setting: Setting, mteb_name: str, subsets: Sequence[tuple[str, str]]
):
    """The ``TaskMetadata`` of one setting of an xret task; ``subsets`` are its (query, pool)
    cells."""
    from mteb.abstasks.task_metadata import TaskMetadata

    origin = _origin(facts)
    if facts.ranking == "top-k":
        description = _corpus_description(facts)
    else:
        description = (
            f"xret task {facts.name} (version {facts.version}) evaluated the LAReQA way: "
            f"{facts.description.rstrip('.') or facts.name}. Setting {_SETTING_TEXT[setting]}. "
            "Candidates are single sentences; a query's gold is the sentence holding the answer, "
            "in every language where the question exists. Built in memory by xret from its pinned "
            "local files; see xret's docs/mteb.md."
        )
    return TaskMetadata(
        name=mteb_name,
        description=description,
        dataset={
            "path": f"xret/{facts.name}",
            "revision": dataset_revision(facts.version, facts.checksums),
        },
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        reference=origin.get("reference"),
        eval_splits=[SPLIT],
        eval_langs={subset_name(q, p): subset_languages(q, p, facts.languages) for q, p in subsets},
        main_score=main_score(setting, facts.ranking),
        domains=origin.get("domains"),
        task_subtypes=origin.get("task_subtypes", ["Question answering"]),
        license=origin.get("license") or mteb_licence(facts.licence),
        annotations_creators=origin.get("annotations_creators"),
        dialect=[],
        sample_creation=origin.get("sample_creation"),
        bibtex_citation=origin.get("bibtex_citation", ""),
    )


def _origin(facts: TaskFacts) -> dict[str, Any]:
    if facts.name in _ORIGIN:
        return _ORIGIN[facts.name]
    pinned = facts.version != "custom" and ":" not in facts.name  # not lareqa:DIR / miracl:DIR
    return _FAMILY_ORIGIN.get(facts.family, {}) if pinned else {}


def _corpus_description(facts: TaskFacts) -> str:
    """What an mteb user must know about a corpus task: the pool searched above all."""
    what = re.sub(r"\s*\(needs --corpus-dir\)", "", facts.description).rstrip(".") or facts.name
    text = "'title text'" if facts.passage_text == "title+text" else "the text alone (no title)"
    parts = [
        f"xret task {facts.name} (version {facts.version}): {what}.",
        (
            "One subset per language: its queries (those with a relevant judgement) against "
            "passages of its own language's corpus, read from the user's local copy "
            "(miracl/miracl-corpus is not checksum-pinned; the sha256 of every shard read is part "
            "of the dataset revision)."
        ),
        (
            f"Passages are encoded as {text}. Qrels as published: judged non-relevant passages "
            "(rel 0) are kept; judged passages missing from the corpus stay in the qrels."
        ),
    ]
    if facts.reduced:
        parts.append(
            f"REDUCED POOL (xret's single-machine mode): per language, every judged passage found "
            f"in the corpus plus {facts.pool['distractors']:,} distractors sampled with seed "
            f"{facts.pool['seed']}, not the full corpus. Scores are much higher than on the full "
            "corpus and NOT comparable with published MIRACL numbers or mteb's MIRACLRetrieval."
        )
    else:
        parts.append("Pool: the full corpus of each language.")
    if facts.licence:
        parts.append(f"Licence: {facts.licence}.")
    parts.append("Built in memory by xret; see xret's docs/mteb.md.")
    return " ".join(parts)


def mteb_model_name(model: ModelSection) -> str:
    """An ``organization/name`` for an xret model record: hub and mteb names as they are,
    everything else under ``xret/``."""
    name = model.name
    if model.provider == "mteb":  # mteb:<name>[@<folder>] keeps mteb's own name
        name = str(model.source or name).partition("@")[0]
    hub_like = "/" in name and not name.startswith((".", "/", "~")) and ":" not in name
    if hub_like and model.provider in ("sentence-transformers", "mteb"):
        return name
    return "xret/" + re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-")


def model_meta(model: ModelSection):
    """mteb ``ModelMeta`` for the ``model`` section of an xret record (``runner.model_record``)."""
    from mteb.models.model_meta import ModelMeta

    prompts = {k: v for k, v in (model.prompts or {}).items() if v}
    languages = model.languages
    licence = mteb_licence(model.licence)
    return ModelMeta(
        loader=None,
        name=mteb_model_name(model),
        revision=str(model.revision or "no_revision_available"),
        release_date=None,
        languages=mteb_languages(languages) if languages is not None else None,
        n_parameters=None,
        memory_usage_mb=None,
        max_tokens=None,
        embed_dim=model.dim,
        license=None if licence == "not specified" else licence,
        open_weights=None,
        public_training_code=None,
        public_training_data=None,
        framework=[],
        similarity_fn_name=model.similarity if model.similarity in ("cosine", "dot") else None,
        use_instructions=bool(prompts),
        training_datasets=None,
        adapted_from=model.base_model,
    )
