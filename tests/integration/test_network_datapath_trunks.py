"""Trunks on the Linux datapath with real packets, through the network API of an
in-process cloud (test_network_datapath.py's ``api_world``: veth "guests" in test
namespaces on ports the API made).

A guest plugged on a trunk's parent reaches the parent's network untagged and, once a
subport is added to the live trunk, the subport's network through a VLAN interface of
its own (802.1Q, the subport's segmentation id, the subport's MAC): DHCP, ping, the
subport's security groups and anti-spoofing apply there.  Another VLAN id reaches
nothing; after ``remove_subports`` the tagged path is cut.  The agent reports what it
wired: the trunk ACTIVE, the subport bound to the parent's host and ACTIVE.

The kernel must have 802.1Q (``CONFIG_VLAN_8021Q``) for the datapath's and the guest's
VLAN devices; without it the datapath reports the trunk in ERROR (its subport could not
be wired), which is checked, and the traffic part is skipped.
"""

from __future__ import annotations

import functools
import uuid

import pytest
from test_network_datapath import api_world, network_call  # noqa: F401  (api_world: the fixture)
from test_network_physnets import vlan_supported

from support import sh

VLAN = 100


def test_a_trunk_carries_its_subports_networks_tagged(api_world):  # noqa: F811
    w = api_world
    r = w.r

    call = functools.partial(network_call, w)

    def get(kind, item):
        return call("GET", f"{kind}s/{item['id']}", status=200)[kind]

    parent_net = call("POST", "networks", {"network": {"name": "trunk-parent"}})["network"]
    sub_net = call("POST", "networks", {"network": {"name": "trunk-sub"}})["network"]
    for net, third in ((parent_net, 21), (sub_net, 22)):
        call("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": f"10.{r}.{third}.0/24"}})
    closed = call("POST", "security-groups", {"security_group": {"name": "trunk-closed"}})["security_group"]
    pingable = call("POST", "security-groups", {"security_group": {"name": "trunk-ping"}})["security_group"]
    call("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": pingable["id"], "direction": "ingress", "protocol": "icmp"}})
    ports = {name: call("POST", "ports", {"port": {"network_id": net["id"], "name": name, **extra}})["port"]
             for name, net, extra in (("vm", parent_net, {}), ("peer-a", parent_net, {}),
                                      ("peer-b", sub_net, {"security_groups": [pingable["id"]]}),
                                      ("sub", sub_net, {"security_groups": [closed["id"]]}))}
    w.ports.update(ports)
    trunk = call("POST", "trunks", {"trunk": {"port_id": ports["vm"]["id"], "name": "t"}})["trunk"]
    assert trunk["status"] == "DOWN"
    # Bound as Nova binds a server's port (a bound port cannot become a parent: first the trunk).
    call("PUT", f"ports/{ports['vm']['id']}", {"port": {"binding:host_id": "trunk-host", "device_id": str(uuid.uuid4()),
                                                         "device_owner": "compute:nova"}}, status=200)
    for name in ("vm", "peer-a", "peer-b"):
        w.guest(name, name)
        assert w.dhcp(name)[:1] == [ports[name]["fixed_ips"][0]["ip_address"]]
    assert get("trunk", trunk)["status"] == "ACTIVE"  # wired (no subports yet) where its parent's tap is
    peer_a, peer_b, sub_ip = (ports[n]["fixed_ips"][0]["ip_address"] for n in ("peer-a", "peer-b", "sub"))
    assert w.reaches("vm", peer_a)  # untagged: the parent's network

    call("PUT", f"trunks/{trunk['id']}/add_subports", {"sub_ports": [
        {"port_id": ports["sub"]["id"], "segmentation_type": "vlan", "segmentation_id": VLAN}]}, status=200)
    sub = get("port", ports["sub"])
    assert (sub["device_owner"], sub["device_id"], sub["binding:host_id"]) == ("trunk:subport", trunk["id"],
                                                                               "trunk-host")
    if not vlan_supported(w.prefix):
        # The subport's VLAN device cannot be made: the agent reports the trunk in ERROR,
        # which takes no more subports until the failed one is removed.
        assert (get("trunk", trunk)["status"], sub["status"]) == ("ERROR", "DOWN")
        refused = call("PUT", f"trunks/{trunk['id']}/add_subports", {"sub_ports": [
            {"port_id": ports["peer-b"]["id"], "segmentation_type": "vlan", "segmentation_id": 7}]}, status=409)
        assert refused["NeutronError"]["type"] == "TrunkInErrorState"
        call("PUT", f"trunks/{trunk['id']}/remove_subports", {"sub_ports": [{"port_id": sub["id"]}]}, status=200)
        assert get("trunk", trunk)["status"] == "ACTIVE"
        # A skip even in CI, as test_network_physnets.py's VLAN tests: no package install
        # gives a kernel 802.1Q (run them in a VM with a distribution kernel).
        pytest.skip("this kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q, module 8021q): the ERROR report "
                    "checked, trunk traffic not tested")
    assert (get("trunk", trunk)["status"], sub["status"]) == ("ACTIVE", "ACTIVE")
    host = w.driver.host_ns
    device = w.driver.tap_name(sub["id"])
    detail = sh("ip", "-d", "-n", host, "link", "show", device).stdout
    assert f"@{w.driver.tap_name(ports['vm']['id'])}" in detail and f"vlan protocol 802.1Q id {VLAN}" in detail
    assert f"master {w.driver.bridge_name(sub_net['id'])}" in detail

    vm = w.guests["vm"]
    # The guest's VLAN interface with the parent's MAC (the kernel's default) is not the
    # subport's: its anti-spoofing drops it.
    sh("ip", "-n", vm, "link", "add", "link", "eth0", "name", "eth0.100", "type", "vlan", "id", str(VLAN))
    sh("ip", "-n", vm, "link", "set", "eth0.100", "up")
    sh("ip", "-n", vm, "addr", "add", f"{sub_ip}/24", "dev", "eth0.100")
    assert not w.reaches("vm", peer_b, within=2.0)
    sh("ip", "-n", vm, "link", "set", "eth0.100", "address", sub["mac_address"])
    assert w.dhcp("vm", "eth0.100")[:1] == [sub_ip]  # the subport network's DHCP, tagged
    assert w.reaches("vm", peer_b)
    assert w.reaches("vm", peer_a)  # the untagged path is still the parent's
    # The subport's security group (egress only) guards the tagged interface.
    assert not w.reaches("peer-b", sub_ip, within=2.0)
    call("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": closed["id"], "direction": "ingress", "protocol": "icmp"}})
    assert w.reaches("peer-b", sub_ip)
    # Another VLAN id reaches nothing, and neither do untagged frames.
    sh("ip", "-n", vm, "link", "add", "link", "eth0", "name", "eth0.200", "address", sub["mac_address"], "type",
       "vlan", "id", "200")
    sh("ip", "-n", vm, "link", "set", "eth0.100", "down")
    sh("ip", "-n", vm, "link", "set", "eth0.200", "up")
    sh("ip", "-n", vm, "addr", "add", f"{sub_ip}/24", "dev", "eth0.200")
    assert not w.reaches("vm", peer_b, within=2.0)
    sh("ip", "-n", vm, "link", "del", "eth0.200")
    sh("ip", "-n", vm, "link", "set", "eth0.100", "up")
    sh("ip", "-n", vm, "addr", "replace", f"{sub_ip}/24", "dev", "eth0.100")
    assert w.reaches("vm", peer_b)

    call("PUT", f"trunks/{trunk['id']}/remove_subports", {"sub_ports": [{"port_id": sub["id"]}]}, status=200)
    assert not w.reaches("vm", peer_b, within=2.0)  # the tagged path is cut
    assert w.reaches("vm", peer_a)
    assert device not in sh("ip", "-n", host, "link").stdout
    sub = get("port", sub)
    assert (sub["device_owner"], sub["device_id"], sub["binding:host_id"], sub["status"]) == ("", "", "", "DOWN")
    assert get("trunk", trunk)["status"] == "ACTIVE"
    assert w.driver.last_error is None


LISTEN = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
s.bind(("eth0", 0)); s.settimeout(float(sys.argv[1]))
print("ready", flush=True)
try:
    while True:
        if b"pocketstack-probe" in s.recv(2048):
            print("got", flush=True); break
except OSError:
    print("nothing", flush=True)
"""
SEND = """
import socket, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
tag = bytes.fromhex("8100" + f"{int(sys.argv[2]):04x}") if sys.argv[2] != "0" else b""
frame = b"\\xff" * 6 + mac + tag + bytes.fromhex("88b5") + b"pocketstack-probe".ljust(46, b".")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for _ in range(3):
    s.send(frame)
"""


def test_a_port_that_is_no_trunk_sends_no_tagged_frame(api_world):  # noqa: F811
    """A guest's VLAN-tagged frame does not enter its network (where a flat uplink would
    carry it onto a VLAN of the physical network); the same frame untagged does."""
    import subprocess
    import sys

    w = api_world

    call = functools.partial(network_call, w)

    net = call("POST", "networks", {"network": {"name": "untagged"}})["network"]
    call("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": f"10.{w.r}.23.0/24"}})
    for name in ("sender", "listener"):
        w.ports[name] = call("POST", "ports", {"port": {"network_id": net["id"], "name": name}})["port"]
        w.guest(name, name)

    def delivered(vlan: int) -> bool:
        listener = subprocess.Popen(["ip", "netns", "exec", w.guests["listener"], sys.executable, "-c", LISTEN, "2"],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
        sh("ip", "netns", "exec", w.guests["sender"], sys.executable, "-c", SEND, w.ports["sender"]["mac_address"],
           str(vlan))
        answer = listener.stdout.readline().strip()
        listener.wait(5)
        return answer == "got"
    assert delivered(0)  # untagged, from the port's MAC: bridged
    assert not delivered(VLAN)


def test_a_parent_plugged_without_an_event_is_wired_by_the_agents_rescan(api_world):  # noqa: F811
    """A compute host makes a guest's tap itself (no event reaches the datapath): the
    agent's rescan (every 2 s) finds it and wires the trunk, which it reports ACTIVE."""
    import time

    w = api_world

    call = functools.partial(network_call, w)

    net = call("POST", "networks", {"network": {"name": "rescan"}})["network"]
    parent = call("POST", "ports", {"port": {"network_id": net["id"], "name": "late"}})["port"]
    trunk = call("POST", "trunks", {"trunk": {"port_id": parent["id"]}})["trunk"]
    call("PUT", f"ports/{parent['id']}", {"port": {"binding:host_id": "trunk-host", "device_id": str(uuid.uuid4()),
                                                    "device_owner": "compute:nova"}}, status=200)
    assert call("GET", f"trunks/{trunk['id']}", status=200)["trunk"]["status"] == "DOWN"
    ns = f"{w.prefix}g-late"
    sh("ip", "netns", "add", ns)
    w.guests["late"] = ns  # removed with the world
    sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", w.driver.tap_name(parent["id"]),
       "netns", w.driver.host_ns)
    deadline = time.monotonic() + 10
    while call("GET", f"trunks/{trunk['id']}", status=200)["trunk"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline, "the agent did not wire the trunk of a parent plugged without an event"
        time.sleep(0.2)
    assert f"master {w.driver.bridge_name(net['id'])}" in sh("ip", "-n", w.driver.host_ns, "link", "show",
                                                             w.driver.tap_name(parent["id"])).stdout
