"""Where a failed host's servers go: its failover segment's recovery method, as
Masakari's host-failure flows choose (``masakari/engine/drivers/taskflow``).

* ``auto``: the scheduler chooses among the segment's other hosts that are neither
  reserved nor on maintenance (Masakari leaves the choice to Nova; here it is kept inside
  the segment, which is what a segment is for).
* ``reserved_host``: the segment's reserved hosts not on maintenance, one at a time, in
  name order: the one taken has its compute service enabled and its ``reserved`` flag
  cleared, then every server is evacuated to it; servers it cannot take are tried on the
  next one (Masakari's ``ParameterizedForEach`` over ``reserved_host_list``).
* ``auto_priority``: ``auto`` first, then ``reserved_host`` for what is left;
  ``rh_priority``: the other way round.

A host in no segment has no plan: its servers go wherever the scheduler puts them, as
before segments existed.  Only hosts whose compute service is up and not forced down
count as usable: a phase without any is skipped, and when no phase is left the recovery
fails with the reason.

The plan is persisted in the notification (:attr:`~.models.Notification.plan`), so the
next leader goes on with the phase and the reserved hosts already taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pocketstack.compute.contract import ComputeContract
from pocketstack.ha.segments import Placement, Segments

AUTO, RESERVED = "auto", "reserved_host"
PHASES = {"auto": (AUTO,), "reserved_host": (RESERVED,), "auto_priority": (AUTO, RESERVED),
          "rh_priority": (RESERVED, AUTO)}


@dataclass(frozen=True)
class Plan:
    notification: str  # the recovery's notification uuid
    segment: str  # uuid
    segment_name: str
    method: str
    failed_host: str
    phase: int = -1  # index in PHASES[method]; -1 before the first
    taken: tuple[str, ...] = ()  # reserved hosts taken, in order
    targets: tuple[str, ...] | None = None  # where evacuations go now; None: no usable host left
    note: str = field(default="", compare=False)  # what the last step did, for the record

    @property
    def where(self) -> str:
        return f"failover segment {self.segment_name} (recovery method {self.method})"

    def as_dict(self) -> dict[str, Any]:
        return {"notification": self.notification, "segment": self.segment, "segment_name": self.segment_name,
                "method": self.method, "failed_host": self.failed_host, "phase": self.phase,
                "taken": list(self.taken), "targets": list(self.targets) if self.targets is not None else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        targets = data.get("targets")
        return cls(data["notification"], data["segment"], data["segment_name"], data["method"], data["failed_host"],
                   data["phase"], tuple(data["taken"]), tuple(targets) if targets is not None else None)


class Failover:
    def __init__(self, segments: Segments, compute: ComputeContract):
        self.segments = segments
        self.compute = compute

    def first(self, placement: Placement, notification_uuid: str) -> Plan:
        """The plan for a failed host of a segment: its first phase with a usable host."""
        segment = placement.segment
        return self.next(Plan(notification_uuid, segment.uuid, segment.name, segment.recovery_method,
                              placement.host.name))

    def next(self, plan: Plan) -> Plan:
        """Where the servers the last targets could not take go next: another reserved
        host in a reserved phase, else the next phase with a usable host; ``targets``
        None when nothing is left."""
        phases = PHASES[plan.method]
        phase = max(plan.phase, 0)
        while phase < len(phases):
            if phase > plan.phase or phases[phase] == RESERVED:
                found = self._auto(plan) if phases[phase] == AUTO else self._reserve(plan)
                if found is not None:
                    return replace(found, phase=phase)
            phase += 1
        return replace(plan, phase=len(phases), targets=None,
                       note=f"no usable host left in {plan.where}")

    def _usable(self) -> set[str]:
        return {h.host for h in self.compute.compute_hosts() if h.service_up and not h.forced_down}

    def _auto(self, plan: Plan) -> Plan | None:
        usable = self._usable()
        hosts = [h.name for h in self.segments.hosts(plan.segment)
                 if not h.reserved and not h.on_maintenance and h.name != plan.failed_host and h.name in usable]
        if not hosts:
            return None
        return replace(plan, targets=tuple(hosts),
                       note=f"{plan.where}: evacuating to the scheduler's choice of {', '.join(hosts)}")

    def _reserve(self, plan: Plan) -> Plan | None:
        """Take the next usable reserved host: its ``reserved`` flag cleared (a lost
        compare-and-swap means another recovery took it: the next one is tried), its
        compute service enabled whoever disabled it, as Masakari does (its order: enable,
        then clear the flag).  One this recovery took but had not recorded in its plan
        (its leader died in between) is taken again first."""
        usable = self._usable()
        taken = self.segments.taken_for(plan.notification)
        reserved = self.segments.hosts(plan.segment, {"reserved": True, "on_maintenance": False})
        for name in [*taken, *(h.name for h in reserved)]:
            if name in plan.taken or name not in usable:
                continue
            self.compute.release_host(name, None)
            if name in taken or self.segments.take_reserved(name, plan.notification):
                return replace(plan, taken=(*plan.taken, name), targets=(name,),
                               note=f"{plan.where}: reserved host {name} enabled and taken; evacuating to it")
        return None
