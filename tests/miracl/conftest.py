"""Tiny FAISS searches on a shared machine: one OpenMP thread avoids its wake-up cost (x50)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_faiss_thread():
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)
