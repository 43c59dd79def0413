"""Provider networks on physical interfaces: flat and VLAN networks leave the host.

As Neutron's linuxbridge agent does with ``physical_interface_mappings``, the setting
``network_physical_interface_mappings = "physnet1:eth1,public:eth2"`` maps a physical
network (``provider:physical_network``) to an interface.  On the host namespace of the
datapath (``<prefix>host``), a network with a bridge there gets an *uplink* on it:

* ``flat``: the interface itself;
* ``vlan`` (``provider:segmentation_id`` N): a VLAN subinterface ``<iface>.N`` (802.1Q),
  created by the driver and deleted when the network goes (a name over 15 characters is
  shortened as Neutron shortens it: :func:`subinterface`).

The mapping is the opt-in that takes a device from the machine's own namespace: a mapped
interface is moved into the host namespace of the datapath at every reconcile that finds
it outside (losing its addresses, as any device moved between namespaces), kept there
with MTU ``network_physnet_mtu`` (a subinterface gets its network's MTU), and handed
back to the namespace the driver runs in by :meth:`Physnets.release` (the driver's
``destroy``).  A network on a physical network without a mapping (or whose interface
is missing) keeps a bridge alone, as before.  Everything here is pure but
:meth:`Physnets.apply` and :meth:`Physnets.release`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from pocketstack.common import netns

SETTING = "network_physical_interface_mappings"
NAME_MAX = 15  # IFNAMSIZ - 1
VLAN_POSTFIX_MAX = 5  # ".4094"
HASH_LEN = 6  # Neutron's INTERFACE_HASH_LEN
# The names the driver gives its own devices in the host namespace (it deletes or
# quarantines those it does not want): a mapped interface may not look like one.
RESERVED = ("tap", "br-", "vxlan-")


def parse_mappings(text: str) -> dict[str, str]:
    """``"physnet1:eth1, public:eth2"`` -> ``{"physnet1": "eth1", "public": "eth2"}``;
    a malformed item, a physical network mapped twice or an interface mapped twice
    (Neutron's ``parse_mappings(unique_values=True)``) is a ValueError naming the setting."""
    mappings: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        physnet, colon, interface = (part.strip() for part in item.partition(":"))
        if not colon or not physnet or not interface:
            raise ValueError(f"setting {SETTING!r}: {item!r} is not physnet:interface")
        if not valid_interface(interface):
            raise ValueError(f"setting {SETTING!r}: {interface!r} is not an interface name "
                             f"(1-{NAME_MAX} characters, no '/', ':' or white space)")
        if interface == "lo" or interface.startswith(RESERVED):
            raise ValueError(f"setting {SETTING!r}: {interface!r} cannot be mapped (lo, and names starting with "
                             f"{', '.join(RESERVED)}, are the datapath's own devices)")
        if physnet in mappings:
            raise ValueError(f"setting {SETTING!r}: physical network {physnet!r} is mapped twice")
        if interface in mappings.values():
            raise ValueError(f"setting {SETTING!r}: interface {interface!r} is mapped twice")
        mappings[physnet] = interface
    return mappings


def valid_interface(name: str) -> bool:
    """A name Linux accepts for a device (``dev_valid_name``)."""
    return (0 < len(name) <= NAME_MAX and name not in (".", "..")
            and not any(c == "/" or c == ":" or c.isspace() for c in name))


def subinterface(interface: str, vlan: int) -> str:
    """The VLAN subinterface ``<iface>.<vlan>``; an interface too long for that is
    shortened to its first 4 characters and 6 of its SHA-1, as Neutron's linuxbridge
    agent names it (``get_subinterface_name``), so the names match."""
    postfix = f".{vlan}"
    if len(interface) + len(postfix) > NAME_MAX:
        keep = NAME_MAX - VLAN_POSTFIX_MAX - HASH_LEN
        interface = interface[:keep] + hashlib.sha1(interface.encode(), usedforsecurity=False).hexdigest()[:HASH_LEN]
    return interface + postfix


def uplink(network: dict, mappings: dict[str, str]) -> tuple[str, int | None] | None:
    """(the mapped interface, the VLAN id or None for flat) of a network on a mapped
    physical network; None for any other (VXLAN, local, an unmapped physical network)."""
    kind = network.get("provider:network_type")
    interface = mappings.get(network.get("provider:physical_network") or "")
    if interface is None:
        return None
    if kind == "flat":
        return interface, None
    if kind == "vlan" and network.get("provider:segmentation_id") is not None:
        return interface, int(network["provider:segmentation_id"])
    return None


def wanted(networks: dict[str, dict], mappings: dict[str, str]) -> dict[str, tuple[str, str, int | None]]:
    """The uplinks of ``networks`` (id -> network): device -> (network id, interface,
    VLAN id or None).  One flat network per interface (the API allows one per physical
    network): the first by id."""
    devices: dict[str, tuple[str, str, int | None]] = {}
    for network_id, network in sorted(networks.items()):
        found = uplink(network, mappings)
        if found is None:
            continue
        interface, vlan = found
        devices.setdefault(interface if vlan is None else subinterface(interface, vlan), (network_id, interface, vlan))
    return devices


@dataclass
class Physnets:
    """The mapped interfaces of a datapath host and the physical network MTU."""

    mappings: dict[str, str]  # physical network -> interface
    mtu: int = 1500  # network_physnet_mtu: the interfaces' MTU
    #: what the last apply could not do (a missing interface, a VLAN the kernel refused)
    problems: list[str] = field(default_factory=list)

    def configurations(self) -> dict:
        """What the agent reports in ``/v2.0/agents`` (the linuxbridge agent's key)."""
        return {"interface_mappings": dict(self.mappings)}

    def apply(self, ns: str, networks: dict[str, dict], bridge: Callable[[str], str],
              mtu: Callable[[str], str]) -> None:
        """Move the mapped interfaces into ``ns`` and make its uplinks exactly those of
        ``networks`` (the networks with a bridge here): each on ``bridge(network id)``,
        a subinterface with MTU ``mtu(network id)``.  What cannot be done is left out and
        said in :attr:`problems`; the rest of the datapath goes on."""
        self.problems = []
        present = set()
        for interface in sorted(self.mappings.values()):
            try:
                if self._take(ns, interface):
                    present.add(interface)
            except netns.CommandFailed as error:
                self.problems.append(f"{SETTING}: interface {interface!r}: {error}")
        links = netns.links(ns)
        devices = {name: spec for name, spec in wanted(networks, self.mappings).items() if spec[1] in present}
        for name, link in links.items():
            kind = (link.get("linkinfo") or {}).get("info_kind")
            if kind == "vlan" and link.get("link") in present and name not in devices:
                netns.ip(ns, "link", "del", name)
            elif name in present and name not in devices and link.get("master"):
                netns.ip(ns, "link", "set", name, "nomaster")
        for name, (network_id, interface, vlan) in sorted(devices.items()):
            link = links.get(name) or {}
            try:
                if vlan is not None:
                    link = self._vlan(ns, name, interface, vlan, link)
                if link.get("master") != bridge(network_id):
                    netns.ip(ns, "link", "set", name, "master", bridge(network_id))
                if vlan is not None and (str(link.get("mtu")) != mtu(network_id) or "UP" not in link.get("flags", [])):
                    netns.ip(ns, "link", "set", name, "mtu", mtu(network_id), "up")
            except netns.CommandFailed as error:
                self.problems.append(f"network {network_id}: uplink {name} on {interface}: {error}")

    def _take(self, ns: str, interface: str) -> bool:
        """The mapped interface in ``ns``, up with the physical MTU: moved in from the
        namespace the driver runs in if it is there; whether it is in ``ns``."""
        links = netns.links(ns)
        if interface not in links:
            if not device_exists(interface):
                self.problems.append(f"{SETTING}: interface {interface!r} is neither in this namespace nor in {ns}")
                return False
            netns.run("ip", "link", "set", "dev", interface, "netns", ns)
            links = netns.links(ns)
        link = links[interface]
        if str(link.get("mtu")) != str(self.mtu) or "UP" not in link.get("flags", []):
            netns.ip(ns, "link", "set", interface, "mtu", str(self.mtu), "up")
        return True

    @staticmethod
    def _vlan(ns: str, name: str, interface: str, vlan: int, link: dict) -> dict:
        """The subinterface ``name`` (VLAN ``vlan`` of ``interface``), made anew if it is
        missing or another device; its ``ip`` link entry ({} when just made)."""
        data = (link.get("linkinfo") or {}).get("info_data") or {}
        if link and (link.get("link"), data.get("id")) != (interface, vlan):
            netns.ip(ns, "link", "del", name)
            link = {}
        if not link:
            try:
                netns.ip(ns, "link", "add", "link", interface, "name", name, "type", "vlan", "id", str(vlan))
            except netns.CommandFailed as error:
                if "Unknown device type" in str(error):
                    raise netns.CommandFailed(f"{error} (the kernel has no 802.1Q VLAN support: "
                                              "CONFIG_VLAN_8021Q, module 8021q)") from None
                raise
        return link

    def release(self, ns: str) -> None:
        """Hand the mapped interfaces in ``ns`` back to the namespace this process runs
        in (where they were taken from), their subinterfaces deleted; down, without
        addresses, with the physical MTU."""
        if ns not in netns.namespaces():
            return
        links = netns.links(ns)
        interfaces = set(self.mappings.values())
        for name, link in links.items():
            if (link.get("linkinfo") or {}).get("info_kind") == "vlan" and link.get("link") in interfaces:
                netns.ip(ns, "link", "del", name, check=False)
        for interface in sorted(interfaces & set(links)):
            netns.ip(ns, "link", "set", interface, "nomaster", "down", check=False)
            netns.ip(ns, "link", "set", "dev", interface, "netns", str(os.getpid()))


def device_exists(interface: str) -> bool:
    """Whether ``interface`` is a device of the namespace this process runs in."""
    out = netns.run("ip", "-j", "link", "show", "dev", interface, check=False)
    return bool(json.loads(out or "[]"))
