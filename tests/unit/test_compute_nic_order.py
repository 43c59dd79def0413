"""The guest's NIC order is the order of the server's requested networks (Tempest's
device tagging server: its validation network first, then ports made before the boot)."""

from __future__ import annotations

from pocketstack.compute.nic_order import in_request_order


def port(port_id: str, network_id: str, *addresses: str) -> dict:
    return {"id": port_id, "network_id": network_id, "fixed_ips": [{"ip_address": a} for a in addresses]}


# The network service's order: by creation, so the ports made before the boot come first.
PORT1, PORT2 = port("p1", "net1", "10.1.1.5"), port("p2", "net1", "10.1.1.6")
TENANT = port("t", "tenant", "10.100.0.8")
NET1 = port("n1", "net1", "10.1.1.7")
NET1_UNTAGGED = port("n1b", "net1", "10.1.1.8")
NET2_200, NET2_100 = port("n2b", "net2", "10.2.2.200"), port("n2a", "net2", "10.2.2.100")
LISTED = [PORT1, PORT2, TENANT, NET1, NET1_UNTAGGED, NET2_200, NET2_100]


def test_requested_order_wins():
    requested = [{"network_id": "tenant"}, {"port_id": "p1", "tag": "port-1"}, {"port_id": "p2"},
                 {"network_id": "net1", "tag": "net-1"}, {"network_id": "net1"},
                 {"network_id": "net2", "fixed_ip": "10.2.2.100"}, {"network_id": "net2", "fixed_ip": "10.2.2.200"}]
    assert [p["id"] for p in in_request_order(LISTED, requested)] == ["t", "p1", "p2", "n1", "n1b", "n2a", "n2b"]


def test_ports_attached_later_follow_and_auto_keeps_the_listing():
    attached = port("late", "other", "10.9.0.5")
    ordered = in_request_order([PORT1, attached, TENANT], [{"network_id": "tenant"}, {"port_id": "p1"}])
    assert [p["id"] for p in ordered] == ["t", "p1", "late"]
    for requested in ("auto", "none", None, []):
        assert in_request_order(LISTED, requested) == LISTED
    # A requested port gone meanwhile (detached) is skipped.
    assert [p["id"] for p in in_request_order([TENANT], [{"port_id": "gone"}, {"network_id": "tenant"}])] == ["t"]
