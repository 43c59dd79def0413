"""Compute as one object: everything the API and the workers share, wired once per
process, and the implementation of :class:`~pocketstack.compute.contract.ComputeContract`
other services call.

The other services are reached through the cloud's typed accessors (``cloud.network``,
``cloud.volume``, ``cloud.image``, ``cloud.placement``), each None when that service does
not run in this process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.common.errors import NotFound
from pocketstack.compute.actions import Actions
from pocketstack.compute.aggregates import Aggregates
from pocketstack.compute.block_devices import BlockDevices
from pocketstack.compute.console_tokens import ConsoleTokens
from pocketstack.compute.consoles import Consoles
from pocketstack.compute.contract import GuestInstance, InstanceRef
from pocketstack.compute.flavors import Flavors
from pocketstack.compute.guests import guest_instance
from pocketstack.compute.hosts import Hosts
from pocketstack.compute.images import Images
from pocketstack.compute.instances import Instances
from pocketstack.compute.keypairs import KeyPairs
from pocketstack.compute.lifecycle import ComputeManager
from pocketstack.compute.migration_records import MigrationRecords
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
        self.manager = ComputeManager(db, self.hosts, self.scheduler, self.placement, self.quotas, self.actions,
                                      self.images, self.network, self.block_devices)
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

    def guest_instance(self, instance_id: str) -> GuestInstance | None:
        try:
            inst = self.instances.get(instance_id)
        except NotFound:
            return None
        return guest_instance(self.db, inst)

    def set_password(self, instance_id: str, password: str) -> bool:
        return transition(self.db, instance_id, {"password": [None, ""]}, {"password": password})


def event_code(inst: InstanceRef | None) -> int:
    """Nova's answer to one external event for a server: 404 when there is no such server,
    422 when it is not on a host yet, else 200 (accepted; the fake hypervisor waits for no
    event, so it completes at once)."""
    if inst is None:
        return 404
    if not inst.host:
        return 422
    return 200
