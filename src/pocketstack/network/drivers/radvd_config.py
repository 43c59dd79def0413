"""A router's IPv6 router advertisements, as Neutron's L3 agent has radvd send them (pure:
dicts in, text out).

One radvd per router namespace, a section per ``qr-`` interface with IPv6 subnets whose
``ipv6_ra_mode`` is set (a subnet without it is advertised by some router outside
OpenStack, or not at all).  What the modes mean to a guest:

* ``slaac``: the prefix with the autonomous flag: the guest makes its address from its
  MAC (EUI-64, the address the API allocated to its port); DNS servers in RDNSS.
* ``dhcpv6-stateless``: the same, and the O flag: other configuration (DNS) by DHCPv6
  from the network's dnsmasq.
* ``dhcpv6-stateful``: the M flag and the prefix on-link but not autonomous: the address
  comes from DHCPv6 (the port's fixed IP, from dnsmasq).

Every advertisement also carries the link's MTU and makes the router the guests'
default IPv6 router.  radvd re-reads the file on SIGHUP.
"""

from __future__ import annotations

from pathlib import Path

SLAAC, STATELESS, STATEFUL = "slaac", "dhcpv6-stateless", "dhcpv6-stateful"
# Neutron's defaults (min_rtr_adv_interval, max_rtr_adv_interval); a guest's router
# solicitation is answered at once, so a new guest does not wait for them.
MIN_INTERVAL, MAX_INTERVAL = 30, 100
MAX_RDNSS = 3  # radvd's limit for one RDNSS line


def advertised(subnets: list[dict]) -> list[dict]:
    """The subnets of an interface its router advertises (IPv6 with an RA mode)."""
    return sorted((s for s in subnets if s.get("ip_version") == 6 and s.get("ipv6_ra_mode") in (SLAAC, STATELESS,
                                                                                                STATEFUL)),
                  key=lambda s: s["cidr"])


def config(interfaces: list[tuple[str, int, list[dict]]]) -> str:
    """radvd.conf for ``interfaces``: (device, MTU, the subnets of its port); "" if none
    of them has a subnet to advertise."""
    sections = []
    for device, mtu, subnets in sorted(interfaces):
        subnets = advertised(subnets)
        if not subnets:
            continue
        modes = {s["ipv6_ra_mode"] for s in subnets}
        lines = [f"interface {device} {{", "  AdvSendAdvert on;", f"  MinRtrAdvInterval {MIN_INTERVAL};",
                 f"  MaxRtrAdvInterval {MAX_INTERVAL};", f"  AdvLinkMTU {mtu};"]
        if STATELESS in modes:
            lines.append("  AdvOtherConfigFlag on;")
        if STATEFUL in modes:
            lines.append("  AdvManagedFlag on;")
        dns = [a for s in subnets if s["ipv6_ra_mode"] == SLAAC for a in s.get("dns_nameservers") or []]
        if dns:
            lines.append(f"  RDNSS {' '.join(dns[:MAX_RDNSS])} {{}};")
        for subnet in subnets:
            autonomous = "off" if subnet["ipv6_ra_mode"] == STATEFUL else "on"
            lines += [f"  prefix {subnet['cidr']} {{", "    AdvOnLink on;", f"    AdvAutonomous {autonomous};",
                      "  };"]
        sections.append("\n".join(lines + ["};"]))
    return "\n".join(sections) + ("\n" if sections else "")


def command(directory: Path) -> list[str]:
    """The radvd command line (run in the router's namespace; it daemonises)."""
    return ["radvd", "-C", str(directory / "radvd.conf"), "-p", str(directory / "pid"), "-m", "logfile",
            "-l", str(directory / "radvd.log")]
