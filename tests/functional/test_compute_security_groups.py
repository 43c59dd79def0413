"""Nova's security group proxy (``os-security-groups``, ``os-security-group-rules``,
``/servers/{id}/os-security-groups``), served by the network service."""

from __future__ import annotations

import pytest
from test_compute_network import network

from compute_fixtures import member  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait, wait_gone

V = "2.1"


def create(api, token, name=None, description="a group", expect=200):
    r = call(api, "POST", "/os-security-groups", token, version=V,
             json={"security_group": {"name": name if name is not None else unique("sg"),
                                      "description": description}})
    assert r.status_code == expect, r.text
    return r.json()


def test_group_crud(api, member):
    token = member["token"]
    name = f" {unique('sg')} "
    group = create(api, token, name)["security_group"]
    assert group["name"] == name, "kept as given, spaces included (Nova)"
    assert group["rules"] == [] and group["tenant_id"] == member["project"]["id"]
    listed = call(api, "GET", "/os-security-groups", token, version=V).json()["security_groups"]
    assert group["id"] in [g["id"] for g in listed] and "default" in [g["name"] for g in listed]
    r = call(api, "PUT", f"/os-security-groups/{group['id']}", token, version=V,
             json={"security_group": {"name": "renamed", "description": "new"}})
    assert r.status_code == 200 and r.json()["security_group"]["name"] == "renamed"
    assert call(api, "GET", f"/os-security-groups/{group['id']}", token, version=V).json()[
        "security_group"]["description"] == "new"
    assert call(api, "DELETE", f"/os-security-groups/{group['id']}", token, version=V).status_code == 202
    assert call(api, "GET", f"/os-security-groups/{group['id']}", token, version=V).status_code == 404
    assert call(api, "GET", "/os-security-groups", token, version="2.36").status_code == 404


@pytest.mark.parametrize("name,description", [("", "x"), ("  ", "x"), ("a" * 256, "x"), ("ok", ""),
                                              ("ok", "d" * 256)])
def test_bad_group_is_400(api, member, name, description):
    assert "badRequest" in create(api, member["token"], name, description, expect=400)


def test_unknown_and_default_groups(api, member):
    token = member["token"]
    assert call(api, "GET", "/os-security-groups/not-a-uuid", token, version=V).status_code == 400
    missing = "00000000-0000-4000-8000-000000000000"
    assert call(api, "GET", f"/os-security-groups/{missing}", token, version=V).status_code == 404
    assert call(api, "DELETE", f"/os-security-groups/{missing}", token, version=V).status_code == 404
    groups = call(api, "GET", "/os-security-groups", token, version=V).json()["security_groups"]
    default = next(g for g in groups if g["name"] == "default")
    r = call(api, "DELETE", f"/os-security-groups/{default['id']}", token, version=V)
    assert r.status_code == 400 and "badRequest" in r.json()


def test_rules(api, member):
    token = member["token"]
    parent = create(api, token)["security_group"]
    peer = create(api, token)["security_group"]

    def rule(expect=200, **fields):
        r = call(api, "POST", "/os-security-group-rules", token, version=V,
                 json={"security_group_rule": {"parent_group_id": parent["id"], **fields}})
        assert r.status_code == expect, (fields, r.text)
        return r.json()

    tcp = rule(ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/24")["security_group_rule"]
    assert tcp["from_port"] == 22 and tcp["ip_range"] == {"cidr": "10.0.0.0/24"} and tcp["group"] == {}
    by_group = rule(ip_protocol="icmp", from_port=-1, to_port=-1, group_id=peer["id"])["security_group_rule"]
    assert by_group["group"] == {"name": peer["name"], "tenant_id": parent["tenant_id"]}
    assert by_group["from_port"] == -1 and by_group["ip_range"] == {}
    rule(400, ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/24")  # duplicate
    for bad in ({"ip_protocol": "tcp", "from_port": 0, "to_port": 22}, {"ip_protocol": "tcp", "from_port": 30,
                "to_port": 20}, {"ip_protocol": "icmp", "from_port": 256, "to_port": 1},
                {"ip_protocol": "gre", "from_port": 1, "to_port": 2},
                {"ip_protocol": "tcp", "from_port": "x", "to_port": 2},
                {"ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "10.0.0.0/99"}):
        rule(400, **bad)
    r = call(api, "POST", "/os-security-group-rules", token, version=V, json={"security_group_rule": {
        "parent_group_id": "00000000-0000-4000-8000-000000000000", "ip_protocol": "tcp", "from_port": 1,
        "to_port": 2}})
    assert r.status_code == 404
    shown = call(api, "GET", f"/os-security-groups/{parent['id']}", token, version=V).json()["security_group"]
    assert {r["id"] for r in shown["rules"]} == {tcp["id"], by_group["id"]}, "ingress rules only"
    assert call(api, "DELETE", f"/os-security-group-rules/{tcp['id']}", token, version=V).status_code == 202
    assert call(api, "DELETE", f"/os-security-group-rules/{tcp['id']}", token, version=V).status_code == 404
    assert call(api, "DELETE", "/os-security-group-rules/nonsense", token, version=V).status_code == 400
    # Deleting the peer group takes its rules away from the parent.
    assert call(api, "DELETE", f"/os-security-groups/{peer['id']}", token, version=V).status_code == 202
    assert call(api, "GET", f"/os-security-groups/{parent['id']}", token, version=V).json()[
        "security_group"]["rules"] == []


def test_groups_of_a_server_come_from_its_ports(api, admin_token, member):
    token = member["token"]
    net, _ = network(api, token, "10.77.0.0/24")
    server = boot(api, token, make_image(api, admin_token), make_flavor(api, admin_token)["id"],
                  networks=[{"uuid": net["id"]}])["server"]
    wait(api, token, server["id"])
    groups = call(api, "GET", f"/servers/{server['id']}/os-security-groups", token, version=V).json()
    assert [g["name"] for g in groups["security_groups"]] == ["default"]
    renamed = call(api, "PUT", f"/servers/{server['id']}", token, json={"server": {"name": "renamed"}}).json()
    address, = [a for addrs in renamed["server"]["addresses"].values() for a in addrs]
    assert set(address) == {"addr", "version"}, "update answers addresses without OS-EXT-IPS"
    call(api, "DELETE", f"/servers/{server['id']}", token)
    wait_gone(api, token, server["id"])


def test_add_and_remove_security_groups_on_a_server(api, admin_token, member):
    token = member["token"]
    net, _ = network(api, token, "10.78.0.0/24")
    extra = create(api, token)["security_group"]
    server_id = boot(api, token, make_image(api, admin_token), make_flavor(api, admin_token)["id"],
                     networks=[{"uuid": net["id"]}])["server"]["id"]
    wait(api, token, server_id)

    def action(body, expect=202):
        r = call(api, "POST", f"/servers/{server_id}/action", token, json=body)
        assert r.status_code == expect, r.text

    def port_groups():
        port, = api.request("GET", f"/network/v2.0/ports?device_id={server_id}", token).json()["ports"]
        return set(port["security_groups"])

    action({"addSecurityGroup": {"name": extra["name"]}})
    assert extra["id"] in port_groups()
    names = [g["name"] for g in call(api, "GET", f"/servers/{server_id}", token).json()["server"]["security_groups"]]
    assert names == ["default", extra["name"]]
    action({"addSecurityGroup": {"name": "no-such-group"}}, expect=404)
    action({"removeSecurityGroup": {"name": extra["name"]}})
    action({"removeSecurityGroup": {"name": extra["name"]}}, expect=400)
    action({"removeSecurityGroup": {"name": "default"}})
    assert port_groups() == set()
    assert "security_groups" not in call(api, "GET", f"/servers/{server_id}", token).json()["server"]
    call(api, "DELETE", f"/servers/{server_id}", token)
    wait_gone(api, token, server_id)


def test_boot_with_unknown_security_group_is_400(api, admin_token, member):
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token)
    r = call(api, "POST", "/servers", member["token"], json={"server": {
        "name": unique("vm"), "imageRef": image, "flavorRef": flavor["id"], "networks": "none",
        "security_groups": [{"name": "no-such-group"}]}})
    assert r.status_code == 400 and "no-such-group" in r.json()["badRequest"]["message"]


def test_server_on_a_network_without_port_security_shows_no_group(api, admin_token, member):
    """Nova shows a server's groups from its ports: a port on a network with port security
    off has none, whether the server asked for none (``[]``, Tempest's
    test_boot_into_disabled_port_security_network_without_secgroup) or said nothing."""
    token = member["token"]
    r = api.request("POST", "/network/v2.0/networks", token,
                    json={"network": {"name": unique("open"), "port_security_enabled": False}})
    assert r.status_code == 201, r.text
    net = r.json()["network"]
    assert api.request("POST", "/network/v2.0/subnets", token, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.79.0.0/24"}}).status_code == 201
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token)["id"]
    for groups in ({"security_groups": []}, {}):
        server = boot(api, token, image, flavor, networks=[{"uuid": net["id"]}], **groups)["server"]
        shown = wait(api, token, server["id"])
        assert "security_groups" not in shown, shown.get("security_groups")
        listed = call(api, "GET", "/servers/detail", token).json()["servers"]
        assert "security_groups" not in next(s for s in listed if s["id"] == server["id"])
        port, = api.request("GET", f"/network/v2.0/ports?device_id={server['id']}", token).json()["ports"]
        assert port["security_groups"] == [] and port["port_security_enabled"] is False
        groups_of = call(api, "GET", f"/servers/{server['id']}/os-security-groups", token, version=V).json()
        assert groups_of["security_groups"] == []
        call(api, "DELETE", f"/servers/{server['id']}", token)
        wait_gone(api, token, server["id"])
