"""benchmarks/gpu.sh: without CUDA it fails in one line before any work; its --cpu smoke run
exercises every section (build, engine vs plain encode, agreement, search) with tiny sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "gpu.sh"


def run_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path), "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_without_cuda_it_fails_in_one_line(tmp_path):
    done = run_script(tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "gpu_check: error: no CUDA device (torch.cuda.is_available() is False); "
        "--cpu runs the smoke check"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cpu_smoke_run_exercises_every_section(tmp_path):
    done = run_script(tmp_path, "--cpu")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    (arch,) = report["encode"].values()
    fp32 = arch["fp32"]
    assert fp32["device"] == "fp32" and fp32["tokens"] > 0
    for path in ("xret_engine", "sentence_transformers_encode"):
        assert fp32[path]["tokens_per_s"] > 0
    agreement = fp32["agreement"]
    assert agreement["cosine_min"] == pytest.approx(1.0) and agreement["MAP_delta"] == 0
    # The synthetic task is learnable by bag-of-words overlap: far above chance (≈ 0.04).
    assert agreement["MAP"] > 0.3
    search = report["search"]
    assert search["torch_fp32"]["recall_of_fp32_topk"] == 1.0
    assert search["torch_fp32"]["gold_at_1"] == 1.0
    assert "faiss_gpu" in search and report["machine"]["cpu"]["torch_cpu_capability"]
