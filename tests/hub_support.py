"""Shared by the hub tests (tests/test_hub.py): the proxy they need.

The hub tests start a real JupyterHub behind a real configurable-http-proxy (npm). Where it is
not installed they skip, saying how to install it; in CI (``$CI``: its ``.ci/run`` installs npm, and
``make test`` the proxy, :func:`nls_lessons.setup.test_proxy`) a missing proxy is a failure.
"""
from __future__ import annotations

import os

import pytest


def hub_proxy():
    """configurable-http-proxy's command, or skip (fail in CI) with the reason and the fix."""
    from nls_lessons.publish import hub

    try:
        return hub.find_proxy()
    except hub.HubConfigError as err:
        message = f"the hub tests need the npm proxy: {err}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
