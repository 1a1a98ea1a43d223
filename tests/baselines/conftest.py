from __future__ import annotations

from pathlib import Path

import pytest

from xret import paths


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = paths.data_dir()
    if found is None:
        pytest.skip("XRET_DATA_DIR not set: real-data test skipped")
    return found
