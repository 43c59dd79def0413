"""Provider networks on a physical interface: flat and VLAN networks that leave the host.

The "physical interface" is one end of a veth pair (the wire); the other end, ``wire0``,
is in a test namespace acting as the outside switch and hosts.  The driver maps
``physnet1`` to the interface (``network_physical_interface_mappings``), so it moves it
into its host namespace; at its destroy the interface comes back here.  Every namespace
is named with a prefix unique to this run and removed at the end::

    guest f1 10.r.50.11 ── br-<flat> ── <phys> ══ wire0 10.r.50.1            (<p>out)
    guest v1 10.r.60.11 ── br-<v1000> ── <phys>.1000 ══ wire0.1000 10.r.60.1 (<p>out)
    guest v2 10.r.60.12 ── br-<v1001> ── <phys>.1001 ══ wire0.1001 10.r.60.2 (<p>other)

The VLAN tests need the kernel's 802.1Q support (``8021q``): without it they skip, even
with CI=true (no package brings a kernel feature back; they were run in a VM with Debian's
kernel), and the flat ones still run.
"""

from __future__ import annotations

import json
import random
import subprocess

import pytest
from test_network_datapath import TOOLS, World, egress, ingress

from support import require_netns, sh

PHYSNET_MTU = 1480


def link(ns: str | None, name: str) -> dict:
    """A device as ``ip -j -d link`` shows it ({} if absent); ns None: this namespace."""
    where = ["-n", ns] if ns else []
    out = subprocess.run(["ip", *where, "-j", "-d", "link", "show", "dev", name], capture_output=True, text=True,
                         check=False).stdout
    return (json.loads(out or "[]") or [{}])[0]


def bridge_ports(world, network: str) -> set[str]:
    bridge = world.driver.bridge_name(world.networks[network]["id"])
    out = sh("ip", "-n", world.driver.host_ns, "-j", "link", "show", "master", bridge).stdout
    return {entry["ifname"] for entry in json.loads(out or "[]")}


def vlan_supported(prefix: str) -> bool:
    """Whether this kernel makes VLAN devices (tried in a namespace of this run)."""
    ns = f"{prefix}probe"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1")
        return sh("ip", "-n", ns, "link", "add", "link", "p0", "name", "p0.5", "type", "vlan", "id", "5",
                  check=False).returncode == 0
    finally:
        sh("ip", "netns", "delete", ns)


def need_vlans(world) -> None:
    """A skip even in CI: a kernel built without 802.1Q (CI's machine has one) is not
    something a package install can change; the VLAN tests then run in a VM with a
    distribution kernel (docs/network.md, "Provider networks on a physical interface")."""
    if not world.vlans:
        pytest.skip("this kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q, module 8021q): "
                    "VLAN devices cannot be created on this machine")


def provider(kind: str, physnet: str = "physnet1", segment: int | None = None) -> dict:
    return {"provider:network_type": kind, "provider:physical_network": physnet, "provider:segmentation_id": segment}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    require_netns(TOOLS, "the Linux datapath")
    from pocketstack.network.drivers.linux import LinuxDriver
    from pocketstack.network.drivers.physnets import Physnets
    prefix = f"psp{random.randrange(16**4):04x}-"
    tmp = tmp_path_factory.mktemp("physnets")
    phys = f"{prefix[:-1]}p"  # in this namespace until the driver takes it
    outside = f"{prefix}out"
    sh("ip", "netns", "add", outside)
    sh("ip", "link", "add", phys, "type", "veth", "peer", "name", "wire0", "netns", outside)
    driver = LinuxDriver(tmp / "state", prefix=prefix, physnets=Physnets({"physnet1": phys}, PHYSNET_MTU))
    w = World(driver, prefix, tmp)
    w.phys, w.outside, w.vlans = phys, outside, vlan_supported(prefix)
    w.others = [outside]  # the outside namespaces, removed at the end
    try:
        r = w.r
        sh("ip", "-n", outside, "link", "set", "lo", "up")
        sh("ip", "-n", outside, "link", "set", "wire0", "mtu", str(PHYSNET_MTU), "up")
        sh("ip", "-n", outside, "addr", "add", f"10.{r}.50.1/24", "dev", "wire0")  # the untagged host
        w.group("open", [egress(), ingress("icmp")])
        yield w
    finally:
        w.close()
        back = link(None, phys)  # before its peer's namespace goes (taking both ends of the veth)
        sh("ip", "link", "del", phys, check=False)
        for ns in w.others:
            sh("ip", "netns", "delete", ns, check=False)
        left = [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(prefix)]
        assert not left, f"namespaces left behind: {left}"
        # destroy hands the interface back to the namespace it came from (this one)
        assert back, f"{phys} was not handed back by the driver's destroy"


def guest_on(world, name: str, network: str, address: str) -> None:
    world.port(name, network, address.split("/")[0], groups=["open"])
    world.guest(name, name)
    world.static(name, address)


def test_a_flat_network_puts_the_interface_on_its_bridge(world):
    r, host_ns = world.r, world.driver.host_ns
    world.network("flat", f"10.{r}.50.0/24", f"10.{r}.50.1", mtu=PHYSNET_MTU, **provider("flat"))
    guest_on(world, "f1", "flat", f"10.{r}.50.11/24")
    assert not link(None, world.phys), "the mapped interface is still in the machine's namespace"
    phys = link(host_ns, world.phys)
    assert phys["mtu"] == PHYSNET_MTU and "UP" in phys["flags"]
    assert bridge_ports(world, "flat") == {world.phys, world.driver.tap_name(world.ports["f1"]["id"])}
    assert world.reaches("f1", f"10.{r}.50.1")
    assert world.driver.status()["interface_mappings"] == {"physnet1": world.phys}
    assert world.driver.last_error is None


def test_a_network_on_an_unmapped_physnet_keeps_a_bridge_alone(world):
    r = world.r
    world.network("public", f"10.{r}.51.0/24", f"10.{r}.51.1", **provider("flat", "public"))
    world.port("p1", "public", f"10.{r}.51.11", groups=["open"])
    world.guest("p1", "p1")
    assert bridge_ports(world, "public") == {world.driver.tap_name(world.ports["p1"]["id"])}
    world.driver.network_deleted(world.networks.pop("public"))


def test_a_vlan_network_reaches_its_vlan_only(world):
    need_vlans(world)
    r, host_ns = world.r, world.driver.host_ns
    other = f"{world.prefix}other"
    sh("ip", "netns", "add", other)
    world.others.append(other)
    for vlan in (1000, 1001):
        sh("ip", "-n", world.outside, "link", "add", "link", "wire0", "name", f"wire0.{vlan}", "type", "vlan",
           "id", str(vlan))
    # The host on VLAN 1001 is another machine: its subinterface moves to its own namespace.
    sh("ip", "-n", world.outside, "link", "set", "wire0.1001", "netns", other)
    for ns, device, address in ((world.outside, "wire0.1000", f"10.{r}.60.1/24"),
                                (other, "wire0.1001", f"10.{r}.60.2/24")):
        sh("ip", "-n", ns, "addr", "add", address, "dev", device)
        sh("ip", "-n", ns, "link", "set", device, "up")
    for name, vlan in (("v1000", 1000), ("v1001", 1001)):
        world.network(name, f"10.{r}.60.0/24", f"10.{r}.60.1", mtu=PHYSNET_MTU - 30,
                      **provider("vlan", segment=vlan))
    guest_on(world, "v1", "v1000", f"10.{r}.60.11/24")
    guest_on(world, "v2", "v1001", f"10.{r}.60.12/24")
    sub = link(host_ns, f"{world.phys}.1000")
    assert sub["linkinfo"]["info_data"]["id"] == 1000 and sub["mtu"] == PHYSNET_MTU - 30
    assert f"{world.phys}.1000" in bridge_ports(world, "v1000")
    assert world.reaches("v1", f"10.{r}.60.1")
    assert world.reaches("v2", f"10.{r}.60.2")
    assert not world.ping("v1", f"10.{r}.60.2")  # on VLAN 1001
    assert not world.ping("v2", f"10.{r}.60.1")  # on VLAN 1000
    assert world.driver.last_error is None


def state(world) -> dict:
    return {"networks": list(world.networks.values()), "subnets": list(world.subnets.values()),
            "ports": list(world.ports.values()), "security_groups": list(world.groups.values())}


def test_a_restarted_driver_resyncs_and_keeps_traffic(world):
    from pocketstack.network.drivers.linux import LinuxDriver
    from pocketstack.network.drivers.physnets import Physnets
    r, host_ns = world.r, world.driver.host_ns
    before = sh("ip", "-n", host_ns, "-o", "link").stdout
    restarted = LinuxDriver(world.driver.state_dir, prefix=world.prefix,
                            physnets=Physnets({"physnet1": world.phys}, PHYSNET_MTU))
    restarted.sync(state(world))
    world.driver = restarted
    assert sh("ip", "-n", host_ns, "-o", "link").stdout.count("\n") == before.count("\n")
    restarted.network_updated(world.networks["flat"])  # the same event again changes nothing
    assert sh("ip", "-n", host_ns, "-o", "link").stdout.count("\n") == before.count("\n")
    assert world.reaches("f1", f"10.{r}.50.1")
    if world.vlans and "v1000" in world.networks:
        assert world.reaches("v1", f"10.{r}.60.1")
        assert not world.ping("v1", f"10.{r}.60.2")
    assert restarted.last_error is None


def test_deleting_a_network_removes_its_uplink(world):
    host_ns = world.driver.host_ns
    if world.vlans and "v1000" in world.networks:
        world.driver.network_deleted(world.networks.pop("v1000"))
        assert not link(host_ns, f"{world.phys}.1000")
        assert link(host_ns, f"{world.phys}.1001")  # the other VLAN's stays
    world.driver.network_deleted(world.networks.pop("flat"))
    phys = link(host_ns, world.phys)
    assert phys and not phys.get("master")  # kept in the host namespace, on no bridge
    assert world.driver.last_error is None


def test_a_missing_interface_leaves_its_network_a_bridge_and_says_why(world):
    from pocketstack.network.drivers.linux import LinuxDriver
    from pocketstack.network.drivers.physnets import Physnets
    missing = f"{world.prefix[:-1]}m"  # never created
    driver = LinuxDriver(world.tmp / "missing", prefix=f"{world.prefix}m-",
                         physnets=Physnets({"physnet2": missing}, PHYSNET_MTU))
    try:
        network = {"id": "7" * 36, "name": "p2", "mtu": PHYSNET_MTU, **provider("flat", "physnet2")}
        driver.network_updated(network)
        assert f"interface '{missing}' is neither in this namespace" in (driver.last_error or "")
        assert driver.bridge_name(network["id"]) in sh("ip", "-n", driver.host_ns, "link").stdout
    finally:
        driver.destroy()
