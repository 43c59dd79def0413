"""Which HA process acts: the holder of one cluster-wide coordination lock.

Every HA process (each ``pocketstack ha``, or the all-in-one cloud) tries to take the lock
on each round and acts only while it holds it, so any number of them run active/active
and exactly one leads.  A leader that dies loses the lock with its process (file
backend) or when its heartbeats stop (Redis, etcd, ZooKeeper); the next one to try leads
and resumes the recoveries in progress from their persisted stage (:mod:`.recovery`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pocketstack.common.coordination import Coordinator

LOG = logging.getLogger(__name__)


class Leadership:
    def __init__(self, coordinator: Callable[[], Coordinator], name: str):
        self._coordinator = coordinator
        self.name = name
        self._lock: Any = None

    @property
    def leading(self) -> bool:
        return self._lock is not None

    def lead(self) -> bool:
        """Whether this process leads now, taking the lead if nobody holds it (blocking).
        A lock that expired under us (heartbeats lost) is leadership lost."""
        if self._lock is not None and not self._lock.is_still_owner():
            LOG.warning("instance HA: this process lost the lead")
            self._lock = None
        if self._lock is None:
            self._lock = self._coordinator().try_lock(self.name)
            if self._lock is not None:
                LOG.info("instance HA: this process leads (%s)", self._coordinator().member_id)
        return self._lock is not None

    def resign(self) -> None:
        """Let another process lead (a clean stop)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()
