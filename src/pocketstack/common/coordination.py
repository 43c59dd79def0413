"""Distributed locks and service liveness through tooz.

Every service that must not do the same thing twice across processes (two volume
services on one backend, two schedulers) takes a tooz lock instead of a local file
lock, so it can run active/active on several hosts.  Workers also join a group per
service and heartbeat; a member that stops heartbeating drops out of the group after
the backend's timeout, which is how the cloud reports a host down and stops
scheduling to it.

Backends by URL: ``file://DIR`` (all-in-one: locks across processes of one machine,
membership without expiry), ``redis://host:6379?timeout=10``,
``etcd3+http://host:2379`` (needs the ``etcd`` extra), ``zookeeper://host:2181``
(``zookeeper`` extra).  tooz calls block, so async callers use the ``a*`` methods,
which run them in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs

from oslo_utils import netutils
from tooz import coordination

LOG = logging.getLogger(__name__)


class LockTimeout(Exception):
    """A lock could not be acquired within the requested time."""


def _driver(url: str, member_id: bytes) -> coordination.CoordinationDriver:
    """tooz's driver for ``url``.  ``file://`` (the all-in-one's default) gets tooz's file
    driver directly, with the arguments ``get_coordinator`` gives it: ``get_coordinator``
    finds drivers through stevedore, which reads the entry points of every installed
    distribution -- 45-100 ms of every start, for the one name known here."""
    parsed = netutils.urlsplit(url)
    if parsed.scheme != "file":
        return coordination.get_coordinator(url, member_id)
    from tooz.drivers.file import FileDriver

    # The file driver's group calls run in the calling thread (``executor=synchronous``,
    # unless the URL says otherwise): each is a few file operations whose result is
    # waited for at once, and tooz's default thread pool made every stop wait a second
    # for its idle worker to notice (futurist polls its queue once a second).
    return FileDriver(member_id, parsed, {"executor": ["synchronous"], **parse_qs(parsed.query)})


class Coordinator:
    def __init__(self, url: str, member_id: str):
        self.url = url
        self.member_id = member_id
        self._coordinator = _driver(url, member_id.encode())
        self._groups: set[str] = set()
        self._started = False

    def start(self) -> None:
        # tooz's own heartbeat thread keeps memberships and locks alive.
        self._coordinator.start(start_heart=True)
        self._started = True

    def stop(self) -> None:
        if not self._started:
            return
        for group in list(self._groups):
            with contextlib.suppress(coordination.ToozError):
                self.leave(group)
        self._coordinator.stop()
        self._started = False

    # -- locks -----------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, name: str, timeout: float | None = None) -> Iterator[None]:
        """Hold the cluster-wide lock ``name``; ``timeout=None`` waits for ever."""
        lock = self._coordinator.get_lock(name.encode())
        if not lock.acquire(blocking=True if timeout is None else timeout):
            raise LockTimeout(f"could not acquire lock {name!r} within {timeout}s")
        try:
            yield
        finally:
            lock.release()

    @contextlib.asynccontextmanager
    async def alock(self, name: str, timeout: float | None = None) -> AsyncIterator[None]:
        lock = self._coordinator.get_lock(name.encode())
        acquired = await asyncio.to_thread(lock.acquire, True if timeout is None else timeout)
        if not acquired:
            raise LockTimeout(f"could not acquire lock {name!r} within {timeout}s")
        try:
            yield
        finally:
            await asyncio.to_thread(lock.release)

    def try_lock(self, name: str) -> Any | None:
        """The cluster-wide lock ``name`` if it is free now, held until its ``release()``;
        else None.  Leader election by lock, as tooz's Redis driver elects, on every
        backend: the holder leads; a dead holder's lock goes with its process (file) or
        expires with its heartbeats (Redis)."""
        lock = self._coordinator.get_lock(name.encode())
        return lock if lock.acquire(blocking=False) else None

    # -- membership ------------------------------------------------------------------
    def join(self, group: str, capabilities: bytes = b"") -> None:
        with contextlib.suppress(coordination.GroupAlreadyExist):
            self._coordinator.create_group(group.encode()).get()
        with contextlib.suppress(coordination.MemberAlreadyExist):
            self._coordinator.join_group(group.encode(), capabilities).get()
        self._groups.add(group)

    def leave(self, group: str) -> None:
        with contextlib.suppress(coordination.MemberNotJoined, coordination.GroupNotCreated):
            self._coordinator.leave_group(group.encode()).get()
        self._groups.discard(group)

    def members(self, group: str) -> set[str]:
        """Live members of ``group`` (empty if nobody ever joined)."""
        try:
            return {m.decode() for m in self._coordinator.get_members(group.encode()).get()}
        except coordination.GroupNotCreated:
            return set()

    def update_capabilities(self, group: str, capabilities: bytes) -> None:
        self._coordinator.update_capabilities(group.encode(), capabilities).get()

    def capabilities(self, group: str) -> dict[str, bytes]:
        """Live members of ``group`` and the capabilities each joined with."""
        found = {}
        for member in self.members(group):
            with contextlib.suppress(coordination.MemberNotJoined, coordination.GroupNotCreated):
                found[member] = self._coordinator.get_member_capabilities(group.encode(), member.encode()).get()
        return found

    def heartbeat(self) -> None:
        """Tell the backend this member is alive (what tooz's heart thread also does)."""
        self._coordinator.heartbeat()

    async def ajoin(self, group: str, capabilities: bytes = b"") -> None:
        await asyncio.to_thread(self.join, group, capabilities)

    async def amembers(self, group: str) -> set[str]:
        return await asyncio.to_thread(self.members, group)
