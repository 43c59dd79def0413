"""Instance HA as one object: the record of failures (:mod:`.notifications`), the host
monitor, the fence drivers and the recovery, over the compute service's contract (which
must run in the same process: ``pocketstack ha`` builds it, as the scheduler does).

:meth:`InstanceHA.tick` is one round of the leading HA process: look at every host, then
take every open recovery as far as it goes.  The service runs it every
``ha_monitor_interval`` seconds while it leads (:mod:`.service`); tests call it directly.
The failover segments' hosts are changed here (:meth:`InstanceHA.create_host`...): a
host must be a compute host, and compute keeps ordinary boots off a reserved one.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pocketstack.common.config import Settings
from pocketstack.compute.contract import ComputeContract
from pocketstack.ha import errors
from pocketstack.ha.fencing import Fencers, chosen_drivers
from pocketstack.ha.models import Notification, SegmentHost
from pocketstack.ha.monitor import HostMonitor, host_key
from pocketstack.ha.notifications import Notifications
from pocketstack.ha.recovery import Recovery
from pocketstack.ha.recovery_policy import check
from pocketstack.ha.segments import Segments

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud

REPORTED = "ReportedByApiTask"
# Why a reserved host's compute service is disabled (:meth:`InstanceHA._reserve`).
RESERVED_REASON = "instance HA: reserved host of a failover segment, kept for recoveries"


class InstanceHA:
    def __init__(self, cloud: Cloud, settings: Settings | None = None):
        self.cloud = cloud
        self.settings = settings or cloud.settings  # tests give their own (a shorter confirmation, a mode)
        chosen_drivers(self.settings)  # a bad setting stops the process at start, not at the first failure
        check(self.settings)
        self.notifications = Notifications(cloud.db)
        self.segments = Segments(cloud.db)

    @property
    def compute(self) -> ComputeContract:
        compute = self.cloud.compute
        if compute is None:
            raise RuntimeError("instance HA needs the compute service in its process")
        return compute

    @functools.cached_property
    def monitor(self) -> HostMonitor:
        return HostMonitor(self.compute, self.notifications, self.segments, self.settings)

    @functools.cached_property
    def recovery(self) -> Recovery:
        return Recovery(self.notifications, self.compute, Fencers(self.settings, self.compute), self.settings,
                        self.segments, self.cloud.network, actor=self.cloud.coordinator.member_id)

    def tick(self) -> None:
        """One round of the leader (blocking)."""
        self.monitor.survey()
        self.recovery.run_open()

    def report(self, type_: str, hostname: str, payload: Mapping[str, Any],
               generated_time: dt.datetime | None) -> Notification:
        """A notification an external monitor sends (``POST /notifications``).  A host's
        ``STOPPED`` opens its recovery -- fenced first, as the monitor's own -- unless one is
        open (409); anything else is recorded, ``ignored``: pocketstack recovers hosts only."""
        host = next((h for h in self.compute.compute_hosts() if h.host == hostname), None)
        if host is None:
            raise errors.HostNotFoundByName(host_name=hostname)
        placement = self.segments.placement(hostname)
        if placement is not None and placement.host.on_maintenance:
            raise errors.HostOnMaintenance(host=hostname, type=type_)
        recover = type_ == "COMPUTE_HOST" and str(payload.get("event", "")).upper() == "STOPPED"
        log = ((REPORTED, "SUCCESS", f"host {hostname} reported failed") if recover else
               (REPORTED, "SUCCESS", "recorded: instance HA recovers failed compute hosts only"))
        created = self.notifications.create(
            type_, hostname, host.id, payload, status="new" if recover else "ignored",
            stage="new" if recover else "done", open_key=host_key(hostname) if recover else None, log=log,
            generated_time=generated_time)
        if created is None:
            raise errors.DuplicateNotification(host=hostname, type=type_)
        return created

    # -- the hosts of failover segments ----------------------------------------------------
    def create_host(self, segment_uuid: str, values: Mapping[str, Any]) -> SegmentHost:
        self.segments.segment(segment_uuid)  # 404 before 400, as Masakari's
        self._compute_host(values["name"])
        host = self.segments.create_host(segment_uuid, values)
        self._reserve(host.name, host.reserved)
        return host

    def update_host(self, segment_uuid: str, host_uuid: str, values: Mapping[str, Any]) -> SegmentHost:
        before = self.segments.host(segment_uuid, host_uuid)
        if "name" in values:
            self._compute_host(values["name"])
        host = self.segments.update_host(segment_uuid, host_uuid, values)
        if before.name != host.name:
            self._reserve(before.name, False)
        self._reserve(host.name, host.reserved)
        return host

    def delete_host(self, segment_uuid: str, host_uuid: str) -> None:
        self._reserve(self.segments.delete_host(segment_uuid, host_uuid).name, False)

    def delete_segment(self, segment_uuid: str) -> None:
        for host in self.segments.delete_segment(segment_uuid):
            self._reserve(host.name, False)

    def _compute_host(self, name: str) -> None:
        if not any(h.host == name for h in self.compute.compute_hosts()):
            raise errors.ComputeNotFoundByName(compute_name=name)

    def _reserve(self, name: str, reserved: bool) -> None:
        """A reserved host is no target of ordinary boots: its compute service is disabled
        (:data:`RESERVED_REASON`) until a recovery takes it or it stops being
        reserved -- Masakari asks the operator to disable it; here the scheduler's own
        filter of disabled services does it."""
        if reserved:
            self.compute.hold_host(name, RESERVED_REASON)
        else:
            self.compute.release_host(name, RESERVED_REASON)
