"""Nova's read-only network proxies ``/os-networks`` and ``/os-tenant-networks``."""

from __future__ import annotations

from test_compute_network import network

from test_compute_helpers import call, new_member

V = "2.1"


def test_networks_and_tenant_networks(api, admin_token, demo_token):
    member = new_member(api, admin_token)
    token = member["token"]
    net, subnet = network(api, token, "10.88.0.0/24")
    listed = call(api, "GET", "/os-tenant-networks", token, version=V).json()["networks"]
    assert {"id": net["id"], "label": net["name"], "cidr": "10.88.0.0/24"} in listed
    shown = call(api, "GET", f"/os-tenant-networks/{net['id']}", token, version=V).json()["network"]
    assert shown == {"id": net["id"], "label": net["name"], "cidr": "10.88.0.0/24"}
    full = call(api, "GET", f"/os-networks/{net['id']}", token, version=V).json()["network"]
    assert full["label"] == net["name"] and full["vlan"] is None and full["project_id"] == net["project_id"]
    assert net["id"] in [n["id"] for n in call(api, "GET", "/os-networks", token, version=V).json()["networks"]]
    # Another project's private network does not exist for the caller.
    assert call(api, "GET", f"/os-tenant-networks/{net['id']}", demo_token, version=V).status_code == 404
    assert call(api, "GET", "/os-networks", token, version="2.36").status_code == 404
