"""VXLAN between datapath hosts, and what one host's datapath keeps.

Several hosts each run a network agent with a Linux datapath.  A VXLAN network that has
something on a host (a port bound to it: a guest's, the DHCP port, a router's) gets a
``vxlan-<vni>`` device on its bridge in that host's ``<prefix>host`` namespace: VNI the
network's ``provider:segmentation_id``, UDP port 4789, the host's own VXLAN address
(``local_ip``, Neutron's ``[vxlan] local_ip``) as source, and no learning.  What the
device knows of the other hosts is written, as Neutron's l2population writes it, from
the API alone: the ports' ``binding:host_id`` and the hosts' VXLAN addresses that their
agents report (``tunneling_ip`` in the agents' ``configurations``):

* a flood entry (MAC ``00:00:00:00:00:00``) to every other host with a port on the
  network: broadcast and unknown unicast (ARP, DHCP) go to those hosts only;
* one entry per port on another host: its MAC to that host's address.

The local_ip must be an address of the host namespace (the VXLAN device sends from
there): an underlay device the driver moves into it (``underlay``, the documented
opt-in that takes a device from the machine's own namespace), or one put there by
whoever set the namespace up (the two-host test's veth).  Everything here is pure but
:meth:`Tunnel.apply`, which reconciles one namespace's devices and FDB with it.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pocketstack.common import netns

DSTPORT = 4789  # IANA's VXLAN port, as Neutron's vxlan_udp_port
FLOOD = "00:00:00:00:00:00"
OVERHEAD = 50  # bytes of VXLAN over IPv4 (what the network's MTU already leaves out)


def device(vni: int) -> str:
    """The network's VXLAN device: ``vxlan-<vni>`` (at most 14 characters)."""
    return f"vxlan-{vni}"


def vni(network: dict) -> int | None:
    """The VNI of a VXLAN network, None for other types."""
    if network.get("provider:network_type") != "vxlan" or network.get("provider:segmentation_id") is None:
        return None
    return int(network["provider:segmentation_id"])


def here(port: dict, host: str | None) -> bool:
    """Whether a port's device lives on ``host`` (None: the only host, so every port)."""
    return host is None or port.get("binding:host_id") == host


def local_networks(ports: Iterable[dict], host: str | None, networks: Iterable[str]) -> set[str]:
    """The networks that have something on ``host``: they get a bridge there."""
    known = set(networks)
    if host is None:
        return known
    return {p["network_id"] for p in ports if p.get("network_id") in known and here(p, host)}


def fdb(network_id: str, ports: Iterable[dict], host: str | None, vteps: dict[str, str]) -> set[tuple[str, str]]:
    """The ``(mac, remote address)`` entries of a network's VXLAN device on ``host``:
    per port bound to another host with a known address, its MAC there, and a flood
    entry to that host."""
    local = vteps.get(host or "")
    entries: set[tuple[str, str]] = set()
    for port in ports:
        where = port.get("binding:host_id")
        if port.get("network_id") != network_id or not where or where == host or where not in vteps:
            continue
        remote = vteps[where]
        if remote == local:
            continue
        entries |= {(FLOOD, remote), (port["mac_address"].lower(), remote)}
    return entries


def address(local_ip: str) -> str:
    """The VTEP address of a ``local_ip`` setting, which may carry a prefix length."""
    return str(ipaddress.ip_interface(local_ip).ip)


@dataclass
class Tunnel:
    """A datapath host among several: its name, VXLAN address and the other hosts'."""

    host: str
    local_ip: str  # "192.0.2.5" or, with an underlay to address, "192.0.2.5/24"
    peers: Callable[[], dict[str, str]] = field(default=dict)  # host -> VXLAN address
    underlay: str | None = None  # a device of the machine's namespace to move in

    def configurations(self) -> dict:
        """What the agent reports in ``/v2.0/agents`` (Neutron's L2 agents' keys)."""
        return {"tunneling_ip": address(self.local_ip), "tunnel_types": ["vxlan"]}

    def apply(self, ns: str, networks: dict[str, dict], ports: list[dict], bridge: Callable[[str], str],
              mtu: Callable[[str], str]) -> None:
        """Make ``ns``'s VXLAN devices exactly those of ``networks`` (the networks with a
        bridge here), each on its bridge ``bridge(network id)``, MTU ``mtu(network id)``,
        with its FDB entries."""
        if self.underlay:
            self._underlay(ns)
        vteps = {**self.peers(), self.host: address(self.local_ip)}
        links = netns.links(ns)
        wanted = {device(v): (network_id, v) for network_id, network in networks.items()
                  if (v := vni(network)) is not None}
        for name, link in links.items():
            if (name.startswith("vxlan-") and (link.get("linkinfo") or {}).get("info_kind") == "vxlan"
                    and name not in wanted):
                netns.ip(ns, "link", "del", name)
        for name, (network_id, v) in sorted(wanted.items()):
            link = links.get(name) or {}
            data = (link.get("linkinfo") or {}).get("info_data") or {}
            if link and (data.get("id"), data.get("local"), data.get("port")) != (v, address(self.local_ip), DSTPORT):
                netns.ip(ns, "link", "del", name)
                link = {}
            if not link:
                netns.ip(ns, "link", "add", name, "type", "vxlan", "id", str(v), "local", address(self.local_ip),
                         "dstport", str(DSTPORT), "nolearning")
            if link.get("master") != bridge(network_id):
                netns.ip(ns, "link", "set", name, "master", bridge(network_id))
            if str(link.get("mtu")) != mtu(network_id) or "UP" not in link.get("flags", []):
                netns.ip(ns, "link", "set", name, "mtu", mtu(network_id), "up")
            self._fdb(ns, name, fdb(network_id, ports, self.host, vteps))

    @staticmethod
    def _fdb(ns: str, name: str, wanted: set[tuple[str, str]]) -> None:
        have = {(entry["mac"], entry["dst"]) for entry in json.loads(
            netns.run("bridge", "-n", ns, "-j", "fdb", "show", "dev", name) or "[]") if "dst" in entry}
        for mac, remote in sorted(have - wanted):
            netns.run("bridge", "-n", ns, "fdb", "del", mac, "dev", name, "dst", remote, check=False)
        for mac, remote in sorted(wanted - have):
            netns.run("bridge", "-n", ns, "fdb", "append", mac, "dev", name, "dst", remote, "self", "permanent")

    def _underlay(self, ns: str) -> None:
        """Move the underlay device into ``ns`` (once) and give it the local_ip."""
        if self.underlay not in netns.links(ns):
            netns.run("ip", "link", "set", "dev", str(self.underlay), "netns", ns)
        netns.ip(ns, "link", "set", str(self.underlay), "up")
        wanted = str(ipaddress.ip_interface(self.local_ip))
        if wanted not in netns.addresses(ns, str(self.underlay)):
            netns.ip(ns, "addr", "replace", wanted, "dev", str(self.underlay))
