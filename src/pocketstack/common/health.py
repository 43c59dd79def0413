"""Health checks and their answer in oslo.middleware's healthcheck format.

A probe is a list of :class:`Check` results: the process's liveness (it serves and
reaches its database) or its readiness (every service started, every worker up; see
:meth:`pocketstack.cloud.Cloud.readiness`).  :func:`answer` renders them as
oslo.middleware's ``healthcheck`` app does, so load balancers and scripts written for
OpenStack's services work unchanged: ``GET`` answers ``200 OK`` (text/plain) or ``503``
with the failing reasons, one per line; ``HEAD`` answers ``204`` or ``503`` without a
body; ``Accept: application/json`` gets ``{"detailed": false, "reasons": [...]}``.
``?detailed`` gets oslo's detailed JSON (every check as a reason with its details; the
thread stacks oslo adds are left out: they would show a process's internals to anyone).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import platform
import sys
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True)
class Check:
    """One thing a probe looked at, and what it saw (``details``)."""

    name: str  # "database", "compute.hosts"
    ok: bool
    details: str = ""

    @property
    def reason(self) -> str:
        return "OK" if self.ok else f"{self.name}: {self.details or 'unavailable'}"


def task_running(name: str, task: asyncio.Task[Any] | None) -> Check:
    """A background task that should run for the life of the process."""
    if task is None:
        return Check(name, False, "not started")
    if task.done():
        return Check(name, False, "stopped" if task.cancelled() or task.exception() is None
                     else f"failed: {type(task.exception()).__name__}")
    return Check(name, True, "running")


def answer(request: Request, checks: list[Check]) -> Response:
    """``checks`` as oslo.middleware's healthcheck answers them."""
    healthy = all(check.ok for check in checks)
    if request.method == "HEAD":
        return Response(status_code=204 if healthy else 503, media_type="text/plain")
    status = 200 if healthy else 503
    reasons = ["OK"] if healthy else [check.reason for check in checks if not check.ok]
    if "detailed" in request.query_params and request.query_params["detailed"].lower() not in ("0", "false", "no"):
        return _json(_detailed(checks), status)
    if _prefers_json(request.headers.get("accept", "")):
        return _json({"detailed": False, "reasons": reasons}, status)
    return Response("\n".join(reasons), status_code=status, media_type="text/plain")


def _prefers_json(accept: str) -> bool:
    """oslo offers text/plain first: JSON only when asked for more than plain text."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[media.strip().lower()] = quality
    return weights.get("application/json", 0.0) > max(weights.get("text/plain", 0.0), weights.get("text/*", 0.0))


def _detailed(checks: list[Check]) -> dict[str, Any]:
    return {
        "detailed": True,
        "now": str(dt.datetime.now(dt.UTC).replace(tzinfo=None)),
        "python_version": sys.version,
        "platform": platform.platform(),
        "gc": {"counts": list(gc.get_count()), "threshold": list(gc.get_threshold())},
        "reasons": [{"reason": "OK" if check.ok else "UNAVAILABLE", "details": check.details, "class": check.name}
                    for check in checks],
    }


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body, indent=4, sort_keys=True), status_code=status, media_type="application/json")
