"""The precision policy (xret.runtime.device): what each request resolves to on CPUs and GPUs,
that the sentence-transformers provider runs what was resolved, and the CLI's one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xret.errors import XretError
from xret.runtime.device import Device, cpu_flags, cpu_kernels, pick_device


@pytest.fixture
def fake_cuda(monkeypatch):
    """A CUDA build that sees a device; ``bf16`` says whether it computes bf16."""
    import torch

    def install(bf16: bool = True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)

    return install


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        (None, Device("cpu", "float32")),
        ("auto", Device("cpu", "float32")),
        ("fp32", Device("cpu", "float32")),
        ("bf16", Device("cpu", "bfloat16", "autocast")),
        ("bf16-weights", Device("cpu", "bfloat16", "weights")),
    ],
)
def test_cpu_policy(precision, expected):
    assert pick_device("cpu", precision) == expected


@pytest.mark.parametrize(
    ("precision", "label"),
    [
        ("auto", "fp16-weights"),
        ("fp16", "fp16-weights"),
        ("bf16", "bf16-weights"),
        ("fp32", "fp32"),
        ("bf16-autocast", "bf16-autocast"),
    ],
)
def test_cuda_policy(fake_cuda, precision, label):
    fake_cuda()
    device = pick_device("cuda:1", precision)
    assert (device.name, device.precision) == ("cuda:1", label)


def test_a_recorded_label_reproduces_its_device(fake_cuda):
    fake_cuda()
    for requested, precision in [
        ("cpu", "bf16"),
        ("cpu", "fp32"),
        ("cuda", "auto"),
        ("cuda", "bf16-autocast"),
    ]:
        device = pick_device(requested, precision)
        assert pick_device(requested, device.precision) == device


@pytest.mark.parametrize(
    ("requested", "precision", "message"),
    [
        ("cpu", "fp16", "fp16 needs a CUDA device"),
        ("cpu", "fp64", "expected one of auto, fp32, bf16, fp16"),
        ("cpu", "fp32-autocast", "expected one of"),
        ("cpu", "bf16-fast", "expected one of"),
        ("cuda", "bf16", "no bf16 support"),
    ],
)
def test_impossible_requests_are_one_line_errors(fake_cuda, requested, precision, message):
    fake_cuda(bf16=False)
    with pytest.raises(XretError, match=message):
        pick_device(requested, precision)


def test_cuda_without_a_device_is_an_error(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(XretError, match="no CUDA device"):
        pick_device("cuda", "bf16")


def test_cpu_flags_and_kernels(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16 avx512_bf16 amx_tile\n")
    assert cpu_flags(info) == ("amx_bf16", "amx_tile", "avx2", "avx512_bf16", "fpu")
    assert cpu_flags(tmp_path / "absent") == ()
    kernels = cpu_kernels()
    assert kernels["torch_cpu_capability"] and isinstance(kernels["bf16_units"], bool)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    from benchmarks.gpu_check import TINY, build_model

    return build_model(TINY, 200, tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def vectors(tiny_folder):
    """fp32, bf16-weights and bf16-autocast vectors of the same texts, with the models' dtype."""
    import torch

    from xret.models.providers.st import load_sentence_transformer
    from xret.models.spec import ModelSpec, Role

    spec = ModelSpec(name="tiny", provider="st", source=str(tiny_folder), revision="r")
    texts = [" ".join(f"w{(i * 7 + j) % 200}" for j in range(5 + i % 9)) for i in range(24)]
    out = {}
    for precision in ("fp32", "bf16-weights", "bf16-autocast"):
        encoder = load_sentence_transformer(spec, tiny_folder, pick_device("cpu", precision))
        dtype = next(encoder.model.parameters()).dtype
        out[precision] = (dtype, encoder.encode(texts, Role.DOCUMENT))
    assert torch.get_default_dtype() == torch.float32
    return out


@pytest.mark.slow
def test_the_provider_runs_the_resolved_precision(vectors):
    import torch

    dtypes = [dtype for dtype, _ in vectors.values()]
    assert dtypes == [torch.float32, torch.bfloat16, torch.float32]
    fp32 = vectors["fp32"][1]
    for precision in ("bf16-weights", "bf16-autocast"):
        got = vectors[precision][1]
        assert got.dtype == np.float32 and got.shape == fp32.shape
        assert not np.array_equal(got, fp32), f"{precision} computed in fp32"
        norms = np.linalg.norm(got, axis=1) * np.linalg.norm(fp32, axis=1)
        cosine = np.sum(got * fp32, axis=1) / norms
        assert cosine.min() > 0.99


def test_cli_rejects_fp16_on_cpu_in_one_line(xret_cli, tmp_path):
    from xret.testing import write_lareqa_task

    task = write_lareqa_task(
        tmp_path / "task",
        {
            "en": [
                {"sentences": ["Cats purr.", "Dogs bark."], "questions": [("q0", "Who purrs?", 0)]}
            ]
        },
    )
    code, out, err = xret_cli(
        "bench",
        "-m",
        "xret.testing:HashEncoder",
        "-t",
        f"lareqa:{task}",
        "--device",
        "cpu",
        "--precision",
        "fp16",
        "-q",
        "--cache-dir",
        str(tmp_path / "c"),
        "--results-dir",
        str(tmp_path / "r"),
    )
    assert code != 0 and err.strip().splitlines() == [
        "xret: error: --precision fp16: this model chooses its own device and precision; "
        "leave --precision at auto"
    ]  # a module:attr encoder: never silently ignored
    with pytest.raises(
        XretError, match="--precision fp16 needs a CUDA device; on a CPU use bf16 or fp32"
    ):
        pick_device("cpu", "fp16")


def test_precision_is_part_of_every_key():
    """bf16 autocast and bf16 weights give different vectors than fp32 and than each other, so
    their cache namespaces and result identities differ; fp32 and fp16 keys read as before."""
    from xret.models.spec import ModelSpec, Role

    spec = ModelSpec(name="m", provider="sentence-transformers", source="m", revision="r")
    devices = [
        Device("cpu", "float32"),
        Device("cpu", "bfloat16", "autocast"),
        Device("cpu", "bfloat16", "weights"),
        Device("cuda", "float16"),
    ]
    assert [d.key for d in devices] == ["float32", "bfloat16-autocast", "bfloat16", "float16"]
    assert len({spec.embedding_namespace(Role.QUERY, d.key) for d in devices}) == 4
    assert len({str(spec.identity(d.key)) for d in devices}) == 4


@pytest.mark.slow
def test_a_bf16_run_after_an_fp32_run_is_a_new_result(xret_cli, tmp_path):
    from xret.results.store import load_record
    from xret.testing import tiny_sentence_transformer, write_lareqa_task

    model = tiny_sentence_transformer(tmp_path / "tiny")
    task = write_lareqa_task(
        tmp_path / "task",
        {
            "en": [
                {"sentences": ["Cats purr.", "Dogs bark."], "questions": [("q0", "Who purrs?", 0)]}
            ]
        },
    )
    common = (
        "bench",
        "-m",
        str(model),
        "-t",
        f"lareqa:{task}",
        "-q",
        "--cache-dir",
        str(tmp_path / "c"),
        "--results-dir",
        str(tmp_path / "r"),
        "--device",
        "cpu",
    )
    assert xret_cli(*common)[0] == 0
    code, _, err = xret_cli(*common, "--precision", "bf16")
    assert code == 0 and "already done" not in err, err
    records = [load_record(p) for p in (tmp_path / "r").rglob("*.json")]
    assert sorted(r.provenance.precision for r in records) == ["bf16-autocast", "fp32"]
    assert all(r.provenance.encode["encoded"] > 0 for r in records)  # no vectors shared
