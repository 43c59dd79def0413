"""The default driver: applies nothing, records every change it receives.

Useful on a laptop (no data plane needed) and in tests, which assert on ``events`` that
the service told the datapath exactly what changed.  Given a ``journal`` path it also
appends each change as a JSON line, so what a separate network agent process received
can be read from outside it (``<data_dir>/datapath-journal.jsonl``).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from pathlib import Path

from pocketstack.network.drivers.base import EVENTS, DatapathDriver


class NoopDriver(DatapathDriver):
    name = "noop"

    def __init__(self, keep: int = 10000, journal: Path | None = None):
        # Bounded so a long-running cloud does not grow without limit.
        self.events: deque[tuple[str, dict]] = deque(maxlen=keep)
        self.journal = journal
        self._lock = threading.Lock()

    def _record(self, event: str, payload: dict) -> None:
        with self._lock:
            self.events.append((event, payload))
            if self.journal is not None:
                with self.journal.open("a") as journal:
                    journal.write(json.dumps({"event": event, "payload": payload}, default=str) + "\n")

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


for _event in EVENTS:
    setattr(NoopDriver, _event, _recorder(_event))
