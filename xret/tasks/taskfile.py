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

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xret.errors import DataError, UnknownNameError
from xret.registry import resolve
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
    folder: tuple[str, str, str] | None = None
    """A folder of this format named as a task, ``<format>:DIR``: the ``module:attr`` that makes
    its TaskSpec from the text after the colon, the form and what it reads (``xret tasks``)."""


def _formats() -> dict[str, _Format]:
    from xret.tasks import miracl
    from xret.tasks.lareqa import LAREQA_MEASURES

    every = (Setting.MONO, Setting.CROSS, Setting.MULTI)
    return {
        "lareqa": _Format(
            ("file",),
            every,
            LAREQA_MEASURES,
            "xret.tasks.lareqa:load_lareqa",
            Ranking.EXHAUSTIVE,
            (
                "xret.tasks.lareqa:custom_task",
                "DIR",
                "DIR/<language>.json files in the LAReQA format (SQuAD with sentences and "
                "sentence_breaks, docs/formats.md); ranked like xquad-r, all three settings",
            ),
        ),
        "miracl": _Format(
            ("topics", "qrels"),
            (Setting.MONO,),
            miracl.MEASURES,
            "xret.tasks.miracl:load_miracl",
            Ranking.TOP_K,
            (
                "xret.tasks.miracl:custom_task",
                "DIR",
                "DIR/topics and DIR/qrels laid out like MIRACL's dev split; "
                "the corpus comes from --corpus-dir",
            ),
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
            (
                "xret.tasks.beir:custom_task",
                "DIR[@SPLIT]",
                "DIR/<language>/ BEIR folders (corpus.jsonl, queries.jsonl, "
                "qrels/<split>.tsv); shared query ids give the cross-lingual gold",
            ),
        ),
    }


def folder_forms() -> list[tuple[str, str]]:
    """``(form, what it reads)`` of every format a folder of which can be named as a task."""
    return [
        (f"{kind}:{fmt.folder[1]}", fmt.folder[2]) for kind, fmt in _formats().items() if fmt.folder
    ]


def folder_task(name: str) -> TaskSpec | None:
    """The task of a folder named ``<format>:DIR`` (``lareqa:``, ``miracl:``, ``beir:``), or
    None when ``name`` is not of that form."""
    kind, colon, argument = name.partition(":")
    fmt = _formats().get(kind) if colon else None
    if fmt is None or fmt.folder is None:
        return None
    if not argument.strip():
        raise DataError(f"task {name!r} names no folder: {kind}:DIR")
    return resolve(fmt.folder[0])(argument)


_TOP_KEYS = (
    "name",
    "format",
    "version",
    "description",
    "licence",
    "reference",
    "data",
    "settings",
    "measures",
    "prompts",
    "languages",
    "expected",
)
_COUNTS = {
    "lareqa": ("queries", "candidates"),
    "miracl": ("topics", "judgements", "relevant", "passages"),
}
"""Formats that pin per-language counts, and the counts they pin (all of them)."""
_EXPECTED = ("relevant_per_query", "pair_queries")
_LANGUAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""A language code: it names result cells and run files, so no path separators or spaces."""


class _Invalid(ValueError):
    """A mistake in a task file, said in full (the file's name is added)."""


def read_task_file(path: Path) -> TaskSpec:
    """The TaskSpec a task file defines; any mistake in it is one DataError naming the file.
    The file is strict: an unknown key is a typo (with "did you mean"), a value of the wrong
    type is refused, and only ``name``, ``format`` and ``[languages.<code>]`` are required."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataError(f"{path}: cannot read task file ({err})") from None
    try:
        return _spec(path, table)
    except (UnknownNameError, _Invalid) as err:  # anything else is a bug, with its traceback
        raise DataError(f"{path}: {err}") from None


def _spec(path: Path, table: dict[str, Any]) -> TaskSpec:
    _known_keys(table, _TOP_KEYS, "")
    name, kind = _text(table, "name"), _text(table, "format")
    if kind not in FORMATS:
        raise UnknownNameError("task format", kind, FORMATS)
    fmt = _formats()[kind]
    languages_table = _table(table, "languages", required=True)
    if not languages_table:
        raise _Invalid("no [languages.<code>] tables")
    languages = tuple(languages_table)
    data = _text(table, "data", "local")
    if data not in ("local", "pinned"):
        raise _Invalid(f"data = {data!r}: expected 'local' or 'pinned'")
    language_keys = (*fmt.files, *(("corpus",) if kind == "trec" else ()), "counts")
    files, pins = {}, {}
    for lang in languages:
        if not _LANGUAGE.fullmatch(lang):
            raise _Invalid(f"[languages.{lang}]: a language code is letters, digits, - and _")
        entry = _table(languages_table, lang, required=True, where="[languages]")
        where = f" in [languages.{lang}]"
        _known_keys(entry, language_keys if kind in _COUNTS else language_keys[:-1], where)
        paths = []
        for key in fmt.files:
            file_path, sha = _file(entry, key, where)
            paths.append(file_path)
            if sha is not None:
                pins[file_path] = sha
        files[lang] = tuple(paths)
    corpora = (
        {
            lang: _text(entry, "corpus", where=f" in [languages.{lang}]")
            for lang, entry in languages_table.items()
        }
        if kind == "trec"
        else {}
    )
    if corpora and data != "local":
        raise _Invalid("a trec task's corpus folders are local: data = 'local'")
    if data == "pinned" and pins:
        raise _Invalid("data = 'pinned' files are pinned in downloads.json, not in the task file")
    named = _texts(table, "settings", [str(s) for s in fmt.settings])
    settings = tuple(Setting.parse(s) for s in named)
    for setting in settings:
        if setting not in fmt.settings:
            raise _Invalid(f"setting {setting} is not available for format {kind}")
    version = table.get("version", "1")
    if not isinstance(version, str | int) or isinstance(version, bool) or version == "":
        raise _Invalid(f"version = {version!r}: expected a string (or an integer)")
    return TaskSpec(
        name=name,
        family=kind,
        version=str(version),
        description=_text(table, "description", f"{kind}-format task from {path.name}"),
        languages=languages,
        settings=settings,
        measures=tuple(_texts(table, "measures", list(fmt.measures))),
        aggregates=_aggregates(kind, languages),
        data_files=files,
        loader=fmt.loader,
        licence=_text(table, "licence", "unknown"),
        reference=_text(table, "reference", path.name),
        expected=_expected(kind, languages_table, _table(table, "expected")),
        root=path.parent.resolve() if data == "local" else None,
        ranking=fmt.ranking,
        pins=pins,
        prompts=_prompts(table.get("prompts", "model")),
        corpora=corpora,
    )


def _known_keys(table: Mapping, allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
            raise _Invalid(f"unknown key {key!r}{where}{hint}")


def _text(table: Mapping, key: str, default: str | None = None, where: str = "") -> str:
    """A non-empty string; ``default`` when absent (required when None)."""
    if key not in table and default is not None:
        return default
    if key not in table:
        raise _Invalid(f"{key} is missing{where}")
    value = table[key]
    if not isinstance(value, str) or not value:
        raise _Invalid(f"{key} = {value!r}{where}: expected a non-empty string")
    return value


def _texts(table: Mapping, key: str, default: list[str]) -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _Invalid(f"{key} = {value!r}: expected a non-empty list of strings")
    return value


def _table(table: Mapping, key: str, required: bool = False, where: str = "") -> Mapping:
    if key not in table and not required:
        return {}
    value = table.get(key)
    if not isinstance(value, Mapping):
        shown = "missing" if value is None else f"{value!r}, not a table"
        raise _Invalid(f"[{key}]{where} is {shown}")
    return value


def _file(entry: Mapping, key: str, where: str) -> tuple[str, str | None]:
    """A data file: ``"path"`` or ``{ path = "…", sha256 = "…" }``."""
    value = entry.get(key)
    if isinstance(value, Mapping):
        _known_keys(value, ("path", "sha256"), f" in {key}{where}")
        sha = value.get("sha256")
        if sha is not None and (
            not isinstance(sha, str)
            or len(sha) != 64
            or any(c not in "0123456789abcdef" for c in sha)
        ):
            raise _Invalid(f"sha256 of {key}{where} is not 64 lower-case hex digits")
        return _text(value, "path", where=f" in {key}{where}"), sha
    return _text(entry, key, where=where), None


def _count(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Invalid(f"{what} = {value!r}: expected a count (an integer >= 0)")
    return value


def _counts(kind: str, languages: Mapping[str, Mapping]) -> dict[str, dict[str, int]] | None:
    """Per-language pinned counts: every count of the format, for all languages or none."""
    found = {lang: entry["counts"] for lang, entry in languages.items() if "counts" in entry}
    if not found:
        return None
    if len(found) != len(languages):
        missing = sorted(set(languages) - set(found))
        raise _Invalid(f"counts pinned for some languages only (missing: {', '.join(missing)})")
    out = {}
    for lang, counts in found.items():
        where = f" in [languages.{lang}]"
        if not isinstance(counts, Mapping):
            raise _Invalid(f"counts{where} is {counts!r}, not a table")
        _known_keys(counts, _COUNTS[kind], f" in counts{where}")
        absent = [key for key in _COUNTS[kind] if key not in counts]
        if absent:
            raise _Invalid(f"counts{where} lacks {', '.join(absent)}")
        out[lang] = {key: _count(counts[key], f"{key}{where}") for key in _COUNTS[kind]}
    return out


def _expected(kind: str, languages: Mapping[str, Mapping], task_counts: Mapping) -> Any:
    counts = _counts(kind, languages) if kind in _COUNTS else None
    if task_counts and kind != "lareqa":
        raise _Invalid(f"[expected] is for format lareqa, not {kind}")
    _known_keys(task_counts, _EXPECTED, " in [expected]")
    if counts is None:
        if task_counts:
            raise _Invalid("[expected] needs per-language counts too")
        return None
    if kind == "lareqa":
        from xret.tasks.lareqa import LareqaCounts

        relevant = _table(task_counts, "relevant_per_query", where=" in [expected]")
        pairs = _table(task_counts, "pair_queries", where=" in [expected]")
        return LareqaCounts(
            queries={lang: c["queries"] for lang, c in counts.items()},
            candidates={lang: c["candidates"] for lang, c in counts.items()},
            relevant_per_query=_relevant(relevant) if relevant else None,
            pair_queries=_pairs(pairs, tuple(languages)) if pairs else None,
        )
    from xret.tasks.miracl import MiraclExpected, SplitCounts

    return MiraclExpected(
        counts={
            lang: SplitCounts(c["topics"], c["judgements"], c["relevant"])
            for lang, c in counts.items()
        },
        passages={lang: c["passages"] for lang, c in counts.items()},
    )


def _relevant(table: Mapping) -> dict[int, int]:
    out = {}
    for key, value in table.items():
        if not key.isdigit():
            raise _Invalid(f"relevant_per_query key {key!r} in [expected]: expected an integer")
        out[int(key)] = _count(value, f"relevant_per_query.{key}")
    return out


def _pairs(table: Mapping, languages: tuple[str, ...]) -> dict[tuple[str, str], int]:
    out = {}
    for query, row in table.items():
        for pool, n in row.items() if isinstance(row, Mapping) else [(None, row)]:
            if query not in languages or pool not in languages:
                raise _Invalid(
                    f"pair_queries.{query}.{pool} in [expected]: expected "
                    "{ <query language> = { <pool language> = count } } of the task's languages"
                )
            out[(query, pool)] = _count(n, f"pair_queries.{query}.{pool}")
    return out


def _aggregates(kind: str, languages: tuple[str, ...]) -> tuple[Aggregate, ...]:
    if kind == "miracl":
        from xret.tasks.miracl import aggregates

        return aggregates(languages)
    return (Aggregate("macro", languages),)


def _prompts(policy: object) -> Prompts:
    if isinstance(policy, str):
        if policy not in _PROMPT_POLICIES:
            raise _Invalid(f"prompts = {policy!r}: expected model, none or a table")
        return Prompts() if policy == "model" else Prompts(query="", document="")
    if not isinstance(policy, Mapping):
        raise _Invalid(f"prompts = {policy!r}: expected model, none or a table")
    _known_keys(policy, ("query", "document"), " in prompts")
    for role, prompt in policy.items():
        if not isinstance(prompt, str):
            raise _Invalid(f"prompts.{role} = {prompt!r}: expected a string")
    return Prompts(policy.get("query"), policy.get("document"))
