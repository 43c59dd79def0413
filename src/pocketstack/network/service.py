"""The Networking service as the cloud runs it."""

from __future__ import annotations

import asyncio
import logging
import socket

from pocketstack.common.health import Check, task_running
from pocketstack.common.heartbeat import Heartbeat, Liveness, group_name
from pocketstack.common.service import Counted, Service
from pocketstack.network import agent_records, quota
from pocketstack.network.agent import NetworkAgent
from pocketstack.network.agent_records import AgentDirectory
from pocketstack.network.context import Env
from pocketstack.network.drivers.base import DatapathDriver
from pocketstack.network.drivers.current_state import CurrentStateDriver
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.drivers.physnets import Physnets, parse_mappings
from pocketstack.network.drivers.rpc import AgentNotifier
from pocketstack.network.drivers.vxlan import Tunnel, address
from pocketstack.network.manager import NetworkManager
from pocketstack.network.models import FloatingIp, Network, Port, Router, SecurityGroup, Subnet
from pocketstack.network.policies import RULES
from pocketstack.network.segments import SegmentConfig

LOG = logging.getLogger(__name__)


def local_driver(settings, roles, db) -> DatapathDriver:
    """The datapath driver ``network_datapath`` names (refusing clearly if it cannot run)."""
    mappings = physnet_mappings(settings)
    if settings.network_datapath == "linux":
        from pocketstack.metadata.secret import shared_secret
        from pocketstack.network.drivers.linux import LinuxDriver  # checks root and tools
        from pocketstack.network.drivers.metadata_proxy import MetadataProxy

        upstream = (settings.metadata_listen, settings.metadata_listen_port)  # the metadata API
        proxy = MetadataProxy(upstream, lambda: shared_secret(settings))
        return LinuxDriver(settings.data_dir / "datapath", prefix=settings.network_datapath_prefix, metadata=proxy,
                           tunnel=tunnel(settings, db),
                           physnets=Physnets(mappings, settings.network_physnet_mtu) if mappings else None)
    if settings.network_datapath != "noop":
        raise ValueError(f"setting 'network_datapath': {settings.network_datapath!r} is not one of 'noop', 'linux'")
    journal = settings.data_dir / "datapath-journal.jsonl" if "api" not in roles else None
    return NoopDriver(journal=journal)


def physnet_mappings(settings) -> dict[str, str]:
    """``network_physical_interface_mappings`` parsed (a malformed value stops the start);
    a mapped physical network no flat or VLAN network may use is only warned about."""
    mappings = parse_mappings(settings.network_physical_interface_mappings)
    segments = SegmentConfig.from_settings(settings)
    for physnet in sorted(mappings):
        if physnet not in segments.vlan_ranges and not segments.flat_allowed(physnet):
            LOG.warning("setting 'network_physical_interface_mappings' maps %r, which is in neither "
                        "network_vlan_ranges nor network_flat_networks: no network can use it", physnet)
    return mappings


def tunnel(settings, db) -> Tunnel | None:
    """This host among several datapath hosts (``network_datapath_local_ip`` set), the
    other hosts' VXLAN addresses read from their agents' rows; None: the only host."""
    if not settings.network_datapath_local_ip:
        if settings.network_datapath_underlay:
            raise ValueError("setting 'network_datapath_underlay' needs 'network_datapath_local_ip'")
        return None
    try:
        address(settings.network_datapath_local_ip)
    except ValueError:
        raise ValueError(f"setting 'network_datapath_local_ip': {settings.network_datapath_local_ip!r} "
                         "is not an IP address (or address/prefix)") from None
    return Tunnel(settings.network_agent_host or socket.gethostname(), settings.network_datapath_local_ip,
                  peers=lambda: agent_records.tunnel_endpoints(db), underlay=settings.network_datapath_underlay or None)


def binding(settings) -> dict:
    """What the datapath the agents run means for ports: the linux datapath has a DHCP
    agent on the agents' host (so networks get ``network:dhcp`` ports) and plugs guests
    as tap devices on the network's bridge (``binding:vif_type`` ``tap``)."""
    if settings.network_datapath != "linux":
        return {}
    return {"datapath": "linux", "dhcp_host": settings.network_agent_host or socket.gethostname(), "vif_type": "tap",
            "vif_details": {"port_filter": True, "connectivity": "l2"}}


class NetworkService(Service):
    name = "network"
    catalog_name = "neutron"
    rules = RULES
    counted = (Counted("networks", Network, "status"), Counted("subnets", Subnet), Counted("ports", Port, "status"),
               Counted("routers", Router, "status"), Counted("floatingips", FloatingIp, "status"),
               Counted("security_groups", SecurityGroup))

    def __init__(self, cloud):
        super().__init__(cloud)
        settings = cloud.settings
        # All-in-one (or a network agent process): the datapath driver runs here, with
        # this process's agent.  A scaled-out API process hands changes to the agents.
        group = group_name(settings.cluster_name, "network-agent")
        self.driver: DatapathDriver
        self.heartbeat: Heartbeat | None
        if cloud.in_process_rpc or "network-agent" in cloud.roles:
            self.driver = local_driver(settings, cloud.roles, cloud.db)
            if settings.network_datapath == "linux":  # events from several processes: applied as they are now
                self.driver = CurrentStateDriver(self.driver, lambda kind, item: self.manager.datapath_item(kind, item))
            self.heartbeat = Heartbeat(lambda: cloud.coordinator, group, settings.heartbeat_interval)
        else:
            self.driver = AgentNotifier()
            self.heartbeat = None
        liveness = Liveness(lambda: cloud.coordinator, group, self.heartbeat)
        # Routers and DHCP networks are scheduled on the agents where their datapath has them.
        env = Env(db=cloud.db, driver=self.driver, segments=SegmentConfig.from_settings(settings),
                  quota_defaults=quota.defaults_from(settings), **binding(settings))
        if settings.network_datapath == "linux":
            env.alive_hosts = liveness.alive
        self.manager = NetworkManager(env)
        reports = getattr(self.driver, "trunk_reports", None)
        if reports is not None:  # the agent's datapath tells the service what it wired of trunks
            reports.reporter = self.manager.trunk_wired
        self.agents = AgentDirectory(cloud.db, liveness)
        self.agent: NetworkAgent | None = None
        self._failover: asyncio.Task | None = None

    def app(self):
        from pocketstack.network.api import build_router, network_format
        from pocketstack.network.api.inputs import check_url, validate_body
        return self.api(build_router(self.manager, self.agents), network_format, prepare=check_url,
                        validate_body=validate_body)

    async def start(self) -> None:
        """Run this process's network agent (it replays the current state to the driver,
        which may have restarted empty), or connect the API to the agents over RPC."""
        cloud, settings = self.cloud, self.cloud.settings
        await asyncio.to_thread(lambda: cloud.coordinator)  # started once, off the loop
        if settings.network_agent_failover and "api" in cloud.roles and self.manager.env.alive_hosts is not None:
            self._failover = asyncio.create_task(self._failover_forever(settings.heartbeat_interval),
                                                 name="network agent failover")
        if isinstance(self.driver, AgentNotifier) or self.heartbeat is None:  # an API process: no agent here
            if isinstance(self.driver, AgentNotifier):
                self.driver.attach(asyncio.get_running_loop(), cloud.transport)
            return
        # API worker processes (``--api-workers``) reach this agent over the bridged broker.
        transport = None if cloud.in_process_rpc and cloud.bridge is None else cloud.transport
        self.agent = NetworkAgent(self.manager, self.driver, self.heartbeat,
                                  settings.network_agent_host or socket.gethostname(), transport)
        await self.agent.start()

    async def _failover_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                moved = await asyncio.to_thread(self.manager.reschedule_dead_agents)
            except Exception:  # noqa: BLE001 - the next round tries again
                LOG.exception("could not reschedule the routers and networks of dead network agents")
                continue
            if moved:
                LOG.warning("rescheduled %d routers/networks of dead network agents: %s", len(moved), moved)

    def health(self) -> list[Check]:
        """The agent, where this process runs one, and the failover of dead agents' routers
        where configured."""
        checks = []
        if self.heartbeat is not None:
            checks += self.agent.health() if self.agent is not None else [Check("network.agent", False, "not started")]
        if self._failover is not None:
            checks.append(task_running("network.failover", self._failover))
        return checks

    async def stop(self) -> None:
        if self._failover is not None:
            self._failover.cancel()
            await asyncio.gather(self._failover, return_exceptions=True)
            self._failover = None
        if self.agent is not None:
            await self.agent.stop()
            self.agent = None
