"""Tasks defined as data: a small TOML file per task (docs/plugins.md, README "Your own task").

::

    name = "toy-qa"                      # the name given to --task
    format = "lareqa"                    # lareqa, miracl, beir or trec
    version = "1"                        # bump when data or policy change
    description = "…"
    licence = "CC0-1.0"
    reference = "…"
    data = "local"                       # local: paths relative to this file (default);
                                         # pinned: data-directory paths pinned in downloads.json
    settings = ["mono", "cross", "multi"]  # default: every setting the format supports
    measures = ["MAP", "R@1"]            # default: the format's measures
    prompts = "model"                    # model (the model's own), none, or {query=…, document=…}

    [languages.en]
    file = { path = "en.json", sha256 = "…" }   # or file = "en.json" (unpinned)
    counts = { queries = 3, candidates = 6 }    # optional, all languages or none

    [expected]                           # optional, over the full task (lareqa)
    relevant_per_query = { 2 = 3 }
    pair_queries = { en = { de = 3 } }

MIRACL-format languages name ``topics`` and ``qrels`` files instead of ``file`` and pin
``counts = { topics, judgements, relevant, passages }``; the corpus comes from ``--corpus-dir``.
BEIR-format languages name ``corpus``, ``queries`` and ``qrels`` files (no pinned counts).
TREC-format languages name ``topics`` (``qid<TAB>text``) and ``qrels`` (TREC's four columns) files
and a ``corpus`` folder of ``docs-<i>.jsonl[.gz]`` shards (``{"docid", "title", "text"}`` lines),
all relative to the task file; they are searched top-k like MIRACL, one monolingual cell per
language.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xret.errors import DataError, UnknownNameError
from xret.tasks.spec import Aggregate, Prompts, Ranking, Setting, TaskSpec

FORMATS = ("lareqa", "miracl", "beir", "trec")
_PROMPT_POLICIES = ("model", "none")


@dataclass(frozen=True)
class _Format:
    files: tuple[str, ...]
    """Keys of a language table that name data files, in the order the loader reads them."""
    settings: tuple[Setting, ...]
    measures: tuple[str, ...]
    loader: str
    ranking: Ranking


def _formats() -> dict[str, _Format]:
    from xret.tasks import miracl
    from xret.tasks.lareqa import LAREQA_MEASURES

    every = (Setting.MONO, Setting.CROSS, Setting.MULTI)
    return {
        "lareqa": _Format(
            ("file",), every, LAREQA_MEASURES, "xret.tasks.lareqa:load_lareqa", Ranking.EXHAUSTIVE
        ),
        "miracl": _Format(
            ("topics", "qrels"),
            (Setting.MONO,),
            miracl.MEASURES,
            "xret.tasks.miracl:load_miracl",
            Ranking.TOP_K,
        ),
        # MIRACL's files are TREC topics and qrels; a trec task also names its corpus folder.
        "trec": _Format(
            ("topics", "qrels"),
            (Setting.MONO,),
            miracl.MEASURES,
            "xret.tasks.miracl:load_miracl",
            Ranking.TOP_K,
        ),
        # One BEIR folder per language: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.
        "beir": _Format(
            ("corpus", "queries", "qrels"),
            every,
            LAREQA_MEASURES,
            "xret.tasks.beir:load_beir",
            Ranking.EXHAUSTIVE,
        ),
    }


def read_task_file(path: Path) -> TaskSpec:
    """The TaskSpec a task file defines; any mistake in it is one DataError naming the file."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataError(f"{path}: cannot read task file ({err})") from None
    try:
        return _spec(path, table)
    except UnknownNameError as err:
        raise DataError(f"{path}: {err}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataError(f"{path}: not a valid task file ({type(err).__name__}: {err})") from None


def _spec(path: Path, table: dict[str, Any]) -> TaskSpec:
    name, kind = _text(table, "name"), _text(table, "format")
    if kind not in FORMATS:
        raise UnknownNameError("task format", kind, FORMATS)
    fmt = _formats()[kind]
    languages_table: dict[str, dict] = table["languages"]
    if not languages_table:
        raise ValueError("no [languages.<code>] tables")
    languages = tuple(languages_table)
    data = table.get("data", "local")
    if data not in ("local", "pinned"):
        raise ValueError(f"data = {data!r}: expected 'local' or 'pinned'")
    files, pins = {}, {}
    for lang, entry in languages_table.items():
        paths = []
        for key in fmt.files:
            file_path, sha = _file(entry[key])
            paths.append(file_path)
            if sha is not None:
                pins[file_path] = sha
        files[lang] = tuple(paths)
    corpora = (
        {lang: _text(entry, "corpus") for lang, entry in languages_table.items()}
        if kind == "trec"
        else {}
    )
    if corpora and data != "local":
        raise ValueError("a trec task's corpus folders are local: data = 'local'")
    if data == "pinned" and pins:
        raise ValueError("data = 'pinned' files are pinned in downloads.json, not in the task file")
    named = table.get("settings", [str(s) for s in fmt.settings])
    settings = tuple(Setting.parse(s) for s in named)
    for setting in settings:
        if setting not in fmt.settings:
            raise ValueError(f"setting {setting} is not available for format {kind}")
    return TaskSpec(
        name=name,
        family=kind,
        version=str(table.get("version", "1")),
        description=table.get("description", f"{kind}-format task from {path.name}"),
        languages=languages,
        settings=settings,
        measures=tuple(table.get("measures", fmt.measures)),
        aggregates=_aggregates(kind, languages),
        data_files=files,
        loader=fmt.loader,
        licence=table.get("licence", "unknown"),
        reference=table.get("reference", path.name),
        expected=_expected(kind, languages_table, table.get("expected", {})),
        root=path.parent.resolve() if data == "local" else None,
        ranking=fmt.ranking,
        pins=pins,
        prompts=_prompts(table.get("prompts", "model")),
        corpora=corpora,
    )


def _text(table: Mapping, key: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _file(entry: str | Mapping) -> tuple[str, str | None]:
    if isinstance(entry, str):
        return entry, None
    sha = entry.get("sha256")
    if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        raise ValueError(f"sha256 of {entry['path']} is not 64 lower-case hex digits")
    return entry["path"], sha


def _aggregates(kind: str, languages: tuple[str, ...]) -> tuple[Aggregate, ...]:
    if kind == "miracl":
        from xret.tasks.miracl import aggregates

        return aggregates(languages)
    return (Aggregate("macro", languages),)


def _expected(kind: str, languages: Mapping[str, Mapping], task_counts: Mapping) -> Any:
    counts = {lang: entry["counts"] for lang, entry in languages.items() if "counts" in entry}
    if not counts:
        if task_counts:
            raise ValueError("[expected] needs per-language counts too")
        return None
    if len(counts) != len(languages):
        missing = sorted(set(languages) - set(counts))
        raise ValueError(f"counts pinned for some languages only (missing: {', '.join(missing)})")
    if kind == "lareqa":
        from xret.tasks.lareqa import LareqaCounts

        pairs = task_counts.get("pair_queries")
        return LareqaCounts(
            queries={lang: int(c["queries"]) for lang, c in counts.items()},
            candidates={lang: int(c["candidates"]) for lang, c in counts.items()},
            relevant_per_query={
                int(k): int(v) for k, v in task_counts["relevant_per_query"].items()
            },
            pair_queries=None
            if pairs is None
            else {(q, p): int(n) for q, row in pairs.items() for p, n in row.items()},
        )
    if kind == "miracl":
        from xret.tasks.miracl import MiraclExpected, SplitCounts

        return MiraclExpected(
            counts={
                lang: SplitCounts(int(c["topics"]), int(c["judgements"]), int(c["relevant"]))
                for lang, c in counts.items()
            },
            passages={lang: int(c["passages"]) for lang, c in counts.items()},
        )
    raise ValueError(f"format {kind} takes no pinned counts")


def _prompts(policy: str | Mapping) -> Prompts:
    if isinstance(policy, str):
        if policy not in _PROMPT_POLICIES:
            raise ValueError(f"prompts = {policy!r}: expected model, none or a table")
        return Prompts() if policy == "model" else Prompts(query="", document="")
    unknown = set(policy) - {"query", "document"}
    if unknown:
        raise ValueError(f"prompts table has unknown keys {sorted(unknown)}")
    return Prompts(policy.get("query"), policy.get("document"))
