"""The Linux datapath with real packets: veth "guests" in test namespaces.

The driver is driven directly with the Neutron-shaped dicts the network service sends
it.  Every namespace (the driver's and the guests') is named with a prefix unique to
this run and removed at the end; traffic flows only between those namespaces.

Topology (one module-scoped world, tests restore what they change)::

    ext ns 172.31.<r>.1 --[ext bridge]-- router qg 172.31.<r>.10 (+ floating .20 -> a1)
                                           |qr 10.<r>.1.1        |qr 10.<r>.2.1
    a1 .11, a2 .12  --[net A bridge]-------+        b1 .11 --[net B bridge]
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from support import require_netns, sh

TOOLS = {"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base", "busybox": "busybox-static"}
UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip route flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    echo "$ip $mask $router $mtu" > "$RESULT"
    echo "$dns" > "$RESULT.dns"
    if [ -n "$staticroutes" ]; then
      echo "$staticroutes" > "$RESULT.routes"
      set -- $staticroutes
      while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done
    fi
    ;;
esac
exit 0
"""
SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
print("ready", flush=True)
while True:
    c, peer = s.accept(); print(peer[0], flush=True); c.sendall(b"hi"); c.close()
"""
CLIENT = """
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    sys.exit(0 if c.recv(2) == b"hi" else 2)
except OSError:
    sys.exit(1)
"""


def mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


def uid() -> str:
    return str(uuid.uuid4())


class World:
    """The Neutron-shaped state, the driver, and the guests' namespaces."""

    def __init__(self, driver, prefix: str, tmp: Path):
        self.driver, self.prefix, self.tmp = driver, prefix, tmp
        self.r = random.randrange(100, 200)
        self.guests: dict[str, str] = {}  # name -> namespace
        self.servers: list[subprocess.Popen] = []
        self.networks, self.subnets, self.ports, self.groups = {}, {}, {}, {}
        self.script = tmp / "udhcpc.sh"
        self.script.write_text(UDHCPC_SCRIPT)
        self.script.chmod(0o755)

    # -- the API side ----------------------------------------------------------------------
    def network(self, name: str, cidr: str, gateway: str, external: bool = False, mtu: int = 1500,
                **attributes) -> None:
        """A network (``attributes``: more of its API keys, ``provider:…``) and its subnet."""
        net = {"id": uid(), "name": name, "mtu": mtu, "router:external": external, **attributes}
        subnet = {"id": uid(), "network_id": net["id"], "ip_version": 4, "cidr": cidr, "gateway_ip": gateway,
                  "enable_dhcp": not external, "dns_nameservers": [], "host_routes": []}
        self.networks[name], self.subnets[name] = net, subnet
        self.driver.network_updated(net)
        self.driver.subnet_updated(subnet)

    def port(self, name: str, network: str, address: str, owner: str = "compute:nova", device_id: str = "",
             groups: list[str] | None = None, **extra) -> dict:
        port = {"id": uid(), "name": name, "network_id": self.networks[network]["id"], "mac_address": mac(),
                "fixed_ips": [{"subnet_id": self.subnets[network]["id"], "ip_address": address}],
                "device_owner": owner, "device_id": device_id or uid(),
                "security_groups": [self.groups[g]["id"] for g in groups or []], "port_security_enabled": True,
                "allowed_address_pairs": [], "extra_dhcp_opts": [], "dns_name": ""}
        port.update(extra)
        self.ports[name] = port
        if not owner.startswith("network:router_interface"):
            self.driver.port_updated(port)
        return port

    def group(self, name: str, rules: list[dict]) -> dict:
        group = {"id": self.groups.get(name, {}).get("id") or uid(), "name": name}
        group["security_group_rules"] = [dict(rule, id=uid(), security_group_id=group["id"]) for rule in rules]
        self.groups[name] = group
        self.driver.security_group_updated(group)
        return group

    def update_port(self, name: str, **changes) -> None:
        self.ports[name].update(changes)
        self.driver.port_updated(self.ports[name])

    # -- the guests ----------------------------------------------------------------------------
    def guest(self, name: str, port: str, hand_over: bool = False) -> str:
        """A namespace whose eth0 is on the port: its peer created in the datapath's host
        namespace under the port's tap name, or (``hand_over``) created next to eth0 and
        handed to :meth:`LinuxDriver.plug`, as the compute driver hands a guest's tap."""
        ns = f"{self.prefix}g-{name}"
        sh("ip", "netns", "add", ns)
        self.guests[name] = ns
        p = self.ports[port]
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        if hand_over:
            sh("ip", "-n", ns, "link", "add", "eth0", "address", p["mac_address"], "type", "veth", "peer", "name",
               "outside0")
            device = self.driver.plug(p["id"], "outside0", ns)
            assert device == self.driver.tap_name(p["id"])
        else:
            sh("ip", "-n", ns, "link", "add", "eth0", "address", p["mac_address"], "type", "veth", "peer", "name",
               self.driver.tap_name(p["id"]), "netns", self.driver.host_ns)
            self.driver.plug(p["id"])
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        return ns

    def dhcp(self, guest: str, interface: str = "eth0") -> list[str]:
        """address, prefix length, router, MTU of the lease the guest got and applied on
        ``interface`` (its classless static routes, pairs of destination and next hop:
        :meth:`routes`, for eth0)."""
        result = self.tmp / (f"lease-{guest}" if interface == "eth0" else f"lease-{guest}-{interface}")
        for path in (result, result.with_name(result.name + ".routes")):
            path.unlink(missing_ok=True)
        env = dict(os.environ, RESULT=str(result))
        subprocess.run(["ip", "netns", "exec", self.guests[guest], "busybox", "udhcpc", "-f", "-q", "-n",
                        "-O", "mtu", "-O", "staticroutes", "-i", interface, "-t", "5", "-T", "1", "-s",
                        str(self.script)], env=env, capture_output=True, timeout=30, check=False)
        return result.read_text().split() if result.exists() else []

    def routes(self, guest: str) -> list[str]:
        """The classless static routes of the guest's last lease (option 121)."""
        path = self.tmp / f"lease-{guest}.routes"
        return path.read_text().split() if path.exists() else []

    def static(self, guest: str, address: str, gateway: str | None = None) -> None:
        ns = self.guests[guest]
        sh("ip", "-n", ns, "addr", "flush", "dev", "eth0")
        sh("ip", "-n", ns, "addr", "add", address, "dev", "eth0")
        if gateway:
            sh("ip", "-n", ns, "route", "replace", "default", "via", gateway)

    def ping(self, guest: str, address: str, source: str | None = None) -> bool:
        options = ["-I", source] if source else []
        return sh("ip", "netns", "exec", self.guests[guest], "busybox", "ping", "-c", "1", "-W", "1", *options,
                  address, check=False).returncode == 0

    def reaches(self, guest: str, address: str, source: str | None = None, within: float = 5.0) -> bool:
        """A ping answered within ``within`` seconds: for what must pass, where the first
        echo may wait on neighbour discovery on a loaded machine."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.ping(guest, address, source):
                return True
        return False

    def serve(self, guest: str, port: int) -> subprocess.Popen:
        server = subprocess.Popen(["ip", "netns", "exec", self.guests[guest], sys.executable, "-c", SERVER,
                                   str(port)], stdout=subprocess.PIPE, text=True)
        self.servers.append(server)
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        return server

    def connect(self, guest: str, address: str, port: int, timeout: float = 1.0) -> bool:
        return sh("ip", "netns", "exec", self.guests[guest], sys.executable, "-c", CLIENT, address, str(port),
                  str(timeout), check=False).returncode == 0

    def eventually_connects(self, guest: str, address: str, port: int, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.connect(guest, address, port, timeout=0.3):
                return True
        return False

    def close(self) -> None:
        for server in self.servers:
            server.kill()
            server.wait()
        for ns in self.guests.values():
            sh("ip", "netns", "delete", ns, check=False)
        self.driver.destroy()


def ingress(protocol=None, low=None, high=None, prefix=None, group=None, ethertype="IPv4") -> dict:
    return {"direction": "ingress", "ethertype": ethertype, "protocol": protocol, "port_range_min": low,
            "port_range_max": high, "remote_ip_prefix": prefix, "remote_group_id": group}


def egress(ethertype="IPv4") -> dict:
    return {"direction": "egress", "ethertype": ethertype, "protocol": None, "port_range_min": None,
            "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    require_netns(TOOLS, "the Linux datapath")
    from pocketstack.network.drivers.linux import LinuxDriver
    prefix = f"pst{random.randrange(16**4):04x}-"
    tmp = tmp_path_factory.mktemp("datapath")
    driver = LinuxDriver(tmp / "state", prefix=prefix)
    w = World(driver, prefix, tmp)
    try:
        r = w.r
        w.group("default", [egress(), egress("IPv6"), ingress(group="SELF"), ingress(group="SELF", ethertype="IPv6")])
        self_id = w.groups["default"]["id"]
        for rule in w.groups["default"]["security_group_rules"]:
            if rule["remote_group_id"] == "SELF":
                rule["remote_group_id"] = self_id
        driver.security_group_updated(w.groups["default"])
        w.group("web", [egress(), ingress("icmp")])
        w.group("clients", [egress()])
        w.network("A", f"10.{r}.1.0/24", f"10.{r}.1.1", mtu=1450)  # a VXLAN network's
        w.network("B", f"10.{r}.2.0/24", f"10.{r}.2.1")
        w.network("ext", f"172.31.{r}.0/24", f"172.31.{r}.1", external=True)
        for net in ("A", "B"):
            w.port(f"dhcp-{net}", net, f"10.{r}.{1 if net == 'A' else 2}.2", owner="network:dhcp")
        w.port("a1", "A", f"10.{r}.1.11", groups=["default", "web"])
        w.port("a2", "A", f"10.{r}.1.12", groups=["default"])
        w.port("b1", "B", f"10.{r}.2.11", groups=["web"])
        # The external test namespace: a plain port (no port security) on the external bridge.
        w.port("ext", "ext", f"172.31.{r}.1", owner="test:external", port_security_enabled=False)
        for name in ("a1", "a2", "b1", "ext"):
            w.guest(name, name)
        w.static("ext", f"172.31.{r}.1/24")
        router_id = uid()
        w.router = {"id": router_id, "routes": [], "interfaces": [
            w.port("qr-A", "A", f"10.{r}.1.1", owner="network:router_interface", device_id=router_id),
            w.port("qr-B", "B", f"10.{r}.2.1", owner="network:router_interface", device_id=router_id)],
            "external_gateway_info": {"network_id": w.networks["ext"]["id"], "enable_snat": True}}
        w.port("qg", "ext", f"172.31.{r}.10", owner="network:router_gateway", device_id=router_id)
        driver.router_updated(w.router)
        w.fip = {"id": uid(), "floating_ip_address": f"172.31.{r}.20", "fixed_ip_address": f"10.{r}.1.11",
                 "port_id": w.ports["a1"]["id"], "router_id": router_id}
        driver.floatingip_updated(w.fip)
        yield w
    finally:
        w.close()
        left = [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(prefix)]
        assert not left, f"namespaces left behind: {left}"
        assert str(tmp) not in sh("ps", "-eo", "args").stdout, "a dnsmasq was left running"


def test_guests_get_their_ports_addresses_by_dhcp_and_talk(world):
    r = world.r
    assert world.dhcp("a1") == [f"10.{r}.1.11", "24", f"10.{r}.1.1", "1450"]
    assert world.dhcp("a2") == [f"10.{r}.1.12", "24", f"10.{r}.1.1", "1450"]
    assert world.dhcp("b1") == [f"10.{r}.2.11", "24", f"10.{r}.2.1", "1500"]
    host = world.driver.host_ns
    for name, mtu in ((world.driver.bridge_name(world.networks["A"]["id"]), "1450"),
                      (world.driver.tap_name(world.ports["a1"]["id"]), "1450"),
                      (world.driver.tap_name(world.ports["qr-A"]["id"]), "1450"),
                      (world.driver.bridge_name(world.networks["B"]["id"]), "1500")):
        assert f" mtu {mtu} " in sh("ip", "-n", host, "link", "show", name).stdout
    # Same network, same default group (its ingress rule admits members of the group).
    assert world.ping("a2", f"10.{r}.1.11")
    assert world.ping("a1", f"10.{r}.1.12")
    # What the agent reports in /v2.0/agents configurations.
    assert world.driver.status() == {"networks": 3, "subnets": 3, "ports": len(world.ports), "routers": 1,
                                     "floating_ips": 1, "security_groups": 3, "last_error": None}


def test_an_address_freed_by_a_deleted_port_is_leased_to_the_next_port(world):
    """dnsmasq keeps its leases in memory: a reload after a port's deletion would leave the
    old MAC's lease on the address, and the next port given that address (Tempest's small
    subnets reuse them at once) got no answer for a day.  A host line gone restarts it."""
    r = world.r
    address = f"10.{r}.2.21"
    for round_ in ("first", "second"):
        world.port(round_, "B", address, groups=["web"])
        world.guest(round_, round_)
        assert world.dhcp(round_) == [address, "24", f"10.{r}.2.1", "1500"], round_
        world.driver.port_deleted(world.ports.pop(round_))
        sh("ip", "netns", "delete", world.guests.pop(round_))


def test_a_tcp_rule_opens_a_blocked_port_within_a_second(world):
    r = world.r
    world.dhcp("b1")
    world.dhcp("a1")
    world.serve("b1", 8022)
    assert not world.connect("a1", f"10.{r}.2.11", 8022)  # "web" admits ICMP only
    assert world.ping("a1", f"10.{r}.2.11")  # ...and across the router
    # ...which the host namespace tracks twice, once in each network's conntrack zone.
    from pocketstack.network.drivers.nft_rules import zone
    table = sh("ip", "netns", "exec", world.driver.host_ns, "cat", "/proc/net/nf_conntrack").stdout
    zones = {word for line in table.splitlines() if "icmp" in line and f"src=10.{r}.1.11 dst=10.{r}.2.11" in line
             for word in line.split() if word.startswith("zone=")}
    assert zones == {f"zone={zone(world.networks[n]['id'])}" for n in ("A", "B")}
    rules = [egress(), ingress("icmp"), ingress("tcp", 8000, 8099, prefix="0.0.0.0/0")]
    handles = tables(world)
    world.group("web", rules)
    assert world.eventually_connects("a1", f"10.{r}.2.11", 8022, within=1.0)
    world.group("web", [egress(), ingress("icmp")])
    assert not world.connect("a1", f"10.{r}.2.11", 8022)
    assert tables(world) == handles  # the group's ports' chains were rewritten, not the tables


def tables(world) -> dict[str, int]:
    """The handles of the host namespace's tables: a handle changes when a table is replaced."""
    listing = json.loads(sh("ip", "netns", "exec", world.driver.host_ns, "nft", "-j", "list", "tables").stdout)
    return {t["table"]["family"]: t["table"]["handle"] for t in listing["nftables"] if "table" in t}


def test_remote_group_rule_follows_membership(world):
    r = world.r
    world.dhcp("b1")
    world.dhcp("a2")
    world.serve("b1", 8080)
    world.group("web", [egress(), ingress("icmp"), ingress("tcp", 8080, 8080, group=world.groups["clients"]["id"])])
    try:
        assert not world.connect("a2", f"10.{r}.2.11", 8080)
        handles = tables(world)
        world.update_port("a2", security_groups=[world.groups["default"]["id"], world.groups["clients"]["id"]])
        assert world.eventually_connects("a2", f"10.{r}.2.11", 8080, within=1.0)
        world.update_port("a2", security_groups=[world.groups["default"]["id"]])
        assert not world.connect("a2", f"10.{r}.2.11", 8080)
        # Membership and a port's groups changed a set's elements and chains, not the tables.
        assert tables(world) == handles
        world.driver.sync(state(world))
        assert tables(world) != handles  # sync replaces them whole
    finally:
        world.group("web", [egress(), ingress("icmp")])


def test_a_guest_that_changes_its_address_is_dropped(world):
    r = world.r
    world.dhcp("a1")
    world.dhcp("a2")
    assert world.ping("a2", f"10.{r}.1.11")
    world.static("a2", f"10.{r}.1.50/24")
    assert not world.ping("a2", f"10.{r}.1.11")
    # An allowed address pair makes the same address legitimate.
    world.update_port("a2", allowed_address_pairs=[{"ip_address": f"10.{r}.1.50"}])
    try:
        # a1 first resolves the new address (ARP): a single 1 s ping may miss under load.
        assert any(world.ping("a2", f"10.{r}.1.11") for _ in range(5))
    finally:
        world.update_port("a2", allowed_address_pairs=[])
        world.dhcp("a2")


def test_floating_ip_and_snat(world):
    r = world.r
    world.dhcp("a1")
    world.dhcp("b1")
    world.group("web", [egress(), ingress("icmp"), ingress("tcp", 8443, 8443)])
    try:
        server = world.serve("a1", 8443)
        assert world.connect("ext", f"172.31.{r}.20", 8443)  # the floating IP reaches a1
        assert server.stdout is not None and server.stdout.readline().strip() == f"172.31.{r}.1"
        outside = world.serve("ext", 9000)
        assert outside.stdout is not None
        assert world.connect("b1", f"172.31.{r}.1", 9000)  # no floating IP: SNAT to the gateway
        assert outside.stdout.readline().strip() == f"172.31.{r}.10"
        assert world.connect("a1", f"172.31.{r}.1", 9000)  # a floating IP: SNAT to it
        assert outside.stdout.readline().strip() == f"172.31.{r}.20"
    finally:
        world.group("web", [egress(), ingress("icmp")])


def test_router_routes_interfaces_and_snat_follow_the_router(world):
    r = world.r
    ns = world.driver.router_ns(world.router["id"])
    qr_b = f"qr-{world.ports['qr-B']['id'][:11]}"
    world.router["routes"] = [{"destination": f"10.{r}.9.0/24", "nexthop": f"10.{r}.2.11"}]
    world.driver.router_updated(world.router)
    routes = sh("ip", "-n", ns, "route").stdout
    assert f"10.{r}.9.0/24 via 10.{r}.2.11" in routes and f"default via 172.31.{r}.1" in routes
    # An interface answers ARP only for its own addresses (Neutron's arp_ignore/announce).
    assert sh("ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.conf.all.arp_ignore").stdout.strip() == "1"
    assert sh("ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.conf.all.arp_announce").stdout.strip() == "2"
    world.router["routes"] = []
    world.router["external_gateway_info"]["enable_snat"] = False
    interfaces = world.router["interfaces"]
    world.router["interfaces"] = [p for p in interfaces if p["id"] != world.ports["qr-B"]["id"]]
    try:
        world.driver.router_updated(world.router)
        assert f"10.{r}.9.0/24" not in sh("ip", "-n", ns, "route").stdout
        assert qr_b not in sh("ip", "-n", ns, "link").stdout
        nat = sh("ip", "netns", "exec", ns, "nft", "list", "table", "ip", "pocketstack-nat").stdout
        assert f"snat to 172.31.{r}.10" not in nat and f"snat to 172.31.{r}.20" in nat
    finally:
        world.router["interfaces"] = interfaces
        world.router["external_gateway_info"]["enable_snat"] = True
        world.driver.router_updated(world.router)
    assert qr_b in sh("ip", "-n", ns, "link").stdout
    assert f"snat to 172.31.{r}.10" in sh("ip", "netns", "exec", ns, "nft", "list", "table", "ip",
                                         "pocketstack-nat").stdout


def test_a_port_or_router_set_administratively_down_passes_nothing(world):
    r = world.r
    world.dhcp("a1")
    world.dhcp("a2")
    assert world.ping("a2", f"10.{r}.1.11")
    world.update_port("a1", admin_state_up=False)
    try:
        assert not world.ping("a2", f"10.{r}.1.11")
    finally:
        world.update_port("a1", admin_state_up=True)
    assert world.ping("a2", f"10.{r}.1.11")
    # A router set down is not served: namespace (and so interfaces, NAT) gone until it is up.
    ns = world.driver.router_ns(world.router["id"])
    assert world.ping("ext", f"172.31.{r}.20")
    world.router["admin_state_up"] = False
    world.driver.router_updated(world.router)
    try:
        assert ns not in sh("ip", "netns", "list").stdout
        assert not world.ping("ext", f"172.31.{r}.20")
    finally:
        world.router["admin_state_up"] = True
        world.driver.router_updated(world.router)
    assert world.ping("ext", f"172.31.{r}.20")


def test_ipv6_rules_remote_groups_and_anti_spoofing(world):
    r = world.r
    subnet = {"id": uid(), "network_id": world.networks["A"]["id"], "ip_version": 6, "cidr": f"fd00:{r}::/64",
              "gateway_ip": f"fd00:{r}::1", "enable_dhcp": False, "dns_nameservers": [], "host_routes": []}
    world.driver.subnet_updated(subnet)
    before = {name: list(world.ports[name]["fixed_ips"]) for name in ("a1", "a2")}
    try:
        for name, host in (("a1", 11), ("a2", 12)):
            world.update_port(name, fixed_ips=before[name] + [{"subnet_id": subnet["id"],
                                                               "ip_address": f"fd00:{r}::{host}"}])
            sh("ip", "-n", world.guests[name], "addr", "add", f"fd00:{r}::{host}/64", "dev", "eth0", "nodad")
        # The default group's IPv6 rule admits members: the set sg-<default>-v6 holds both.
        assert world.reaches("a2", f"fd00:{r}::11")
        sh("ip", "-n", world.guests["a2"], "addr", "add", f"fd00:{r}::50/64", "dev", "eth0", "nodad")
        assert not world.ping("a2", f"fd00:{r}::11", source=f"fd00:{r}::50")  # not the port's address
        assert world.reaches("a2", f"fd00:{r}::11", source=f"fd00:{r}::12")
        # a2 leaves the default group (for one that lets it send IPv6): a1 no longer admits it.
        world.group("clients", [egress(), egress("IPv6")])
        world.update_port("a2", security_groups=[world.groups["clients"]["id"]])
        assert not world.ping("a2", f"fd00:{r}::11", source=f"fd00:{r}::12")
    finally:
        world.group("clients", [egress()])
        world.update_port("a2", security_groups=[world.groups["default"]["id"]])
        for name in ("a1", "a2"):
            world.update_port(name, fixed_ips=before[name])
            sh("ip", "-n", world.guests[name], "-6", "addr", "flush", "dev", "eth0", "scope", "global")
        world.driver.subnet_deleted(subnet)


def test_a_tap_plugged_before_its_port_is_known_waits_quarantined(world):
    r = world.r
    port = world.port("late", "A", f"10.{r}.1.13", groups=["default"])
    world.driver.port_deleted(port)  # as if its event had not arrived yet
    world.guest("late", "late")
    tap = world.driver.tap_name(port["id"])
    try:
        shown = sh("ip", "-n", world.driver.host_ns, "link", "show", tap).stdout
        assert "master" not in shown and "state DOWN" in shown
        world.driver.port_updated(port)
        shown = sh("ip", "-n", world.driver.host_ns, "link", "show", tap).stdout
        assert f"master {world.driver.bridge_name(port['network_id'])}" in shown
        assert world.dhcp("late")[:1] == [f"10.{r}.1.13"]
        assert world.ping("late", f"10.{r}.1.12")
    finally:
        world.driver.port_deleted(port)
        del world.ports["late"]
    assert tap not in sh("ip", "-n", world.driver.host_ns, "link").stdout


def test_a_guests_tap_lives_in_the_datapath_namespace_held_by_a_descriptor(world):
    r = world.r
    port = world.port("qemu", "A", f"10.{r}.1.14", groups=["default"])
    tap = world.driver.tap_name(port["id"])
    fd = world.driver.open_tap(port["id"])
    try:
        shown = sh("ip", "-n", world.driver.host_ns, "-d", "link", "show", tap).stdout
        assert "tun type tap" in shown and f"master {world.driver.bridge_name(port['network_id'])}" in shown
        assert sh("ip", "link", "show", tap, check=False).returncode != 0  # not in the host's namespace
    finally:
        os.close(fd)
        world.driver.port_deleted(port)
        del world.ports["qemu"]
    assert tap not in sh("ip", "-n", world.driver.host_ns, "link").stdout  # gone with its descriptor


def test_a_dns_change_reloads_dnsmasq_and_the_next_renewal_gets_it(world):
    """New DNS servers of a subnet reach a running DHCP client at its next renewal (what
    Tempest's test_subnet_details does with SIGUSR1): the network's dnsmasq re-reads its
    options on SIGHUP, as Neutron's DHCP agent reloads it, so it never stops answering --
    and survives it (dnsmasq 2.90 died of a SIGHUP once it had answered a host whose line
    set a tag; a port with extra_dhcp_opts, which needs one, restarts it instead)."""
    network_id, subnet = world.networks["A"]["id"], world.subnets["A"]
    result, pidfile = world.tmp / "lease-a2-daemon", world.tmp / "udhcpc-a2.pid"

    def dnsmasq() -> list[str]:
        return sh("pgrep", "-f", f"{world.driver.state_dir}/dhcp/{network_id}/", check=False).stdout.split()

    def renewed(servers: list[str]) -> bool:
        deadline = time.monotonic() + 15
        while dns.read_text().split() != servers and time.monotonic() < deadline:
            os.kill(int(pidfile.read_text()), signal.SIGUSR1)  # renew now
            time.sleep(1.5)
        return dns.read_text().split() == servers

    before = dnsmasq()
    assert len(before) == 1
    client = subprocess.Popen(["ip", "netns", "exec", world.guests["a2"], "busybox", "udhcpc", "-f", "-i", "eth0",
                               "-T", "1", "-p", str(pidfile), "-s", str(world.script)],
                              env=dict(os.environ, RESULT=str(result)), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    dns = Path(f"{result}.dns")
    try:
        deadline = time.monotonic() + 15
        while not (dns.exists() and pidfile.exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert dns.read_text().split() == []
        subnet["dns_nameservers"] = ["192.0.2.53", "192.0.2.54"]
        world.driver.subnet_updated(subnet)
        assert dnsmasq() == before  # signalled, not restarted, and alive
        assert renewed(["192.0.2.53", "192.0.2.54"])
        assert dnsmasq() == before
        # A host line changed (it gains a tag): a restart, and the new dnsmasq answers.
        world.update_port("a2", extra_dhcp_opts=[{"opt_name": "domain-search", "opt_value": "example.org",
                                                 "ip_version": 4}])
        tagged = dnsmasq()
        assert len(tagged) == 1 and tagged != before
        assert renewed(["192.0.2.53", "192.0.2.54"])
        # While a line sets a tag, even an options change restarts it.
        subnet["dns_nameservers"] = ["192.0.2.55"]
        world.driver.subnet_updated(subnet)
        restarted = dnsmasq()
        assert len(restarted) == 1 and restarted != tagged
        assert renewed(["192.0.2.55"])
        assert client.poll() is None
    finally:
        client.terminate()
        client.wait()
        subnet["dns_nameservers"] = []
        world.driver.subnet_updated(subnet)
        world.update_port("a2", extra_dhcp_opts=[])


def state(world) -> dict:
    """What the service replays on start (routers without their interfaces)."""
    return {"networks": list(world.networks.values()), "subnets": list(world.subnets.values()),
            "ports": list(world.ports.values()),
            "routers": [{k: v for k, v in world.router.items() if k != "interfaces"}],
            "floatingips": [world.fip], "security_groups": list(world.groups.values())}


def test_a_restarted_agent_keeps_traffic_and_processes(world):
    from pocketstack.network.drivers.linux import LinuxDriver
    r = world.r
    world.dhcp("a1")
    world.dhcp("b1")
    world.group("web", [egress(), ingress("icmp"), ingress("tcp", 8444, 8444)])
    server = world.serve("b1", 8444)
    pids = sh("pgrep", "-f", str(world.driver.state_dir)).stdout.split()
    assert len(pids) == 2  # a dnsmasq per network with DHCP
    links = sh("ip", "-n", world.driver.host_ns, "-o", "link").stdout.count("\n")
    restarted = LinuxDriver(world.driver.state_dir, prefix=world.prefix)
    restarted.sync(state(world))
    world.driver = restarted
    assert sh("pgrep", "-f", str(restarted.state_dir)).stdout.split() == pids  # not restarted
    assert sh("ip", "-n", restarted.host_ns, "-o", "link").stdout.count("\n") == links
    restarted.port_updated(world.ports["a1"])  # the same event again changes nothing
    assert sh("ip", "-n", restarted.host_ns, "-o", "link").stdout.count("\n") == links
    assert world.connect("a1", f"10.{r}.2.11", 8444)
    assert server.stdout is not None and server.stdout.readline().strip() == f"10.{r}.1.11"
    world.group("web", [egress(), ingress("icmp")])


def test_qos_bandwidth_limits_shape_and_police_the_ports_device(world):
    """A port's bandwidth limit rules on its device (network/drivers/tc_qos.py): the VM's
    ingress a tbf qdisc, its egress an nft limit on the device's ingress hook; from the
    port's own policy, else its network's (not on the network's DHCP port); gone with
    the policy.  Then real traffic: a policed guest's large pings stop getting through."""
    from pocketstack.network.drivers import tc_qos

    driver, r = world.driver, world.r
    tap = driver.tap_name(world.ports["b1"]["id"])
    dhcp_tap = driver.tap_name(world.ports["dhcp-B"]["id"])
    policy = {"id": uid(), "rules": [
        {"type": "bandwidth_limit", "max_kbps": 2000, "max_burst_kbps": 0, "direction": "egress"},
        {"type": "bandwidth_limit", "max_kbps": 1000, "max_burst_kbps": 400, "direction": "ingress"},
        {"type": "dscp_marking", "dscp_mark": 26}]}

    def shaping(device):
        state = tc_qos.shown(driver.host_ns, device)
        tbf = [q["options"]["rate"] for q in state["qdiscs"] if q["kind"] == "tbf"]
        limits = [e["limit"] for rule in state["policing"] for e in rule["expr"] if "limit" in e]
        return tbf, [(lim["rate"], lim["burst"]) for lim in limits]

    driver.qos_policy_updated(policy)
    try:
        world.update_port("b1", qos_policy_id=policy["id"])
        # 1000 kbit/s = 125000 bytes/s; 2000 kbit/s with the default burst (80 %: 1600 kbit)
        assert shaping(tap) == ([125000], [(250000, 200000)])
        world.update_port("b1", qos_policy_id=None)
        assert shaping(tap) == ([], [])
        network = world.networks["B"]
        driver.network_updated({**network, "qos_policy_id": policy["id"]})
        assert shaping(tap) == ([125000], [(250000, 200000)])
        assert shaping(dhcp_tap) == ([], [])  # the network service's own port
        # a rule change reaches the device; so does real traffic: at 1 kbit/s (125 bytes/s,
        # a bucket of about one frame), 1400-byte pings a second apart no longer all pass
        assert world.reaches("b1", f"10.{r}.2.1")
        driver.qos_policy_updated({**policy, "rules": [
            {"type": "bandwidth_limit", "max_kbps": 1, "max_burst_kbps": 0, "direction": "egress"}]})
        assert shaping(tap) == ([], [(125, tc_qos.MIN_BURST_BYTES)])
        big = sh("ip", "netns", "exec", world.guests["b1"], "busybox", "ping", "-c", "3", "-W", "1", "-s", "1400",
                 f"10.{r}.2.1", check=False).stdout
        assert "3 packets received" not in big, big
        driver.qos_policy_deleted(policy)
        assert shaping(tap) == ([], [])
    finally:
        driver.network_updated(world.networks["B"])
        world.update_port("b1", qos_policy_id=None)
        driver.qos_policy_deleted(policy)
    assert world.reaches("b1", f"10.{r}.2.1")


def test_sync_repairs_a_rule_deleted_by_hand_and_removes_what_is_gone(world):
    r = world.r
    world.dhcp("a1")
    world.dhcp("b1")
    assert world.ping("a1", f"10.{r}.2.11")
    chain = f"ingress-{world.ports['b1']['id'][:11]}"
    sh("ip", "netns", "exec", world.driver.host_ns, "nft", "flush", "chain", "inet", "pocketstack", chain)
    sh("ip", "netns", "exec", world.driver.host_ns, "nft", "add", "rule", "inet", "pocketstack", chain, "drop")
    assert not world.ping("a1", f"10.{r}.2.11")
    stale = f"{world.prefix}router-{uid()}"
    sh("ip", "netns", "add", stale)  # a router that no longer exists
    world.driver.sync(state(world))
    assert world.ping("a1", f"10.{r}.2.11")
    assert stale not in sh("ip", "netns", "list").stdout


# -- through the network API of an in-process cloud ---------------------------------------------

@contextlib.contextmanager
def metadata_api(cloud, listener: socket.socket):
    """The cloud's metadata API (the real app, as ``pocketstack up`` serves it beside the
    other APIs) on ``listener``, in a thread of its own."""
    from pocketstack.metadata.server import metadata_app, server
    app = server(metadata_app(cloud, create_secret=True), cloud.settings, beside_another=True)
    thread = threading.Thread(target=lambda: asyncio.run(app.serve(sockets=[listener])), daemon=True)
    thread.start()
    try:
        yield
    finally:
        app.should_exit = True
        thread.join(10)


@pytest.fixture
def api_world(tmp_path):
    """An all-in-one cloud with ``network_datapath = "linux"``: the API's changes reach the
    driver as the service emits them (subnets, ports, security groups); its metadata API
    listens where the datapath's metadata proxies forward to."""
    require_netns(TOOLS, "the Linux datapath")
    from starlette.testclient import TestClient

    from pocketstack.cloud import Cloud
    from pocketstack.common import config
    from pocketstack.identity.bootstrap import bootstrap

    from conftest import ADMIN_PASSWORD, DEMO_PASSWORD, Api
    prefix = f"pst{random.randrange(16**4):04x}-"
    listener = socket.create_server(("127.0.0.1", 0))
    settings = config.load(overrides={"data_dir": tmp_path / "data", "bcrypt_rounds": 4, "port": 8780,
                                      "clouds_file": str(tmp_path / "clouds.yaml"), "network_datapath": "linux",
                                      "network_datapath_prefix": prefix,
                                      "metadata_listen_port": listener.getsockname()[1]}, environ={})
    cloud = Cloud(settings)
    driver = None
    try:
        bootstrap(cloud.identity, admin_password=ADMIN_PASSWORD, demo_password=DEMO_PASSWORD,
                  region=settings.region, services=cloud.catalog())
        driver = cloud.service("network").driver
        with metadata_api(cloud, listener), \
                TestClient(cloud.asgi_app(), base_url="http://127.0.0.1:8780") as client:
            api = Api(client, cloud)
            world = World(driver, prefix, tmp_path)
            world.api = api
            world.token = api.token("admin", ADMIN_PASSWORD, project="admin")
            try:
                yield world
            finally:
                world.close()
    finally:
        cloud.close()
        if driver is not None:
            driver.destroy()
        left = [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(prefix)]
        assert not left, f"namespaces left behind: {left}"


def network_call(w, method, path, body=None, status=201):
    """A Networking API call as the api_world's admin, its status checked; the body or None."""
    response = w.api.request(method, f"/network/v2.0/{path}", w.token, json=body)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_the_api_drives_the_datapath(api_world):
    w = api_world
    r = w.r

    call = functools.partial(network_call, w)
    net = call("POST", "networks", {"network": {"name": "e2e"}})["network"]
    subnet = call("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": f"10.{r}.7.0/24"}})["subnet"]
    # The service made the DHCP port with the subnet (as Neutron's DHCP agent would), and
    # the network's dnsmasq answers from its address.
    [dhcp] = call("GET", f"ports?network_id={net['id']}&device_owner=network:dhcp", status=200)["ports"]
    [fixed] = dhcp["fixed_ips"]
    assert fixed["subnet_id"] == subnet["id"] and dhcp["binding:vif_type"] == "tap"
    assert f"inet {fixed['ip_address']}/24 " in sh("ip", "-n", w.driver.dhcp_ns(net["id"]), "-4", "addr").stdout
    web = call("POST", "security-groups", {"security_group": {"name": "e2e-web"}})["security_group"]
    client = call("POST", "ports", {"port": {"network_id": net["id"], "name": "client"}})["port"]
    server = call("POST", "ports", {"port": {"network_id": net["id"], "name": "server",
                                             "security_groups": [web["id"]]}})["port"]
    w.ports.update(client=client, server=server)
    for name in ("client", "server"):
        w.guest(name, name, hand_over=name == "server")
        address = w.ports[name]["fixed_ips"][0]["ip_address"]
        assert w.dhcp(name) == [address, "24", f"10.{r}.7.1", str(net["mtu"])]
    server_ip = server["fixed_ips"][0]["ip_address"]
    w.serve("server", 8090)
    assert not w.connect("client", server_ip, 8090)  # e2e-web has no ingress rule
    call("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": web["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 8090, "port_range_max": 8090}})
    assert w.eventually_connects("client", server_ip, 8090, within=1.0)
    # A router to an external network, and a floating IP for the server.
    ext = call("POST", "networks", {"network": {"name": "e2e-ext", "router:external": True}})["network"]
    ext_subnet = call("POST", "subnets", {"subnet": {"network_id": ext["id"], "ip_version": 4, "enable_dhcp": False,
                                                     "cidr": f"172.30.{r}.0/24"}})["subnet"]
    outside = call("POST", "ports", {"port": {"network_id": ext["id"], "name": "outside",
                                              "port_security_enabled": False, "fixed_ips": [
                                                  {"subnet_id": ext_subnet["id"], "ip_address": f"172.30.{r}.1"}]}})
    w.ports["outside"] = outside["port"]
    w.guest("outside", "outside")
    w.static("outside", f"172.30.{r}.1/24")
    router = call("POST", "routers", {"router": {"name": "e2e", "external_gateway_info": {
        "network_id": ext["id"]}}})["router"]
    call("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]}, status=200)
    fip = call("POST", "floatingips", {"floatingip": {"floating_network_id": ext["id"],
                                                      "port_id": server["id"]}})["floatingip"]
    assert w.connect("outside", fip["floating_ip_address"], 8090)
    gateway_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    listener = w.serve("outside", 9001)
    assert w.connect("client", f"172.30.{r}.1", 9001)  # no floating IP: SNAT to the gateway
    assert listener.stdout is not None and listener.stdout.readline().strip() == gateway_ip
    call("DELETE", f"floatingips/{fip['id']}", status=204)
    assert not w.connect("outside", fip["floating_ip_address"], 8090)
    assert w.driver.last_error is None
    # Deleting the port removes its device (the guest's end goes with it).
    call("DELETE", f"ports/{server['id']}", status=204)
    assert w.driver.tap_name(server["id"]) not in sh("ip", "-n", w.driver.host_ns, "link").stdout


FETCH = """
import sys, urllib.request
request = urllib.request.Request("http://169.254.169.254" + sys.argv[1], headers={"X-Instance-ID": sys.argv[2]})
with urllib.request.urlopen(request, timeout=5) as answer:
    sys.stdout.write(answer.read().decode())
"""


def test_a_guest_on_a_network_without_a_router_reads_its_metadata(api_world):
    """Isolated metadata: the DHCP namespace holds 169.254.169.254 and a proxy in front of
    the real metadata API, and DHCP routes the guest there; once a router serves the
    subnet, the router's proxy does."""
    w = api_world
    r = w.r

    def call(method, path, body=None, status=201, service="/network/v2.0/"):
        response = w.api.request(method, f"{service}{path}", w.token, json=body,
                                 headers={"OpenStack-API-Version": "compute 2.64"})
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    net = call("POST", "networks", {"network": {"name": "isolated"}})["network"]
    subnet = call("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": f"10.{r}.8.0/24"}})["subnet"]
    [dhcp] = call("GET", f"ports?network_id={net['id']}&device_owner=network:dhcp", status=200)["ports"]
    dhcp_ip = dhcp["fixed_ips"][0]["ip_address"]
    dhcp_ns = w.driver.dhcp_ns(net["id"])
    assert "inet 169.254.169.254/32 " in sh("ip", "-n", dhcp_ns, "-4", "addr").stdout
    # A server booted through the compute API (fake hypervisor): its port is the guest's.
    image = w.api.request("POST", "/image/v2/images", w.token, json={
        "name": "md", "disk_format": "qcow2", "container_format": "bare"}).json()["id"]
    assert w.api.request("PUT", f"/image/v2/images/{image}/file", w.token, content=b"bytes",
                         headers={"Content-Type": "application/octet-stream"}).status_code == 204
    flavor = call("POST", "flavors", {"flavor": {"name": "md", "vcpus": 1, "ram": 64, "disk": 1}}, status=200,
                  service="/compute/v2.1/")["flavor"]
    server = call("POST", "servers", {"server": {"name": "md-vm", "imageRef": image, "flavorRef": flavor["id"],
                                                 "networks": [{"uuid": net["id"]}]}}, status=202,
                  service="/compute/v2.1/")["server"]
    deadline = time.monotonic() + 30
    while call("GET", f"servers/{server['id']}", status=200, service="/compute/v2.1/")["server"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline, "the server did not become ACTIVE"
        time.sleep(0.2)
    [port] = call("GET", f"ports?device_id={server['id']}", status=200)["ports"]
    w.ports["vm"] = port
    w.guest("vm", "vm")
    address = port["fixed_ips"][0]["ip_address"]
    assert w.dhcp("vm") == [address, "24", f"10.{r}.8.1", str(net["mtu"])]
    # Option 121: the metadata route via the DHCP port, and the default route kept.
    assert w.routes("vm") == ["169.254.169.254/32", dhcp_ip, "0.0.0.0/0", f"10.{r}.8.1"]

    def metadata(path: str) -> str:
        done = sh("ip", "netns", "exec", w.guests["vm"], sys.executable, "-c", FETCH, path, "someone-else")
        return done.stdout

    # The proxy signed the request for the guest's own instance (a forged header is
    # dropped), or the metadata API would have refused it.
    assert json.loads(metadata("/openstack/latest/meta_data.json"))["uuid"] == server["id"]
    assert metadata("/latest/meta-data/local-ipv4") == address
    # The DHCP namespace deleted by hand: the next event makes it again, with a dnsmasq
    # and a proxy of its own (the old ones served the deleted namespace).
    sh("ip", "netns", "delete", dhcp_ns)
    call("PUT", f"ports/{port['id']}", {"port": {"name": "md-vm-port"}}, status=200)
    assert w.dhcp("vm")[:1] == [address]
    assert json.loads(metadata("/openstack/latest/meta_data.json"))["uuid"] == server["id"]
    # A router on the subnet's gateway: no longer isolated, the router's proxy answers.
    router = call("POST", "routers", {"router": {"name": "md-router"}})["router"]
    call("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]}, status=200)
    assert "169.254.169.254" not in sh("ip", "-n", dhcp_ns, "-4", "addr").stdout
    assert w.dhcp("vm")[:1] == [address] and w.routes("vm") == []
    assert json.loads(metadata("/openstack/latest/meta_data.json"))["uuid"] == server["id"]
    assert w.driver.last_error is None
    call("DELETE", f"servers/{server['id']}", status=204, service="/compute/v2.1/")


def test_late_events_from_other_processes_leave_the_latest_state(api_world):
    """Events reach the driver from this process and, cast, from other API processes, in
    no particular order: a router's update arriving after its deletion must not bring its
    namespace back, nor a late deletion remove what exists (:mod:`.drivers.current_state`)."""
    w = api_world
    r = w.r

    call = functools.partial(network_call, w)
    net = call("POST", "networks", {"network": {"name": "late"}})["network"]
    subnet = call("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": f"10.{r}.9.0/24"}})["subnet"]
    router = call("POST", "routers", {"router": {"name": "late"}})["router"]
    call("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]}, status=200)
    stale = {**router, "interfaces": call("GET", f"ports?device_id={router['id']}", status=200)["ports"]}
    assert w.driver.router_ns(router["id"]) in sh("ip", "netns", "list").stdout
    call("PUT", f"routers/{router['id']}/remove_router_interface", {"subnet_id": subnet["id"]}, status=200)
    call("DELETE", f"routers/{router['id']}", status=204)
    assert w.driver.router_ns(router["id"]) not in sh("ip", "netns", "list").stdout

    w.driver.router_updated(stale)  # the update another process cast before the deletion, arriving now
    assert w.driver.router_ns(router["id"]) not in sh("ip", "netns", "list").stdout
    assert router["id"] not in w.driver.routers
    w.driver.subnet_deleted(subnet)  # a deletion that never happened (a stale notice): the subnet stays
    assert subnet["id"] in w.driver.subnets
    [dhcp] = call("GET", f"ports?network_id={net['id']}&device_owner=network:dhcp", status=200)["ports"]
    address = dhcp["fixed_ips"][0]["ip_address"]
    assert f"inet {address}/24 " in sh("ip", "-n", w.driver.dhcp_ns(net["id"]), "-4", "addr").stdout
    assert w.driver.last_error is None
    # A network's deletion drops its subnets from the dict in place: an event thread may
    # hold that dict already, and must not add to one no longer read.
    subnets = w.driver.subnets
    call("DELETE", f"networks/{net['id']}", status=204)
    assert w.driver.subnets is subnets and subnet["id"] not in subnets
