"""A network's dnsmasq, as Neutron's DHCP agent configures it (pure: dicts in, text out).

One dnsmasq per network serves every DHCP-enabled IPv4 subnet of it in ``static`` mode:
only the hosts listed in the hosts file (a port's MAC -> its fixed IP and host name) get
an address, so DHCP never hands out an address the API did not allocate.  Options are
per subnet (tag ``subnet-<id>``: router, DNS servers, classless static routes) and per
port (tag ``port-<id>``: the port's ``extra_dhcp_opts``).  dnsmasq re-reads both files on
SIGHUP, so a port change is a rewrite and a signal, not a restart.

An *isolated* subnet (IPv4, no router interface at its gateway address) gets a host
route to the metadata address via the DHCP port, whose namespace then serves metadata
(Neutron's ``enable_isolated_metadata``).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

LEASE_SECONDS = 86400
DOMAIN = "openstacklocal"
METADATA_CIDR = "169.254.169.254/32"


def dhcp_subnets(subnets: list[dict]) -> list[dict]:
    """The subnets dnsmasq serves (IPv4 with DHCP enabled; IPv6 RA/DHCPv6 are not yet)."""
    return sorted((s for s in subnets if s.get("enable_dhcp", True) and s.get("ip_version") == 4),
                  key=lambda s: s["id"])


def isolated_subnets(subnets: list[dict], router_addresses: set[tuple[str, str]]) -> set[str]:
    """The served IPv4 subnets whose gateway address is no router interface's
    (``router_addresses``: (subnet id, address) of every router interface), as Neutron
    decides which subnets need the DHCP namespace's metadata proxy."""
    return {s["id"] for s in dhcp_subnets(subnets)
            if s["ip_version"] == 4 and (s["id"], s.get("gateway_ip")) not in router_addresses}


def hostname(port: dict, address: str) -> str:
    if port.get("dns_name"):
        return port["dns_name"]
    return "host-" + address.replace(".", "-").replace(":", "-")


def hosts_file(ports: list[dict], subnets: list[dict]) -> str:
    """``<mac>,<name>.<domain>,<ip>,set:port-<id>`` for each port's address on a served subnet."""
    served = {s["id"] for s in dhcp_subnets(subnets)}
    lines = []
    for port in sorted(ports, key=lambda p: p["id"]):
        if (port.get("device_owner") or "") == "network:dhcp":
            continue
        for fixed in port.get("fixed_ips") or []:
            if fixed["subnet_id"] in served:
                address = fixed["ip_address"]
                lines.append(f"{port['mac_address'].lower()},{hostname(port, address)}.{DOMAIN},{address},"
                             f"set:port-{port['id']}")
    return "\n".join(lines) + ("\n" if lines else "")


def opts_file(ports: list[dict], subnets: list[dict], mtu: int | None = None,
              metadata_routes: dict[str, str] | None = None) -> str:
    """Per subnet: router, DNS servers, classless routes (with ``metadata_routes``:
    subnet id -> the DHCP port's address, the route to 169.254.169.254), the network's
    MTU; per port: its ``extra_dhcp_opts``."""
    metadata_routes = metadata_routes or {}
    lines = []
    for subnet in dhcp_subnets(subnets):
        tag = f"tag:subnet-{subnet['id']}"
        gateway = subnet.get("gateway_ip")
        lines.append(f"{tag},option:router" + (f",{gateway}" if gateway else ""))
        if mtu:
            lines.append(f"{tag},option:mtu,{mtu}")
        if subnet.get("dns_nameservers"):
            lines.append(f"{tag},option:dns-server,{','.join(subnet['dns_nameservers'])}")
        routes = [(r["destination"], r["nexthop"]) for r in subnet.get("host_routes") or []]
        if subnet["id"] in metadata_routes:
            routes.insert(0, (METADATA_CIDR, metadata_routes[subnet["id"]]))
        if routes:
            # RFC 3442: a client that takes classless routes ignores the router option,
            # so the default route goes in the list too.
            if gateway and not any(ipaddress.ip_network(d).prefixlen == 0 for d, _ in routes):
                routes.append(("0.0.0.0/0", gateway))
            text = ",".join(f"{d},{n}" for d, n in routes)
            lines.append(f"{tag},option:classless-static-route,{text}")
            lines.append(f"{tag},249,{text}")
    for port in sorted(ports, key=lambda p: p["id"]):
        for opt in port.get("extra_dhcp_opts") or []:
            if str(opt.get("ip_version", 4)) != "4":
                continue
            name = opt["opt_name"]
            name = name if name.isdigit() else f"option:{name}"
            lines.append(f"tag:port-{port['id']},{name},{opt['opt_value']}")
    return "\n".join(lines) + ("\n" if lines else "")


def command(network_id: str, interface: str, subnets: list[dict], directory: Path,
            lease_seconds: int = LEASE_SECONDS) -> list[str]:
    """The dnsmasq command line (run in the network's DHCP namespace)."""
    # Its own (empty) configuration file: not /etc/dnsmasq.conf, and no reliance on /dev/null.
    args = ["dnsmasq", f"--conf-file={directory / 'dnsmasq.conf'}", "--no-hosts", "--no-resolv", "--port=0",
            "--leasefile-ro", "--bind-interfaces", f"--interface={interface}", "--except-interface=lo",
            f"--pid-file={directory / 'pid'}", f"--dhcp-hostsfile={directory / 'hosts'}",
            f"--dhcp-optsfile={directory / 'opts'}", "--dhcp-authoritative", "--user=root", "--group=root",
            f"--domain={DOMAIN}", "--dhcp-lease-max=65536"]
    for subnet in dhcp_subnets(subnets):
        network = ipaddress.ip_network(subnet["cidr"])
        args.append(f"--dhcp-range=set:subnet-{subnet['id']},{network.network_address},static,"
                    f"{network.netmask},{lease_seconds}s")
    return args
