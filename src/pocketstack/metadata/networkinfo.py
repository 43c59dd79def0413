"""A server's networks as its guest reads them: ``network_data.json`` and the addresses of
the EC2 tree, built from the server's ports through the network contract.

The format is Nova's (``nova/virt/netutils.py``, ``get_network_metadata`` and
``get_ec2_ip_info``): one *link* per port that has an address (named after the port's
tap device, ``tap`` + the port id's first 11 characters), one *network* per port and IP
version (its first subnet of that version), and the DNS servers as *services*.  A subnet
with DHCP is announced as ``ipv4_dhcp``/``ipv6_dhcp`` without an address (the guest asks
DHCP); one without DHCP carries the address, netmask, routes and DNS servers (the guest
configures them statically).  The link's MTU is left to DHCP (``null``) when a DHCP
port serves one of the port's subnets, as Nova does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

from pocketstack.common.context import RequestContext

if TYPE_CHECKING:
    from pocketstack.network.contract import NetworkContract, Resource, Resources

# Nova's LEGACY_EXPOSED_VIF_TYPES: link types shown as they are; any other is "phy".
EXPOSED_VIF_TYPES = ("bridge", "dvs", "hw_veb", "hyperv", "ovs", "tap", "vhostuser", "vif")
DEVICE_NAME_LENGTH = 14  # Nova's NIC_NAME_LEN: "tap" + 11 characters of the port id


@dataclass(frozen=True)
class NetworkInfo:
    """``network_data`` is network_data.json (``{}`` for a server without ports); the
    addresses are the EC2 tree's ``local-ipv4``/``public-ipv4`` candidates, in port order;
    ``macs`` the MAC address of each port (port id -> MAC, every port, addressed or not:
    the tagged NICs of ``meta_data.json``'s ``devices``)."""

    network_data: dict[str, Any] = field(default_factory=dict)
    fixed_ipv4: tuple[str, ...] = ()
    floating_ipv4: tuple[str, ...] = ()
    macs: dict[str, str] = field(default_factory=dict)


def load(network: NetworkContract | None, instance_id: str) -> NetworkInfo:
    """The server's :class:`NetworkInfo`, read through the network contract (no network
    service in this process, or no ports: an empty one)."""
    if network is None:
        return NetworkInfo()
    ports = network.list_instance_ports(instance_id)
    if not ports:
        return NetworkInfo()
    ctx = RequestContext.admin()
    subnet_ids = list(dict.fromkeys(ip["subnet_id"] for port in ports for ip in port.get("fixed_ips") or ()))
    subnets = {i: network.get(ctx, "subnets", i) for i in subnet_ids}
    networks = {i: network.get(ctx, "networks", i) for i in dict.fromkeys(p["network_id"] for p in ports)}
    dhcp_ports, _ = network.list(ctx, "ports", QueryParams(
        [("device_owner", "network:dhcp")] + [("network_id", i) for i in networks]))
    floating, _ = network.list(ctx, "floatingips", QueryParams([("port_id", p["id"]) for p in ports]))
    return from_resources(ports, subnets, networks, dhcp_servers(dhcp_ports), floating)


def dhcp_servers(dhcp_ports: Resources) -> dict[str, str]:
    """Subnet id -> the address of a DHCP port on it."""
    return {ip["subnet_id"]: ip["ip_address"] for port in dhcp_ports for ip in port.get("fixed_ips") or ()}


def from_resources(ports: Resources, subnets: dict[str, Resource], networks: dict[str, Resource],
                   dhcp: dict[str, str], floating: Resources) -> NetworkInfo:
    """:class:`NetworkInfo` from the Neutron resources of a server's ports."""
    links: list[dict] = []
    nets: list[dict] = []
    services: list[dict] = []
    fixed_v4: list[str] = []
    for port in ports:
        by_subnet: dict[str, list[str]] = {}
        for ip in port.get("fixed_ips") or ():
            if ip["subnet_id"] in subnets:
                by_subnet.setdefault(ip["subnet_id"], []).append(ip["ip_address"])
        fixed_v4 += [a for addresses in by_subnet.values() for a in addresses if _version(a) == 4]
        firsts = [_first(subnets, by_subnet, version) for version in (4, 6)]
        chosen = [(version, sid) for version, sid in zip((4, 6), firsts) if sid is not None]
        if not chosen:
            continue
        link = _link(port, networks.get(port["network_id"]) or {}, any(s in dhcp for s in by_subnet))
        links.append(link)
        for version, sid in chosen:
            subnet = subnets[sid]
            nets.append(_network(f"network{len(nets)}", version, link["id"], port["network_id"], subnet,
                                 by_subnet[sid][0], sid in dhcp))
            services += [dns for dns in _dns(subnet) if dns not in services]
    network_data = {"links": links, "networks": nets, "services": services} if ports else {}
    floating_v4 = [f["floating_ip_address"] for f in floating if _version(f["floating_ip_address"]) == 4]
    macs = {port["id"]: port["mac_address"] for port in ports if port.get("mac_address")}
    return NetworkInfo(network_data, tuple(fixed_v4), tuple(floating_v4), macs)


def _version(address: str) -> int:
    return ipaddress.ip_address(address).version


def _first(subnets: dict[str, Resource], by_subnet: dict[str, list[str]], version: int) -> str | None:
    """The port's first subnet of an IP version (Nova announces only that one)."""
    return next((sid for sid in by_subnet if int(subnets[sid].get("ip_version") or 4) == version), None)


def _link(port: Resource, network: Resource, has_dhcp_server: bool) -> dict:
    vif_type = port.get("binding:vif_type")
    return {"id": ("tap" + port["id"])[:DEVICE_NAME_LENGTH], "vif_id": port["id"],
            "type": vif_type if vif_type in EXPOSED_VIF_TYPES else "phy",
            "mtu": None if has_dhcp_server else network.get("mtu"),
            "ethernet_mac_address": port.get("mac_address")}


def _network(name: str, version: int, link: str, network_id: str, subnet: Resource, address: str,
             has_dhcp_server: bool) -> dict:
    mode = subnet.get("ipv6_address_mode")
    if not mode and (has_dhcp_server or subnet.get("enable_dhcp")):
        return {"id": name, "type": f"ipv{version}_dhcp", "link": link, "network_id": network_id}
    cidr = ipaddress.ip_network(subnet["cidr"], strict=False)
    return {"id": name, "type": f"ipv{version}" + (f"_{mode}" if mode else ""), "link": link,
            "ip_address": address, "netmask": str(cidr.netmask),
            "routes": _default_route(version, subnet.get("gateway_ip")) + _host_routes(subnet),
            "network_id": network_id, "services": _dns(subnet)}


def _default_route(version: int, gateway: str | None) -> list[dict]:
    if not gateway:
        return []
    anywhere = "0.0.0.0" if version == 4 else "::"
    return [{"network": anywhere, "netmask": anywhere, "gateway": gateway}]


def _host_routes(subnet: Resource) -> list[dict]:
    routes = []
    for route in subnet.get("host_routes") or ():
        destination = ipaddress.ip_network(route["destination"], strict=False)
        routes.append({"network": str(destination.network_address), "netmask": str(destination.netmask),
                       "gateway": route["nexthop"]})
    return routes


def _dns(subnet: Resource) -> list[dict]:
    return [{"type": "dns", "address": address} for address in subnet.get("dns_nameservers") or ()]

