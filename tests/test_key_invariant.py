"""The identity invariant, owned by the result key (``xret.benchmark.runner.plan_task``): every
byte that can change a number is in the key, and nothing that cannot is.

For every input surface (LAReQA, BEIR, MIRACL, pooled MIRACL and trec folders, task files, model
folders, ``module:attr`` encoders, in-memory objects, options) one byte changes — the file keeps its
size and gets its mtime back (``os.utime``), as ``cp -p``/``rsync -a`` copies and edits with
``touch -r`` do — and the key must change (or the input be refused, as a model config that no
longer parses is), with the file memo of the first key in play.
"""

from __future__ import annotations

import gzip
import os
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xret import fingerprint
from xret.benchmark.engine import BatchPolicy
from xret.benchmark.runner import BenchConfig, CorpusOptions, plan_task, resolve_model
from xret.errors import XretError
from xret.models.providers.objects import object_spec
from xret.tasks import get_task
from xret.tasks.spec import CandidateText, Setting
from xret.testing import HashEncoder, toy_miracl, write_lareqa_task

from test_lareqa import PARAGRAPHS

MODEL = "xret.testing:HashEncoder"
EDITS = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Surface:
    """A bench whose key depends on ``files``: what one byte is changed in."""

    task: str
    files: tuple[Path, ...]
    model: object = MODEL
    task_files: tuple[Path, ...] = ()
    corpus: CorpusOptions = field(default_factory=CorpusOptions)
    fresh_import: str | None = None
    """A module to import anew before each key (a new process would)."""
    only: tuple[bytes, bytes] | None = None
    """(marker, alphabet): change only the bytes after ``marker``, to one of ``alphabet`` (a
    module must still import: a syntax error is the resolver's refusal, tested with it)."""


@pytest.fixture(autouse=True)
def memo_in_play(monkeypatch):
    """Files are memoised once 20 ms old (not 2 s): the first key fills the memo."""
    monkeypatch.setattr(fingerprint, "SETTLED_NS", 20_000_000)


def key(surface: Surface, root: Path, **options) -> str:
    if surface.fresh_import:
        sys.modules.pop(surface.fresh_import, None)
    config = BenchConfig(
        model=surface.model,
        tasks=(surface.task,),
        task_files=surface.task_files,
        cache_dir=root / "cache",
        results_dir=root / "results",
        corpus=surface.corpus,
        progress=False,
        **options,
    )
    model = resolve_model(config, log=lambda _: None)
    task = get_task(surface.task, config.task_files)
    return plan_task(config, task, model, log=lambda _: None).key


def change_one_byte(path: Path, position: int, byte: int) -> None:
    """Same size, same mtime: only the content (and the ctime, which nobody can set) moves."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[position % len(data)] = byte
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def _plain_corpus(corpus_dir: Path) -> None:
    """The toy corpus as plain JSON lines (a gzip byte would mostly break the stream)."""
    for shard in corpus_dir.rglob("*.jsonl.gz"):
        shard.with_suffix("").write_bytes(gzip.decompress(shard.read_bytes()))
        shard.unlink()


def _lareqa(root: Path) -> Surface:
    folder = write_lareqa_task(root / "lareqa", PARAGRAPHS)
    return Surface(f"lareqa:{folder}", tuple(sorted(folder.glob("*.json"))))


def _beir(root: Path) -> Surface:
    files = []
    for lang, text in (("en", "sun"), ("de", "Sonne")):
        folder = root / "beir" / lang
        (folder / "qrels").mkdir(parents=True)
        files += [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / "test.tsv"]
        files[-3].write_text(f'{{"_id": "d1", "text": "{text}"}}\n{{"_id": "d2", "text": "x"}}\n')
        files[-2].write_text(f'{{"_id": "q1", "text": "{text}?"}}\n')
        files[-1].write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n")
    return Surface(f"beir:{root / 'beir'}", tuple(files))


def _miracl(root: Path) -> Surface:
    task_dir, corpus_dir = toy_miracl(root / "miracl", languages=("sw",), passages=12, queries=2)
    _plain_corpus(corpus_dir)
    files = sorted(p for p in (task_dir / "topics").rglob("*") if p.is_file())
    files += sorted(p for p in (task_dir / "qrels").rglob("*") if p.is_file())
    files += sorted(corpus_dir.rglob("docs-*"))
    return Surface(f"miracl:{task_dir}", tuple(files), corpus=CorpusOptions(corpus_dir=corpus_dir))


def _miracl_pooled(root: Path) -> Surface:
    """sw's topics searched in one pool of the sw, ru and th corpora: every shard of each."""
    task_dir, corpus_dir = toy_miracl(
        root / "pooled", languages=("sw", "ru", "th"), passages=12, queries=2
    )
    _plain_corpus(corpus_dir)
    for lang in ("ru", "th"):  # sw's queries only: ru and th are corpora of the pool
        (task_dir / "topics" / f"topics.miracl-v1.0-{lang}-dev.tsv").unlink()
        (task_dir / "qrels" / f"qrels.miracl-v1.0-{lang}-dev.tsv").unlink()
    files = sorted(p for p in task_dir.rglob("*") if p.is_file())
    files += sorted(corpus_dir.rglob("docs-*"))
    corpus = CorpusOptions(corpus_dir=corpus_dir)
    return Surface(f"miracl:{task_dir}+ru+th", tuple(files), corpus=corpus)


def _trec(root: Path) -> Surface:
    task_dir, corpus_dir = toy_miracl(root / "trec", languages=("sw",), passages=12, queries=2)
    _plain_corpus(corpus_dir)
    topics = task_dir / "topics" / "topics.miracl-v1.0-sw-dev.tsv"
    qrels = task_dir / "qrels" / "qrels.miracl-v1.0-sw-dev.tsv"
    corpus = corpus_dir / "miracl-corpus-v1.0-sw"
    path = root / "trec.toml"
    path.write_text(
        f'name = "toy-trec"\nformat = "trec"\n[languages.sw]\n'
        f'topics = "{topics}"\nqrels = "{qrels}"\ncorpus = "{corpus}"\n'
    )
    files = (topics, qrels, *sorted(corpus.glob("docs-*")))
    return Surface("toy-trec", files, task_files=(path,))


def _task_file(root: Path) -> Surface:
    folder = write_lareqa_task(root / "own", PARAGRAPHS)
    path = root / "own.toml"
    path.write_text(
        'name = "own"\nformat = "lareqa"\n[languages.en]\nfile = "own/en.json"\n'
        '[languages.de]\nfile = "own/de.json"\n'
    )
    return Surface("own", (folder / "en.json", folder / "de.json"), task_files=(path,))


def _model_folder(root: Path) -> Surface:
    folder = root / "st-model"
    folder.mkdir()
    (folder / "config_sentence_transformers.json").write_text('{"prompts": {}}\n')
    (folder / "modules.json").write_text("[]\n")
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 8)
    lareqa = _lareqa(root)
    return Surface(lareqa.task, tuple(sorted(folder.iterdir())), model=str(folder))


def _module(root: Path) -> Surface:
    (root / "mods").mkdir()
    module = root / "mods" / "invariant_encoder.py"
    module.write_text(
        textwrap.dedent(
            """
            from xret.testing import HashEncoder

            class Encoder(HashEncoder):
                revision = None
                salt = "0123456789"  # a byte here changes every vector
            """
        )
    )
    sys.path.insert(0, str(root / "mods"))
    lareqa = _lareqa(root)
    return Surface(
        lareqa.task,
        (module,),
        model="invariant_encoder:Encoder",
        fresh_import="invariant_encoder",
        only=(b'salt = "', b"0123456789"),
    )


SURFACES: dict[str, Callable[[Path], Surface]] = {
    "lareqa": _lareqa,
    "beir": _beir,
    "miracl": _miracl,
    "miracl-pooled": _miracl_pooled,
    "trec": _trec,
    "task-file-data": _task_file,
    "model-folder": _model_folder,
    "module-attr": _module,
}


@pytest.mark.parametrize("name", sorted(SURFACES))
@EDITS
@given(position=st.integers(min_value=0, max_value=10**6), byte=st.integers(0, 255), data=st.data())
def test_one_changed_byte_of_any_input_file_is_a_new_key(
    name, tmp_path_factory, position, byte, data
):
    root = tmp_path_factory.mktemp(name)
    surface = SURFACES[name](root)
    time.sleep(0.05)  # the files are settled: the first key memoises their digests
    first = key(surface, root)
    path = data.draw(st.sampled_from(surface.files))
    if surface.only is not None:
        marker, alphabet = surface.only
        start = path.read_bytes().index(marker) + len(marker)
        position = start + position % len(alphabet)
        byte = alphabet[byte % len(alphabet)]
        alphabet = alphabet.replace(bytes([path.read_bytes()[position]]), b"")
        byte = byte if byte in alphabet else alphabet[0]
    original = path.read_bytes()[position % path.stat().st_size]
    if byte == original:
        byte = (byte + 1) % 256
    change_one_byte(path, position, byte)
    try:
        second = key(surface, root)
    except XretError:
        return  # a file that no longer parses (a model's config) is refused: never stale
    assert second != first, f"{path.name}[{position % path.stat().st_size}]"


def test_a_changed_byte_of_an_in_memory_object_is_a_new_key(tmp_path):
    class Weighted(HashEncoder):
        revision = None

        def __init__(self):
            self.weights = np.arange(16, dtype=np.float32)

    model = Weighted()
    lareqa = _lareqa(tmp_path)
    with pytest.warns(UserWarning, match="declares no revision"):
        first = key(replace(lareqa, model=object_spec(model, "weighted")), tmp_path)
    model.weights.view(np.uint8)[5] ^= 1
    with pytest.warns(UserWarning, match="declares no revision"):
        assert key(replace(lareqa, model=object_spec(model, "weighted")), tmp_path) != first


def test_task_file_meaning_is_in_the_key_and_its_comments_are_not(tmp_path):
    surface = _task_file(tmp_path)
    (path,) = surface.task_files
    base = path.read_text()
    first = key(surface, tmp_path)
    path.write_text(base + "# a comment changes no number\n")
    assert key(surface, tmp_path) == first
    for extra in (
        'version = "2"',
        'measures = ["MRR"]',
        'prompts = { query = "q: " }',
        'settings = ["mono"]',
    ):
        path.write_text(f"{extra}\n{base}")
        assert key(surface, tmp_path) != first, extra


def test_each_option_that_moves_a_number_is_a_new_key_and_the_others_are_not(tmp_path):
    lareqa = _lareqa(tmp_path)
    changes = {
        "languages": {"languages": ("en",)},
        "settings": {"settings": (Setting.MONO,)},
        "measures": {"measures": ("MRR",)},
        "candidate_text": {"candidate_text": CandidateText.SENTENCE_CONTEXT},
        "query_prompt": {"query_prompt": "q: "},
        "document_prompt": {"document_prompt": "d: "},
    }
    keys = {name: key(lareqa, tmp_path, **options) for name, options in changes.items()}
    first = key(lareqa, tmp_path)
    assert len({first, *keys.values()}) == len(changes) + 1
    for harmless in ({"overwrite": True}, {"save_run": True}, {"batch": BatchPolicy(max_texts=1)}):
        assert key(lareqa, tmp_path, **harmless) == first, harmless
    miracl = _miracl(tmp_path)
    corpus = miracl.corpus
    top_k = {
        "depth": replace(corpus, depth=200),
        "title": replace(corpus, title=False),
    }
    first = key(miracl, tmp_path)
    found = {key(replace(miracl, corpus=options), tmp_path) for options in top_k.values()}
    assert first not in found and len(found) == len(top_k)
