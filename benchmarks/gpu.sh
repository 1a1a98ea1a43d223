#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py): one command, ≤ 8 minutes on one H200, JSON out.
#   bash benchmarks/gpu.sh [--out FILE]     (default: $OUT/gpu-check.json, else ./gpu-check.json)
# Needs torch, transformers and sentence-transformers; xret runs from this source tree.
# Without CUDA it fails in one line before any work; --cpu runs the tiny smoke check instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
out="${OUT:-.}/gpu-check.json"
exec "${PYTHON:-python3}" -m benchmarks.gpu_check --out "$out" "$@"
