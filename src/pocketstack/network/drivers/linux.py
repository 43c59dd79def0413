"""The Linux datapath: bridges, DHCP and routers in network namespaces, rules in nftables.

Everything lives in namespaces this driver creates, named ``<prefix>…`` (``ps-`` by
default); it never adds a device, address, route or rule to the namespace it runs in
(a physical interface it was told to take, :mod:`.physnets`, it hands back there)::

    <prefix>host            one bridge br-<net11> per network; every port is a device
                            tap<port11> on its network's bridge (a guest's tap, plugged
                            by the compute driver, or the host end of a veth into a
                            DHCP or router namespace); the security-group tables
                            (nft_rules; an address group is a named set there)
                            filter between bridge ports; QoS bandwidth limits are
                            tc qdiscs on the port devices (tc_qos); a trunk's
                            subport is a VLAN device tap<subport11> of its parent's
                            tap, on its own network's bridge (trunk_vlans)
    <prefix>dhcp-<net>      ns-<port11>: the network's DHCP port, and its dnsmasq; on a
                            network with an IPv4 subnet no router serves, also
                            169.254.169.254 and the metadata proxy (isolated metadata)
    <prefix>router-<id>     qr-<port11> per router interface, qg-<port11> on the external
                            network (gateway and floating addresses), NAT table, routes
                            (IPv4 and IPv6), radvd for the IPv6 subnets with an RA mode

Every event updates the driver's copy of the network state ("this is the state now")
and then reconciles the namespaces with all of it, so applying an event twice, or
out of order with a later full :meth:`sync`, converges on the same data plane; a device
removed by hand comes back at the next event, a rule at the next change of its chain
(its table, in a router namespace) or the next sync.  The reconcile
removes what it owns but no longer wants: namespaces with the prefix, devices in them,
dnsmasq and radvd processes whose pid files are in its state directory.

With a :class:`~.vxlan.Tunnel` the driver is one host among several: it keeps only the
bridges, DHCP namespaces and routers of what is bound to its host, and joins its VXLAN
networks to the other hosts' (:mod:`.vxlan`).  With :class:`~.physnets.Physnets` (the
opt-in ``network_physical_interface_mappings``) flat and VLAN networks on a mapped
physical network get the interface, or a VLAN subinterface of it, on their bridge
(:mod:`.physnets`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import threading
from pathlib import Path

from pocketstack.common import netns
from pocketstack.network.drivers import (
    daemons,
    dnsmasq_config,
    metadata_proxy,
    nft_rules,
    radvd_config,
    tc_qos,
    trunk_vlans,
    vxlan,
)
from pocketstack.network.drivers.base import DatapathDriver
from pocketstack.network.drivers.daemons import Daemon
from pocketstack.network.drivers.metadata_proxy import MetadataProxy
from pocketstack.network.drivers.nft_rules import tag
from pocketstack.network.drivers.physnets import Physnets

LOG = logging.getLogger(__name__)
TOOLS = {"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base"}
DHCP_OWNER = "network:dhcp"
INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                    "network:ha_router_replicated_interface")
GATEWAY_OWNER = "network:router_gateway"


class DatapathUnavailable(RuntimeError):
    """The Linux datapath cannot run here (not root, or a tool is missing)."""


def check_host() -> None:
    if os.geteuid() != 0:
        raise DatapathUnavailable("network_datapath = \"linux\" needs root (it creates network namespaces); "
                                  "run as root or use network_datapath = \"noop\"")
    missing = sorted({pkg for tool, pkg in TOOLS.items()
                      if shutil.which(tool) is None and not Path("/sbin", tool).exists()})
    if missing:
        raise DatapathUnavailable(f"network_datapath = \"linux\" needs the Debian packages {', '.join(missing)}")


class LinuxDriver(DatapathDriver):
    name = "linux"

    def __init__(self, state_dir: Path, prefix: str = "ps-", metadata: MetadataProxy | None = None,
                 tunnel: vxlan.Tunnel | None = None, physnets: Physnets | None = None):
        check_host()
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
        # tap -> (its ifindex, the limits applied to it): tc runs only on a change
        self._shaped: dict[str, tuple] = {}
        self.last_error: str | None = None  # of the last reconcile after an event
        self._applied: dict[str, str | nft_rules.HostRuleset] = {}  # namespace -> its ruleset applied last
        self._forced = False
        #: what the driver wired of each trunk here, for the agent to report to the
        #: service (its ``reporter``: ``NetworkManager.trunk_wired``)
        self.trunk_reports = trunk_vlans.Reports()
        self._devices: frozenset[str] = frozenset()  # the port devices the last reconcile saw

    # -- naming ----------------------------------------------------------------------------
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

    # -- events ------------------------------------------------------------------------------
    def sync(self, state: dict[str, list[dict]]) -> None:
        with self._lock:
            for name in ("networks", "subnets", "ports", "routers", "floatingips", "security_groups",
                         "qos_policies", "address_groups"):
                setattr(self, name, {item["id"]: item for item in state.get(name) or []})
            self._forced = True  # rewrite every ruleset: repairs rules changed by hand
            try:
                self._apply()
            finally:
                self._forced = False

    def _put(self, store: dict, item: dict) -> None:
        with self._lock:
            store[item["id"]] = item
            self._apply()

    def _drop(self, store: dict, item: dict) -> None:
        with self._lock:
            store.pop(item["id"], None)
            self._apply()

    def _apply(self) -> None:
        """Reconcile after an event.  A failure is logged, not raised: the change is
        committed and the state kept, so the next event or sync applies it (the service
        calls the driver after its commit; an API request must not fail for it)."""
        try:
            self.reconcile()
            self.trunk_reports.send()
            # A missing interface or refused VLAN leaves its network without an uplink, not
            # the rest of the datapath undone: reported like a failed reconcile.
            problems = "; ".join(self.physnets.problems) if self.physnets is not None else ""
            if problems and problems != self.last_error:
                LOG.error("linux datapath: provider networks without their uplink: %s", problems)
            self.last_error = problems or None
        except (OSError, netns.CommandFailed, ValueError) as error:
            self.last_error = str(error)
            LOG.error("linux datapath could not apply the network state: %s", error)

    def status(self) -> dict:
        """How many of each resource the driver applies, and the error of its last
        reconcile after an event (None when it succeeded); among several hosts, this
        host's VXLAN address (``tunneling_ip``: what the other hosts' FDBs point at)."""
        with self._lock:
            return {"networks": len(self.networks), "subnets": len(self.subnets), "ports": len(self._bound_ports()),
                    "routers": len(self.routers), "floating_ips": len(self.floatingips),
                    "security_groups": len(self.security_groups), "last_error": self.last_error,
                    **(self.tunnel.configurations() if self.tunnel is not None else {}),
                    **(self.physnets.configurations() if self.physnets is not None else {})}

    def network_updated(self, network: dict) -> None:
        self._put(self.networks, network)

    def network_deleted(self, network: dict) -> None:
        with self._lock:
            self.subnets = {k: v for k, v in self.subnets.items() if v.get("network_id") != network["id"]}
            self._drop(self.networks, network)

    def subnet_updated(self, subnet: dict) -> None:
        self._put(self.subnets, subnet)

    def subnet_deleted(self, subnet: dict) -> None:
        self._drop(self.subnets, subnet)

    def port_updated(self, port: dict) -> None:
        self._put(self.ports, port)

    def port_deleted(self, port: dict) -> None:
        with self._lock:
            if self.host_ns in netns.namespaces():  # the port is gone: so is its device
                netns.ip(self.host_ns, "link", "del", self.tap_name(port["id"]), check=False)
            self._drop(self.ports, port)

    def router_updated(self, router: dict) -> None:
        with self._lock:
            # The interface ports travel with the router: keep them as ports too.
            for port in router.get("interfaces") or []:
                self.ports[port["id"]] = port
            self._put(self.routers, router)

    def router_deleted(self, router: dict) -> None:
        self._drop(self.routers, router)

    def floatingip_updated(self, floatingip: dict) -> None:
        self._put(self.floatingips, floatingip)

    def floatingip_deleted(self, floatingip: dict) -> None:
        self._drop(self.floatingips, floatingip)

    def security_group_updated(self, security_group: dict) -> None:
        self._put(self.security_groups, security_group)

    def security_group_deleted(self, security_group: dict) -> None:
        self._drop(self.security_groups, security_group)

    def address_group_updated(self, address_group: dict) -> None:
        self._put(self.address_groups, address_group)

    def address_group_deleted(self, address_group: dict) -> None:
        self._drop(self.address_groups, address_group)

    def qos_policy_updated(self, policy: dict) -> None:
        self._put(self.qos_policies, policy)

    def qos_policy_deleted(self, policy: dict) -> None:
        self._drop(self.qos_policies, policy)

    def plug(self, port_id: str, device: str | None = None, namespace: str | None = None) -> str:
        """Attach a port's device to its network's bridge and return the device's name.

        ``device`` (in ``namespace``, or the host namespace of the datapath if None) is
        moved into the datapath's host namespace as ``tap<port11>``; without it the
        device must already be there under that name (a veth created with its peer
        there, as the tests do).
        """
        with self._lock:
            self._ensure(self.host_ns)
            name = self.tap_name(port_id)
            device, source = device or name, namespace or self.host_ns
            if source != self.host_ns:
                netns.ip(source, "link", "set", "dev", device, "down")
                netns.ip(source, "link", "set", "dev", device, "netns", self.host_ns)
            if device != name:
                netns.ip(self.host_ns, "link", "set", "dev", device, "down")
                netns.ip(self.host_ns, "link", "set", "dev", device, "name", name)
            self.reconcile()  # raises: the caller plugging a guest wants to know
            self.trunk_reports.send()
            return name

    def open_tap(self, port_id: str) -> int:
        """A tap for a guest's port, created in the host namespace of the datapath and
        attached to its network's bridge; returns the file descriptor to hand to QEMU
        (``-netdev tap,fd=N,vhost=off`` with ``pass_fds``).  The device goes when every
        holder of the descriptor has closed it."""
        with self._lock:
            self._ensure(self.host_ns)
            fd = netns.open_tap(self.host_ns, self.tap_name(port_id))
            try:
                self.reconcile()
            except Exception:
                os.close(fd)
                raise
            self.trunk_reports.send()
            return fd

    def unplug(self, port_id: str) -> None:
        with self._lock:
            if self.host_ns in netns.namespaces():
                netns.ip(self.host_ns, "link", "del", self.tap_name(port_id), check=False)

    # -- reconcile -----------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Make the namespaces match the state (idempotent; removes what is not wanted)."""
        with self._lock:
            self._ensure(self.host_ns)
            # Bridged IP traffic through the inet tables (per namespace since Linux 5.3).
            for family in ("iptables", "ip6tables"):
                netns.sysctl(self.host_ns, f"net.bridge.bridge-nf-call-{family}", "1")
            self._bridges()
            bridged = {n: self.networks[n] for n in self._local_networks()}
            if self.tunnel is not None:
                self.tunnel.apply(self.host_ns, bridged, list(self.ports.values()), self.bridge_name, self._mtu)
            if self.physnets is not None:  # after the bridges: their uplinks go on them
                self.physnets.apply(self.host_ns, bridged, self.bridge_name, self._mtu)
            proxied: set[str] = set()  # the namespaces whose metadata proxy is wanted
            dhcp = self._dhcp(proxied)
            routers = self._routers(proxied)
            if self.metadata is not None:
                for gone in self.metadata.namespaces() - proxied:
                    self.metadata.stop(gone)
            for ns in netns.namespaces():
                if ns.startswith(f"{self.prefix}dhcp-") and ns not in dhcp:
                    self._dnsmasq(ns[len(f"{self.prefix}dhcp-"):]).stop()
                    netns.delete(ns)
                elif ns.startswith(f"{self.prefix}router-") and ns not in routers:
                    netns.delete(ns)
            daemons.stop_others(self.state_dir / "dhcp", {ns[len(f"{self.prefix}dhcp-"):] for ns in dhcp})
            subports = self._subport_devices()
            self._shape(self._attach_ports())
            self._trunk_outcomes(subports)
            last = self._applied.get(self.host_ns)
            numbers = last.numbers if isinstance(last, nft_rules.HostRuleset) else None
            self._nft(self.host_ns, nft_rules.ruleset(self._bound_ports(), self.security_groups, self.networks,
                                                      numbers, self.address_groups))

    def _ensure(self, ns: str) -> bool:
        """Create the namespace unless it exists; whether it was created."""
        if not netns.ensure(ns):
            return False
        self._applied.pop(ns, None)  # a new namespace has no rules yet
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

    def destroy(self) -> None:
        """Remove every namespace and process of this driver (tests; a host's decommission);
        the mapped physical interfaces go back to the namespace this process runs in."""
        with self._lock:
            daemons.stop_others(self.state_dir / "dhcp", set())
            daemons.stop_others(self.state_dir / "radvd", set())
            if self.metadata is not None:
                for ns in self.metadata.namespaces():
                    self.metadata.stop(ns)
            if self.physnets is not None:  # back where they came from, before their namespace goes
                self.physnets.release(self.host_ns)
            for ns in sorted(netns.namespaces()):
                if ns == self.host_ns or ns.startswith((f"{self.prefix}dhcp-", f"{self.prefix}router-")):
                    netns.delete(ns)
            self._applied.clear()

    def _mtu(self, network_id: str) -> str:
        return str((self.networks.get(network_id) or {}).get("mtu") or 1500)

    def _local_networks(self) -> set[str]:
        """The networks with a bridge here: with something on this host."""
        return vxlan.local_networks(self.ports.values(), self.host, self.networks)

    def _bound_ports(self) -> list[dict]:
        return [p for p in self.ports.values() if p.get("network_id") in self.networks]

    def _bridges(self) -> None:
        links = netns.links(self.host_ns)
        wanted = {self.bridge_name(n): n for n in self._local_networks()}
        for name in links:
            if name.startswith("br-") and name not in wanted:
                netns.ip(self.host_ns, "link", "del", name)
        for name, network_id in wanted.items():
            if name not in links:
                netns.ip(self.host_ns, "link", "add", name, "type", "bridge")
            link = links.get(name, {})
            if str(link.get("mtu")) != self._mtu(network_id) or "UP" not in link.get("flags", []):
                netns.ip(self.host_ns, "link", "set", name, "mtu", self._mtu(network_id), "up")

    def _attach_ports(self) -> dict[str, dict]:
        """Every port device on its network's bridge (the unknown ones quarantined); the
        host namespace's devices, as they were read."""
        links = netns.links(self.host_ns)
        local = self._local_networks()
        for name, link in links.items():
            if not name.startswith("tap"):
                continue
            port = next((p for p in self.ports.values() if self.tap_name(p["id"]) == name), None)
            if port is None or port.get("network_id") not in local:
                # A guest's tap may be plugged before its port's event arrives (or outlive
                # it until the guest stops): quarantined, not deleted, until it is known.
                if link.get("master") or "UP" in link.get("flags", []):
                    netns.ip(self.host_ns, "link", "set", name, "nomaster", "down")
                continue
            bridge = self.bridge_name(port["network_id"])
            mtu = self._mtu(port["network_id"])
            if link.get("master") != bridge:
                netns.ip(self.host_ns, "link", "set", name, "master", bridge)
            if str(link.get("mtu")) != mtu or "UP" not in link.get("flags", []):
                netns.ip(self.host_ns, "link", "set", name, "mtu", mtu, "up")
        return links

    # -- trunks ----------------------------------------------------------------------------------
    def _subport_devices(self) -> dict[str, trunk_vlans.Subport]:
        """The VLAN devices of the trunks whose parent's tap is here (:mod:`.trunk_vlans`),
        made before the ports go on their bridges (a subport's device is one of them)."""
        links = netns.links(self.host_ns)
        wanted = trunk_vlans.wanted(self.ports.values(), self.tap_name, links)
        failed = trunk_vlans.apply(self.host_ns, links, wanted)
        for name, error in sorted(failed.items()):
            LOG.error("linux datapath: trunk subport device %s not made: %s", name, error)
        return wanted

    def rescan(self) -> None:
        """Reconcile when the port devices changed since the last reconcile (a guest's
        tap made by its compute host, or gone with its QEMU): a trunk's subports get
        their devices on a parent plugged without an event."""
        with self._lock:
            if self.host_ns not in netns.namespaces():
                return
            if self._devices != frozenset(n for n in netns.links(self.host_ns) if n.startswith("tap")):
                self._apply()

    def _trunk_outcomes(self, subports: dict[str, trunk_vlans.Subport]) -> None:
        links = netns.links(self.host_ns)
        self._devices = frozenset(name for name in links if name.startswith("tap"))
        self.trunk_reports.observe(trunk_vlans.trunks_here(self.ports.values(), self.tap_name, links),
                                   trunk_vlans.statuses(links, subports, self._bridge_of))

    def _bridge_of(self, port_id: str) -> str | None:
        port = self.ports.get(port_id)
        if port is None or port.get("network_id") not in self._local_networks():
            return None
        return self.bridge_name(port["network_id"])

    def _shape(self, links: dict[str, dict]) -> None:
        """The QoS bandwidth limits of every port device (:mod:`.tc_qos`) among the host
        namespace's ``links``, applied where they changed (or the device is a new one:
        another ifindex); ``sync`` re-applies them all."""
        taps = {name: link for name, link in links.items() if name.startswith("tap")}
        by_tap = {self.tap_name(p["id"]): p for p in self.ports.values()}
        for name in set(self._shaped) - set(taps):
            if self._shaped.pop(name)[1]:
                tc_qos.forget(self.host_ns, name)
        for name, link in taps.items():
            port = by_tap.get(name)
            wanted = tc_qos.limits(port, self.networks, self.qos_policies) if port is not None else {}
            state = (link.get("ifindex"), tuple(sorted(wanted.items())))
            last = self._shaped.get(name)
            if last == state and not self._forced:
                continue
            if wanted or (last is not None and last[1]) or self._forced:
                tc_qos.apply(self.host_ns, name, wanted)
            self._shaped[name] = state

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

    # -- DHCP ---------------------------------------------------------------------------------
    def _dhcp(self, proxied: set[str]) -> set[str]:
        wanted = set()
        for network_id in sorted(self.networks):
            subnets = [s for s in self.subnets.values() if s.get("network_id") == network_id]
            served = dnsmasq_config.dhcp_subnets(subnets)
            port = next((p for p in sorted(self.ports.values(), key=lambda p: p["id"])
                         if p.get("network_id") == network_id and p.get("device_owner") == DHCP_OWNER
                         and vxlan.here(p, self.host)), None)
            if not served or port is None:
                continue
            ns = self.dhcp_ns(network_id)
            wanted.add(ns)
            if self._ensure(ns):
                # The DHCP port's addresses are the API's: no SLAAC of its own from the RAs.
                netns.sysctl(ns, "net.ipv6.conf.default.accept_ra", "0")
                self._dnsmasq(network_id).stop()  # one still running serves a deleted namespace
            links = netns.links(ns)
            inner = f"ns-{tag(port['id'])}"
            for name in links:
                if name.startswith("ns-") and name != inner:
                    netns.ip(ns, "link", "del", name)
            self._veth(ns, inner, port, links)
            addresses = {a for f in port.get("fixed_ips") or [] if (a := self._prefixed(f))}
            # Isolated metadata (Neutron's enable_isolated_metadata): the guests of an
            # IPv4 subnet no router serves reach 169.254.169.254 here, by a host route.
            metadata_routes: dict[str, str] = {}
            if self.metadata is not None:
                isolated = dnsmasq_config.isolated_subnets(served, self._router_gateways())
                metadata_routes = {f["subnet_id"]: f["ip_address"] for f in port.get("fixed_ips") or []
                                   if f["subnet_id"] in isolated}
            if metadata_routes:
                addresses.add(f"{metadata_proxy.ADDRESS}/32")
            netns.set_addresses(ns, inner, addresses)
            if metadata_routes:
                assert self.metadata is not None
                self.metadata.serve(ns, {network_id}, (metadata_proxy.ADDRESS, 80))
                proxied.add(ns)
            ports = [p for p in self.ports.values() if p.get("network_id") == network_id]
            self._start_dnsmasq(network_id, ns, inner, ports, subnets, metadata_routes)
        return wanted

    def _router_gateways(self) -> set[tuple[str, str]]:
        """(subnet id, address) of every router interface: a subnet whose gateway address
        is among them has a router (and its metadata proxy)."""
        return {(f["subnet_id"], f["ip_address"]) for router in self.routers.values()
                for port in self._interfaces(router) for f in port.get("fixed_ips") or []}

    def _dnsmasq(self, network_id: str) -> Daemon:
        return Daemon(self.state_dir / "dhcp" / network_id)

    def _start_dnsmasq(self, network_id: str, ns: str, interface: str, ports: list[dict], subnets: list[dict],
                       metadata_routes: dict[str, str]) -> None:
        daemon = self._dnsmasq(network_id)
        opts = dnsmasq_config.opts_file(ports, subnets, int(self._mtu(network_id)), metadata_routes)
        daemon.ensure(ns, dnsmasq_config.command(network_id, interface, subnets, daemon.directory),
                      {"dnsmasq.conf": "", "hosts": dnsmasq_config.hosts_file(ports, subnets), "opts": opts},
                      reloadable=lambda running: dnsmasq_config.reloadable(running.get("hosts", "")))

    # -- routers -------------------------------------------------------------------------------
    def _routers(self, proxied: set[str]) -> set[str]:
        # A router with admin_state_up false is not served at all, as Neutron's L3 agent
        # removes it: no namespace (so its interfaces go), no NAT, no metadata proxy.
        active = {i: r for i, r in self.routers.items() if r.get("admin_state_up") is not False and self._hosts(r)}
        wanted = set()
        advertising: set[str] = set()  # routers whose radvd runs
        for router_id, router in sorted(active.items()):
            ns = self.router_ns(router_id)
            wanted.add(ns)
            if self._ensure(ns):
                self._radvd_daemon(router_id).stop()  # one still running serves a deleted namespace
            netns.sysctl(ns, "net.ipv4.ip_forward", "1")
            netns.sysctl(ns, "net.ipv6.conf.all.forwarding", "1")
            # As Neutron's L3 agent: an interface answers ARP only for its own addresses.
            # Two interfaces on one network (an IPv4 and an IPv6 subnet) otherwise both
            # answer for the IPv4 gateway, and a request reaching the IPv6-only one cannot
            # be redirected to the metadata proxy (no IPv4 address to redirect to).
            netns.sysctl(ns, "net.ipv4.conf.all.arp_ignore", "1")
            netns.sysctl(ns, "net.ipv4.conf.all.arp_announce", "2")
            links = netns.links(ns)
            devices: dict[str, tuple[dict, set[str]]] = {}
            snat: list[str] = []
            for port in self._interfaces(router):
                if port.get("network_id") not in self.networks:
                    continue
                addresses = {a for f in port.get("fixed_ips") or [] if (a := self._prefixed(f))}
                devices[f"qr-{tag(port['id'])}"] = (port, addresses)
                snat += [self.subnets[f["subnet_id"]]["cidr"] for f in port.get("fixed_ips") or []
                         if f["subnet_id"] in self.subnets and self.subnets[f["subnet_id"]]["ip_version"] == 4]
            gateway = self._gateway_port(router)
            floating = [(f["floating_ip_address"], f["fixed_ip_address"]) for f in self.floatingips.values()
                        if f.get("router_id") == router_id and f.get("port_id") and f.get("fixed_ip_address")]
            gateway_device = gateway_ip = None
            routes: dict[str, str] = {}
            if gateway is not None:
                gateway_device = f"qg-{tag(gateway['id'])}"
                addresses = {a for f in gateway.get("fixed_ips") or [] if (a := self._prefixed(f))}
                addresses |= {f"{fip}/32" for fip, _ in floating}
                devices[gateway_device] = (gateway, addresses)
                for fixed in gateway.get("fixed_ips") or []:
                    subnet = self.subnets.get(fixed["subnet_id"])
                    if subnet and subnet["ip_version"] == 4:
                        gateway_ip = gateway_ip or fixed["ip_address"]
                    if subnet and subnet.get("gateway_ip"):  # the default route of each IP version
                        routes.setdefault("0.0.0.0/0" if subnet["ip_version"] == 4 else "::/0", subnet["gateway_ip"])
            for route in router.get("routes") or []:
                routes[route["destination"]] = route["nexthop"]
            for name in links:
                if name.startswith(("qr-", "qg-")) and name not in devices:
                    netns.ip(ns, "link", "del", name)
            for name, (port, addresses) in devices.items():
                self._veth(ns, name, port, links)
                netns.set_addresses(ns, name, addresses)
            self._set_routes(ns, routes)
            if self._radvd(router_id, ns, [(name, port) for name, (port, _) in devices.items() if port is not gateway]):
                advertising.add(router_id)
            enable_snat = (router.get("external_gateway_info") or {}).get("enable_snat", True)
            if self.metadata is not None:
                self.metadata.serve(ns, {p["network_id"] for p, _ in devices.values() if p is not gateway})
                proxied.add(ns)
            self._nft(ns, nft_rules.nat_ruleset(gateway_device, gateway_ip, snat if enable_snat else [], floating,
                                                metadata_proxy.PORT if self.metadata is not None else None))
        daemons.stop_others(self.state_dir / "radvd", advertising)
        return wanted

    def _radvd_daemon(self, router_id: str) -> Daemon:
        return Daemon(self.state_dir / "radvd" / router_id)

    def _radvd(self, router_id: str, ns: str, interfaces: list[tuple[str, dict]]) -> bool:
        """Run the router's radvd for its interfaces' IPv6 subnets with an RA mode (stop it
        if there are none); whether it runs."""
        conf = radvd_config.config([(name, int(self._mtu(port["network_id"])),
                                     [self.subnets[f["subnet_id"]] for f in port.get("fixed_ips") or []
                                      if f["subnet_id"] in self.subnets]) for name, port in interfaces])
        daemon = self._radvd_daemon(router_id)
        if not conf:
            daemon.stop()
            return False
        if shutil.which("radvd") is None:
            # One router without advertisements must not stop the rest of the reconcile.
            LOG.error("router %s has IPv6 subnets to advertise, but radvd (Debian package radvd) is not installed",
                      router_id)
            return False
        daemon.ensure(ns, radvd_config.command(daemon.directory), {"radvd.conf": conf})
        return True

    def instance_at(self, networks: frozenset[str], address: str) -> tuple[str, str] | None:
        """The instance (id, project) whose port has ``address`` on one of ``networks``
        (those a metadata proxy serves): who a request to the proxy comes from."""
        with self._lock:
            for port in self.ports.values():
                if (port.get("network_id") in networks and (port.get("device_owner") or "").startswith("compute:")
                        and any(f["ip_address"] == address for f in port.get("fixed_ips") or [])):
                    return port["device_id"], port.get("project_id") or ""
            return None

    def _hosts(self, router: dict) -> bool:
        """Whether the router is served here: its ports are bound to this host (where
        its L3 agent is), or this is the only host."""
        ports = [*self._interfaces(router), *filter(None, [self._gateway_port(router)])]
        return self.host is None or any(vxlan.here(p, self.host) for p in ports)

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

    @staticmethod
    def _set_routes(ns: str, routes: dict[str, str]) -> None:
        """Static routes (``proto static``) exactly ``routes``: destination CIDR -> next
        hop, IPv4 and IPv6."""
        wanted: dict[tuple[str, str], str] = {}
        for destination, nexthop in routes.items():
            network = ipaddress.ip_network(destination, strict=False)
            # As ``ip`` shows them: "default", a host route without its length.
            shown = ("default" if network.prefixlen == 0 else str(network.network_address)
                     if network.prefixlen == network.max_prefixlen else str(network))
            wanted[(f"-{network.version}", shown)] = nexthop
        have = {(family, r["dst"]): r.get("gateway") for family in ("-4", "-6")
                for r in json.loads(netns.ip(ns, family, "-j", "route", "show", "proto", "static") or "[]")}
        for family, destination in have:
            if (family, destination) not in wanted:
                netns.ip(ns, family, "route", "del", destination, "proto", "static", check=False)
        for (family, destination), nexthop in wanted.items():
            if have.get((family, destination)) != nexthop:
                netns.ip(ns, family, "route", "replace", destination, "via", nexthop, "proto", "static")
