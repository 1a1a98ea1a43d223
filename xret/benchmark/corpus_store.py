"""Corpus embeddings on disk, one file per source shard: streamed, bounded in memory, resumable.

Layout below ``<cache>/corpus/<embedding namespace>/<corpus key>/``::

    manifest.json     the finished shards, rewritten atomically after each one (the commit point)
    shard-0003.f32    float32 rows, the passages of source shard 3 in corpus order, raw bytes
    shard-0003.ids    their docids, one per line

A source shard is read and encoded in blocks, each block's vectors appended to a temporary file,
so memory does not grow with the corpus or the shard. When the shard ends its files are renamed
into place and the manifest records the source shard's name, size and sha256 (as found: MIRACL
corpora are not checksum-pinned). A killed run loses only the shard it was in; the next run skips
every finished shard. If a finished shard's source changed since (size or sha256), or the set of
shards did, the run stops with a DataError instead of mixing embeddings of two corpora.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from xret.benchmark.engine import EmbeddingEngine
from xret.errors import DataError
from xret.fingerprint import file_fingerprint, verify
from xret.hashing import value_digest
from xret.io import atomic_write, ensure_dir, only_writes_fail, output_error
from xret.models.spec import Role
from xret.progress import progress as show_progress
from xret.tasks.corpus import Corpus, passage_label, passage_text, read_shard

FORMAT = 1
MANIFEST = "manifest.json"
ENCODE_BLOCK = 8192
"""Passages read and encoded at a time: what bounds memory while encoding."""


@dataclass(frozen=True)
class ShardRecord:
    source: str
    """File name of the source shard, e.g. ``docs-3.jsonl.gz``."""
    size: int
    sha256: str
    rows: int
    stem: str
    """File stem of its vectors and ids, e.g. ``shard-0003``."""


@dataclass(frozen=True)
class CorpusEmbeddings:
    """The finished embeddings of a whole corpus: vectors memory-mapped, shard by shard."""

    root: Path
    dim: int
    shards: tuple[ShardRecord, ...]

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    def vectors(self, shard: int) -> np.ndarray:
        record = self.shards[shard]
        if record.rows == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.memmap(
            self.root / f"{record.stem}.f32",
            dtype=np.float32,
            mode="r",
            shape=(record.rows, self.dim),
        )

    def docids(self, shard: int) -> Iterator[str]:
        """The docids of a shard's rows; a torn or overlong ids file is a DataError naming it
        (raised once the file is read to its end: readers take whole shards)."""
        record = self.shards[shard]
        path = self.root / f"{record.stem}.ids"
        count = 0
        try:
            with open(path, encoding="utf-8", newline="\n") as handle:
                for line in handle:
                    if not line.endswith("\n") or count == record.rows:
                        break
                    count += 1
                    yield line[:-1]
                else:
                    if count == record.rows:
                        return
        except (OSError, UnicodeDecodeError) as err:
            raise DataError(
                f"{path}: unreadable docids ({err}); delete {self.root} to encode again"
            ) from None
        raise DataError(
            f"{path}: docids do not match the {record.rows:,} stored vectors (torn or overlong); "
            f"delete {self.root} to encode again"
        )

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """(global offset, up to ``rows`` vectors) over the whole corpus, in order."""
        offset = 0
        for shard in range(len(self.shards)):
            vectors = self.vectors(shard)
            for start in range(0, len(vectors), rows):
                yield offset + start, vectors[start : start + rows]
            offset += len(vectors)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` distinct rows drawn uniformly (e.g. to train an IVF index), in corpus order."""
        chosen = np.sort(
            np.random.default_rng(seed).choice(self.rows, size=min(n, self.rows), replace=False)
        )
        out, offset = [], 0
        for shard in range(len(self.shards)):
            rows = self.shards[shard].rows
            mine = chosen[(chosen >= offset) & (chosen < offset + rows)] - offset
            if len(mine):
                out.append(np.asarray(self.vectors(shard)[mine]))
            offset += rows
        return np.concatenate(out) if out else np.empty((0, self.dim), dtype=np.float32)

    def docids_of(self, ids: np.ndarray) -> list[list[str]]:
        """Docids of global row ids (-1 for none, dropped), reading one shard's ids at a time."""
        wanted = sorted({int(i) for i in np.unique(ids) if i >= 0})
        names: dict[int, str] = {}
        offset, cursor = 0, 0
        for shard, record in enumerate(self.shards):
            end = offset + record.rows
            here = []
            while cursor < len(wanted) and wanted[cursor] < end:
                here.append(wanted[cursor] - offset)
                cursor += 1
            if here:
                rows = set(here)
                names.update({offset + r: d for r, d in enumerate(self.docids(shard)) if r in rows})
            offset = end
        return [[names[int(i)] for i in row if i >= 0] for row in ids]

    def source_checksums(self) -> dict[str, str]:
        return {s.source: s.sha256 for s in self.shards}


def corpus_key(corpus: Corpus, with_title: bool) -> str:
    """The corpus's identity in the cache: name, text option and shards (names, sizes and
    sha256, which the result key has hashed already), so a truncated or edited copy and the
    original keep separate stores (finished shards are still checked against the manifest, for
    a corpus changed while a store is being filled)."""
    ident = {
        "corpus": corpus.name,
        "passage_text": _text_option(with_title),
        "format": FORMAT,
        "layout": _layout(corpus),
        "sha256": [file_fingerprint(p) for p in corpus.shards],
    }
    digest = value_digest(ident)
    return f"{corpus.name}-{digest[:12]}"


def _layout(corpus: Corpus) -> list[list]:
    return [[p.name, p.stat().st_size] for p in corpus.shards]


def _text_option(with_title: bool) -> str:
    return passage_label(with_title)


def corpus_root(cache_dir: Path, engine: EmbeddingEngine, corpus: Corpus, with_title: bool) -> Path:
    namespace = engine.namespace(Role.DOCUMENT)
    return cache_dir / "corpus" / namespace / corpus_key(corpus, with_title)


def encode_corpus(
    corpus: Corpus,
    engine: EmbeddingEngine,
    root: Path,
    with_title: bool,
    block: int = ENCODE_BLOCK,
    log: Callable[[str], None] = print,
) -> CorpusEmbeddings:
    """Encode every shard of ``corpus`` not yet in ``root``; return the finished embeddings."""
    ensure_dir(root)
    with _exclusive(root):
        layout = _layout(corpus)
        manifest = _read_manifest(root) or {
            "format": FORMAT,
            "corpus": corpus.name,
            "passage_text": _text_option(with_title),
            "namespace": root.parent.name,
            "layout": layout,
            "dim": None,
            "finished": [],
        }
        _check_unchanged(corpus, root, manifest, layout)
        for stale in root.glob(".shard-*.tmp"):
            stale.unlink()  # the remains of a killed run; its shard is encoded again
        done = {record["source"] for record in manifest["finished"]}
        todo = [(i, p) for i, p in enumerate(corpus.shards) if p.name not in done]
        if done:
            log(
                f"{corpus.name}: {len(done)} of {len(corpus.shards)} shards already encoded in "
                f"{root}"
            )
        for index, path in todo:
            record, dim = _encode_shard(corpus, engine, path, index, root, with_title, block, log)
            manifest["finished"].append(asdict(record))
            manifest["dim"] = manifest["dim"] or dim
            _write_manifest(root, manifest)
    order = {p.name: i for i, p in enumerate(corpus.shards)}
    records = sorted(
        (ShardRecord(**r) for r in manifest["finished"]), key=lambda r: order[r.source]
    )
    dim = manifest["dim"] or engine.spec.dim or 0
    return CorpusEmbeddings(root=root, dim=dim, shards=tuple(records))


def _encode_shard(corpus, engine, path: Path, index: int, root: Path, with_title, block, log):
    stem = f"shard-{index:04d}"
    size, digest = path.stat().st_size, file_fingerprint(path)
    tmp_vectors = root / f".{stem}.f32.{os.getpid()}.tmp"
    tmp_ids = root / f".{stem}.ids.{os.getpid()}.tmp"
    rows, dim = 0, None
    bar = show_progress(None, f"encode {corpus.name}/{path.name}", "passage", engine.progress)
    try:
        with (
            open(tmp_vectors, "wb") as vectors_out,
            open(tmp_ids, "w", encoding="utf-8", newline="\n") as ids_out,
        ):
            for documents in _chunks(read_shard(path, corpus.language), block):
                texts = [passage_text(d, with_title) for d in documents]
                vectors = engine.encode_uncached(texts, Role.DOCUMENT, bar)
                dim = vectors.shape[1]
                vectors_out.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
                ids_out.write("".join(f"{d.id}\n" for d in documents))
                rows += len(documents)
            for handle in (vectors_out, ids_out):
                handle.flush()
                os.fsync(handle.fileno())
        verify(path, digest)  # the passages encoded are the bytes the key names
        os.replace(tmp_vectors, root / f"{stem}.f32")
        os.replace(tmp_ids, root / f"{stem}.ids")
    except OSError as err:
        if only_writes_fail(err):
            raise output_error(root / f"{stem}.f32", err) from None
        raise
    finally:
        bar.close()
        tmp_vectors.unlink(missing_ok=True)
        tmp_ids.unlink(missing_ok=True)
    log(f"{corpus.name}: encoded {path.name} ({rows:,} passages)")
    return ShardRecord(source=path.name, size=size, sha256=digest, rows=rows, stem=stem), dim


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _check_unchanged(corpus: Corpus, root: Path, manifest: dict, layout: list) -> None:
    def refuse(what: str) -> DataError:
        return DataError(
            f"{corpus.name}: {what} since its embeddings in {root} were started; refusing to mix "
            f"two corpora: restore the corpus or delete {root}"
        )

    if manifest.get("format") != FORMAT or manifest.get("corpus") != corpus.name:
        raise refuse("the embedding store's format or corpus name changed")
    if [name for name, _ in manifest["layout"]] != [name for name, _ in layout]:
        raise refuse(f"the shards changed ({len(layout)} now, {len(manifest['layout'])} then)")
    for (name, size), (_, size_then) in zip(layout, manifest["layout"]):
        if size != size_then:
            raise refuse(f"{name} changed ({size:,} bytes, {size_then:,} then)")
    by_name = {p.name: p for p in corpus.shards}
    for record in manifest["finished"]:
        digest = file_fingerprint(by_name[record["source"]])
        if digest != record["sha256"]:
            raise refuse(
                f"{record['source']} changed (sha256 {digest[:12]}…, {record['sha256'][:12]}… then)"
            )
        expected = record["rows"] * (manifest["dim"] or 0) * 4
        vectors = root / f"{record['stem']}.f32"
        if not vectors.is_file() or vectors.stat().st_size != expected:
            raise DataError(
                f"{vectors}: missing or truncated embeddings; delete {root} to encode again"
            )
        ids = root / f"{record['stem']}.ids"
        if not ids.is_file():
            raise DataError(f"{ids}: missing docids; delete {root} to encode again")


def _read_manifest(root: Path) -> dict | None:
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        _check_manifest(manifest)
    except (OSError, ValueError, RecursionError) as err:
        raise DataError(f"{path}: unreadable ({err}); delete {root} to encode again") from None
    return manifest


def _check_manifest(manifest: object) -> None:
    """Raise ValueError unless ``manifest`` has the shape _write_manifest gives it."""
    if not isinstance(manifest, dict):
        raise ValueError("not a JSON object")
    dim = manifest.get("dim")
    layout, finished = manifest.get("layout"), manifest.get("finished")
    if dim is not None and (type(dim) is not int or dim < 1):
        raise ValueError(f"dim {dim!r}")
    if not isinstance(layout, list) or not all(
        isinstance(entry, list) and [type(x) for x in entry] == [str, int] for entry in layout
    ):
        raise ValueError("layout is not a list of [shard, size]")
    names = {name for name, _ in layout}
    types = {"source": str, "size": int, "sha256": str, "rows": int, "stem": str}
    for record in finished if isinstance(finished, list) else [None]:
        if (
            not isinstance(record, dict)
            or set(record) != set(types)
            or any(type(record[k]) is not kind for k, kind in types.items())
        ):
            raise ValueError("finished is not a list of shard records")
        if record["source"] not in names or record["rows"] < 0 or "/" in record["stem"]:
            raise ValueError(f"finished shard {record['source']!r} is not one of the layout")


def _write_manifest(root: Path, manifest: dict) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(root / MANIFEST, write, kept="embedding shard")  # one per finished shard


@contextmanager
def _exclusive(root: Path):
    """One writer per store: a second process would race on the manifest."""
    import fcntl

    try:
        lock_file = open(root / ".lock", "w")
    except OSError as err:
        raise output_error(root / ".lock", err) from None
    with lock_file as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataError(
                f"{root}: another xret process is encoding this corpus; wait for it"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
