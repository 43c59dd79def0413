"""The Networking service as the cloud runs it."""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import Response

from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.errors import ApiError, neutron_format
from pocketstack.common.service import Service
from pocketstack.network.api import build_router
from pocketstack.network.context import Env
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.errors import neutron_type
from pocketstack.network.manager import NetworkManager
from pocketstack.network.policies import DEFAULTS
from pocketstack.network.segments import SegmentConfig

LOG = logging.getLogger(__name__)


def network_format(error: ApiError) -> Response:
    return neutron_format(neutron_type(error))


class NetworkService(Service):
    name = "network"
    path = "/network"
    catalog_type = "network"
    catalog_name = "neutron"
    catalog_suffix = ""

    def __init__(self, cloud):
        super().__init__(cloud)
        self.driver = NoopDriver()
        self.manager = NetworkManager(Env(db=cloud.db, driver=self.driver,
                                           segments=SegmentConfig.from_settings(cloud.settings)))

    def app(self):
        cloud = self.cloud
        cloud.enforcer.register_defaults(DEFAULTS)
        return build_app(ServiceSpec(
            name=self.name, router=build_router(self.manager), error_format=network_format,
            enforcer=cloud.enforcer, validate_token=cloud.identity.validate_token, service_url=self.url,
            www_authenticate=f'Keystone uri="{cloud.settings.effective_public_url}/identity"'))

    async def start(self) -> None:
        """Replay the current state to the datapath driver (it may have restarted empty)."""
        state = await asyncio.to_thread(self.manager.datapath_state)
        await asyncio.to_thread(self.driver.sync, state)
