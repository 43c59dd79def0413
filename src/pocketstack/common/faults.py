"""The seams between fault injection (:mod:`pocketstack.faults`) and the rest: what it
raises, and the fail points of the workers that do asynchronous work.

A worker calls ``faults.check(service, operation)`` where the operation's real work
starts (a server's spawn, a volume's creation or backup, an image's import); when an
``async_failure`` rule fires, that raises :class:`InjectedFault`, and the worker's own
error path records the failure as it would any driver's (the server in ERROR with a
fault, the volume in ``error``).  Services depend on this module only, as on
``common/errors.py``.
"""

from __future__ import annotations

from typing import Protocol


class ConnectionDropped(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Raised by a ``drop`` rule up through the app to :class:`~.asgi.DroppingApp`.  Not
    an ``Exception``: the request wrapper and Starlette's error middleware answer those
    with a 500, and a dropped connection must answer nothing."""


class InjectedFault(Exception):
    """An asynchronous operation failed because a fault rule said so."""


class FailPoints(Protocol):
    def check(self, service: str, operation: str) -> None:
        """Raise :class:`InjectedFault` if a rule fails this operation now."""


class NoFaults:
    """Fail points that never fire (a worker built without a cloud's rules)."""

    def check(self, service: str, operation: str) -> None:
        return None


NO_FAULTS: FailPoints = NoFaults()
