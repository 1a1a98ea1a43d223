"""What ``xret tasks`` shows: the registered tasks by family, one-language variants collapsed,
the forms that name a user's own data, and which tasks have their data here.

Availability is looked up, never fetched: a file counts as here when a copy lies in the data
directory or the download cache (it is verified when a run uses it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xret.tasks.artifacts import pinned
from xret.tasks.spec import Ranking, TaskSpec

WIDTH = 80
INDENT = 24


@dataclass(frozen=True)
class Places:
    data_dir: Path | None
    cache_dir: Path
    corpus_dir: Path | None

    def find(self, path: str) -> Path | None:
        roots = ([self.data_dir] if self.data_dir else []) + [self.cache_dir / "downloads"]
        return next((root for root in roots if (root / path).is_file()), None)


@dataclass(frozen=True)
class Entry:
    """One line of the listing: a task, or one-language tasks collapsed under a pattern."""

    name: str
    description: str
    specs: tuple[TaskSpec, ...]


def entries(specs: Iterable[TaskSpec]) -> dict[str, list[Entry]]:
    """Family -> entries; ``miracl/sw/dev`` and its siblings become one ``miracl/<lang>/dev``
    entry after the family's other tasks. Exhaustive families (the paper's headline) first."""
    rank = list(Ranking)
    patterns: dict[str, list[TaskSpec]] = {}
    for spec in sorted(specs, key=lambda s: (rank.index(s.ranking), s.family, s.name)):
        lang = spec.languages[0] if len(spec.languages) == 1 else None
        name = spec.name.replace(f"/{lang}/", "/<lang>/") if lang else spec.name
        patterns.setdefault(name, []).append(spec)
    families: dict[str, list[Entry]] = {}
    for name, group in sorted(patterns.items(), key=lambda item: len(item[1]) > 1):
        if len(group) == 1:
            entry = Entry(group[0].name, group[0].description, (group[0],))
        else:
            codes = " ".join(s.languages[0] for s in group)
            entry = Entry(name, f"{len(group)} tasks of one language each: {codes}", tuple(group))
        families.setdefault(group[0].family, []).append(entry)
    return families


def data_status(specs: Sequence[TaskSpec], places: Places) -> str:
    """Where the files of ``specs`` are, or what a run would download. A user's own task (one
    with a ``root``) is read from there only."""
    found: dict[tuple[Path | None, str], Path | None] = {}
    for spec in specs:
        for path in spec.files_for(spec.languages):
            if spec.root is None:
                found[None, path] = places.find(path)
            else:
                found[spec.root, path] = spec.root if (spec.root / path).is_file() else None
    missing = [key for key, root in found.items() if root is None]
    roots = sorted({str(root) for root in found.values() if root is not None})
    if not missing:
        status = f"data: here ({', '.join(roots)})"
    elif any(root is not None for root, _ in missing):
        status = f"data: {len(missing)} of {len(found)} files missing"
    else:
        size = sum(pinned(path).size for _, path in missing) / 1e6
        fetch = f"downloaded on first use ({size:,.1f} MB)"
        status = (
            f"data: not here, {fetch}"
            if len(missing) == len(found)
            else f"data: {len(found) - len(missing)} of {len(found)} files here, the rest {fetch}"
        )
    if any(s.ranking in (Ranking.TOP_K, Ranking.POOLED_TOP_K) for s in specs):
        status += f"; {corpus_status(specs, places.corpus_dir)}"
    return status


def corpus_status(specs: Sequence[TaskSpec], corpus_dir: Path | None) -> str:
    from xret.tasks.corpus import corpus_name

    if corpus_dir is None:
        return "corpora: none given (--corpus-dir or XRET_CORPUS_DIR)"
    languages = sorted({lang for s in specs for lang in s.corpus_languages(s.languages)})
    have = [lang for lang in languages if (corpus_dir / corpus_name(lang)).is_dir()]
    return f"corpora: {len(have)} of {len(languages)} languages in {corpus_dir}"


def render(specs: Iterable[TaskSpec], forms: Sequence[tuple[str, str]], places: Places) -> str:
    lines = []
    for family, group in entries(specs).items():
        first = group[0].specs[0]
        settings = ", ".join(str(s) for s in first.settings)
        lines.append(f"{family} family: {first.ranking} ranking; settings {settings}")
        for entry in group:
            lines += _item(entry.name, [entry.description, data_status(entry.specs, places)])
        lines.append("")
    lines.append("your own data (-t FORM)")
    for form, description in forms:
        lines += _item(form, [description])
    return "\n".join(lines)


def _item(name: str, paragraphs: Sequence[str]) -> list[str]:
    """``name`` in the first column, each paragraph wrapped beside it (paths kept whole)."""
    body = [
        line
        for paragraph in paragraphs
        for line in textwrap.wrap(
            paragraph, WIDTH - INDENT, break_long_words=False, break_on_hyphens=False
        )
    ]
    first = f"  {name}".ljust(INDENT)
    if len(first) > INDENT:
        return [first, *(" " * INDENT + line for line in body)]
    return [first + body[0], *(" " * INDENT + line for line in body[1:])]
