"""The Linux datapath's copy of the network state, the names it gives namespaces and
devices, and the plumbing every part of it shares: a namespace made (and its stale
rules and proxy forgotten), a ruleset applied only when it changed, a port's veth into
a namespace.  :mod:`.bridges`, :mod:`.dhcp` and :mod:`.routers` each build one kind of
namespace on it; :mod:`.driver` reconciles them all after every event."""

from __future__ import annotations

import ipaddress
import logging
import threading
from pathlib import Path

from pocketstack.common import netns
from pocketstack.network.drivers import nft_rules, trunk_vlans, vxlan
from pocketstack.network.drivers.metadata_proxy import MetadataProxy
from pocketstack.network.drivers.nft_rules import tag
from pocketstack.network.drivers.physnets import Physnets

LOG = logging.getLogger(__name__)
INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                    "network:ha_router_replicated_interface")
GATEWAY_OWNER = "network:router_gateway"


class Namespaces:
    """The state and shared plumbing of :class:`~.driver.LinuxDriver` (its base)."""

    def __init__(self, state_dir: Path, prefix: str = "ps-", metadata: MetadataProxy | None = None,
                 tunnel: vxlan.Tunnel | None = None, physnets: Physnets | None = None):
        #: the mapped physical interfaces of flat and VLAN networks (None: none; every
        #: network a bridge alone)
        self.physnets = physnets
        #: one host among several (VXLAN between them; only what concerns this host is
        #: kept), or None: the only host, serving every port wherever it is bound
        self.tunnel = tunnel
        self.host = tunnel.host if tunnel is not None else None
        #: the routers' and isolated networks' metadata proxy (None: no 169.254.169.254)
        self.metadata = metadata
        if metadata is not None:
            metadata.lookup = self.instance_at
        self.state_dir = Path(state_dir)
        self.prefix = prefix
        self.host_ns = f"{prefix}host"
        self._lock = threading.RLock()
        self.networks: dict[str, dict] = {}
        self.subnets: dict[str, dict] = {}
        self.ports: dict[str, dict] = {}
        self.routers: dict[str, dict] = {}
        self.floatingips: dict[str, dict] = {}
        self.security_groups: dict[str, dict] = {}
        self.qos_policies: dict[str, dict] = {}
        self.address_groups: dict[str, dict] = {}
        self.metering_labels: dict[str, dict] = {}  # each with its rules (:mod:`.metering`)
        self._metered: dict[str, str] = {}  # router namespace -> the metering table applied last
        self._carried: dict[tuple[str, str], tuple[int, int]] = {}  # (namespace, rule) -> counts before a rewrite
        # tap -> (its ifindex, the limits applied to it): tc runs only on a change
        self._shaped: dict[str, tuple] = {}
        self.last_error: str | None = None  # of the last reconcile after an event
        self._applied: dict[str, str | nft_rules.HostRuleset] = {}  # namespace -> its ruleset applied last
        self._forced = False
        #: what the driver wired of each trunk here, for the agent to report to the
        #: service (its ``reporter``: ``NetworkManager.trunk_wired``)
        self.trunk_reports = trunk_vlans.Reports()
        self._devices: frozenset[str] = frozenset()  # the port devices the last reconcile saw

    @staticmethod
    def tap_name(port_id: str) -> str:
        """The device a port is on its bridge as (what the compute driver plugs)."""
        return f"tap{tag(port_id)}"

    @staticmethod
    def bridge_name(network_id: str) -> str:
        return f"br-{tag(network_id)}"

    def dhcp_ns(self, network_id: str) -> str:
        return f"{self.prefix}dhcp-{network_id}"

    def router_ns(self, router_id: str) -> str:
        return f"{self.prefix}router-{router_id}"

    def _ensure(self, ns: str) -> bool:
        """Create the namespace unless it exists; whether it was created."""
        if not netns.ensure(ns):
            return False
        self._applied.pop(ns, None)  # a new namespace has no rules yet
        self._metered.pop(ns, None)
        if self.metadata is not None:
            # ...nor a metadata proxy: one of that name listens in the namespace that
            # was deleted by hand (a socket keeps the namespace it was made in).
            self.metadata.stop(ns)
        return True

    def _nft(self, ns: str, ruleset: str | nft_rules.HostRuleset) -> None:
        """Apply a namespace's ruleset, unless it is the one applied last; the host's
        security-group tables by an update of only the chains and sets that changed when
        that is possible (replacing a 1,000-port ruleset takes nft about two seconds), whole
        otherwise or if the update fails (a chain deleted by hand).  ``sync`` always
        applies the whole ruleset: it repairs anything changed by hand."""
        last = None if self._forced else self._applied.get(ns)
        if last == ruleset:
            return
        self._applied.pop(ns, None)
        if isinstance(ruleset, nft_rules.HostRuleset) and isinstance(last, nft_rules.HostRuleset):
            update = ruleset.changes_from(last)
            if update is not None:
                try:
                    netns.execute(ns, "nft", "-f", "-", input=update)
                    self._applied[ns] = ruleset
                    return
                except netns.CommandFailed as error:
                    LOG.warning("nft update in %s failed, replacing the tables: %s", ns, error)
        netns.execute(ns, "nft", "-f", "-", input=ruleset if isinstance(ruleset, str) else ruleset.text())
        self._applied[ns] = ruleset

    def _mtu(self, network_id: str) -> str:
        return str((self.networks.get(network_id) or {}).get("mtu") or 1500)

    def _local_networks(self) -> set[str]:
        """The networks with a bridge here: with something on this host."""
        return vxlan.local_networks(self.ports.values(), self.host, self.networks)

    def _bound_ports(self) -> list[dict]:
        return [p for p in self.ports.values() if p.get("network_id") in self.networks]

    def _prefixed(self, fixed: dict) -> str | None:
        subnet = self.subnets.get(fixed["subnet_id"])
        if subnet is None:
            return None
        return f"{fixed['ip_address']}/{ipaddress.ip_network(subnet['cidr']).prefixlen}"

    def _veth(self, ns: str, inner: str, port: dict, links: dict[str, dict]) -> None:
        """A veth from the host namespace (``tap<port11>``) to ``inner`` in ``ns``,
        with the port's MAC, MTU and fixed addresses."""
        mtu = self._mtu(port["network_id"])
        if inner not in links:
            netns.ip(self.host_ns, "link", "del", self.tap_name(port["id"]), check=False)
            netns.ip(self.host_ns, "link", "add", self.tap_name(port["id"]), "mtu", mtu, "type", "veth",
                     "peer", "name", inner, "netns", ns)
            links[inner] = {}
        link = links[inner]
        if link.get("address") != port["mac_address"].lower():
            netns.ip(ns, "link", "set", inner, "address", port["mac_address"].lower())
        if str(link.get("mtu")) != mtu or "UP" not in link.get("flags", []):
            netns.ip(ns, "link", "set", inner, "mtu", mtu, "up")

    def instance_at(self, networks: frozenset[str], address: str) -> tuple[str, str] | None:
        """The instance (id, project) whose port has ``address`` on one of ``networks``
        (those a metadata proxy serves): who a request to the proxy comes from."""
        with self._lock:
            for port in self.ports.values():
                if (port.get("network_id") in networks and (port.get("device_owner") or "").startswith("compute:")
                        and any(f["ip_address"] == address for f in port.get("fixed_ips") or [])):
                    return port["device_id"], port.get("project_id") or ""
            return None

    def _interfaces(self, router: dict) -> list[dict]:
        """The router's interface ports: as the router event carries them, or (a replayed
        state) the ports the router owns."""
        if "interfaces" in router:
            return router["interfaces"] or []
        return [p for p in sorted(self.ports.values(), key=lambda p: p["id"])
                if p.get("device_owner") in INTERFACE_OWNERS and p.get("device_id") == router["id"]]

    def _gateway_port(self, router: dict) -> dict | None:
        info = router.get("external_gateway_info") or {}
        if not info.get("network_id") or info["network_id"] not in self.networks:
            return None
        return next((p for p in sorted(self.ports.values(), key=lambda p: p["id"])
                     if p.get("device_owner") == GATEWAY_OWNER and p.get("device_id") == router["id"]), None)
