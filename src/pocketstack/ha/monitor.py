"""The host monitor: tells a failed host apart from a compute service that stopped.

Two independent signals per host:

1. its compute service checks in (coordination-group membership with a heartbeat,
   :mod:`pocketstack.common.heartbeat`), and an operator has not forced it down;
2. the machine itself is alive (:meth:`ComputeContract.host_alive`): the fake driver's
   simulated machine, or -- for QEMU hosts on this machine -- any of its guests' QEMU
   processes still running.

A host whose service is down is a suspect; one still a suspect after ``ha_confirm_count``
looks in a row and ``ha_grace_period`` seconds has failed when its machine reads as dead,
and a ``COMPUTE_HOST`` notification opens its recovery.  A machine that is alive (or that
cannot be read) means only the service stopped: its guests may run on, so it is reported
(a ``PROCESS`` notification, ``ignored``) and nothing is evacuated.  Disabled hosts are in
maintenance, fenced already or reserved (:mod:`.failover`), and are not watched; nor are
hosts on maintenance in their failover segment (as Masakari ignores them).  A host whose
service checks in again closes its failure episodes, so a later failure is reported anew.
"""

from __future__ import annotations

import logging
import time

from pocketstack.common.config import Settings
from pocketstack.compute.contract import ComputeContract, HostRef
from pocketstack.ha.notifications import Notifications
from pocketstack.ha.segments import Segments

LOG = logging.getLogger(__name__)
CHECK_TASK = "CheckHostAliveTask"


def host_key(host: str) -> str:
    return f"host:{host}"


def process_key(host: str) -> str:
    return f"process:{host}"


class HostMonitor:
    def __init__(self, compute: ComputeContract, notifications: Notifications, segments: Segments,
                 settings: Settings):
        self.compute = compute
        self.notifications = notifications
        self.segments = segments
        self.confirm_count = max(1, settings.ha_confirm_count)
        self.grace = settings.ha_grace_period
        # host -> (looks in a row with the service down, when first seen so); in memory:
        # a new leader confirms again from scratch, which only delays, never repeats.
        self._suspects: dict[str, tuple[int, float]] = {}

    def survey(self) -> None:
        """One look at every compute host (blocking)."""
        open_keys = self.notifications.open_keys()
        maintenance = self.segments.on_maintenance()
        for host in self.compute.compute_hosts():
            if host.disabled or host.host in maintenance:
                self._suspects.pop(host.host, None)
            elif host.service_up and not host.forced_down:
                self._healthy(host, open_keys)
            elif self._confirmed(host.host):
                self._failed(host, open_keys)

    def _healthy(self, host: HostRef, open_keys: set[str]) -> None:
        self._suspects.pop(host.host, None)
        for key in (host_key(host.host), process_key(host.host)):
            if key in open_keys:
                self.notifications.close_episode(key)

    def _confirmed(self, host: str) -> bool:
        now = time.monotonic()
        count, since = self._suspects.get(host, (0, now))
        self._suspects[host] = (count + 1, since)
        return count + 1 >= self.confirm_count and now - since >= self.grace

    def _failed(self, host: HostRef, open_keys: set[str]) -> None:
        alive = self.compute.host_alive(host.host)
        service = "forced down" if host.forced_down else "stopped checking in"
        if alive is False:
            if host_key(host.host) in open_keys:
                return
            created = self.notifications.create(
                "COMPUTE_HOST", host.host, host.id, {"event": "STOPPED", "host_status": "UNKNOWN",
                                                     "cluster_status": "OFFLINE"},
                status="new", stage="new", open_key=host_key(host.host),
                log=(CHECK_TASK, "SUCCESS", f"compute service of {host.host} {service} and the host is dead"))
            if created is not None:
                LOG.warning("instance HA: host %s failed (notification %s)", host.host, created.notification_uuid)
            return
        if process_key(host.host) in open_keys:
            return
        seen = "is alive" if alive else "cannot be read"
        created = self.notifications.create(
            "PROCESS", host.host, host.id, {"event": "STOPPED", "process_name": "nova-compute"},
            status="ignored", stage="done", open_key=process_key(host.host),
            log=(CHECK_TASK, "SUCCESS", f"compute service of {host.host} {service} but the host {seen}: its guests "
                                        "may be running, nothing is evacuated"))
        if created is not None:
            LOG.warning("instance HA: compute service of %s %s; the host %s: not evacuated", host.host, service, seen)
