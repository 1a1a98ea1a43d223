"""Connecting to Ray: a local runtime or an existing cluster, sized once, shared by a whole run."""

from __future__ import annotations

import logging
import signal
import threading
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


PROBE_SECONDS = 10.0
"""How long a cluster's address may take to accept a connection before ``--ray`` gives up
(Ray itself retries for minutes when nothing listens)."""


def probe(address: str) -> None:
    """Refuse an explicit ``[ray://]host:port`` where nothing accepts a connection."""
    import socket

    host, colon, port = address.removeprefix("ray://").rpartition(":")
    if not colon or not port.isdigit():
        return  # not host:port (e.g. auto): Ray resolves it
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except OSError as err:
        reason = "timed out" if isinstance(err, TimeoutError) else err.strerror or str(err)
        raise XretError(
            f"--ray {address}: nothing answers there ({reason}); start the cluster "
            "(ray start --head) or check the address"
        ) from None


@contextmanager
def _own_sigterm() -> Iterator[None]:
    """Keep the SIGTERM handler this process had: ``ray.init`` installs one that exits with 1
    (after a dump from Ray's C++ side) where xret ends an interrupted run in one line with 143,
    keeping its finished work. Ray's own clean-up still runs, at exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, handler)


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
        if options.address != LOCAL:
            probe(options.address)
        common = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        with _own_sigterm():
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
