"""The default driver: applies nothing, records every change it receives.

Useful on a laptop (no data plane needed) and in tests, which assert on ``events`` that
the service told the datapath exactly what changed.
"""

from __future__ import annotations

import threading
from collections import deque

from pocketstack.network.drivers.base import DatapathDriver

_EVENTS = ("network_updated", "network_deleted", "port_updated", "port_deleted", "router_updated",
           "router_deleted", "floatingip_updated", "floatingip_deleted", "security_group_updated",
           "security_group_deleted")


class NoopDriver(DatapathDriver):
    name = "noop"

    def __init__(self, keep: int = 10000):
        # Bounded so a long-running cloud does not grow without limit.
        self.events: deque[tuple[str, dict]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def _record(self, event: str, payload: dict) -> None:
        with self._lock:
            self.events.append((event, payload))

    def sync(self, state: dict[str, list[dict]]) -> None:
        self._record("sync", state)

    def of(self, event: str, resource_id: str | None = None) -> list[dict]:
        """The payloads of ``event`` received so far (for one resource id if given)."""
        with self._lock:
            return [p for e, p in self.events if e == event and (resource_id is None or p.get("id") == resource_id)]


def _recorder(event: str):
    def method(self: NoopDriver, payload: dict) -> None:
        self._record(event, payload)
    method.__name__ = event
    return method


for _event in _EVENTS:
    setattr(NoopDriver, _event, _recorder(_event))
