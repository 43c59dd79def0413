"""Everything the Compute API and workers share, wired once per process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.compute.actions import Actions
from pocketstack.compute.aggregates import Aggregates
from pocketstack.compute.block_devices import BlockDevices
from pocketstack.compute.flavors import Flavors
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

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud


class Compute:
    def __init__(self, cloud: "Cloud"):
        db = cloud.db
        self.cloud = cloud
        self.db = db
        self.quotas = Quotas(db)
        self.flavors = Flavors(db)
        self.keypairs = KeyPairs(db, self.quotas)
        self.placement = Placement(cloud)
        self.images = Images(cloud)
        self.hosts = Hosts(db, self.placement, cloud.settings)
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

    def network_available(self) -> bool:
        return any(service.name == "network" for service in self.cloud.services)

    def network(self):
        """The network service's manager (see ``network/instances.py``), or None without one."""
        if not self.network_available():
            return None
        return self.cloud.service("network").manager

    def volumes(self):
        """The volume service's manager, or None without one."""
        if not any(service.name == "volume" for service in self.cloud.services):
            return None
        return self.cloud.service("volume").manager

    def addresses(self, instance_ids: list[str]) -> dict[str, dict]:
        """The ``addresses`` field of many servers, in one bulk lookup of the network service."""
        network = self.network()
        if network is None:
            return {i: {} for i in instance_ids}
        return network.instances_addresses(instance_ids)
