"""Recovery of a failed host, as a persisted state machine.

A ``COMPUTE_HOST`` notification goes through these stages, each entered by a
compare-and-swap on the notification (:meth:`~.notifications.Notifications.advance`)
before its work is done, so a leader that dies mid-way leaves the stage it reached and
the next leader repeats only that stage's work, which is idempotent:

``new`` → ``fencing``: the host's fence driver, retried (a repeated power-off is
harmless), then -- confirmed -- the host cut off the network as well (the network
contract's ``fence_host``: out of the other hosts' VXLAN peers, its servers' ports
unbound; idempotent).  Unconfirmed → ``fence-failed`` (status ``failed``): nothing more
happens, the host is left alone, so no guest can run twice.

``fencing`` → ``fenced`` → ``evacuating``: the compute service is forced down and
disabled with the notification as its reason (Masakari's DisableComputeServiceTask;
persisted: a host that comes back stays out of scheduling and removes the guests
evacuated away), then one move per server is recorded -- ``pending``, or ``ignored``
for a server the recovery policy leaves there (:mod:`.recovery_policy`: the server's tag
or metadata, its image's property, its flavor's extra spec, then ``ha_recovery_mode``),
which is put in ERROR with a fault saying why.

``evacuating`` → ``done``: each pending move starts its evacuation through the compute
contract (the scheduler's normal checks, server groups included) and is then
``ongoing`` until the server is ACTIVE (or stopped, as it was) elsewhere
(``succeeded``) or in ERROR (``failed``).  Compute's own compare-and-swap on the
server's task state means an evacuation is never started twice, whoever retries.

A host in a failover segment (:mod:`.segments`) is recovered by its segment's method
(:mod:`.failover`): in ``new`` a disabled segment ends the notification ``ignored``; in
``fenced`` the host is put on maintenance and the plan says where evacuations go; in
``evacuating`` servers a target could not take are tried on the plan's next one
(another reserved host, the other phase), and when none is left they stay in ERROR with
a fault that says so.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from pocketstack.common.config import Settings
from pocketstack.common.db import utcnow
from pocketstack.compute.contract import ComputeContract
from pocketstack.ha.failover import Failover, Plan
from pocketstack.ha.fencing import Fencers, fence_with_retries
from pocketstack.ha.models import Notification, VMove
from pocketstack.ha.notifications import OPEN_STATUSES, Notifications, TaskLog
from pocketstack.ha.recovery_policy import check, decide
from pocketstack.ha.segments import Segments
from pocketstack.network.contract import NetworkContract

LOG = logging.getLogger(__name__)
FENCE, DISABLE, PREPARE, EVACUATE = ("FenceHostTask", "DisableComputeServiceTask", "PrepareHAEnabledInstancesTask",
                                     "EvacuateInstancesTask")
SEGMENT = "CheckFailoverSegmentTask"
# The task whose record a takeover is written in: the one the stage runs.
STAGE_TASKS = {"new": FENCE, "fencing": FENCE, "fenced": DISABLE, "evacuating": EVACUATE}


class Recovery:
    def __init__(self, notifications: Notifications, compute: ComputeContract, fencers: Fencers, settings: Settings,
                 segments: Segments, network: NetworkContract | None = None, actor: str = ""):
        check(settings)
        self.actor = actor  # this HA process (its coordination member id), as the record names it
        self.notifications = notifications
        self.compute = compute
        self.segments = segments
        self.failover = Failover(segments, compute)
        self.network = network
        self.fencers = fencers
        self.settings = settings
        self.stages: dict[str, Callable[[Notification], Notification | None]] = {
            "new": self._begin, "fencing": self._fence, "fenced": self._prepare, "evacuating": self._evacuate}

    def run_open(self) -> None:
        """Take every open notification as far as it can go now (blocking)."""
        for row in self.notifications.open_ones():
            self.run(row)

    def run(self, row: Notification | None) -> None:
        """Step ``row`` until it waits (evacuations in flight), ends, or another HA process
        took its next step."""
        if row is not None and row.status in OPEN_STATUSES:
            row = self._take_over(row)
        while row is not None and row.status in OPEN_STATUSES:
            step = self.stages.get(row.stage)
            if step is None:
                return
            row = step(row)

    def _take_over(self, row: Notification) -> Notification | None:
        """A recovery another HA process was running (it died, or stopped leading): say in
        its record who goes on from which stage, before any of the stage's work."""
        if not self.actor or row.actor in (None, self.actor) or row.stage not in STAGE_TASKS:
            return row
        LOG.warning("instance HA: taking over the recovery of host %s (notification %s) at stage %s from %s",
                    row.hostname, row.notification_uuid, row.stage, row.actor)
        return self._advance(row, (STAGE_TASKS[row.stage], "RUNNING",
                                   f"HA process {self.actor} took over the recovery at stage {row.stage} from "
                                   f"{row.actor}, which no longer leads"))

    def _advance(self, row: Notification, *logs: TaskLog, **values: object) -> Notification | None:
        """The notification's next step, recorded as taken by this HA process."""
        return self.notifications.advance(row, *logs, actor=self.actor or None, **values)

    # -- the stages ------------------------------------------------------------------------
    def _begin(self, row: Notification) -> Notification | None:
        placement = self.segments.placement(row.hostname)
        if placement is not None and not placement.segment.enabled:
            # Masakari: "Recovery aboart: the segment HA is disabled." -- nothing is done.
            return self._advance(row, (SEGMENT, "SUCCESS", f"recovery aborted: failover segment "
                                                           f"{placement.segment.name} is disabled"),
                                 stage="done", status="ignored")
        driver = self.fencers.for_host(row.hostname)
        return self._advance(row, (FENCE, "RUNNING", f"fencing host {row.hostname} ({driver.name})"),
                                          stage="fencing", status="running")

    def _fence(self, row: Notification) -> Notification | None:
        result = fence_with_retries(self.fencers.for_host(row.hostname), row.hostname,
                                    self.settings.ha_fence_attempts)
        if not result.confirmed:
            LOG.error("instance HA: host %s could not be fenced; it is left alone: %s", row.hostname, result.message)
            return self._advance(
                row, (FENCE, "FAILURE", f"{result.message}; the host is left alone: nothing is evacuated"),
                stage="fence-failed", status="failed")
        LOG.warning("instance HA: host %s fenced: %s", row.hostname, result.message)
        return self._advance(row, (FENCE, "RUNNING", result.message),
                                          (FENCE, "SUCCESS", self._cut_off(row.hostname)), stage="fenced")

    def _cut_off(self, host: str) -> str:
        """The fenced host cut off the network too (its VXLAN peers, its servers' ports),
        before anything of it is bound elsewhere; what was done.  The power fence is
        confirmed already: a failure here is recorded, the recovery goes on."""
        if self.network is None:
            return f"no network service in this process: host {host} not cut off the network"
        try:
            return self.network.fence_host(host)
        except Exception as error:
            LOG.exception("instance HA: host %s could not be cut off the network", host)
            return f"host {host} not cut off the network: {type(error).__name__}: {error}"

    def _prepare(self, row: Notification) -> Notification | None:
        host = row.hostname
        reason = f"instance HA: host failure {row.notification_uuid}"
        self.compute.fence_host(host, reason)
        plan = self._plan(row)
        # A segment with no usable host: the servers to evacuate fail at once, saying so.
        nowhere = plan.note if plan is not None and plan.targets is None else None
        servers = self.compute.host_servers(host)
        statuses: dict[str, tuple[str, str | None]] = {}
        sources: dict[str, list[str]] = {}
        for server in servers:
            decision = decide(server, self.settings)
            sources.setdefault(decision.source, []).append(server.id)
            if decision.recover and nowhere is None:
                statuses[server.id] = ("pending", None)
                continue
            status, why = ("failed", nowhere) if decision.recover else ("ignored", decision.source)
            message = f"Host {host} failed and was fenced; the server was not evacuated ({why})."
            if server.vm_state != "error" or decision.recover:  # one in ERROR already keeps its own fault
                self.compute.fail_server(server.id, message)
            statuses[server.id] = (status, message)
        self.notifications.add_vmoves(row.notification_uuid, host, statuses)
        chosen = sum(1 for status, _ in statuses.values() if status == "pending")
        decided = "; ".join(f"{source}: {len(ids)}" for source, ids in sorted(sources.items()))
        segment_log = [(SEGMENT, "SUCCESS" if plan.targets is not None else "FAILURE", plan.note)] if plan else []
        return self._advance(
            row, (DISABLE, "SUCCESS", f"compute service of {host} forced down and disabled ({reason})"),
            (PREPARE, "SUCCESS", f"{chosen} of {len(servers)} server(s) to evacuate" + (f" ({decided})" if decided
                                                                                        else "")),
            *segment_log, (EVACUATE, "RUNNING", f"evacuating {chosen} server(s)"), stage="evacuating",
            plan=plan.as_dict() if plan else None)

    def _plan(self, row: Notification) -> Plan | None:
        """Where the servers of a failed host of a segment go (None: anywhere, the host is
        in no segment); the host is put on maintenance and is no longer reserved."""
        placement = self.segments.placement(row.hostname)
        if placement is None:
            return None
        self.segments.mark_failed(row.hostname)
        return self.failover.first(placement, row.notification_uuid)

    def _evacuate(self, row: Notification) -> Notification | None:
        plan = Plan.from_dict(row.plan) if row.plan else None
        targets = frozenset(plan.targets) if plan is not None and plan.targets is not None else None
        for move in self.notifications.vmoves(row.notification_uuid):
            if move.status == "pending":
                self._start(move, targets)
            elif move.status == "ongoing":
                self._check(move, targets)
        moves = self.notifications.vmoves(row.notification_uuid)
        if any(m.status in ("pending", "ongoing") for m in moves):
            return None  # evacuations in flight: looked at again next round
        failed = [m for m in moves if m.status == "failed"]
        if failed and plan is not None and plan.targets is not None:
            return self._fall_back(row, plan, failed)
        return self._finish(row, moves)

    def _fall_back(self, row: Notification, plan: Plan, failed: list[VMove]) -> Notification | None:
        """Servers the plan's targets could not take: tried on its next targets, or --
        none left -- left in ERROR with a fault that says why."""
        after = self.failover.next(plan)
        if after.targets is None:
            for move in failed:
                self.compute.fail_server(move.instance_uuid, f"Host {row.hostname} failed; {after.note}: the server "
                                                             f"could not be evacuated ({move.message}).")
            return self._finish(row, self.notifications.vmoves(row.notification_uuid),
                                (SEGMENT, "FAILURE", after.note))
        for move in failed:
            self.notifications.move_vmove(move, "pending", dest_host=None, end_time=None,
                                          message=f"{move.message}; tried again: {after.note}")
        return self._advance(row, (SEGMENT, "RUNNING", after.note), plan=after.as_dict())

    def _finish(self, row: Notification, moves: list[VMove], *logs: TaskLog) -> Notification | None:
        counts = {s: sum(1 for m in moves if m.status == s) for s in ("succeeded", "failed", "ignored")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        failed = counts["failed"] > 0
        return self._advance(row, *logs, (EVACUATE, "FAILURE" if failed else "SUCCESS", summary),
                             stage="done", status="failed" if failed else "finished", open_key=None)

    # -- one server ------------------------------------------------------------------------
    def _start(self, move: VMove, targets: frozenset[str] | None) -> None:
        """Start (or, for an ``ongoing`` move whose evacuation was reset, start again) the
        server's evacuation to one of ``targets`` (None: anywhere), and record what
        compute answered."""
        outcome = self.compute.evacuate_server(move.instance_uuid, move.source_host, f"req-{uuid.uuid4()}",
                                               targets)
        if outcome in ("started", "in-progress"):
            if move.status == "pending":
                self.notifications.move_vmove(move, "ongoing")
        elif outcome == "moved":
            ref = self.compute.find_instance(move.instance_uuid)
            self.notifications.move_vmove(move, "succeeded", dest_host=ref.host if ref else None,
                                          message="already moved off the failed host")
        elif outcome == "gone":
            self.notifications.move_vmove(move, "ignored", message="the server was deleted")
        else:
            self.notifications.move_vmove(move, "failed", message=f"evacuation refused: {outcome}")

    def _resend_if_stalled(self, move: VMove) -> None:
        """An evacuation placed on no host ``ha_evacuation_resend_after`` seconds after it
        was started (or last sent): its cast may never have left -- the HA process that
        started it died in between -- so it is sent to the schedulers again."""
        since = move.updated_at or move.start_time
        waited = (utcnow() - since).total_seconds() if since is not None else 0.0
        if waited < self.settings.ha_evacuation_resend_after:
            return
        if self.compute.resume_evacuation(move.instance_uuid):
            LOG.warning("instance HA: evacuation of %s not placed after %.0fs: sent again", move.instance_uuid, waited)
            self.notifications.note_vmove(move, f"not placed on a host after {waited:.0f}s: sent to the schedulers "
                                                "again")

    def _check(self, move: VMove, targets: frozenset[str] | None) -> None:
        ref = self.compute.find_instance(move.instance_uuid)
        if ref is None:
            self.notifications.move_vmove(move, "ignored", message="the server was deleted during its recovery")
        elif ref.task_state is not None:
            if ref.host == move.source_host:  # not placed on a destination yet
                self._resend_if_stalled(move)
        elif ref.vm_state == "error":
            where = "on the failed host: no host could take it" if ref.host == move.source_host else f"on {ref.host}"
            self.notifications.move_vmove(move, "failed", dest_host=ref.host if ref.host != move.source_host else None,
                                          message=f"the server is in ERROR {where}")
        elif ref.host != move.source_host:
            self.notifications.move_vmove(move, "succeeded", dest_host=ref.host)
        else:  # idle on the failed host again (its evacuation was reset): start it again
            self._start(move, targets)
