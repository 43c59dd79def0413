"""Compute as one object: everything the API and the workers share, wired once per
process, and the implementation of :class:`~pocketstack.compute.contract.ComputeContract`
other services call.

The other services are reached through the cloud's typed accessors (``cloud.network``,
``cloud.volume``, ``cloud.image``, ``cloud.placement``), each None when that service does
not run in this process.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from pocketstack.common.errors import Conflict, NotFound
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.actions import Actions
from pocketstack.compute.aggregates import Aggregates
from pocketstack.compute.block_devices import BlockDevices
from pocketstack.compute.console_tokens import ConsoleTokens
from pocketstack.compute.consoles import Consoles
from pocketstack.compute.contract import GuestInstance, HostRef, HostServer, InstanceRef
from pocketstack.compute.drivers.fake import FakeDriver
from pocketstack.compute.flavors import Flavors
from pocketstack.compute.guests import guest_instance
from pocketstack.compute.hosts import Hosts
from pocketstack.compute.images import Images
from pocketstack.compute.instances import Instances
from pocketstack.compute.keypairs import KeyPairs
from pocketstack.compute.lifecycle import ComputeManager, fault
from pocketstack.compute.migration_records import MigrationRecords
from pocketstack.compute.models import Instance
from pocketstack.compute.moves import start_evacuation
from pocketstack.compute.port_tags import PortTags
from pocketstack.compute.quotas import Quotas
from pocketstack.compute.resources import Placement
from pocketstack.compute.rpcapi import ComputeAPI
from pocketstack.compute.scheduler import Scheduler
from pocketstack.compute.server_groups import ServerGroups
from pocketstack.compute.transitions import transition

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud
    from pocketstack.network.contract import NetworkContract
    from pocketstack.volume.contract import VolumeContract


class Compute:
    """The compute service's parts (``instances``, ``flavors``, ``rpc``, ...) and its
    contract.  ``manager`` is the host side (:class:`~.lifecycle.ComputeManager`, Nova's
    name for it), which the workers drive."""

    def __init__(self, cloud: Cloud):
        db = cloud.db
        self.cloud = cloud
        self.db = db
        self.quotas = Quotas(db)
        self.flavors = Flavors(db)
        self.keypairs = KeyPairs(db, self.quotas)
        self.placement = Placement(cloud)
        self.images = Images(cloud)
        self.hosts = Hosts(db, self.placement, cloud.settings, lambda: cloud.image)
        self.actions = Actions(db)
        self.aggregates = Aggregates(db)
        self.migration_records = MigrationRecords(db)
        self.instances = Instances(db, self.quotas)
        self.groups = ServerGroups(db, self.quotas)
        self.scheduler = Scheduler(db, self.hosts, self.placement)
        self.block_devices = BlockDevices(db, self.volumes)
        self.port_tags = PortTags(db)
        self.manager = ComputeManager(db, self.hosts, self.scheduler, self.placement, self.quotas, self.actions,
                                      self.images, self.network, self.block_devices, cloud.faults, self.port_tags)
        self.rpc = ComputeAPI(self.manager, cloud.settings)
        self.consoles = Consoles(ConsoleTokens(db, cloud.settings.console_token_ttl), self.rpc, cloud.settings,
                                 self.find_instance)

    # -- the other services --------------------------------------------------------------
    def network_available(self) -> bool:
        return self.cloud.network is not None

    def network(self) -> NetworkContract | None:
        """The network service's contract (see ``network/contract.py``), or None without one."""
        return self.cloud.network

    def volumes(self) -> VolumeContract | None:
        """The volume service's contract, or None without one."""
        return self.cloud.volume

    def addresses(self, instance_ids: list[str]) -> dict[str, dict]:
        """The ``addresses`` field of many servers, in one bulk lookup of the network service."""
        network = self.network()
        if network is None:
            return {i: {} for i in instance_ids}
        return network.instances_addresses(instance_ids)

    # -- ComputeContract -----------------------------------------------------------------
    def find_instance(self, instance_id: str) -> InstanceRef | None:
        try:
            inst = self.instances.get(instance_id)
        except NotFound:
            return None
        return InstanceRef(id=inst.id, project_id=inst.project_id, user_id=inst.user_id, host=inst.host,
                           vm_state=inst.vm_state, task_state=inst.task_state)

    def volume_attachment_id(self, instance_id: str, volume_id: str) -> str | None:
        return next((row.attachment_id for row in self.block_devices.for_instance(instance_id)
                     if row.volume_id == volume_id), None)

    def deliver_event(self, instance_id: str, name: str) -> int:
        return event_code(self.find_instance(instance_id))

    def update_power(self, instance_id: str, target: str, request_id: str, project_id: str | None,
                     user_id: str | None) -> None:
        inst = self.instances.get(instance_id)
        if inst.host is None:  # accepted events are for servers on a host (422 otherwise)
            return
        action_id = self.actions.start(inst.id, "start" if target == "POWER_ON" else "stop", request_id,
                                       project_id, user_id)
        self.rpc.power_update(inst.host, inst.id, target, action_id)

    def volume_extended(self, instance_id: str, volume_id: str, request_id: str, project_id: str | None,
                        user_id: str | None) -> None:
        inst = self.instances.get(instance_id)
        if inst.host is None:  # accepted events are for servers on a host (422 otherwise)
            return
        action_id = self.actions.start(inst.id, "extend_volume", request_id, project_id, user_id)
        self.rpc.extend_volume(inst.host, inst.id, volume_id, action_id)

    def guest_instance(self, instance_id: str) -> GuestInstance | None:
        try:
            inst = self.instances.get(instance_id)
        except NotFound:
            return None
        return guest_instance(self.db, inst)

    def set_password(self, instance_id: str, password: str) -> bool:
        return transition(self.db, instance_id, {"password": [None, ""]}, {"password": password})

    # -- instance HA ---------------------------------------------------------------------
    def compute_hosts(self) -> list[HostRef]:
        hosts = self.hosts
        alive = hosts.liveness.alive() if hosts.liveness is not None else None
        return [HostRef(host=n.host, id=n.id, service_up=alive is None or n.host in alive, forced_down=n.forced_down,
                        disabled=n.disabled, disabled_reason=n.disabled_reason) for n in hosts.list()]

    def host_alive(self, host: str) -> bool | None:
        if self.hosts.real:  # from the guests' processes: the HA process need not run the host
            return bool(self.guest_processes(host))
        if not self.hosts.runs(host):  # a fake host another process runs: its machine file
            return self.hosts.machine(host).alive()
        driver = self.hosts.driver(host)
        return driver.host_alive() if isinstance(driver, FakeDriver) else None

    def guest_processes(self, host: str) -> dict[str, int]:
        if not self.hosts.real:
            return {}
        from pocketstack.compute.drivers.qemu_guest import running_guests

        return running_guests(self.cloud.settings.qemu_state_path(host))

    def power_off_host(self, host: str) -> None:
        if not self.hosts.real and not self.hosts.runs(host):
            self.hosts.machine(host).power_off()  # the process that runs it
            return
        driver = self.hosts.driver(host)
        if not isinstance(driver, FakeDriver):
            raise errors.NotASimulatedHost(host=host)
        driver.power_off_host()

    def fence_host(self, host: str, reason: str) -> None:
        node = self.hosts.by_host(host)
        self.hosts.update_service(node.service_id, forced_down=True, disabled=True, disabled_reason=reason)

    def host_servers(self, host: str) -> list[HostServer]:
        rows = self.instances.on_host(host)
        metadata, tags = self.instances.details([r.id for r in rows])
        return [HostServer(id=r.id, project_id=r.project_id, vm_state=r.vm_state, task_state=r.task_state,
                           tags=tuple(tags[r.id]), metadata=tuple(sorted(metadata[r.id].items())),
                           flavor_extra_specs=_pairs((r.flavor or {}).get("extra_specs")),
                           image_properties=_pairs(r.image_properties)) for r in rows]

    def hold_host(self, host: str, reason: str) -> None:
        node = self.hosts.by_host(host)
        if not node.disabled:
            self.hosts.update_service(node.service_id, disabled=True, disabled_reason=reason)

    def release_host(self, host: str, reason: str | None) -> bool:
        node = self.hosts.by_host(host)
        if not node.disabled or reason not in (None, node.disabled_reason):
            return False
        self.hosts.update_service(node.service_id, disabled=False, disabled_reason=None)
        return True

    def evacuate_server(self, instance_id: str, from_host: str, request_id: str,
                        hosts: frozenset[str] | None = None) -> str:
        try:
            inst = self.instances.get(instance_id)
        except NotFound:
            return "gone"
        if evacuating(inst):
            return "in-progress"
        if inst.host != from_host:
            return "moved"
        if self.hosts.is_up(self.hosts.by_host(from_host)):
            return "host-up"
        try:
            start_evacuation(self, inst, None, request_id, None, None, candidates=hosts)
        except NotFound:
            return "gone"
        except Conflict:  # lost a race: to another copy of this call, or to another task
            try:
                return "in-progress" if evacuating(self.instances.get(instance_id)) else "invalid-state"
            except NotFound:
                return "gone"
        return "started"

    def resume_evacuation(self, instance_id: str) -> bool:
        """Send an unplaced evacuation to the schedulers again (module contract)."""
        try:
            inst = self.instances.get(instance_id)
        except NotFound:
            return False
        migration = inst.migration or {}
        if not evacuating(inst) or migration.get("dest_host"):
            return False
        if not self.migration_records.exists(migration["id"]):  # its starter died before writing it
            self.migration_records.start(inst, migration["id"], inst.flavor_id, "", "evacuation")
        newest = next(iter(self.actions.list(instance_id)), None)
        if newest is not None and newest.action == "evacuate" and newest.start_time >= inst.updated_at:
            action_id = newest.id
        else:  # its starter died before recording the action
            action_id = self.actions.start(instance_id, "evacuate", f"req-{uuid.uuid4()}", None, None)
        self.rpc.evacuate_instance(None, instance_id, action_id)
        return True

    def fail_server(self, instance_id: str, message: str) -> bool:
        return transition(self.db, instance_id, {"task_state": None, "vm_state": [st.ACTIVE, st.STOPPED, st.ERROR]},
                          {"vm_state": st.ERROR, "fault": fault(500, message)})


def _pairs(values: dict | None) -> tuple[tuple[str, str], ...]:
    """A mapping as sorted ``(key, value)`` strings (an image property may be a number)."""
    return tuple(sorted((str(k), str(v)) for k, v in (values or {}).items()))


def evacuating(inst: Instance) -> bool:
    """Whether an evacuation of the server is under way."""
    return inst.task_state == st.REBUILDING and (inst.migration or {}).get("type") == "evacuation"


def event_code(inst: InstanceRef | None) -> int:
    """Nova's answer to one external event for a server: 404 when there is no such server,
    422 when it is not on a host yet, else 200 (accepted; the fake hypervisor waits for no
    event, so it completes at once)."""
    if inst is None:
        return 404
    if not inst.host:
        return 422
    return 200
