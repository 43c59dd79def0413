"""Two datapath hosts joined by VXLAN: two Linux drivers, as two network agents run them.

Each "host" is a LinuxDriver with its own namespace prefix, host name and VXLAN address;
every event goes to both, as the agents' fanout delivers it, and each keeps what concerns
its host.  The underlay is a veth between the two host namespaces: host A's end is moved
in by the driver (the ``underlay`` opt-in), host B's is put there by the test::

    host A (<p>a-host)                                host B (<p>b-host)
      br-A ── tap g1 (guest 10.r.1.11)                 br-A ── tap g2 (guest 10.r.1.12)
       │   └─ tap dhcp ──▶ <p>a-dhcp-A                  │   └─ tap qr ──▶ <p>b-router (qg on br-ext)
       └ vxlan-<vni> ── 192.168.r.1 ══ veth ══ 192.168.r.2 ── vxlan-<vni> ┘   br-ext ── ext 172.31.r.1
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from test_network_datapath import TOOLS, UDHCPC_SCRIPT, egress, ingress, mac, uid

from support import require_netns, sh


class Hosts:
    """Both drivers, the Neutron-shaped state they are sent, and the guests."""

    def __init__(self, prefix: str, tmp: Path):
        from pocketstack.network.drivers.linux import LinuxDriver
        from pocketstack.network.drivers.vxlan import Tunnel

        self.prefix, self.tmp, self.r = prefix, tmp, random.randrange(100, 200)
        self.underlay = f"{prefix[:-1]}u"  # in the machine's namespace until driver A moves it
        self.vteps = {"host-a": f"192.168.{self.r}.1", "host-b": f"192.168.{self.r}.2"}
        self.a = LinuxDriver(tmp / "a", prefix=f"{prefix}a-", tunnel=Tunnel(
            "host-a", f"192.168.{self.r}.1/24", peers=lambda: self.vteps, underlay=self.underlay))
        self.b = LinuxDriver(tmp / "b", prefix=f"{prefix}b-", tunnel=Tunnel(
            "host-b", f"192.168.{self.r}.2", peers=lambda: self.vteps))
        self.host = {"host-a": self.a, "host-b": self.b}
        self.guests: dict[str, str] = {}
        self.ports: dict[str, dict] = {}
        self.script = tmp / "udhcpc.sh"
        self.script.write_text(UDHCPC_SCRIPT)
        self.script.chmod(0o755)

    def send(self, event: str, payload: dict) -> None:
        for driver in (self.a, self.b):
            getattr(driver, event)(payload)

    def port(self, name: str, network: dict, subnet: dict, address: str, host: str, owner: str = "compute:nova",
             device_id: str = "", **extra) -> dict:
        port = {"id": uid(), "name": name, "network_id": network["id"], "mac_address": mac(),
                "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": address}], "device_owner": owner,
                "device_id": device_id or uid(), "security_groups": [], "port_security_enabled": True,
                "allowed_address_pairs": [], "extra_dhcp_opts": [], "dns_name": "", "binding:host_id": host,
                **extra}
        self.ports[name] = port
        if not owner.startswith("network:router_interface"):
            self.send("port_updated", port)
        return port

    def guest(self, name: str) -> None:
        port = self.ports[name]
        driver = self.host[port["binding:host_id"]]
        ns = self.guests[name] = f"{self.prefix}g-{name}"
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", "eth0", "address", port["mac_address"], "type", "veth", "peer", "name",
           driver.tap_name(port["id"]), "netns", driver.host_ns)
        driver.plug(port["id"])
        sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def dhcp(self, guest: str) -> list[str]:
        result = self.tmp / f"lease-{guest}"
        subprocess.run(["ip", "netns", "exec", self.guests[guest], "busybox", "udhcpc", "-f", "-q", "-n",
                        "-O", "mtu", "-i", "eth0", "-t", "5", "-T", "1", "-s", str(self.script)],
                       env=dict(os.environ, RESULT=str(result)), capture_output=True, timeout=30, check=False)
        return result.read_text().split() if result.exists() else []

    def ping(self, ns: str, address: str) -> bool:
        # Up to 3 tries: the first packet to a new neighbour waits for ARP across the tunnel.
        return any(sh("ip", "netns", "exec", ns, "busybox", "ping", "-c", "1", "-W", "1", address,
                      check=False).returncode == 0 for _ in range(3))

    def fdb(self, driver, vni: int) -> set[tuple[str, str]]:
        out = sh("bridge", "-n", driver.host_ns, "-j", "fdb", "show", "dev", f"vxlan-{vni}").stdout
        return {(e["mac"], e["dst"]) for e in json.loads(out or "[]") if "dst" in e}

    def close(self) -> None:
        for ns in self.guests.values():
            sh("ip", "netns", "delete", ns, check=False)
        self.a.destroy()
        self.b.destroy()
        sh("ip", "link", "del", self.underlay, check=False)  # only if driver A never moved it


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    require_netns({**TOOLS, "bridge": "iproute2"}, "the Linux datapath")
    prefix = f"psh{random.randrange(16**4):04x}-"
    h = Hosts(prefix, tmp_path_factory.mktemp("hosts"))
    try:
        yield h
    finally:
        h.close()
        left = [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(prefix)]
        assert not left, f"namespaces left behind: {left}"


def test_two_hosts_share_a_vxlan_network_dhcp_on_one_router_on_the_other(hosts):
    h, r = hosts, hosts.r
    vni = 5000 + r
    h.b.reconcile()  # B's host namespace, to put its end of the underlay in
    sh("ip", "link", "add", h.underlay, "type", "veth", "peer", "name", "underlay0", "netns", h.b.host_ns)
    sh("ip", "-n", h.b.host_ns, "addr", "add", f"192.168.{r}.2/24", "dev", "underlay0")
    sh("ip", "-n", h.b.host_ns, "link", "set", "underlay0", "up")

    group = {"id": uid(), "name": "default", "security_group_rules": []}
    group["security_group_rules"] = [dict(rule, id=uid(), security_group_id=group["id"])
                                     for rule in (egress(), ingress(group=group["id"]), ingress("icmp"))]
    h.send("security_group_updated", group)
    net = {"id": uid(), "name": "A", "mtu": 1450, "provider:network_type": "vxlan",
           "provider:segmentation_id": vni, "provider:physical_network": None}
    ext = {"id": uid(), "name": "ext", "mtu": 1500, "router:external": True, "provider:network_type": "flat",
           "provider:physical_network": "public", "provider:segmentation_id": None}
    subnet = {"id": uid(), "network_id": net["id"], "ip_version": 4, "cidr": f"10.{r}.1.0/24",
              "gateway_ip": f"10.{r}.1.1", "enable_dhcp": True, "dns_nameservers": [], "host_routes": []}
    ext_subnet = {"id": uid(), "network_id": ext["id"], "ip_version": 4, "cidr": f"172.31.{r}.0/24",
                  "gateway_ip": f"172.31.{r}.1", "enable_dhcp": False, "dns_nameservers": [], "host_routes": []}
    for network, sub in ((net, subnet), (ext, ext_subnet)):
        h.send("network_updated", network)
        h.send("subnet_updated", sub)
    h.port("dhcp", net, subnet, f"10.{r}.1.2", "host-a", owner="network:dhcp")
    h.port("g1", net, subnet, f"10.{r}.1.11", "host-a", security_groups=[group["id"]])
    h.port("g2", net, subnet, f"10.{r}.1.12", "host-b", security_groups=[group["id"]])
    h.port("ext", ext, ext_subnet, f"172.31.{r}.1", "host-b", owner="test:external", port_security_enabled=False)
    router_id = uid()
    router = {"id": router_id, "routes": [], "admin_state_up": True,
              "external_gateway_info": {"network_id": ext["id"], "enable_snat": True},
              "interfaces": [h.port("qr", net, subnet, f"10.{r}.1.1", "host-b", owner="network:router_interface",
                                    device_id=router_id)]}
    h.port("qg", ext, ext_subnet, f"172.31.{r}.10", "host-b", owner="network:router_gateway", device_id=router_id)
    h.send("router_updated", router)
    for name in ("g1", "g2", "ext"):
        h.guest(name)
    sh("ip", "-n", h.guests["ext"], "addr", "add", f"172.31.{r}.1/24", "dev", "eth0")
    assert h.a.last_error is None and h.b.last_error is None

    # Each host keeps what concerns it: DHCP on A, the router and the external bridge on B.
    names = set(sh("ip", "netns", "list").stdout.split())
    assert h.a.dhcp_ns(net["id"]) in names and h.b.dhcp_ns(net["id"]) not in names
    assert h.b.router_ns(router_id) in names and h.a.router_ns(router_id) not in names
    assert h.a.bridge_name(ext["id"]) not in sh("ip", "-n", h.a.host_ns, "link").stdout
    assert " mtu 1450 " in sh("ip", "-n", h.a.host_ns, "link", "show", f"vxlan-{vni}").stdout
    details = json.loads(sh("ip", "-n", h.b.host_ns, "-j", "-d", "link", "show", f"vxlan-{vni}").stdout)[0]
    assert details["master"] == h.b.bridge_name(net["id"])
    assert {k: details["linkinfo"]["info_data"][k] for k in ("id", "local", "port", "learning")} == {
        "id": vni, "local": f"192.168.{r}.2", "port": 4789, "learning": False}
    # FDB as l2population writes it: a flood entry and each remote port's MAC.
    a, b = f"192.168.{r}.1", f"192.168.{r}.2"
    assert h.fdb(h.a, vni) == {("00:00:00:00:00:00", b), *((h.ports[p]["mac_address"], b) for p in ("g2", "qr"))}
    assert h.fdb(h.b, vni) == {("00:00:00:00:00:00", a), *((h.ports[p]["mac_address"], a) for p in ("g1", "dhcp"))}

    # DHCP from host A answers both guests, g2 across the tunnel; the MTU leaves room for VXLAN.
    assert h.dhcp("g1") == [f"10.{r}.1.11", "24", f"10.{r}.1.1", "1450"]
    assert h.dhcp("g2") == [f"10.{r}.1.12", "24", f"10.{r}.1.1", "1450"]
    assert h.ping(h.guests["g1"], f"10.{r}.1.12")  # the remote-group set on B holds g1 from A
    assert h.ping(h.guests["g2"], f"10.{r}.1.11")
    # The router on host B reaches both guests, and g1 (host A) reaches outside through it.
    for address in (f"10.{r}.1.11", f"10.{r}.1.12"):
        assert h.ping(h.b.router_ns(router_id), address)
    assert h.ping(h.guests["g1"], f"172.31.{r}.1")

    # Host A is fenced (instance HA, network/host_fencing.py): its agent leaves the peers, its
    # guest's port is unbound, the network is sent again -- B forgets A at once (no flood
    # entry, no MAC, the DHCP port's included), and g2 no longer reaches g1.  Then A is back.
    fenced = h.vteps.pop("host-a")
    h.b.port_updated(dict(h.ports["g1"], **{"binding:host_id": ""}))
    h.b.network_updated(net)
    assert h.fdb(h.b, vni) == set()
    assert not h.ping(h.guests["g2"], f"10.{r}.1.11")
    h.vteps["host-a"] = fenced
    h.b.port_updated(h.ports["g1"])
    assert h.fdb(h.b, vni) == {("00:00:00:00:00:00", a), *((h.ports[p]["mac_address"], a) for p in ("g1", "dhcp"))}

    # g2's port goes: its MAC leaves A's FDB; the flood entry stays for the router's port.
    h.send("port_deleted", h.ports.pop("g2"))
    assert h.fdb(h.a, vni) == {("00:00:00:00:00:00", b), (h.ports["qr"]["mac_address"], b)}
    # The router leaves: B has nothing on the network any more, so no bridge or VXLAN device;
    # A floods to nobody.
    h.send("router_deleted", router)
    for name in ("qr", "qg"):
        h.send("port_deleted", h.ports.pop(name))
    assert f"vxlan-{vni}" not in sh("ip", "-n", h.b.host_ns, "link").stdout
    assert h.fdb(h.a, vni) == set()
    assert h.a.last_error is None and h.b.last_error is None
