"""The Compute service as a process runs it: the API under ``/compute`` (the "api" role),
a scheduler (the "scheduler" role) and hypervisor hosts (the "compute" role), all three
in the all-in-one cloud, talking over RPC either way (see :mod:`.worker`).  Wiring only:
the parts live in :class:`~pocketstack.compute.manager.Compute`."""

from __future__ import annotations

import asyncio

from starlette.routing import BaseRoute

from pocketstack.common.api.errors import fault_format
from pocketstack.common.health import Check
from pocketstack.common.heartbeat import Heartbeat, Liveness, group_name
from pocketstack.common.service import Counted, Service
from pocketstack.compute.console_proxy import ConsoleProxy
from pocketstack.compute.manager import Compute
from pocketstack.compute.models import ComputeNode, Flavor, Instance, KeyPair
from pocketstack.compute.policies import RULES
from pocketstack.compute.worker import ComputeWorker, SchedulerWorker


class ComputeService(Service):
    name = "compute"
    catalog_name = "nova"
    catalog_suffix = "/v2.1"
    rules = RULES
    counted = (Counted("servers", Instance, "vm_state"), Counted("flavors", Flavor),
               Counted("keypairs", KeyPair), Counted("hypervisors", ComputeNode))

    def __init__(self, cloud):
        super().__init__(cloud)
        self.manager = Compute(cloud)
        self.workers: list[SchedulerWorker | ComputeWorker] = []

    @property
    def compute(self) -> Compute:
        """The manager under its old name (tests and tools reach the parts through it)."""
        return self.manager

    def app(self):
        from pocketstack.compute.api import build_router
        from pocketstack.compute.api.common import VERSIONS, finish
        return self.api(build_router(self.manager), fault_format, versions=VERSIONS, finish=finish,
                        empty_id_not_found=True)

    def routes(self) -> list[BaseRoute]:
        """The noVNC console proxy, in the processes that serve the API."""
        return ConsoleProxy(self.manager.consoles, self.cloud.settings).routes() if "api" in self.cloud.roles else []

    async def start(self) -> None:
        """Connect to RPC, start this process's roles' workers (hosts register in Placement,
        which starts first), and in the all-in-one cloud resume whatever a previous
        process left half done (its in-process queues died with it)."""
        cloud, compute, settings = self.cloud, self.manager, self.cloud.settings
        compute.rpc.attach(asyncio.get_running_loop(), cloud.transport)
        await asyncio.to_thread(lambda: cloud.coordinator)  # started once, off the loop

        def coordinator():
            return cloud.coordinator

        group = group_name(settings.cluster_name, "compute")
        heartbeat = Heartbeat(coordinator, group, settings.heartbeat_interval) if "compute" in cloud.roles else None
        compute.hosts.liveness = Liveness(coordinator, group, heartbeat)
        self.workers = []
        if "scheduler" in cloud.roles:
            self.workers.append(SchedulerWorker(compute, cloud.transport, coordinator, settings))
        if heartbeat is not None:
            self.workers.append(ComputeWorker(compute, cloud.transport, heartbeat, settings))
        for worker in self.workers:
            await worker.start()
        if cloud.in_process_rpc:
            await asyncio.to_thread(compute.rpc.recover)

    def health(self) -> list[Check]:
        return [check for worker in self.workers for check in worker.health()]

    async def stop(self) -> None:
        for worker in reversed(self.workers):
            await worker.stop()
        self.workers = []
        await asyncio.to_thread(self.manager.hosts.close)
