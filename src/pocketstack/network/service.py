"""The Networking service as the cloud runs it."""

from __future__ import annotations

import asyncio
import logging
import socket

from pocketstack.common.heartbeat import Heartbeat, Liveness, group_name
from pocketstack.common.service import Service
from pocketstack.network.agent import NetworkAgent
from pocketstack.network.agent_records import AgentDirectory
from pocketstack.network.api import build_router, network_format
from pocketstack.network.api.inputs import check_url, validate_body
from pocketstack.network.context import Env
from pocketstack.network.drivers.base import DatapathDriver
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.drivers.rpc import AgentNotifier
from pocketstack.network.manager import NetworkManager
from pocketstack.network.policies import RULES
from pocketstack.network.segments import SegmentConfig

LOG = logging.getLogger(__name__)


def local_driver(settings, roles) -> DatapathDriver:
    """The datapath driver ``network_datapath`` names (refusing clearly if it cannot run)."""
    if settings.network_datapath == "linux":
        from pocketstack.metadata.secret import shared_secret
        from pocketstack.network.drivers.linux import LinuxDriver  # checks root and tools
        from pocketstack.network.drivers.metadata_proxy import MetadataProxy

        upstream = (settings.metadata_listen, settings.metadata_listen_port)  # the metadata API
        proxy = MetadataProxy(upstream, lambda: shared_secret(settings))
        return LinuxDriver(settings.data_dir / "datapath", prefix=settings.network_datapath_prefix, metadata=proxy)
    if settings.network_datapath != "noop":
        raise ValueError(f"setting 'network_datapath': {settings.network_datapath!r} is not one of 'noop', 'linux'")
    journal = settings.data_dir / "datapath-journal.jsonl" if "api" not in roles else None
    return NoopDriver(journal=journal)


def binding(settings) -> dict:
    """What the datapath the agents run means for ports: the linux datapath has a DHCP
    agent on the agents' host (so networks get ``network:dhcp`` ports) and plugs guests
    as tap devices on the network's bridge (``binding:vif_type`` ``tap``)."""
    if settings.network_datapath != "linux":
        return {}
    return {"dhcp_host": settings.network_agent_host or socket.gethostname(), "vif_type": "tap",
            "vif_details": {"port_filter": True, "connectivity": "l2"}}


class NetworkService(Service):
    name = "network"
    catalog_name = "neutron"
    rules = RULES

    def __init__(self, cloud):
        super().__init__(cloud)
        settings = cloud.settings
        # All-in-one (or a network agent process): the datapath driver runs here, with
        # this process's agent.  A scaled-out API process hands changes to the agents.
        group = group_name(settings.cluster_name, "network-agent")
        self.driver: DatapathDriver
        self.heartbeat: Heartbeat | None
        if cloud.in_process_rpc or "network-agent" in cloud.roles:
            self.driver = local_driver(settings, cloud.roles)
            self.heartbeat = Heartbeat(lambda: cloud.coordinator, group, settings.heartbeat_interval)
        else:
            self.driver = AgentNotifier()
            self.heartbeat = None
        self.manager = NetworkManager(Env(db=cloud.db, driver=self.driver,
                                           segments=SegmentConfig.from_settings(settings), **binding(settings)))
        self.agents = AgentDirectory(cloud.db, Liveness(lambda: cloud.coordinator, group, self.heartbeat))
        self.agent: NetworkAgent | None = None

    def app(self):
        return self.api(build_router(self.manager, self.agents), network_format, prepare=check_url,
                        validate_body=validate_body)

    async def start(self) -> None:
        """Run this process's network agent (it replays the current state to the driver,
        which may have restarted empty), or connect the API to the agents over RPC."""
        cloud, settings = self.cloud, self.cloud.settings
        await asyncio.to_thread(lambda: cloud.coordinator)  # started once, off the loop
        if isinstance(self.driver, AgentNotifier) or self.heartbeat is None:  # an API process: no agent here
            if isinstance(self.driver, AgentNotifier):
                self.driver.attach(asyncio.get_running_loop(), cloud.transport)
            return
        transport = None if cloud.in_process_rpc else cloud.transport
        self.agent = NetworkAgent(self.manager, self.driver, self.heartbeat,
                                  settings.network_agent_host or socket.gethostname(), transport)
        await self.agent.start()

    async def stop(self) -> None:
        if self.agent is not None:
            await self.agent.stop()
            self.agent = None
