"""Neutron rules Tempest checks: external-network subnet visibility, deleting an external
network that still has floating IPs, security-group validation messages, bulk create,
SLAAC subnet deletion and creates without a project (the agents API has its own
file, test_network_agents.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pocketstack.network.models import FloatingIp, IpAllocation, Port

from conftest import ADMIN_PASSWORD, unique
from test_network_api import call, create, other  # noqa: F401  (``other`` is a fixture)


def _external(api, admin_token, cidr):
    net = create(api, admin_token, "network", {"name": unique("ext"), "router:external": True})
    sub = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                              "enable_dhcp": False})
    return net, sub


# -- subnets of external networks -----------------------------------------------------------

def test_external_network_subnets_are_not_visible_to_other_projects(api, admin_token, other):
    net, sub = _external(api, admin_token, "203.0.113.0/26")
    for token in (other["member"], other["reader"]):
        listed = call(api, "GET", "/networks?router:external=True", token, status=200).json()["networks"]
        assert net["id"] in {n["id"] for n in listed}
        assert all(n["router:external"] for n in listed)
        assert call(api, "GET", f"/subnets?network_id={net['id']}", token, status=200).json()["subnets"] == []
        call(api, "GET", f"/subnets/{sub['id']}", token, status=404)
    # A shared external network's subnets are visible to all.
    call(api, "PUT", f"/networks/{net['id']}", admin_token, {"network": {"shared": True}}, status=200)
    listed = call(api, "GET", f"/subnets?network_id={net['id']}", other["reader"], status=200).json()["subnets"]
    assert [s["id"] for s in listed] == [sub["id"]]


def test_network_owner_sees_subnets_an_admin_added_for_it(api, admin_token, other):
    net = create(api, other["member"], "network", {"name": unique("n")})
    sub = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.91.0.0/24",
                                              "project_id": "some-other-project"})
    listed = call(api, "GET", f"/subnets?network_id={net['id']}", other["reader"], status=200).json()["subnets"]
    assert [s["id"] for s in listed] == [sub["id"]]


def test_floating_ips_still_work_without_seeing_the_external_subnet(api, admin_token, other):
    net, _ = _external(api, admin_token, "203.0.113.64/26")
    fip = create(api, other["member"], "floatingip", {"floating_network_id": net["id"]})
    assert fip["floating_ip_address"].startswith("203.0.113.")
    call(api, "DELETE", f"/floatingips/{fip['id']}", other["member"], status=204)


# -- deleting an external network with floating IPs -------------------------------------------

def test_deleting_external_network_deletes_its_unassociated_floating_ips(api, admin_token, other, cloud):
    net, sub = _external(api, admin_token, "203.0.113.128/26")
    fips = [create(api, token, "floatingip", {"floating_network_id": net["id"]})
            for token in (admin_token, other["member"])]
    call(api, "DELETE", f"/networks/{net['id']}", admin_token, status=204)
    for fip in fips:
        call(api, "GET", f"/floatingips/{fip['id']}", admin_token, status=404)
    call(api, "GET", f"/subnets/{sub['id']}", admin_token, status=404)
    with cloud.db.session(readonly=True) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(FloatingIp)
                        .where(FloatingIp.floating_network_id == net["id"])) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Port).where(Port.network_id == net["id"])) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(IpAllocation)
                        .where(IpAllocation.subnet_id == sub["id"])) == 0


def test_associated_floating_ip_keeps_external_network_in_use(api, admin_token, other):
    net, _ = _external(api, admin_token, "203.0.113.192/26")
    inner = create(api, other["member"], "network", {"name": unique("n")})
    inner_sub = create(api, other["member"], "subnet", {"network_id": inner["id"], "ip_version": 4,
                                                   "cidr": "10.92.0.0/24"})
    router = create(api, other["member"], "router", {"name": unique("r"),
                                                "external_gateway_info": {"network_id": net["id"]}})
    call(api, "PUT", f"/routers/{router['id']}/add_router_interface", other["member"], {"subnet_id": inner_sub["id"]},
         status=200)
    port = create(api, other["member"], "port", {"network_id": inner["id"]})
    fip = create(api, other["member"], "floatingip", {"floating_network_id": net["id"], "port_id": port["id"]})
    spare = create(api, other["member"], "floatingip", {"floating_network_id": net["id"]})
    error = call(api, "DELETE", f"/networks/{net['id']}", admin_token, status=409).json()["NeutronError"]
    assert error["type"] == "NetworkInUse"
    # The refused delete changed nothing: both floating IPs are still there.
    assert call(api, "GET", f"/floatingips/{fip['id']}", other["member"], status=200).json()["floatingip"]["port_id"] \
        == port["id"]
    call(api, "GET", f"/floatingips/{spare['id']}", other["member"], status=200)


# -- security groups ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def group(api, other):
    return create(api, other["member"], "security_group", {"name": unique("sg")}, collection="security-groups")


def _rule(api, token, group_id, **fields):
    return call(api, "POST", "/security-group-rules", token, {"security_group_rule": {
        "security_group_id": group_id, "direction": "ingress", "ethertype": "IPv4", **fields}})


@pytest.mark.parametrize("protocol, lo, hi, kind, message", [
    ("tcp", -16, 80, "SecurityGroupInvalidPortValue", "Invalid value for port -16"),
    ("tcp", 80, 79, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ("tcp", 80, 65536, "SecurityGroupInvalidPortValue", "Invalid value for port 65536"),
    ("tcp", None, 6, "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ("tcp", -16, 65536, "SecurityGroupInvalidPortValue", "Invalid value for port -16"),
    ("tcp", 0, 80, "SecurityGroupInvalidPortValue", "Invalid value for port 0"),
    ("tcp", "abc", 80, "SecurityGroupInvalidPortValue", "Invalid value for port abc"),
    ("icmp", 1, 256, "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255."),
    ("icmp", -1, 25, "SecurityGroupInvalidPortValue", "Invalid value for port -1"),
    ("icmp", None, 6, "SecurityGroupMissingIcmpType",
     "ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing."),
    ("icmp", 300, 1, "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255."),
    (None, 22, 22, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given."),
    ("gre", 1, 2, "SecurityGroupInvalidProtocolForPortRange",
     "Invalid protocol gre for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP."),
])
def test_security_group_rule_port_validation(api, other, group, protocol, lo, hi, kind, message):
    error = _rule(api, other["member"], group["id"], protocol=protocol, port_range_min=lo,
                  port_range_max=hi).json()["NeutronError"]
    assert (error["type"], error["message"]) == (kind, message)


def test_security_group_rule_valid_port_ranges(api, other, group):
    for protocol, lo, hi in (("tcp", 1, 65535), ("udp", "53", "53"), ("icmp", 8, 0), ("icmp", 8, None),
                             ("gre", 5, 5)):
        r = _rule(api, other["member"], group["id"], protocol=protocol, port_range_min=lo, port_range_max=hi)
        assert r.status_code == 201, r.text
        rule = r.json()["security_group_rule"]
        assert (rule["port_range_min"], rule["port_range_max"]) == (int(lo), None if hi is None else int(hi))


MISSING = "00000000-0000-0000-0000-0000000000aa"


def test_security_group_rule_remotes_must_exist(api, admin_token, other, group):
    """Neutron checks the remote group for the rule's project; one remote at most."""
    token = other["member"]
    invisible = create(api, admin_token, "security_group", {"name": unique("sg")}, collection="security-groups")
    for fields, status, kind, message in (
            ({"remote_group_id": MISSING}, 404, "SecurityGroupNotFound", f"Security group {MISSING} does not exist"),
            ({"remote_group_id": invisible["id"]}, 404, "SecurityGroupNotFound",
             f"Security group {invisible['id']} does not exist"),
            ({"remote_group_id": group["id"], "remote_ip_prefix": "10.0.0.0/8"}, 400,
             "SecurityGroupMultipleRemoteEntites",
             "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.")):
        r = _rule(api, token, group["id"], protocol="tcp", port_range_min=7, port_range_max=7, **fields)
        assert r.status_code == status, r.text
        assert r.json()["NeutronError"] == {"type": kind, "message": message, "detail": ""}
    rules = call(api, "GET", f"/security-groups/{group['id']}", token, status=200).json()["security_group"]
    assert not [r for r in rules["security_group_rules"] if r["port_range_min"] == 7]
    r = _rule(api, token, MISSING)
    assert (r.status_code, r.json()["NeutronError"]["message"]) == (404, f"Security group {MISSING} does not exist")


def test_remote_address_groups_are_offered(api, other, group):
    """Address groups are implemented and /v2.0/extensions lists
    security-groups-remote-address-group: a rule naming a group that does not exist is
    Neutron's 404, one with a remote group too its 400, and null is no remote (the audit
    had found the attribute accepted and ignored: a rule open to every address; then it
    was refused as unrecognized until address groups came)."""
    token = other["member"]
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", token, status=200).json()["extensions"]}
    assert {"security-groups-remote-address-group", "address-group"} <= aliases
    r = _rule(api, token, group["id"], protocol="tcp", port_range_min=61234, port_range_max=61234,
              remote_address_group_id=MISSING)
    assert (r.status_code, r.json()["NeutronError"]["type"]) == (404, "AddressGroupNotFound"), r.text
    r = _rule(api, token, group["id"], protocol="tcp", port_range_min=61234, port_range_max=61234,
              remote_group_id=group["id"], remote_address_group_id=MISSING)
    assert (r.status_code, r.json()["NeutronError"]["type"]) == (400, "SecurityGroupMultipleRemoteEntites"), r.text
    r = _rule(api, token, group["id"], protocol="tcp", port_range_min=61234, port_range_max=61234,
              remote_address_group_id=None)
    assert r.status_code == 201, r.text
    assert r.json()["security_group_rule"]["remote_address_group_id"] is None


@pytest.mark.parametrize("name", ["default", "Default", "DEFAULT"])
def test_no_group_may_be_named_default(api, other, group, name):
    token = other["member"]
    error = create(api, token, "security_group", {"name": name}, status=409, collection="security-groups")
    assert error == {"type": "SecurityGroupDefaultAlreadyExists", "message": "Default security group already exists.",
                     "detail": ""}
    error = call(api, "PUT", f"/security-groups/{group['id']}", token, {"security_group": {"name": name}},
                 status=409).json()["NeutronError"]
    assert error["type"] == "SecurityGroupDefaultAlreadyExists"
    assert call(api, "GET", f"/security-groups/{group['id']}", token,
                status=200).json()["security_group"]["name"] == group["name"]


def test_default_group_keeps_its_name(api, other):
    token = other["member"]
    groups = call(api, "GET", "/security-groups?name=default", token, status=200).json()["security_groups"]
    default = groups[0]
    error = call(api, "PUT", f"/security-groups/{default['id']}", token,
                 {"security_group": {"name": "renamed"}}, status=409).json()["NeutronError"]
    assert error["type"] == "SecurityGroupCannotUpdateDefault"
    r = call(api, "PUT", f"/security-groups/{default['id']}", token,
             {"security_group": {"description": "still default"}}, status=200)
    assert r.json()["security_group"]["name"] == "default"


# -- bulk create -------------------------------------------------------------------------------

def test_bulk_create_networks_subnets_ports(api, other):
    token = other["member"]
    names = [unique("bulk") for _ in range(2)]
    r = call(api, "POST", "/networks", token, {"networks": [{"name": n} for n in names]}, status=201)
    nets = r.json()["networks"]
    assert [n["name"] for n in nets] == names
    r = call(api, "POST", "/subnets", token, {"subnets": [
        {"network_id": net["id"], "ip_version": 4, "cidr": f"10.93.{i}.0/24"} for i, net in enumerate(nets)]},
        status=201)
    subnets = r.json()["subnets"]
    assert [s["network_id"] for s in subnets] == [n["id"] for n in nets]
    r = call(api, "POST", "/ports", token, {"ports": [{"network_id": nets[0]["id"]} for _ in range(3)]}, status=201)
    addresses = [p["fixed_ips"][0]["ip_address"] for p in r.json()["ports"]]
    assert len(set(addresses)) == 3 and all(a.startswith("10.93.0.") for a in addresses)


def test_bulk_create_is_all_or_nothing(api, other):
    token = other["member"]
    name = unique("bulk")
    error = call(api, "POST", "/networks", token, {"networks": [{"name": name}, {"name": name, "bogus": 1}]},
                 status=400).json()["NeutronError"]
    assert "bogus" in error["message"]
    net = create(api, token, "network", {"name": name})
    create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.94.0.0/24"})
    # The second port asks for an address outside the subnet: neither port is created.
    outside = {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.1.1.1"}]}
    call(api, "POST", "/ports", token, {"ports": [{"network_id": net["id"], "name": name}, outside]}, status=400)
    assert call(api, "GET", f"/ports?network_id={net['id']}", token, status=200).json()["ports"] == []
    assert call(api, "GET", f"/networks?name={name}", token, status=200).json()["networks"] == [
        call(api, "GET", f"/networks/{net['id']}", token, status=200).json()["network"]]
    for body in ({"networks": []}, {"networks": {"name": "x"}}):
        call(api, "POST", "/networks", token, body, status=400)


def test_bulk_create_checks_policy_per_item(api, other):
    error = call(api, "POST", "/networks", other["member"], {"networks": [{"name": unique("n")},
                                                                          {"name": unique("n"), "shared": True}]},
                 status=403).json()["NeutronError"]
    assert error["type"] == "PolicyNotAuthorized"


# -- SLAAC subnets -------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["slaac", "dhcpv6-stateless"])
def test_auto_address_subnet_deletes_with_ports_on_it(api, other, mode):
    token = other["member"]
    net = create(api, token, "network", {"name": unique("v6")})
    v4 = create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.95.0.0/24"})
    v6 = create(api, token, "subnet", {"network_id": net["id"], "ip_version": 6, "cidr": "2001:db8:95::/64",
                                       "ipv6_ra_mode": mode, "ipv6_address_mode": mode})
    port = create(api, token, "port", {"network_id": net["id"]})
    assert {ip["subnet_id"] for ip in port["fixed_ips"]} == {v4["id"], v6["id"]}
    call(api, "DELETE", f"/subnets/{v6['id']}", token, status=204)
    after = call(api, "GET", f"/ports/{port['id']}", token, status=200).json()["port"]
    assert [ip["subnet_id"] for ip in after["fixed_ips"]] == [v4["id"]]
    assert after["revision_number"] > port["revision_number"]
    # A subnet allocating addresses itself (the IPv4 one) stays in use.
    error = call(api, "DELETE", f"/subnets/{v4['id']}", token, status=409).json()["NeutronError"]
    assert error["type"] == "SubnetInUse"
    error = call(api, "DELETE", f"/networks/{net['id']}", token, status=409).json()["NeutronError"]
    assert "There are one or more ports still in use on the network" in error["message"]


def test_router_interface_keeps_slaac_subnet_in_use(api, other):
    token = other["member"]
    net = create(api, token, "network", {"name": unique("v6")})
    v6 = create(api, token, "subnet", {"network_id": net["id"], "ip_version": 6, "cidr": "2001:db8:96::/64",
                                       "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"})
    router = create(api, token, "router", {"name": unique("r")})
    call(api, "PUT", f"/routers/{router['id']}/add_router_interface", token, {"subnet_id": v6["id"]}, status=200)
    error = call(api, "DELETE", f"/subnets/{v6['id']}", token, status=409).json()["NeutronError"]
    assert error["type"] == "SubnetInUse"


# -- tokens without a project ----------------------------------------------------------------------

def test_system_scoped_create_needs_a_project(api):
    token = api.token("admin", ADMIN_PASSWORD, system=True)
    error = call(api, "POST", "/networks", token, {"network": {"name": unique("n")}}, status=400).json()
    assert error["NeutronError"]["message"] == "Running without keystone AuthN requires that tenant_id is specified"
    net = create(api, token, "network", {"name": unique("n"), "project_id": unique("project")})
    assert net["project_id"].startswith("project-")
