"""Group commit: concurrent changes to one database applied together.

A database takes one writer at a time, so sixteen threads writing to one container
would otherwise wait for each other's transactions in turn.  With a :class:`Batcher`
the thread that finds the database free applies every change queued for it so far in
one call (one transaction), while the others wait; each caller returns when the batch
holding its change has committed (or raises what the batch raised), so nothing is
acknowledged before it is stored.  A thread leads at most the one batch that holds its
own change; whatever arrives meanwhile forms the next batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class _Entry:
    __slots__ = ("item", "done", "error")

    def __init__(self, item: Any):
        self.item = item
        self.done = False
        self.error: BaseException | None = None


class Batcher:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queued: dict[Hashable, list[_Entry]] = {}
        self._busy: set[Hashable] = set()

    def run(self, key: Hashable, item: Any, apply: Callable[[list[Any]], None]) -> None:
        """Apply ``item`` (with whatever else is queued for ``key``) through ``apply``."""
        entry = _Entry(item)
        with self._cond:
            self._queued.setdefault(key, []).append(entry)
            while not entry.done and key in self._busy:
                self._cond.wait()
            if not entry.done:
                self._busy.add(key)
                batch = self._queued.pop(key)
        if not entry.done:
            error = None
            try:
                apply([e.item for e in batch])
            except BaseException as exc:  # noqa: BLE001 - handed to every caller in the batch
                error = exc
            with self._cond:
                for queued in batch:
                    queued.done, queued.error = True, error
                self._busy.discard(key)
                self._cond.notify_all()
        if entry.error is not None:
            raise entry.error
