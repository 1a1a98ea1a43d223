"""One Ray runtime per test module (two CPUs: this machine is shared), shut down after it.

Every Ray test is marked ``ray``; they skip visibly where Ray is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xret.cluster.encode import release
from xret.testing import KILL_SWITCH


@pytest.fixture(scope="module")
def kill_switch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kill-switch")


@pytest.fixture(scope="module")
def ray_runtime(kill_switch):
    """A local runtime; the kill switch folder reaches every worker through its environment."""
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {KILL_SWITCH: str(kill_switch)}},
    )
    yield ray
    release()
    ray.shutdown()
