"""Helpers shared by the test suite.

``require_service`` is how a test says it needs one of the machine's real services
(PostgreSQL, MariaDB, RabbitMQ, Redis), ``require_tools`` the programs of Debian packages
(QEMU, mtools ...).  On CI (``CI=true``) a missing service is a
failure, because CI must exercise every backend; on a developer's machine without it the
test is skipped with a reason that says what to start.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

SERVICES = {
    "postgresql": ("127.0.0.1", 5432),
    "mariadb": ("127.0.0.1", 3306),
    "rabbitmq": ("127.0.0.1", 5672),
    "redis": ("127.0.0.1", 6379),
}


def service_reachable(name: str, timeout: float = 1.0) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip (or, on CI, fail) the calling test unless service ``name`` answers."""
    if service_reachable(name):
        return
    host, port = SERVICES[name]
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true requires every backend)", pytrace=False)
    pytest.skip(message + "; start it to run this test")


def require_tools(tools: Mapping[str, str], why: str) -> None:
    """Skip (or, on CI, fail) the calling test unless every program in ``tools`` (program
    -> the Debian package that provides it; .ci/run installs them) is installed."""
    missing = sorted({package for tool, package in tools.items()
                      if shutil.which(tool) is None and not Path("/sbin", tool).exists()})
    if not missing:
        return
    message = f"{why} needs the Debian packages {', '.join(missing)}"
    if IN_CI:
        pytest.fail(message + " (CI=true: .ci/run installs them)", pytrace=False)
    pytest.skip(message + "; apt-get install them to run this test")


def require_netns(tools: Mapping[str, str], why: str) -> None:
    """``require_tools``, and root: what tests that make network namespaces need (the
    Linux datapath, hosts in namespaces).  On CI a missing one is a failure."""
    require_tools(tools, why)
    if os.geteuid() != 0:
        message = f"{why} needs root (network namespaces)"
        if IN_CI:
            pytest.fail(message + " (CI=true)", pytrace=False)
        pytest.skip(message)


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command (``ip``, ``nft``...) and capture its output; a failure raises with its
    stderr unless ``check`` is false."""
    result = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {result.stderr}")
    return result
