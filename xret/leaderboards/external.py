"""Scoring a TREC run made elsewhere (BM25 from pyserini, another system's output) with xret's
measures, intervals and, when the languages of documents are known, its language-bias measures
(``xret score RUN QRELS``, ``xret.score``).

Policy, as in ``xret bench``: a query counts when the qrels give it a relevant document (the
others are left out and counted); a counted query the run lacks scores 0 on every measure (plain
trec_eval would drop it); queries of the run without judgements are ignored and counted. Ties in
the run are ordered as trec_eval orders them (score descending, then document id descending), for
the standard measures and the rank distance alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xret import defaults
from xret.errors import DataError, XretError
from xret.io import text_lines
from xret.leaderboards.run_bias import has_parallel, panel_measures, panel_values
from xret.leaderboards.uncertainty import Options
from xret.measures.bootstrap import CellSums, Design, Statistic, percentile_interval
from xret.measures.table import parse_measure, parse_measures
from xret.measures.trec import evaluate

DEFAULT_MEASURES = ("MAP", "MRR", "nDCG@10", "R@1", "R@10", "R@100")
OPTIONS = Options()
"""Resamples, confidence: as the leaderboard's intervals."""
PREFIX = "prefix"
"""``--doc-lang prefix``: the language is the id's part before its first ``/`` (xret's own ids,
``de/57``)."""
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]+)*$")

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class Estimate:
    """A mean over queries with its percentile bootstrap interval (queries resampled)."""

    value: float
    low: float
    high: float
    queries: int


@dataclass(frozen=True)
class RunScores:
    run: str
    qrels: str
    measures: tuple[str, ...]
    """The measures computed: the standard ones, then the bias panel's."""
    queries: int
    """Queries scored: those with a relevant document."""
    no_relevant: int
    """Judged queries without a relevant document, left out."""
    absent: int
    """Scored queries the run lacks (0 on every measure)."""
    unjudged: int
    """Queries of the run the qrels do not judge, ignored."""
    overall: Mapping[str, Estimate]
    """Measure -> mean over all scored queries."""
    by_language: Mapping[str, Mapping[str, Estimate]]
    """Query language -> measure -> mean over its queries (empty without query languages)."""
    macro: Mapping[str, Estimate]
    """Measure -> mean over query languages of their means (empty without query languages)."""
    rd_left_out: int = 0
    """Queries without relevant documents in two languages, or with some not in the run: their
    rank distance is undefined (it needs the full ranking) and left out of RD."""
    skipped: Mapping[str, str] = field(default_factory=dict)
    """Panel measure -> why it was not computed (what the given languages cannot give)."""
    per_query: Mapping[str, Mapping[str, float]] | None = None
    """Query id -> measure -> value."""


def score_run(
    run: Run,
    qrels: Qrels,
    measures: Sequence[str] | None = None,
    *,
    query_languages: Mapping[str, str] | None = None,
    doc_languages: Mapping[str, str] | None = None,
    names: tuple[str, str] = ("run", "qrels"),
    seed: int = defaults.SEED,
) -> RunScores:
    """Per-query values, means and 95 % intervals of ``measures`` for ``run`` against ``qrels``;
    with ``doc_languages``, the bias panel too (xret.leaderboards.run_bias; by default RD and
    the bench's panel, less what the given languages cannot give); with ``query_languages``,
    every mean per query language and over languages."""
    asked = parse_measures(measures or DEFAULT_MEASURES)
    hand = [m for m in asked if not m.is_trec]
    if hand and doc_languages is None:
        raise XretError(
            f"{', '.join(map(str, hand))} needs the documents' languages (--doc-lang FILE|prefix)"
        )
    trec = [m for m in asked if m.is_trec]
    judged = {q: docs for q, docs in qrels.items() if any(g > 0 for g in docs.values())}
    if not judged:
        raise DataError(f"{names[1]}: no query has a relevant document")
    values = {
        q: {str(m): v for m, v in row.items()} for q, row in evaluate(judged, run, trec).items()
    }
    order = [str(m) for m in trec]
    skipped: dict[str, str] = {}
    if doc_languages is not None:
        parallel = has_parallel(list(judged), query_languages)
        panel, skipped = panel_measures(hand or None, query_languages, parallel)
        rankings = {q: ranked(run[q]) for q in judged if q in run}
        relevant = {q: [d for d, g in judged[q].items() if g > 0] for q in rankings}
        if rankings:
            found = panel_values(rankings, relevant, panel, doc_languages, query_languages)
            for qid, row in found.items():
                values[qid].update(row)
        order += [str(m) for m in panel]
    overall, by_language, macro = _estimates(values, order, query_languages, seed)
    return RunScores(
        run=names[0],
        qrels=names[1],
        measures=tuple(order),
        queries=len(judged),
        no_relevant=len(qrels) - len(judged),
        absent=sum(q not in run for q in judged),
        unjudged=sum(q not in qrels for q in run),
        overall=overall,
        by_language=by_language,
        macro=macro,
        rd_left_out=sum("RD" not in row for row in values.values()) if "RD" in order else 0,
        skipped=skipped,
        per_query=values,
    )


def ranked(docs: Mapping[str, float]) -> list[str]:
    """A query's documents in trec_eval's order: score descending, then id descending."""
    return [d for d, _ in sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)]


def _estimates(
    values: Mapping[str, Mapping[str, float]],
    measures: Sequence[str],
    query_languages: Mapping[str, str] | None,
    seed: int,
):
    """Means and percentile intervals of every measure over all queries, per query language and
    over languages (the mean of the languages' means), as the leaderboard's intervals are made
    (xret.measures.bootstrap): each query is a topic, resampled on its own."""
    queries = list(values)
    n = len(queries)
    languages = sorted({query_languages[q] for q in queries}) if query_languages else []
    code = {lang: 1 + i for i, lang in enumerate(languages)}
    # cell 0 holds every query, cell code[lang] the queries of one language: a query is in both
    topic = np.tile(np.arange(n), 2 if code else 1)
    cell = np.concatenate(
        [np.zeros(n, int), *([[code[query_languages[q]] for q in queries]] if code else [])]
    ).astype(int)
    names = ["all", *code]
    overall: dict[str, Estimate] = {}
    by_language: dict[str, dict[str, Estimate]] = {}
    macro: dict[str, Estimate] = {}
    for measure in measures:
        x = np.array([values[q].get(measure, np.nan) for q in queries])
        data = CellSums.of(topic, cell, np.tile(x, len(cell) // n), n, len(names))
        present = [k for k in range(len(names)) if data.sizes[:, k].sum() > 0]
        if not present:  # e.g. RD alone, and no query has it
            continue
        statistics = [Statistic((k,)) for k in present]
        measured = tuple(k for k in present if k > 0)  # the languages with a value
        if len(measured) > 1:
            statistics.append(Statistic(measured))
        design = Design.unseeded(data, np.eye(len(names)), statistics)
        point = design.point()
        low, high = percentile_interval(design.draws(OPTIONS.resamples, seed), OPTIONS.confidence)
        for j, statistic in enumerate(statistics):
            parts = statistic.parts
            count = int(sum(data.sizes[:, k].sum() for k in parts))
            estimate = Estimate(float(point[j]), float(low[j]), float(high[j]), count)
            if len(parts) > 1:
                macro[measure] = estimate
            elif parts[0] == 0:
                overall[measure] = estimate
            else:
                by_language.setdefault(names[parts[0]], {})[measure] = estimate
    return overall, by_language, macro


def read_run(path: Path) -> dict[str, dict[str, float]]:
    """A TREC run ``qid Q0 docid rank score tag`` -> {qid: {docid: score}}; a document listed
    twice for one query, or a line of another shape, is a DataError naming file and line."""
    run: dict[str, dict[str, float]] = {}
    for number, line in text_lines(path):
        fields = line.split()
        try:
            if len(fields) != 6:
                raise ValueError
            qid, docid, score = fields[0], fields[2], float(fields[4])
            if not np.isfinite(score) or "\0" in qid + docid:
                raise ValueError
        except ValueError:
            raise DataError(
                f"{path}:{number}: expected 'qid Q0 docid rank score tag' with a finite score, "
                f"found {line[:60]!r}"
            ) from None
        docs = run.setdefault(qid, {})
        if docid in docs:
            raise DataError(f"{path}:{number}: query {qid!r} lists {docid!r} twice")
        docs[docid] = score
    if not run:
        raise DataError(f"{path}: an empty run")
    return run


def read_languages(source: str | Path, ids: Sequence[str], what: str) -> dict[str, str]:
    """The language of each of ``ids``: ``prefix`` (the id's part before ``/``) or a file of
    ``id language`` lines; an id without one is a DataError."""
    if str(source) == PREFIX:
        found = {i: i.split("/", 1)[0] for i in ids if "/" in i}
        found = {i: lang for i, lang in found.items() if _LANGUAGE.match(lang)}
    else:
        found = {}
        for number, line in text_lines(Path(source)):
            fields = line.split()
            if len(fields) != 2:
                raise DataError(f"{source}:{number}: expected 'id language', found {line[:60]!r}")
            found[fields[0]] = fields[1]
    return _complete(
        found,
        ids,
        what,
        "has no 'lang/' prefix" if str(source) == PREFIX else f"is not in {source}",
    )


def report_lines(scores: RunScores) -> list[str]:
    """The scores in words and tables of at most 80 columns."""
    from xret.measures.table import measure_digits

    notes = [f"{scores.queries:,} queries with a relevant document scored"]
    if scores.no_relevant:
        notes.append(f"{scores.no_relevant:,} judged without one left out")
    if scores.absent:
        notes.append(f"{scores.absent:,} absent from the run count 0")
    if scores.unjudged:
        notes.append(f"{scores.unjudged:,} of the run's queries unjudged, ignored")
    lines = [f"{scores.run} against {scores.qrels}: " + "; ".join(notes), ""]
    pct = f"{100 * OPTIONS.confidence:.0f} %"
    lines.append(f"{'measure':<10} {'mean':>10}  {pct + ' interval (queries resampled)'}")
    for measure, e in scores.overall.items():
        d = measure_digits(measure)
        lines.append(
            f"{measure:<10} {e.value:>10.{d}f}  [{e.low:.{d}f}, {e.high:.{d}f}]"
            + (f"  over {e.queries:,} queries" if e.queries != scores.queries else "")
        )
    if "RD" in scores.measures:
        lines.append(
            f"RD: last minus first rank of a query's relevant documents (lower: less language "
            f"bias); {scores.rd_left_out:,} queries left out (relevant documents in one language, "
            "or not all in the run)"
        )
    if any(not parse_measure(m).is_trec for m in scores.measures):
        lines.append(
            "Bias panel (docs/bias.md) over the documents the run and qrels name; a measure "
            "shown 'over n queries' is undefined for the others"
        )
    for why in dict.fromkeys(scores.skipped.values()):
        skipped = [m for m, reason in scores.skipped.items() if reason == why]
        lines.append(f"Skipped, as each {why}: {', '.join(skipped)}")
    if scores.by_language:
        shown = [m for m in scores.measures if any(m in row for row in scores.by_language.values())]
        for start in range(0, len(shown), 5):  # 5 measures of <= 10 columns a table: 80 columns
            chunk = shown[start : start + 5]
            lines += ["", f"{'language':<10} {'queries':>9}" + "".join(f"{m:>12}" for m in chunk)]
            rows = [*scores.by_language.items()] + (
                [("macro", scores.macro)] if scores.macro else []
            )
            for name, row in rows:
                count = "" if name == "macro" else f"{max(e.queries for e in row.values()):,}"
                cells = "".join(
                    f"{row[m].value:>12.{measure_digits(m)}f}" if m in row else f"{'':>12}"
                    for m in chunk
                )
                lines.append(f"{name:<10} {count:>9}{cells}")
        if scores.macro:
            lines.append("macro: the mean over query languages of their means")
    return [part for line in lines for part in _wrap(line)]


def _wrap(line: str) -> list[str]:
    import textwrap

    return textwrap.wrap(line, 80, subsequent_indent="  ") if len(line) > 80 else [line]


Languages = str | os.PathLike | Mapping[str, str] | None


def score(
    run: str | os.PathLike | Run,
    qrels: str | os.PathLike | Qrels,
    measures: Sequence[str] | None = None,
    *,
    doc_lang: Languages = None,
    query_lang: Languages = None,
    seed: int = defaults.SEED,
) -> RunScores:
    """``score_run`` of a run and qrels given as files or mappings; languages as a file of
    ``id language`` lines, ``"prefix"`` (``lang/…`` ids) or a mapping."""
    from xret.tasks.miracl import read_qrels

    names = tuple(
        str(x) if isinstance(x, (str, os.PathLike)) else "the given " + what
        for x, what in ((run, "run"), (qrels, "qrels"))
    )
    run = read_run(Path(run)) if isinstance(run, (str, os.PathLike)) else run
    qrels = read_qrels(Path(qrels)) if isinstance(qrels, (str, os.PathLike)) else qrels
    judged = [q for q, docs in qrels.items() if any(g > 0 for g in docs.values())]
    # the panel reads the language of every document retrieved for, or relevant to, a query
    documents = list(
        dict.fromkeys(
            d for q in judged for d in (*run.get(q, {}), *(d for d, g in qrels[q].items() if g > 0))
        )
    )
    return score_run(
        run,
        qrels,
        measures,
        query_languages=_languages(query_lang, judged, "query"),
        doc_languages=_languages(doc_lang, documents, "retrieved or relevant document"),
        names=names,
        seed=seed,
    )


def _languages(source: Languages, ids: Sequence[str], what: str) -> dict[str, str] | None:
    if source is None:
        return None
    if isinstance(source, Mapping):
        return _complete(source, ids, what, "is not in the mapping")
    return read_languages(source, ids, what)


def _complete(found: Mapping[str, str], ids: Sequence[str], what: str, why: str) -> dict[str, str]:
    missing = [i for i in ids if i not in found]
    if missing:
        raise DataError(f"{len(missing):,} {what} id(s) without a language: {missing[0]!r} {why}")
    return {i: found[i] for i in ids}
