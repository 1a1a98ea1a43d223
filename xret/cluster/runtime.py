"""Connecting to Ray: a local runtime or an existing cluster, sized once, shared by a whole run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from xret.errors import XretError

LOCAL = "local"
"""``--ray`` without an address: start a Ray runtime on this machine."""


@dataclass(frozen=True)
class ClusterOptions:
    address: str = LOCAL
    """``local``, ``auto`` (the cluster this machine belongs to) or ``ray://host:port``."""
    workers: int | None = None
    """Encoding actors (None: one per GPU of the cluster, else one per ``cpus`` CPUs; locally 1)."""
    cpus: int = 1
    """CPUs per CPU actor (its torch threads)."""

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1 or self.cpus < 1:
            raise XretError("--ray-workers and --ray-cpus must be positive")


@dataclass(frozen=True)
class Placement:
    """Where encoding runs: what a record states and what each actor asks Ray for."""

    workers: int
    gpus: bool


def ray_module():
    try:
        import ray
    except ImportError:
        raise XretError("--ray needs Ray: pip install 'xret[ray]'") from None
    return ray


TOKEN_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"
"""It warns at every local start that token authentication is on (a runtime of this process,
on this machine): noise in every log. Against a cluster (an address) its warnings stay."""


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def connect(options: ClusterOptions) -> Placement:
    """Join (or start) the runtime unless this process already has one; size the actor pool."""
    ray = ray_module()
    if not ray.is_initialized():
        common = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        try:
            if options.address == LOCAL:
                # A shared machine: only the CPUs the workers need (plus none for the driver).
                with _quiet(TOKEN_AUTH_LOGGER):
                    ray.init(num_cpus=(options.workers or 1) * options.cpus, **common)
            else:
                ray.init(address=options.address, **common)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise XretError(f"--ray {options.address}: cannot connect ({err})") from None
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    workers = options.workers or gpus or max(1, int(resources.get("CPU", 1)) // options.cpus)
    return Placement(workers=workers, gpus=gpus > 0)
