"""A local Ray start leaves Ray's token-authentication notice out of the log (no runtime here:
a stand-in for ``ray`` that logs it as Ray 2.60 does)."""

from __future__ import annotations

import sys

import pytest


class _FakeRay:
    """What ray.init of Ray 2.60 does at a local start: warn that token authentication is on."""

    def __init__(self):
        self.started = False

    def is_initialized(self):
        return self.started

    def init(self, **kwargs):
        import logging

        from xret.cluster.runtime import TOKEN_AUTH_LOGGER

        logging.getLogger(TOKEN_AUTH_LOGGER).warning("Token authentication is enabled for ...")
        self.started = True

    def cluster_resources(self):
        return {"CPU": 2.0}


@pytest.mark.parametrize("address, shown", [("local", False), ("ray://head:10001", True)])
def test_the_token_auth_notice_is_left_out_of_a_local_start(monkeypatch, caplog, address, shown):
    from xret.cluster.runtime import ClusterOptions, connect

    monkeypatch.setitem(sys.modules, "ray", _FakeRay())
    monkeypatch.setattr("xret.cluster.runtime.probe", lambda address: None)  # no cluster here
    with caplog.at_level("INFO"):
        connect(ClusterOptions(address=address))
    assert ("Token authentication" in caplog.text) == shown  # a cluster's own security: shown
