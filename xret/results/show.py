"""``xret show RECORD``: one result record in words, in at most 80 columns — what was evaluated
(model, task, data, options), how and where (provenance), the numbers (summary, per language) and
where its per-query scores and saved runs are."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from xret.measures.table import measure_digits
from xret.progress import duration
from xret.results.record import ResultRecord
from xret.results.runs import runs_dir
from xret.results.summary import HEADLINE, SETTING_LABELS
from xret.tasks.spec import Setting

WIDTH = 80
_LABEL = 12  # the width of a section's name; its text follows, wrapped under itself
_CELL = 9  # a number's column


def describe(path: Path, record: ResultRecord) -> list[str]:
    lines = [f"{record.model.name} on {record.task.name}", f"record: {path}", ""]
    for label, parts in (
        ("model", _model(record)),
        ("task", _task(record)),
        ("data", _data(record)),
        ("options", _options(record)),
        ("provenance", _provenance(record)),
        ("files", _files(path, record)),
    ):
        lines += _section(label, parts)
    for aggregate, by_setting in record.summary.items():
        lines += ["", f"summary: {aggregate} over languages"]
        lines += _table("setting", _summary_rows(by_setting, record.options.measures))
    if record.by_language:
        cross = (
            " (cross: the mean over its pool languages)" if "cross" in record.by_language else ""
        )
        lines += ["", f"per query language{cross}"]
        lines += _table("language", _language_rows(record))
    return lines


def _section(label: str, parts: Sequence[str]) -> list[str]:
    """``label`` then its parts, each wrapped to the width under the first."""
    out = []
    for i, part in enumerate(p for p in parts if p):
        head = f"{label if i == 0 else '':<{_LABEL}}"
        out += textwrap.wrap(
            part,
            WIDTH,
            initial_indent=head,
            subsequent_indent=" " * (_LABEL + 2),
            break_on_hyphens=False,
            break_long_words=False,
        )
    return out


def _model(r: ResultRecord) -> list[str]:
    m = r.model
    what = [x for x in (m.provider, m.dim and f"{m.dim}d", m.similarity) if x]
    if m.max_seq_length:
        what.append(f"at most {m.max_seq_length} tokens")
    languages = (
        "languages not declared" if m.languages is None else f"covers {len(m.languages)} languages"
    )
    parts = [
        (m.display_name or m.name)
        + (f" ({m.source})" if m.source not in (None, m.display_name) else ""),
        f"revision {m.revision}" if m.revision else "no revision recorded",
        ", ".join([*what, languages]),
        _prompts(m.prompts, "prompts"),
    ]
    if m.base_model:
        alpha = f", α = {m.alpha}" if m.alpha is not None else ""
        parts.append(f"trained from {m.base_model}, regime {m.regime}{alpha}")
    if r.coverage.uncovered_languages:
        parts.append(f"does not cover {', '.join(r.coverage.uncovered_languages)} (scored anyway)")
    return parts


def _prompts(prompts: Mapping[str, str | None] | None, label: str) -> str:
    if prompts is None:
        return ""
    shown = [f"{role} {value!r}" for role, value in prompts.items() if value]
    return f"{label}: {', '.join(shown)}" if shown else f"{label}: none"


def _task(r: ResultRecord) -> list[str]:
    t = r.task
    head = f"{t.name}, version {t.version}" + (f", {t.family} format" if t.family else "")
    return [
        head + (f", licence {t.licence}" if t.licence else ""),
        f"{len(t.languages)} languages: {' '.join(t.languages)}",
    ]


def _data(r: ResultRecord) -> list[str]:
    counts = ", ".join(f"{n:,} {what}" for what, n in r.task.counts.items())
    files = "; ".join(f"{name} {digest[:16]}…" for name, digest in sorted(r.task.data.items()))
    corpora = [
        f"corpus {lang}: {c.get('name', '?')}, {c.get('passages', 0):,} passages in "
        f"{len(c.get('shards', {}))} shards (their sha256 in the record file)"
        if isinstance(c, Mapping)
        else f"corpus {lang}: {_words(c)}"
        for lang, c in dict(r.task.extras.get("corpus") or {}).items()
    ]
    return [counts, f"sha256 (whole in the record file): {files}", *corpora]


def _options(r: ResultRecord) -> list[str]:
    o = r.options
    evaluated = (
        f"all {len(o.languages)} languages"
        if set(r.task.languages) <= set(o.languages)
        else f"{len(o.languages)} of {len(r.task.languages)} languages: {', '.join(o.languages)}"
    )
    parts = [
        f"{evaluated}; settings {', '.join(o.settings)}",
        f"measures {', '.join(o.measures)}",
        _prompts(o.prompts, "prompts used"),
        f"ranking {o.ranking}" + (f"; ties: {o.ties}" if o.ties else ""),
    ]
    parts += [
        f"{key.replace('_', ' ')}: {_words(value)}" for key, value in sorted(o.extras.items())
    ]
    return parts


def _words(value: object) -> str:
    """A JSON value as text: ``kind flat, nprobe 32`` for an object, ``a, b`` for a list."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k.replace('_', ' ')} {_words(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(_words, value))
    return str(value)


def _provenance(r: ResultRecord) -> list[str]:
    p = r.provenance
    commit = f" at git {p.git_commit[:12]}" if p.git_commit else ""
    where = ", ".join(
        x
        for x in (
            p.platform,
            p.cpus and f"{p.cpus} CPUs",
            p.python and f"Python {p.python}",
            p.device and f"device {p.device}",
            p.dtype,
            p.precision and f"precision {p.precision}",
            p.engine and f"engine {p.engine}" + (f" ({p.workers} workers)" if p.workers else ""),
        )
        if x
    )
    parts = [f"xret {p.xret_version}{commit}, {p.created}", where]
    if p.timings:
        stages = ", ".join(f"{k} {duration(v)}" for k, v in p.timings.items())
        parts.append(f"time: {stages}; {duration(sum(p.timings.values()))} in all")
    if p.encode:
        parts.append("encoding: " + ", ".join(f"{k} {_number(v)}" for k, v in p.encode.items()))
    if p.libraries:
        parts.append("libraries: " + ", ".join(f"{k} {v}" for k, v in sorted(p.libraries.items())))
    return parts


def _number(value: float) -> str:
    return f"{value:,}" if float(value).is_integer() else f"{value:,.1f}"


def _files(path: Path, r: ResultRecord) -> list[str]:
    per_query = path.parent / r.per_query if r.per_query else None
    runs = runs_dir(path)
    n_runs = len(list(runs.glob("*.run"))) if runs.is_dir() else 0
    return [
        f"per-query scores beside the record: {per_query.name}"
        + ("" if per_query.is_file() else " (missing)")
        if per_query
        else "no per-query scores",
        f"TREC runs and qrels beside the record: {runs.name}/ ({n_runs} cells)"
        if n_runs
        else "no saved TREC runs (bench with --save-run writes them)",
    ]


def _summary_rows(by_setting: Mapping[str, Mapping[str, float]], order: Sequence[str]):
    found = {m for values in by_setting.values() for m in values}
    measures = [m for m in order if m in found] + sorted(found - set(order))
    header = [(m, "") for m in measures]
    rows = [
        (SETTING_LABELS.get(s, s), [by_setting[s].get(m) for m in measures])
        for s in _ordered(by_setting)
    ]
    return header, rows


def _language_rows(r: ResultRecord):
    present = {(s, m) for s, by_measure in r.by_language.items() for m in by_measure}
    order = {m: i for i, m in enumerate(r.options.measures)}
    columns = [c for c in HEADLINE if c in present] or sorted(
        present, key=lambda c: (_ordered(r.by_language).index(c[0]), order.get(c[1], len(order)))
    )
    header = [(m, SETTING_LABELS.get(s, s)) for s, m in columns]
    languages = list(dict.fromkeys(lang for s, m in columns for lang in r.by_language[s][m]))
    rows = [(lang, [r.by_language[s][m].get(lang) for s, m in columns]) for lang in languages]
    return header, rows


def _ordered(settings) -> list[str]:
    known = [s.value for s in Setting if s.value in settings]  # the protocol's order
    return known + sorted(set(settings) - set(known))


def _table(first: str, content) -> list[str]:
    """Right-aligned numbers under two-line headers (measure over setting), split into chunks
    that fit the width; a blank cell was not evaluated."""
    header, rows = content
    per_chunk = max(1, (WIDTH - _LABEL) // _CELL)
    out = []
    for start in range(0, len(header), per_chunk):
        chunk = range(start, min(start + per_chunk, len(header)))
        top = f"{first:<{_LABEL}}" + "".join(f"{header[i][0]:>{_CELL}}" for i in chunk)
        sub = f"{'':<{_LABEL}}" + "".join(f"{header[i][1]:>{_CELL}}" for i in chunk)
        out += ([""] if start else []) + [top] + ([sub] if sub.strip() else [])
        for name, values in rows:
            cells = "".join(
                f"{'':>{_CELL}}"
                if values[i] is None
                else f"{values[i]:>{_CELL}.{measure_digits(header[i][0])}f}"
                for i in chunk
            )
            out.append(f"{name:<{_LABEL}}{cells}")
    return out
