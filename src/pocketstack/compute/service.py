"""The Compute service as the cloud runs it: the API under ``/compute`` and, in the same
process, the fake hypervisor hosts and the workers that build and operate instances."""

from __future__ import annotations

import asyncio

from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.errors import fault_format
from pocketstack.common.service import Service
from pocketstack.compute.api import build_router
from pocketstack.compute.api.common import finish, prepare
from pocketstack.compute.core import Compute
from pocketstack.compute.policies import DEFAULTS


class ComputeService(Service):
    name = "compute"
    path = "/compute"
    catalog_type = "compute"
    catalog_name = "nova"
    catalog_suffix = "/v2.1"

    def __init__(self, cloud):
        super().__init__(cloud)
        self.compute = Compute(cloud)

    def app(self):
        cloud = self.cloud
        cloud.enforcer.register_defaults(DEFAULTS)
        return build_app(ServiceSpec(
            name=self.name, router=build_router(self.compute), error_format=fault_format,
            enforcer=cloud.enforcer, validate_token=cloud.identity.validate_token, service_url=self.url,
            www_authenticate=f'Keystone uri="{cloud.service("identity").url}"', prepare=prepare, finish=finish))

    async def start(self) -> None:
        """Register the hosts (Placement must be up: it starts first), then resume whatever
        a previous process left half done."""
        self.compute.rpc.attach(asyncio.get_running_loop())
        await asyncio.to_thread(self.compute.hosts.register_fake_hosts)
        await asyncio.to_thread(self.compute.rpc.recover)

    async def stop(self) -> None:
        await self.compute.rpc.drain()
