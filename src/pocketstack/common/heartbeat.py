"""Which hosts of a service are alive: coordination group membership plus a heartbeat.

A worker process joins its service's group (``<cluster_name>-compute``) with the hosts it
runs as its capabilities, and heartbeats every ``heartbeat_interval`` seconds.  With
Redis a member whose heartbeats stop expires ``service_down_time`` after the last one
(tooz ``membership_timeout``), so a SIGKILLed process drops out on its own; a clean stop
leaves the group at once.  The file backend of the all-in-one cloud has no expiry: there
the hosts live and die with the one process that reads their state.

Readers (:class:`Liveness`) ask for the hosts of all live members; the answer is cached
for a second, because the scheduler asks once per candidate host.  A process's own hosts
are up for it while it runs them, whatever the backend says (the file backend cannot
update a member's capabilities, so adding a host there means leaving and joining again).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import tooz
from tooz import coordination

from pocketstack.common.coordination import Coordinator

LOG = logging.getLogger(__name__)
CACHE_SECONDS = 1.0


def group_name(cluster_name: str, service: str) -> str:
    return f"{cluster_name}-{service}"


def _encode(hosts: set[str]) -> bytes:
    return json.dumps({"hosts": sorted(hosts)}).encode()


def _decode(capabilities: Any) -> set[str]:
    try:
        return set(json.loads(capabilities)["hosts"])
    except (TypeError, ValueError, KeyError):
        return set()  # a member of another kind (or version) in the group: no hosts


class Heartbeat:
    """This process's membership of ``group``, kept alive by a heartbeat loop."""

    def __init__(self, coordinator: Callable[[], Coordinator], group: str, interval: float):
        self._coordinator = coordinator  # a factory: the coordinator starts on first use
        self.group = group
        self.interval = interval
        self._hosts: set[str] = set()
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def hosts(self) -> set[str]:
        with self._lock:
            return set(self._hosts)

    async def start(self, hosts: set[str]) -> None:
        """Join (so the hosts are up as soon as this returns), then beat in the background."""
        with self._lock:
            self._hosts |= hosts
        await asyncio.to_thread(self._join)
        self._task = asyncio.get_running_loop().create_task(self._beat(), name=f"heartbeat {self.group}")

    def add_host(self, host: str) -> None:
        """Announce one more host (blocking: call from a worker thread)."""
        with self._lock:
            self._hosts.add(host)
            capabilities = _encode(self._hosts)
        self._announce(capabilities)

    def remove_host(self, host: str) -> None:
        """Stop announcing one host while the process lives on: to everyone else its
        service stopped checking in (blocking: call from a worker thread)."""
        with self._lock:
            self._hosts.discard(host)
            capabilities = _encode(self._hosts)
        self._announce(capabilities)

    def _announce(self, capabilities: bytes) -> None:
        if self._task is None:
            return  # start() joins with every host
        coordinator = self._coordinator()
        try:
            coordinator.update_capabilities(self.group, capabilities)
        except tooz.NotImplemented:
            coordinator.leave(self.group)
            coordinator.join(self.group, capabilities)

    def _join(self) -> None:
        coordinator = self._coordinator()
        coordinator.join(self.group, _encode(self.hosts))

    def beat(self) -> None:
        """One heartbeat.  Joining again is a no-op while we are a member, and brings us
        back if the backend dropped us (heartbeats lost for longer than the timeout)."""
        coordinator = self._coordinator()
        coordinator.heartbeat()
        coordinator.join(self.group, _encode(self.hosts))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.beat)
            except coordination.ToozError as error:
                LOG.warning("heartbeat of %s failed (retrying in %ss): %s", self.group, self.interval, error)

    async def stop(self) -> None:
        """Stop beating and leave the group: the hosts are down at once."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        try:
            await asyncio.to_thread(self._coordinator().leave, self.group)
        except coordination.ToozError as error:
            LOG.warning("could not leave %s (members expire on their own): %s", self.group, error)


class Liveness:
    """The hosts of ``group``'s live members, as any process sees them."""

    def __init__(self, coordinator: Callable[[], Coordinator], group: str, own: Heartbeat | None = None):
        self._coordinator = coordinator
        self.group = group
        self._own = own
        self._lock = threading.Lock()
        self._cached: tuple[float, set[str]] | None = None

    def alive(self) -> set[str]:
        own = self._own.hosts if self._own is not None else set()
        return self._members_hosts() | own

    def _members_hosts(self) -> set[str]:
        with self._lock:
            cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            members = self._coordinator().capabilities(self.group)
        except coordination.ToozError as error:
            # Unreachable coordination: the last answer if there is one, else nobody is
            # known to be up (reported down, not scheduled to) rather than an error.
            LOG.warning("cannot read the members of %s: %s", self.group, error)
            return cached[1] if cached is not None else set()
        hosts = set().union(*map(_decode, members.values())) if members else set()
        with self._lock:
            self._cached = (time.monotonic(), hosts)
        return hosts

    def forget(self) -> None:
        """Drop the cached answer (this process just changed its own membership)."""
        with self._lock:
            self._cached = None
