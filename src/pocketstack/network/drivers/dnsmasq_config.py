"""A network's dnsmasq, as Neutron's DHCP agent configures it (pure: dicts in, text out).

One dnsmasq per network serves every DHCP-enabled IPv4 subnet of it in ``static`` mode:
only the hosts listed in the hosts file (a port's MAC -> its fixed IP and host name) get
an address, so DHCP never hands out an address the API did not allocate.  Options are
per subnet (tag ``subnet-<id>``: router, DNS servers, classless static routes) and per
port (tag ``port-<id>``: the port's ``extra_dhcp_opts``).  dnsmasq re-reads both files on
SIGHUP, so a port or subnet change is a rewrite and a signal, not a restart: renewals go
on being answered (Neutron's DHCP agent reloads the same way).  Except while a host line
sets a tag (only a port with ``extra_dhcp_opts`` has one): dnsmasq up to 2.90 links a
host's tags into the tag list of each request it answers, then frees that list on
SIGHUP -- stack memory among it -- and dies; such a network's dnsmasq is restarted
instead, as it is when a host line goes or changes: the lease of the old line would
otherwise keep its address from the next port given it (:func:`reloadable`).

IPv6 subnets as Neutron serves them: ``dhcpv6-stateful`` (or no mode at all) in
``static`` mode too, a port's address by its MAC (``[address]`` host entries; dnsmasq
learns a DHCPv6 client's MAC from its DUID or its link-local neighbour entry), and
``dhcpv6-stateless`` with options only (DNS servers): the addresses are SLAAC's.  A
``slaac`` subnet is not dnsmasq's at all: the router's advertisements do it all
(``radvd_config``).  There is no router or route option in DHCPv6: routes come from
the router advertisements.

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


DHCPV6_STATEFUL, DHCPV6_STATELESS = "dhcpv6-stateful", "dhcpv6-stateless"


def dhcpv6_mode(subnet: dict) -> str | None:
    """How dnsmasq serves an IPv6 subnet: stateful (addresses), stateless (options), or
    None (SLAAC only).  Neither mode set is stateful, as in Neutron."""
    mode = subnet.get("ipv6_address_mode")
    if mode in (DHCPV6_STATEFUL, DHCPV6_STATELESS):
        return mode
    if mode is None and subnet.get("ipv6_ra_mode") is None:
        return DHCPV6_STATEFUL
    return None


def dhcp_subnets(subnets: list[dict]) -> list[dict]:
    """The subnets dnsmasq serves: DHCP-enabled IPv4 subnets and DHCPv6 subnets (with a
    prefix of 64 bits or longer: dnsmasq takes no shorter one, and Neutron skips them)."""
    return sorted((s for s in subnets if s.get("enable_dhcp", True) and (
        s.get("ip_version") == 4 or (dhcpv6_mode(s) and ipaddress.ip_network(s["cidr"]).prefixlen >= 64))),
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
    """``<mac>,<name>.<domain>,<ip>`` for each port's address on a served subnet that
    hands out addresses (IPv6 addresses as ``[<ip>]``), with ``,set:port-<id>`` when the
    port has ``extra_dhcp_opts`` (the tag its options are given for)."""
    served = {s["id"] for s in dhcp_subnets(subnets) if s["ip_version"] == 4 or dhcpv6_mode(s) == DHCPV6_STATEFUL}
    lines = []
    for port in sorted(ports, key=lambda p: p["id"]):
        if (port.get("device_owner") or "") == "network:dhcp":
            continue
        for fixed in port.get("fixed_ips") or []:
            if fixed["subnet_id"] in served:
                address = fixed["ip_address"]
                shown = f"[{address}]" if ":" in address else address
                tag = f",set:port-{port['id']}" if port.get("extra_dhcp_opts") else ""
                lines.append(f"{port['mac_address'].lower()},{hostname(port, address)}.{DOMAIN},{shown}{tag}")
    return "\n".join(lines) + ("\n" if lines else "")


def reloadable(running: str, wanted: str) -> bool:
    """Whether a dnsmasq running with the hosts file ``running`` may take ``wanted`` by
    SIGHUP rather than a restart.  Not when a running line sets a tag (dnsmasq 2.90,
    Debian 12's, aborts or corrupts its heap in ``dhcp_netid_free`` once it has answered
    that host: its tags are chained to the request's stack-allocated ones).  Nor when a
    running line goes or changes (a port deleted, or its address or name changed): the
    lease dnsmasq keeps in memory for that MAC and address (``--leasefile-ro``) outlives
    the reload, so a new port given the freed address was refused until the lease ran
    out -- a day -- while a new dnsmasq holds no leases (Neutron releases them with
    ``dhcp_release`` instead).  Lines only added: a signal."""
    if ",set:" in running:
        return False
    return set(running.splitlines()) <= set(wanted.splitlines())


def opts_file(ports: list[dict], subnets: list[dict], mtu: int | None = None,
              metadata_routes: dict[str, str] | None = None) -> str:
    """Per subnet: router, DNS servers, classless routes (with ``metadata_routes``:
    subnet id -> the DHCP port's address, the route to 169.254.169.254), the network's
    MTU; per port: its ``extra_dhcp_opts``."""
    metadata_routes = metadata_routes or {}
    lines = []
    for subnet in dhcp_subnets(subnets):
        tag = f"tag:subnet-{subnet['id']}"
        if subnet["ip_version"] == 6:
            if subnet.get("dns_nameservers"):
                lines.append(f"{tag},option6:dns-server," + ",".join(f"[{a}]" for a in subnet["dns_nameservers"]))
            continue
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
            name = opt["opt_name"]
            if str(opt.get("ip_version", 4)) == "6":
                name = f"option6:{name}"  # a number too: dnsmasq reads a bare number as DHCPv4's
            elif not name.isdigit():
                name = f"option:{name}"
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
        size = network.netmask if network.version == 4 else network.prefixlen
        args.append(f"--dhcp-range=set:subnet-{subnet['id']},{network.network_address},static,"
                    f"{size},{lease_seconds}s")
    return args
