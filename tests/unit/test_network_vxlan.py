"""What one host's Linux datapath keeps among several, and its VXLAN FDB (pure)."""

from __future__ import annotations

from pocketstack.network.drivers import vxlan

NET, OTHER = "11111111-aaaa", "22222222-bbbb"
VTEPS = {"a": "192.0.2.1", "b": "192.0.2.2", "c": "192.0.2.3"}


def port(network: str, host: str, mac: str) -> dict:
    return {"id": mac, "network_id": network, "binding:host_id": host, "mac_address": mac}


def test_fdb_floods_to_the_hosts_with_ports_and_points_each_remote_mac_at_its_host():
    ports = [port(NET, "a", "FA:16:3E:00:00:01"), port(NET, "b", "fa:16:3e:00:00:02"),
             port(NET, "b", "fa:16:3e:00:00:03"), port(NET, "c", "fa:16:3e:00:00:04"),
             port(OTHER, "c", "fa:16:3e:00:00:05"),  # another network: not here
             port(NET, "", "fa:16:3e:00:00:06"),  # unbound: nowhere
             port(NET, "d", "fa:16:3e:00:00:07")]  # a host without a reported address
    assert vxlan.fdb(NET, ports, "a", VTEPS) == {
        (vxlan.FLOOD, "192.0.2.2"), ("fa:16:3e:00:00:02", "192.0.2.2"), ("fa:16:3e:00:00:03", "192.0.2.2"),
        (vxlan.FLOOD, "192.0.2.3"), ("fa:16:3e:00:00:04", "192.0.2.3")}
    # From b: a's port (lower-cased) and c's; never b itself.
    assert vxlan.fdb(NET, ports, "b", VTEPS) == {
        (vxlan.FLOOD, "192.0.2.1"), ("fa:16:3e:00:00:01", "192.0.2.1"),
        (vxlan.FLOOD, "192.0.2.3"), ("fa:16:3e:00:00:04", "192.0.2.3")}
    assert vxlan.fdb(OTHER, ports, "c", VTEPS) == set()  # only c has ports there


def test_a_host_keeps_the_networks_with_something_bound_to_it():
    ports = [port(NET, "a", "m1"), port(OTHER, "b", "m2"), port("gone", "a", "m3")]
    assert vxlan.local_networks(ports, "a", [NET, OTHER]) == {NET}
    assert vxlan.local_networks(ports, "b", [NET, OTHER]) == {OTHER}
    assert vxlan.local_networks(ports, "c", [NET, OTHER]) == set()
    # The only host (no local_ip): every known network, wherever its ports are bound.
    assert vxlan.local_networks(ports, None, [NET, OTHER]) == {NET, OTHER}
    assert vxlan.here(ports[1], None) and not vxlan.here(ports[1], "a")


def test_vni_and_device_name():
    assert vxlan.vni({"provider:network_type": "vxlan", "provider:segmentation_id": 16777215}) == 16777215
    assert vxlan.vni({"provider:network_type": "flat", "provider:segmentation_id": None}) is None
    assert len(vxlan.device(16777215)) <= 15  # IFNAMSIZ - 1
    assert vxlan.address("192.0.2.5/24") == vxlan.address("192.0.2.5") == "192.0.2.5"
