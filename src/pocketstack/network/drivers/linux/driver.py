"""The Linux datapath driver: each event updates the state and reconciles every
namespace with all of it (:mod:`.bridges`, :mod:`.dhcp`, :mod:`.routers`); guests'
ports plugged and unplugged; the driver's status."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pocketstack.common import netns
from pocketstack.network.drivers import daemons, nft_rules, vxlan
from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT, DatapathDriver
from pocketstack.network.drivers.linux.bridges import HostBridges
from pocketstack.network.drivers.linux.dhcp import DhcpNamespaces
from pocketstack.network.drivers.linux.host import check_host
from pocketstack.network.drivers.linux.routers import RouterNamespaces
from pocketstack.network.drivers.metadata_proxy import MetadataProxy
from pocketstack.network.drivers.physnets import Physnets

LOG = logging.getLogger(__name__)


class LinuxDriver(HostBridges, DhcpNamespaces, RouterNamespaces, DatapathDriver):
    """The datapath of this host (the layout: the package's docstring)."""

    name = "linux"
    # dnsmasq per DHCP network and a namespace per router: the DHCP and L3 agents' work.
    agent_types = (DHCP_AGENT, L3_AGENT)

    def __init__(self, state_dir: Path, prefix: str = "ps-", metadata: MetadataProxy | None = None,
                 tunnel: vxlan.Tunnel | None = None, physnets: Physnets | None = None):
        check_host()
        super().__init__(state_dir, prefix, metadata, tunnel, physnets)

    def sync(self, state: dict[str, list[dict]]) -> None:
        with self._lock:
            for name in ("networks", "subnets", "ports", "routers", "floatingips", "security_groups",
                         "qos_policies", "address_groups", "metering_labels"):
                store = getattr(self, name)  # in place: an event's ``_put`` may hold this dict already
                store.clear()
                store.update((item["id"], item) for item in state.get(name) or [])
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
        host's VXLAN address (``tunneling_ip``: what the other hosts' FDBs point at); with
        metering labels, each label's counts (``metering_labels``)."""
        with self._lock:
            return {"networks": len(self.networks), "subnets": len(self.subnets), "ports": len(self._bound_ports()),
                    "routers": len(self.routers), "floating_ips": len(self.floatingips),
                    "security_groups": len(self.security_groups), "last_error": self.last_error,
                    **(self.tunnel.configurations() if self.tunnel is not None else {}),
                    **(self.physnets.configurations() if self.physnets is not None else {}),
                    **({"metering_labels": self._label_counts()} if self.metering_labels else {})}

    def _label_counts(self) -> dict[str, dict[str, int]]:
        """Each metering label's traffic (what its rules counted, excluded rules' apart)."""
        return {label_id: {k: v for k, v in counts.items() if k != "rules"}
                for label_id, counts in self.metering_counters().items()}

    def network_updated(self, network: dict) -> None:
        self._put(self.networks, network)

    def network_deleted(self, network: dict) -> None:
        with self._lock:
            # In place, never a new dict: a concurrent ``subnet_updated`` has passed
            # ``self.subnets`` to ``_put`` before taking the lock, and would add to a
            # dict no longer read (a subnet lost until the next sync).
            for subnet_id in [k for k, v in self.subnets.items() if v.get("network_id") == network["id"]]:
                del self.subnets[subnet_id]
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

    def metering_label_updated(self, label: dict) -> None:
        self._put(self.metering_labels, label)

    def metering_label_deleted(self, label: dict) -> None:
        self._drop(self.metering_labels, label)

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
            self._metered.clear()

    def rescan(self) -> None:
        """Reconcile when the port devices changed since the last reconcile (a guest's
        tap made by its compute host, or gone with its QEMU): a trunk's subports get
        their devices on a parent plugged without an event."""
        with self._lock:
            if self.host_ns not in netns.namespaces():
                return
            if self._devices != frozenset(n for n in netns.links(self.host_ns) if n.startswith("tap")):
                self._apply()
