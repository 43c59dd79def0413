"""Helpers shared by the test suite.

``require_service`` is how a test says it needs one of the machine's real services
(PostgreSQL, MariaDB, RabbitMQ, Redis).  On CI (``CI=true``) a missing service is a
failure, because CI must exercise every backend; on a developer's machine without it the
test is skipped with a reason that says what to start.
"""

from __future__ import annotations

import os
import socket

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
