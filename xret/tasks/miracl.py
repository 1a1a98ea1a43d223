"""MIRACL v1.0 (protocol.md §2.2): monolingual passage retrieval over per-language Wikipedia.

The whole family is generated from one language table. Topics (``qid<TAB>query``) and TREC qrels
(``qid Q0 docid rel``, judged negatives as rel 0) are pinned files; the corpora (49k to 32.9M
passages per language) are not in any data directory: the user points at a local copy laid out
as ``<corpus-dir>/miracl-corpus-v1.0-<lang>/docs-<i>.jsonl.gz`` (the Hugging Face layout).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from xret.errors import DataError, UnknownNameError
from xret.measures.trec import MAX_GRADE
from xret.tasks.corpus import Corpus, CorpusTaskData, task_corpus
from xret.tasks.records import Query
from xret.tasks.spec import Aggregate, Ranking, Setting, TaskSpec

MEASURES = ("nDCG@10", "R@100")
POOLED_MEASURES = (
    *MEASURES,
    *("Same@10", "Excess@10", "PEER@10", "RightSame", "RightOther", "WrongSame", "WrongOther"),
)
"""A pooled task's defaults: the retrieval measures, and every bias-panel measure that needs only
the pooled top k and each passage's language (xret.measures.table: ``Family.cross_judged``)."""
POOL = "+"
"""Joins a MIRACL-format task's name to the corpora pooled with it (``miracl/sw/dev+en``)."""
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
VERSION = "1"
LICENCE = "Apache-2.0 (MIRACL topics/qrels); passages are Wikipedia text, CC BY-SA"
REFERENCE = (
    "Zhang et al., MIRACL (TACL 2023, arXiv 2210.09984); topics/qrels from "
    "castorini/anserini-tools 5b819c1; corpus miracl/miracl-corpus"
)


@dataclass(frozen=True)
class SplitCounts:
    topics: int
    judgements: int
    """qrels lines, judged negatives included."""
    relevant: int
    """qrels lines with rel > 0."""


@dataclass(frozen=True)
class Language:
    code: str
    passages: int
    """Corpus size (project-miracl README; de/yo from MTEB's descriptive statistics)."""
    dev: SplitCounts
    train: SplitCounts | None
    in_paper: bool
    """One of the 15 languages the paper reports (protocol.md §2.2: all but en, de, yo)."""


def _row(
    code: str, passages: int, dev: tuple[int, int, int], train: tuple[int, int, int] | None
) -> Language:
    return Language(
        code,
        passages,
        SplitCounts(*dev),
        SplitCounts(*train) if train else None,
        code not in ("en", "de", "yo"),
    )


# Counts: protocol.md §2.2 and shared/data/README.md (re-counted from the pinned files).
LANGUAGES: tuple[Language, ...] = (
    _row("ar", 2_061_414, (2896, 29197, 5658), (3495, 25382, 6217)),
    _row("bn", 297_265, (411, 4206, 863), (1631, 16754, 3859)),
    _row("de", 15_866_222, (305, 3144, 811), None),
    _row("en", 32_893_221, (799, 8350, 2326), (2863, 29416, 7899)),
    _row("es", 10_373_953, (648, 6443, 2987), (2162, 21531, 10025)),
    _row("fa", 2_207_172, (632, 6571, 1314), (2107, 21844, 4277)),
    _row("fi", 1_883_509, (1271, 12008, 2447), (2897, 20350, 4928)),
    _row("fr", 14_636_953, (343, 3429, 731), (1143, 11426, 2321)),
    _row("hi", 506_264, (350, 3494, 752), (1169, 11668, 2469)),
    _row("id", 1_446_315, (960, 9668, 3088), (4071, 41358, 12505)),
    _row("ja", 6_953_614, (860, 8354, 1790), (3477, 34387, 6984)),
    _row("ko", 1_486_752, (213, 3057, 547), (868, 12767, 1973)),
    _row("ru", 9_543_918, (1252, 13100, 3560), (4683, 33921, 10000)),
    _row("sw", 131_924, (482, 5092, 910), (1901, 9359, 2687)),
    _row("te", 518_079, (828, 1606, 854), (3452, 18608, 4119)),
    _row("th", 542_166, (733, 7573, 1343), (2972, 21293, 4778)),
    _row("yo", 49_043, (119, 1188, 144), None),
    _row("zh", 4_934_368, (393, 3928, 994), (1312, 13113, 3187)),
)
PAPER_LANGUAGES = tuple(lang.code for lang in LANGUAGES if lang.in_paper)
SPLITS = ("dev", "train")


@dataclass(frozen=True)
class MiraclExpected:
    """Pinned counts of one split, asserted after every load."""

    counts: Mapping[str, SplitCounts]
    passages: Mapping[str, int]


def topics_path(language: str, split: str) -> str:
    return f"miracl/topics/topics.miracl-v1.0-{language}-{split}.tsv"


def qrels_path(language: str, split: str) -> str:
    return f"miracl/qrels/qrels.miracl-v1.0-{language}-{split}.tsv"


def aggregates(languages: tuple[str, ...]) -> tuple[Aggregate, ...]:
    """Mean and median over the paper's 15 languages (when all are in the task) and over all."""
    out = []
    groups = (
        [(len(PAPER_LANGUAGES), PAPER_LANGUAGES)] if set(PAPER_LANGUAGES) <= set(languages) else []
    )
    if len(languages) > 1 and set(languages) != set(PAPER_LANGUAGES):
        groups.append((len(languages), languages))
    for size, group in groups:
        for statistic in ("mean", "median"):
            out.append(Aggregate(f"{statistic}-{size}", tuple(group), statistic, complete=True))
    return tuple(out)


def _spec(name: str, split: str, languages: tuple[str, ...], description: str) -> TaskSpec:
    table = {lang.code: lang for lang in LANGUAGES}
    return TaskSpec(
        name=name,
        family="miracl",
        version=VERSION,
        description=description,
        languages=languages,
        settings=(Setting.MONO,),
        measures=MEASURES,
        aggregates=aggregates(languages),
        data_files={
            lang: (topics_path(lang, split), qrels_path(lang, split)) for lang in languages
        },
        loader="xret.tasks.miracl:load_miracl",
        licence=LICENCE,
        reference=REFERENCE,
        expected=MiraclExpected(
            counts={lang: getattr(table[lang], split) for lang in languages},
            passages={lang: table[lang].passages for lang in languages},
        ),
        ranking=Ranking.TOP_K,
    )


def family() -> list[TaskSpec]:
    """``miracl/<split>`` over every language of the split, and ``miracl/<lang>/<split>``."""
    specs = []
    for split in SPLITS:
        languages = tuple(lang.code for lang in LANGUAGES if getattr(lang, split) is not None)
        specs.append(
            _spec(
                f"miracl/{split}",
                split,
                languages,
                f"MIRACL {split}: monolingual Wikipedia passage retrieval, "
                f"{len(languages)} languages (needs --corpus-dir)",
            )
        )
        specs.extend(
            _spec(
                f"miracl/{code}/{split}",
                split,
                (code,),
                f"MIRACL {split}, {code} only (needs --corpus-dir)",
            )
            for code in languages
        )
    return specs


def custom_task(folder: str | Path) -> TaskSpec:
    """A user's own MIRACL-format task (``miracl:DIR``): ``DIR/{topics,qrels}`` laid out like
    ``shared/data/miracl`` (dev split), read unpinned; the corpus comes from ``--corpus-dir``."""
    root = Path(folder).expanduser()
    prefix, suffix = "topics.miracl-v1.0-", "-dev.tsv"
    found = sorted(
        p.name[len(prefix) : -len(suffix)] for p in (root / "topics").glob(f"{prefix}*{suffix}")
    )
    if not found:
        raise DataError(f"{root}: no topics/{prefix}<lang>{suffix} files")
    languages = tuple(found)
    return TaskSpec(
        name=f"miracl:{root.name}",
        family="miracl",
        version="custom",
        description=f"MIRACL-format task from {root}",
        languages=languages,
        settings=(Setting.MONO,),
        measures=MEASURES,
        aggregates=aggregates(languages),
        data_files={
            lang: (
                topics_path(lang, "dev").removeprefix("miracl/"),
                qrels_path(lang, "dev").removeprefix("miracl/"),
            )
            for lang in languages
        },
        loader="xret.tasks.miracl:load_miracl",
        licence="unknown",
        reference=str(root),
        root=root,
        ranking=Ranking.TOP_K,
    )


def split_pool(name: str) -> tuple[str, tuple[str, ...]] | None:
    """``(task, pooled corpus languages)`` of a name ``TASK+L1[+L2…]``, or None without a pool.
    The pool starts at the first ``+`` after the name's last ``/`` (a folder whose own name holds
    a ``+`` is named with a trailing ``/``: ``miracl:a+b/``)."""
    head, slash, tail = name.rpartition("/")
    task, plus, pool = tail.partition(POOL)
    if not plus:
        return None
    return head + slash + task, tuple(pool.split(POOL))


def pooled_task(spec: TaskSpec, pool: tuple[str, ...]) -> TaskSpec:
    """``spec``'s queries, each language's searched in one pool: the corpora of the evaluated
    languages and of ``pool`` (a language of both is pooled once; ``TASK+L`` with L the only
    evaluated language is the pool of L's corpus alone). One multilingual cell per query
    language; passages of other languages are unjudged (level 0)."""
    name = f"{spec.name}{POOL}{POOL.join(sorted(pool))}"
    if spec.family != "miracl" or spec.ranking is not Ranking.TOP_K:
        raise DataError(
            f"task {spec.name + POOL + POOL.join(pool)!r}: only MIRACL-format tasks pool corpora "
            f"(TASK{POOL}LANG); {spec.name} is a {spec.family} task ranked {spec.ranking}"
        )
    known = tuple(lang.code for lang in LANGUAGES)
    for code in pool:
        if not _CODE.fullmatch(code):
            raise DataError(
                f"task {name!r}: {code!r} is not a language code (letters, digits, - and _); "
                f"write TASK{POOL}LANG[{POOL}LANG…], e.g. miracl/sw/dev{POOL}en{POOL}yo"
            )
        if spec.root is None and code not in known:  # xret's own MIRACL: its 18 corpora
            raise UnknownNameError("MIRACL corpus language", code, known)
    if len(set(pool)) < len(pool):
        raise DataError(f"task {name!r} names a corpus language twice")
    expected: MiraclExpected | None = spec.expected
    table = {lang.code: lang.passages for lang in LANGUAGES}
    return replace(
        spec,
        name=name,
        description=f"{spec.description}; each language's queries searched in one pool with "
        f"the {', '.join(sorted(pool))} corpora",
        settings=(Setting.MULTI,),
        measures=POOLED_MEASURES if spec.measures == MEASURES else spec.measures,
        expected=expected
        if expected is None or spec.root is not None  # a user's task: its own counts only
        else replace(expected, passages={**expected.passages, **{c: table[c] for c in pool}}),
        ranking=Ranking.POOLED_TOP_K,
        pool=tuple(sorted(pool)),
    )


def _lines(path: Path):
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            for number, line in enumerate(handle, 1):
                yield number, line.rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read ({err})") from None


def read_topics(path: Path) -> dict[str, str]:
    """``qid<TAB>query`` lines -> {qid: query}, in file order."""
    topics: dict[str, str] = {}
    for number, line in _lines(path):
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip() or "\0" in fields[0]:
            raise DataError(f"{path}:{number}: expected 'qid<TAB>query', found {line[:60]!r}")
        qid = fields[0].strip()
        if qid in topics:
            raise DataError(f"{path}:{number}: query id {qid!r} occurs twice")
        topics[qid] = fields[1]
    return topics


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TREC qrels ``qid Q0 docid rel`` (tabs or spaces) -> {qid: {docid: rel}}; rel 0 is a judged
    negative."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(path):
        fields = line.split()
        try:
            if len(fields) != 4:
                raise ValueError
            qid, _, docid, grade = fields[0], fields[1], fields[2], int(fields[3])
            if not 0 <= grade <= MAX_GRADE or "\0" in qid + docid:  # trec_eval cuts at a NUL
                raise ValueError
        except ValueError:
            raise DataError(
                f"{path}:{number}: expected 'qid Q0 docid rel' with 0 <= rel <= {MAX_GRADE}, "
                f"found {line[:60]!r}"
            ) from None
        judged = qrels.setdefault(qid, {})
        if docid in judged:
            raise DataError(f"{path}:{number}: query {qid!r} judges {docid!r} twice")
        judged[docid] = grade
    return qrels


def load_miracl(
    spec: TaskSpec,
    files: Mapping[str, Path],
    languages: tuple[str, ...],
    corpus_dir: Path | None = None,
) -> CorpusTaskData:
    """Topics and qrels of ``languages`` (query ids ``<lang>/<qid>``); with ``corpus_dir``, the
    shard lists of their corpora too, and of a pooled task's pool (nothing is read from the
    corpus here)."""
    queries: list[Query] = []
    qrels: dict[str, dict[str, int]] = {}
    for language in languages:
        topics_file, qrels_file = (files[p] for p in spec.files_for((language,)))
        topics = read_topics(topics_file)
        judged = read_qrels(qrels_file)
        _check_counts(spec, language, topics, judged)
        queries.extend(
            Query(id=f"{language}/{qid}", language=language, text=text)
            for qid, text in topics.items()
        )
        qrels.update({f"{language}/{qid}": docs for qid, docs in judged.items()})
    corpora = {}
    if corpus_dir is not None or spec.corpora:
        expected: MiraclExpected | None = spec.expected
        for language in spec.corpus_languages(languages):
            name, shards = task_corpus(spec, corpus_dir, language)
            corpora[language] = Corpus(
                name=name,
                language=language,
                shards=shards,
                expected_passages=expected.passages.get(language) if expected else None,
            )
    return CorpusTaskData(
        documents=(), queries=tuple(queries), qrels=qrels, checksums={}, corpora=corpora
    )


def _check_counts(
    spec: TaskSpec, language: str, topics: dict, qrels: dict[str, dict[str, int]]
) -> None:
    expected: MiraclExpected | None = spec.expected
    if expected is None:
        return  # a user's own MIRACL-format task: nothing pinned to compare with
    pinned = expected.counts[language]
    grades = Counter(grade > 0 for docs in qrels.values() for grade in docs.values())
    found = SplitCounts(len(topics), grades[True] + grades[False], grades[True])
    if found != pinned:
        raise DataError(
            f"{spec.name}/{language}: {found.topics:,} topics, {found.judgements:,} judgements "
            f"({found.relevant:,} relevant) found; the task pins {pinned.topics:,}, "
            f"{pinned.judgements:,} ({pinned.relevant:,})"
        )
