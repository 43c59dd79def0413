"""IPv6 on the Linux datapath with real packets: veth "guests" (test_network_datapath.py's
World) on three dual-stack networks, one per IPv6 mode, behind one router.

    A  fd00:<r>:a::/64  slaac             a (SLAAC), a2 (a rogue router advertiser)
    B  fd00:<r>:b::/64  dhcpv6-stateful   b (address by DHCPv6: dhclient -6)
    C  fd00:<r>:c::/64  dhcpv6-stateless  c (SLAAC, DNS by DHCPv6: dhclient -6 -S)
    ext fd00:<r>:e::/64 (no RA)           the router's gateway ::10; "ext" at ::1

The router's radvd advertises each prefix with Neutron's flags; the kernel of a guest
makes its SLAAC address, which must be the one the API allocated (EUI-64 of the port's
MAC, :func:`pocketstack.network.ipam.eui64_address`); the network's dnsmasq hands out the
stateful address of the port and the stateless DNS servers.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from test_network_datapath import TOOLS, World, egress, ingress, mac, uid

from pocketstack.network.ipam import AUTO_ADDRESS_MODES, eui64_address

from cloudproc import eventually
from support import require_netns, sh

TOOLS6 = dict(TOOLS, radvd="radvd", dhclient="isc-dhcp-client")
MODES = {"A": "slaac", "B": "dhcpv6-stateful", "C": "dhcpv6-stateless"}
DNS = "fd00:53::53"
DHCLIENT_SCRIPT = """#!/bin/sh
echo "$reason $new_ip6_address/$new_ip6_prefixlen dns=$new_dhcp6_name_servers" >> {result}
case "$reason" in
  BOUND6|RENEW6|REBIND6|REBOOT6) {ip} -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad ;;
esac
exit 0
"""


class World6(World):
    def v6_subnet(self, network: str, mode: str | None, dhcp: bool = True) -> dict:
        r = self.r
        subnet = {"id": uid(), "network_id": self.networks[network]["id"], "ip_version": 6,
                  "cidr": f"fd00:{r}:{network[0].lower()}::/64", "gateway_ip": f"fd00:{r}:{network[0].lower()}::1",
                  "enable_dhcp": dhcp, "dns_nameservers": [DNS] if mode else [], "host_routes": [],
                  "ipv6_ra_mode": mode, "ipv6_address_mode": mode}
        self.subnets[f"{network}6"] = subnet
        self.driver.subnet_updated(subnet)
        return subnet

    def v6_address(self, network: str, mac_address: str, host: int, owner: str) -> str:
        """What the API allocates: a router interface the gateway address, other ports on
        a SLAAC or stateless subnet the EUI-64 of their MAC, ``::<host>`` otherwise."""
        subnet = self.subnets[f"{network}6"]
        if owner == "network:router_interface":
            return subnet["gateway_ip"]
        if subnet["ipv6_address_mode"] in AUTO_ADDRESS_MODES:
            return eui64_address(subnet["cidr"], mac_address)
        return f"fd00:{self.r}:{network[0].lower()}::{host}"

    def dual_port(self, name: str, network: str, host: int, owner: str = "compute:nova", **extra) -> dict:
        """A port with an IPv4 address and one on the network's IPv6 subnet."""
        m = mac()
        v4 = f"172.31.{self.r}.{host}" if network == "ext" else f"10.{self.r}.{' ABC'.index(network)}.{host}"
        fixed = [{"subnet_id": self.subnets[network]["id"], "ip_address": v4},
                 {"subnet_id": self.subnets[f"{network}6"]["id"],
                  "ip_address": self.v6_address(network, m, host, owner)}]
        return self.port(name, network, v4, owner, mac_address=m, fixed_ips=fixed, **extra)

    def v6(self, name: str) -> str:
        return self.ports[name]["fixed_ips"][1]["ip_address"]

    def global_addresses(self, guest: str) -> set[str]:
        """The guest's usable (not tentative) global IPv6 addresses."""
        out = sh("ip", "-n", self.guests[guest], "-6", "-j", "addr", "show", "dev", "eth0", "scope", "global").stdout
        return {a["local"] for link in json.loads(out or "[]") for a in link.get("addr_info", [])
                if "local" in a and not a.get("tentative")}

    def solicit(self, guest: str) -> None:
        """Take the guest's link down and up: it solicits router advertisements again."""
        ns = self.guests[guest]
        sh("ip", "-n", ns, "link", "set", "eth0", "down")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def dhclient(self, guest: str, *options: str) -> list[str]:
        """Run ISC dhclient -6 once in the guest (``-S``: stateless, options only); the
        lines its script wrote: ``<reason> <address>/<length> dns=<servers>``."""
        base = self.tmp / f"dhclient-{guest}"
        result = Path(f"{base}.result")
        result.unlink(missing_ok=True)
        script = Path(f"{base}.sh")
        script.write_text(DHCLIENT_SCRIPT.format(result=result, ip=shutil.which("ip")))
        script.chmod(0o755)
        conf = Path(f"{base}.conf")
        conf.write_text("request dhcp6.name-servers;\n")
        pidfile = Path(f"{base}.pid")
        ns = self.guests[guest]
        # The link-local address must be usable before dhclient can bind to it.
        eventually(lambda: "tentative" not in sh("ip", "-n", ns, "-6", "addr", "show", "dev", "eth0").stdout,
                   timeout=10, interval=0.2)
        try:
            subprocess.run(["ip", "netns", "exec", ns, "dhclient", "-6", "-1", *options, "-cf", str(conf),
                            "-sf", str(script), "-lf", f"{base}.leases", "-pf", str(pidfile), "eth0"],
                           capture_output=True, timeout=30, check=False)
        finally:
            self.stop_dhclients()
        return result.read_text().splitlines() if result.exists() else []

    def stop_dhclients(self) -> None:
        """End the test's own dhclients: after its first answer dhclient goes on in the
        background, and writes its pid file only after the foreground process has exited, so
        they are found by the configuration file they were started with, not by the pid file."""
        sh("pkill", "-f", f"dhclient .*-cf {self.tmp}/", check=False)
        eventually(lambda: sh("pgrep", "-f", f"dhclient .*-cf {self.tmp}/", check=False).returncode != 0,
                   timeout=10, interval=0.1)


@pytest.fixture(scope="module")
def world6(tmp_path_factory):
    require_netns(TOOLS6, "IPv6 on the Linux datapath")
    from pocketstack.network.drivers.linux import LinuxDriver
    prefix = f"pst{random.randrange(16**4):04x}-"
    tmp = tmp_path_factory.mktemp("datapath6")
    w = World6(LinuxDriver(tmp / "state", prefix=prefix), prefix, tmp)
    try:
        r = w.r
        # ICMP in an IPv6 rule is ICMPv6 (Neutron's meaning).
        w.group("v6", [egress(), egress("IPv6"), ingress("icmp", ethertype="IPv6")])
        for name, number in (("A", 1), ("B", 2), ("C", 3)):
            w.network(name, f"10.{r}.{number}.0/24", f"10.{r}.{number}.1", mtu=1450 if name == "A" else 1500)
            w.v6_subnet(name, MODES[name])
        w.network("ext", f"172.31.{r}.0/24", f"172.31.{r}.1", external=True)
        w.v6_subnet("ext", None, dhcp=False)
        for name in ("A", "B", "C"):
            w.dual_port(f"dhcp-{name}", name, 2, owner="network:dhcp")
        router_id = uid()
        interfaces = [w.dual_port(f"qr-{name}", name, 1, owner="network:router_interface", device_id=router_id)
                      for name in ("A", "B", "C")]
        w.dual_port("qg", "ext", 10, owner="network:router_gateway", device_id=router_id)
        w.router = {"id": router_id, "routes": [], "interfaces": interfaces,
                    "external_gateway_info": {"network_id": w.networks["ext"]["id"], "enable_snat": True}}
        w.driver.router_updated(w.router)
        for name, network, host in (("a", "A", 11), ("a2", "A", 12), ("b", "B", 11), ("c", "C", 11)):
            w.dual_port(name, network, host, groups=["v6"])
            w.guest(name, name)
        w.dual_port("ext", "ext", 1, owner="test:external", port_security_enabled=False)
        w.guest("ext", "ext")
        yield w
    finally:
        w.stop_dhclients()
        w.close()
        left = [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(prefix)]
        assert not left, f"namespaces left behind: {left}"
        assert str(tmp) not in sh("ps", "-eo", "args").stdout, "a dnsmasq or radvd was left running"


def test_slaac_address_is_the_ports_and_the_advertisement_carries_the_mtu(world6):
    w = world6
    w.solicit("a")
    assert eventually(lambda: w.v6("a") in w.global_addresses("a"), timeout=15, interval=0.3)
    assert w.global_addresses("a") == {w.v6("a")}
    assert sh("ip", "netns", "exec", w.guests["a"], "cat", "/proc/sys/net/ipv6/conf/eth0/mtu").stdout.strip() == \
        "1450"
    # The router is the guest's default IPv6 router (learnt from the advertisement).
    assert "default via fe80::" in sh("ip", "-n", w.guests["a"], "-6", "route").stdout


def test_stateful_dhcpv6_hands_out_the_ports_address_and_no_slaac(world6):
    w = world6
    w.solicit("b")
    lines = w.dhclient("b")
    assert any(line.startswith(f"BOUND6 {w.v6('b')}/128 ") for line in lines), lines
    assert eventually(lambda: "default via fe80::" in sh("ip", "-n", w.guests["b"], "-6", "route").stdout,
                      timeout=15, interval=0.3)
    assert w.global_addresses("b") == {w.v6("b")}  # the prefix is not autonomous: no SLAAC address


def test_stateless_dhcpv6_gives_dns_while_slaac_gives_the_address(world6):
    w = world6
    w.solicit("c")
    assert eventually(lambda: w.v6("c") in w.global_addresses("c"), timeout=15, interval=0.3)
    lines = w.dhclient("c", "-S")
    assert any(line.endswith(f"dns={DNS}") for line in lines), lines


def test_guests_on_two_ipv6_subnets_talk_across_the_router_and_to_the_outside(world6):
    w = world6
    for guest in ("a", "b"):
        w.solicit(guest)
    assert eventually(lambda: w.v6("a") in w.global_addresses("a"), timeout=15, interval=0.3)
    w.dhclient("b")
    assert eventually(lambda: w.ping("a", w.v6("b")), timeout=10, interval=0.2)
    assert w.ping("b", w.v6("a"))
    # The router's default IPv6 route leads to the external subnet's gateway; IPv6 is
    # routed, not NATed: the outside reaches a guest's own address.
    ns = w.driver.router_ns(w.router["id"])
    assert f"default via fd00:{w.r}:e::1 " in sh("ip", "-n", ns, "-6", "route", "show", "proto", "static").stdout
    outside = w.guests["ext"]
    sh("ip", "-n", outside, "addr", "add", f"fd00:{w.r}:e::1/64", "dev", "eth0", "nodad")
    sh("ip", "-n", outside, "route", "add", f"fd00:{w.r}::/32", "via", f"fd00:{w.r}:e::10")
    assert eventually(lambda: w.ping("ext", w.v6("a")), timeout=10, interval=0.2)


def test_router_advertisements_from_a_guest_are_dropped(world6):
    """a2 runs its own radvd for a prefix of its own: a never sees it, unless a2's port
    has port security off (which shows the advertisement would arrive otherwise)."""
    w = world6
    rogue = "fd00:666::/64"
    conf = w.tmp / "rogue-radvd.conf"
    conf.write_text(f"interface eth0 {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n"
                    f"  prefix {rogue} {{ AdvOnLink on; AdvAutonomous on; }};\n}};\n")
    pidfile = w.tmp / "rogue-radvd.pid"
    sh("ip", "netns", "exec", w.guests["a2"], "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
    sh("ip", "netns", "exec", w.guests["a2"], "radvd", "-C", str(conf), "-p", str(pidfile), "-m", "logfile", "-l",
       str(w.tmp / "rogue-radvd.log"))
    try:
        eventually(pidfile.exists, timeout=5, interval=0.1)

        def rogue_address() -> bool:
            return any(a.startswith("fd00:666:") for a in w.global_addresses("a"))

        w.solicit("a")
        assert eventually(lambda: w.v6("a") in w.global_addresses("a"), timeout=15, interval=0.3)
        with pytest.raises(AssertionError):
            eventually(rogue_address, timeout=6, interval=0.5)  # the rogue advertises every 3-4 s
        w.update_port("a2", port_security_enabled=False)
        assert eventually(rogue_address, timeout=10, interval=0.5)
    finally:
        w.update_port("a2", port_security_enabled=True)
        if pidfile.exists():
            sh("kill", pidfile.read_text().strip(), check=False)
        sh("ip", "-n", w.guests["a"], "-6", "addr", "flush", "dev", "eth0", "scope", "global")


def test_radvd_follows_the_router_and_survives_a_restarted_agent(world6):
    from pocketstack.network.drivers.linux import LinuxDriver
    w = world6
    directory = w.driver.state_dir / "radvd" / w.router["id"]

    def running() -> str:
        """radvd's pid (its privilege-separation child is not in the pid file)."""
        pid = (directory / "pid").read_text().strip()
        assert str(directory) in Path(f"/proc/{pid}/cmdline").read_text()
        return pid

    pid = running()
    qr = {name: f"qr-{w.ports[f'qr-{name}']['id'][:11]}" for name in ("A", "B", "C")}
    assert all(f"interface {device} {{" in (directory / "radvd.conf").read_text() for device in qr.values())
    # An interface removed: the same radvd re-reads its file (SIGHUP) without it.
    interfaces = w.router["interfaces"]
    w.router["interfaces"] = [p for p in interfaces if p["id"] != w.ports["qr-B"]["id"]]
    try:
        w.driver.router_updated(w.router)
        assert f"interface {qr['B']} {{" not in (directory / "radvd.conf").read_text()
        assert running() == pid
    finally:
        w.router["interfaces"] = interfaces
        w.driver.router_updated(w.router)
    # A restarted agent (the state replayed, routers without their interfaces) keeps it.
    restarted = LinuxDriver(w.driver.state_dir, prefix=w.prefix)
    restarted.sync({"networks": list(w.networks.values()), "subnets": list(w.subnets.values()),
                    "ports": list(w.ports.values()),
                    "routers": [{k: v for k, v in w.router.items() if k != "interfaces"}],
                    "floatingips": [], "security_groups": list(w.groups.values())})
    w.driver = restarted
    assert running() == pid
    assert all(f"interface {device} {{" in (directory / "radvd.conf").read_text() for device in qr.values())
    w.solicit("c")
    assert eventually(lambda: w.v6("c") in w.global_addresses("c"), timeout=15, interval=0.3)
