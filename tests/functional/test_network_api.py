"""The Networking API family by family, in Neutron's formats, plus its policy."""

from __future__ import annotations

import pytest

from conftest import unique

NET = "/network/v2.0"


def call(api, method, path, token, body=None, status=None):
    r = api.request(method, f"{NET}{path}", token, json=body)
    if status is not None:
        assert r.status_code == status, r.text
    return r


def create(api, token, kind, body, status=201, collection=None):
    r = call(api, "POST", f"/{collection or kind + 's'}", token, {kind: body}, status)
    return r.json()[kind] if status == 201 else r.json()["NeutronError"]


@pytest.fixture(scope="module")
def other(api, admin_token):
    """A second project with a member and a reader: what they may see of the demo project."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("netproj")}}).json()["project"]
    tokens = {}
    for role in ("member", "reader"):
        name = unique(role)
        user = api.request("POST", "/identity/v3/users", admin_token,
                           json={"user": {"name": name, "password": "pw-secret"}}).json()["user"]
        role_id = api.request("GET", f"/identity/v3/roles?name={role}", admin_token).json()["roles"][0]["id"]
        api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}", admin_token)
        tokens[role] = api.token(name, "pw-secret", project=project["name"])
    return {"project": project, **tokens}


@pytest.fixture(scope="module")
def external(api, admin_token):
    net = create(api, admin_token, "network", {"name": unique("public"), "router:external": True})
    # Addresses above the pool stay free for tests that ask for one explicitly.
    sub = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "198.51.100.0/24",
                                              "allocation_pools": [{"start": "198.51.100.2",
                                                                    "end": "198.51.100.199"}]})
    return net, sub


def private(api, token, cidr="192.168.10.0/24"):
    net = create(api, token, "network", {"name": unique("net")})
    sub = create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr, "name": unique("s")})
    return net, sub


# -- discovery -----------------------------------------------------------------------------

def test_version_discovery_and_extensions(api, demo_token):
    root = api.request("GET", "/network/")
    assert root.status_code == 200
    assert root.json()["versions"][0]["id"] == "v2.0"
    assert root.json()["versions"][0]["links"][0]["href"].endswith("/network/v2.0/")
    v2 = api.request("GET", "/network/v2.0").json()["resources"]
    assert {"networks", "ports", "routers"} <= {r["collection"] for r in v2}
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"router", "external-net", "security-group", "quotas", "standard-attr-tag", "allowed-address-pairs",
            "port-security", "binding", "subnet_allocation", "extraroute", "provider", "net-mtu", "project-id",
            "pagination", "sorting"} <= aliases
    assert call(api, "GET", "/extensions/router", demo_token, status=200).json()["extension"]["alias"] == "router"
    error = call(api, "GET", "/extensions/nope", demo_token, status=404).json()["NeutronError"]
    assert error["type"] == "ExtensionNotFound"


def test_errors_are_neutron_errors(api, demo_token):
    error = call(api, "GET", "/networks/does-not-exist", demo_token, status=404).json()["NeutronError"]
    assert error == {"type": "NetworkNotFound", "message": "Network does-not-exist could not be found.",
                     "detail": ""}
    error = call(api, "POST", "/networks", demo_token, {"network": {"bogus": 1}}, status=400).json()["NeutronError"]
    assert error["type"] == "HTTPBadRequest" and "bogus" in error["message"]
    r = api.request("POST", f"{NET}/networks", demo_token, content=b"{not json")
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "HTTPBadRequest"
    assert api.request("GET", f"{NET}/networks").status_code == 401


# -- networks --------------------------------------------------------------------------------

def test_network_lifecycle(api, demo_token, admin_token):
    net = create(api, demo_token, "network", {"name": unique("n"), "description": "d", "mtu": 1400})
    assert net["status"] == "ACTIVE" and net["admin_state_up"] is True and net["shared"] is False
    assert net["router:external"] is False and net["mtu"] == 1400 and net["project_id"] == net["tenant_id"]
    assert "provider:network_type" not in net  # operator-only
    seen = call(api, "GET", f"/networks/{net['id']}", admin_token, status=200).json()["network"]
    assert seen["provider:network_type"] == "vxlan" and seen["provider:segmentation_id"]
    updated = call(api, "PUT", f"/networks/{net['id']}", demo_token,
                   {"network": {"name": "renamed", "admin_state_up": False}}, status=200).json()["network"]
    assert updated["name"] == "renamed" and updated["revision_number"] > net["revision_number"]
    call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"shared": True}}, status=403)
    error = call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"status": "DOWN"}}, status=400)
    assert error.json()["NeutronError"]["type"] == "HTTPBadRequest"
    call(api, "DELETE", f"/networks/{net['id']}", demo_token, status=204)
    call(api, "GET", f"/networks/{net['id']}", demo_token, status=404)


def test_only_admins_set_operator_attributes(api, demo_token):
    for attrs in ({"shared": True}, {"router:external": True}, {"provider:network_type": "vlan"}):
        error = create(api, demo_token, "network", {"name": unique("n"), **attrs}, status=403)
        assert error["type"] == "PolicyNotAuthorized"


def test_network_in_use_and_subnets_deleted_with_it(api, demo_token):
    net, sub = private(api, demo_token, "192.168.11.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    error = call(api, "DELETE", f"/networks/{net['id']}", demo_token, status=409).json()["NeutronError"]
    assert error["type"] == "NetworkInUse"
    error = call(api, "DELETE", f"/subnets/{sub['id']}", demo_token, status=409).json()["NeutronError"]
    assert error["type"] == "SubnetInUse"
    call(api, "DELETE", f"/ports/{port['id']}", demo_token, status=204)
    call(api, "DELETE", f"/networks/{net['id']}", demo_token, status=204)
    call(api, "GET", f"/subnets/{sub['id']}", demo_token, status=404)


def test_shared_networks_are_visible_to_every_project(api, admin_token, other):
    shared = create(api, admin_token, "network", {"name": unique("shared"), "shared": True})
    sub = create(api, admin_token, "subnet", {"network_id": shared["id"], "ip_version": 4, "cidr": "10.60.0.0/24"})
    listed = call(api, "GET", "/networks?shared=true", other["member"], status=200).json()["networks"]
    assert shared["id"] in {n["id"] for n in listed}
    call(api, "GET", f"/subnets/{sub['id']}", other["member"], status=200)
    port = create(api, other["member"], "port", {"network_id": shared["id"]})
    assert port["project_id"] == other["project"]["id"]
    call(api, "PUT", f"/networks/{shared['id']}", other["member"], {"network": {"name": "x"}}, status=403)
    error = call(api, "PUT", f"/networks/{shared['id']}", admin_token, {"network": {"shared": False}}, status=409)
    assert error.json()["NeutronError"]["type"] == "InvalidSharedSetting"


# -- subnets ---------------------------------------------------------------------------------

# (Host bits set are not invalid: Neutron takes the network, test_network_client_rules.py.)
@pytest.mark.parametrize("cidr,version", [("10.0.0.300/24", 4), ("2001:db8::/64", 4),
                                          ("10.0.0.0/24", 6), ("garbage", 4)])
def test_invalid_cidrs(api, demo_token, cidr, version):
    net = create(api, demo_token, "network", {"name": unique("n")})
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": version, "cidr": cidr},
                   status=400)
    assert error["type"] == "InvalidCIDR"


def test_subnet_attributes_and_pools(api, demo_token):
    net = create(api, demo_token, "network", {"name": unique("n")})
    sub = create(api, demo_token, "subnet", {
        "network_id": net["id"], "ip_version": 4, "cidr": "172.16.5.0/24", "gateway_ip": "172.16.5.254",
        "dns_nameservers": ["8.8.8.8"], "host_routes": [{"destination": "10.9.0.0/16", "nexthop": "172.16.5.9"}],
        "enable_dhcp": False})
    assert sub["allocation_pools"] == [{"start": "172.16.5.1", "end": "172.16.5.253"}]
    assert sub["gateway_ip"] == "172.16.5.254" and sub["enable_dhcp"] is False
    assert sub["dns_nameservers"] == ["8.8.8.8"] and sub["host_routes"][0]["nexthop"] == "172.16.5.9"
    middle = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "172.16.6.0/24",
                                                "gateway_ip": "172.16.6.100"})
    assert middle["allocation_pools"] == [{"start": "172.16.6.1", "end": "172.16.6.99"},
                                          {"start": "172.16.6.101", "end": "172.16.6.254"}]
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "172.16.5.128/25"},
                   status=400)
    assert error["type"] == "InvalidInput"  # overlaps another subnet of the network

    def pools(*pools, status, cidr="172.16.7.0/24"):
        return create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                                  "allocation_pools": [{"start": a, "end": b} for a, b in pools]},
                      status=status)

    assert pools(("172.16.7.10", "172.16.7.20"), ("172.16.7.15", "172.16.7.30"),
                 status=409)["type"] == "OverlappingAllocationPools"
    assert pools(("172.16.7.10", "172.16.8.20"), status=400)["type"] == "OutOfBoundsAllocationPool"
    assert pools(("172.16.7.20", "172.16.7.10"), status=400)["type"] == "InvalidAllocationPool"
    assert pools(("172.16.7.1", "172.16.7.10"), status=409)["type"] == "GatewayConflictWithAllocationPools"
    ok = pools(("172.16.7.10", "172.16.7.20"), ("172.16.7.30", "172.16.7.40"), status=201)
    assert len(ok["allocation_pools"]) == 2
    updated = call(api, "PUT", f"/subnets/{ok['id']}", demo_token,
                   {"subnet": {"name": "new", "dns_nameservers": ["1.1.1.1"]}}, status=200).json()["subnet"]
    assert updated["name"] == "new" and updated["dns_nameservers"] == ["1.1.1.1"]
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 6, "cidr": "2001:db8:9::/80",
                                               "ipv6_address_mode": "slaac"}, status=400)
    assert error["type"] == "InvalidInput"
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "172.16.9.0/24",
                                               "ipv6_address_mode": "slaac"}, status=400)
    assert error["type"] == "InvalidInput"


def test_only_the_network_owner_adds_subnets(api, admin_token, other):
    net = create(api, admin_token, "network", {"name": unique("n"), "shared": True})
    create(api, other["member"], "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.61.0.0/24"},
           status=403)


def test_subnet_pools(api, demo_token, admin_token):
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.200.0.0/16"],
                                                  "default_prefixlen": 24, "min_prefixlen": 20,
                                                  "max_prefixlen": 28})
    assert pool["ip_version"] == 4 and pool["default_prefixlen"] == "24"  # a string, as Neutron shows it
    net = create(api, demo_token, "network", {"name": unique("n")})
    sub = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"],
                                             "prefixlen": 26})
    assert sub["cidr"].endswith("/26") and sub["subnetpool_id"] == pool["id"]
    explicit = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4,
                                                  "subnetpool_id": pool["id"], "cidr": "10.200.9.0/24"})
    assert explicit["cidr"] == "10.200.9.0/24"
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"],
                                               "prefixlen": 30}, status=400)
    assert error["type"] == "InvalidInput"
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 6,
                                               "use_default_subnetpool": True}, status=400)
    assert error["message"] == "No default subnetpool found for IPv6"
    error = call(api, "DELETE", f"/subnetpools/{pool['id']}", demo_token, status=409).json()["NeutronError"]
    assert error["type"] == "SubnetPoolInUse"
    call(api, "DELETE", f"/subnets/{explicit['id']}", demo_token, status=204)
    again = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4,
                                               "subnetpool_id": pool["id"], "cidr": "10.200.9.0/24"})
    assert again["cidr"] == "10.200.9.0/24"
    create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.0.0.0/8"], "shared": True},
           status=403)


# -- ports -----------------------------------------------------------------------------------

def test_port_attributes(api, demo_token, admin_token):
    net, sub = private(api, demo_token, "192.168.12.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"], "name": "p", "device_owner": "compute:nova",
                                            "device_id": "vm-1",
                                            "allowed_address_pairs": [{"ip_address": "10.1.1.0/24"}]})
    assert port["status"] == "ACTIVE" and port["device_id"] == "vm-1"
    assert port["allowed_address_pairs"] == [{"ip_address": "10.1.1.0/24"}]
    assert port["mac_address"].startswith("fa:16:3e:") and "binding:host_id" not in port
    create(api, demo_token, "port", {"network_id": net["id"], "binding:host_id": "h1"}, status=403)
    bound = create(api, admin_token, "port", {"network_id": net["id"], "binding:host_id": "h1",
                                              "project_id": port["project_id"]})
    assert bound["binding:host_id"] == "h1" and bound["binding:vif_type"] == "ovs"
    # IPAM picks addresses at random: move the port to one neither port holds.
    taken = {f["ip_address"] for p in (port, bound) for f in p["fixed_ips"]}
    target = next(f"192.168.12.{n}" for n in range(200, 210) if f"192.168.12.{n}" not in taken)
    moved = call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"fixed_ips": [
        {"subnet_id": sub["id"], "ip_address": target}]}}, status=200).json()["port"]
    assert moved["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": target}]
    error = create(api, demo_token, "port", {"network_id": net["id"], "port_security_enabled": False,
                                             "security_groups": [port["security_groups"][0]]}, status=400)
    assert error["type"] == "PortSecurityAndIPRequiredForSecurityGroups"
    insecure = create(api, demo_token, "port", {"network_id": net["id"], "port_security_enabled": False})
    assert insecure["security_groups"] == [] and insecure["port_security_enabled"] is False
    error = call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"port_security_enabled": False}},
                 status=409).json()["NeutronError"]
    assert error["type"] == "AddressPairAndPortSecurityRequired"
    filtered = call(api, "GET", f"/ports?fixed_ips=ip_address={target}", demo_token,
                    status=200).json()["ports"]
    assert [p["id"] for p in filtered] == [port["id"]]


def test_if_match_revision(api, demo_token):
    net = create(api, demo_token, "network", {"name": unique("n")})
    r = api.request("PUT", f"{NET}/networks/{net['id']}", demo_token, json={"network": {"name": "a"}},
                    headers={"If-Match": "revision_number=99"})
    assert r.status_code == 412 and r.json()["NeutronError"]["type"] == "RevisionNumberConstraintFailed"
    r = api.request("PUT", f"{NET}/networks/{net['id']}", demo_token, json={"network": {"name": "a"}},
                    headers={"If-Match": f"revision_number={net['revision_number']}"})
    assert r.status_code == 200


# -- security groups -------------------------------------------------------------------------

def test_default_security_group_and_rules(api, other):
    token = other["member"]
    groups = call(api, "GET", "/security-groups", token, status=200).json()["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    rules = groups[0]["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"] is not None) for r in rules) == [
        ("egress", "IPv4", False), ("egress", "IPv6", False), ("ingress", "IPv4", True), ("ingress", "IPv6", True)]
    sg = create(api, token, "security_group", {"name": unique("web")}, collection="security-groups")
    assert [r["direction"] for r in sg["security_group_rules"]] == ["egress", "egress"]
    rule = create(api, token, "security_group_rule", {"security_group_id": sg["id"], "direction": "ingress",
                                                      "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                                                      "remote_ip_prefix": "0.0.0.0/0"},
                  collection="security-group-rules")
    assert rule["protocol"] == "tcp" and rule["port_range_min"] == 22
    dup = create(api, token, "security_group_rule", {"security_group_id": sg["id"], "direction": "ingress",
                                                     "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                                                     "remote_ip_prefix": "0.0.0.0/0"},
                 status=409, collection="security-group-rules")
    assert dup["type"] == "SecurityGroupRuleExists"
    for bad, kind in (({"protocol": "bogus"}, "SecurityGroupRuleInvalidProtocol"),
                      ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 22},
                       "SecurityGroupInvalidPortRange"),
                      ({"remote_ip_prefix": "2001:db8::/64"}, "SecurityGroupRuleParameterConflict")):
        error = create(api, token, "security_group_rule", {"security_group_id": sg["id"], "direction": "ingress",
                                                           **bad}, status=400, collection="security-group-rules")
        assert error["type"] == kind
    call(api, "DELETE", f"/security-group-rules/{rule['id']}", token, status=204)
    net = create(api, token, "network", {"name": unique("n")})
    create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.70.0.0/24"})
    port = create(api, token, "port", {"network_id": net["id"], "security_groups": [sg["id"]]})
    error = call(api, "DELETE", f"/security-groups/{sg['id']}", token, status=409).json()["NeutronError"]
    assert error["type"] == "SecurityGroupInUse"
    call(api, "DELETE", f"/ports/{port['id']}", token, status=204)
    call(api, "DELETE", f"/security-groups/{sg['id']}", token, status=204)


# -- routers and floating IPs ----------------------------------------------------------------

def test_router_interfaces_gateway_routes(api, demo_token, external):
    ext, ext_sub = external
    net, sub = private(api, demo_token, "192.168.20.0/24")
    router = create(api, demo_token, "router", {"name": unique("r")})
    assert router["external_gateway_info"] is None
    r = call(api, "PUT", f"/routers/{router['id']}", demo_token,
             {"router": {"external_gateway_info": {"network_id": ext["id"]}}}, status=200).json()["router"]
    gateway = r["external_gateway_info"]
    assert gateway["network_id"] == ext["id"] and gateway["enable_snat"] is True
    assert gateway["external_fixed_ips"][0]["subnet_id"] == ext_sub["id"]
    info = call(api, "PUT", f"/routers/{router['id']}/add_router_interface", demo_token,
                {"subnet_id": sub["id"]}, status=200).json()
    assert info["subnet_id"] == sub["id"] and info["id"] == router["id"]
    iface = call(api, "GET", f"/ports/{info['port_id']}", demo_token, status=200).json()["port"]
    assert iface["device_owner"] == "network:router_interface"
    assert iface["fixed_ips"][0]["ip_address"] == sub["gateway_ip"]
    error = call(api, "DELETE", f"/ports/{iface['id']}", demo_token, status=409).json()["NeutronError"]
    assert error["type"] == "L3PortInUse"
    call(api, "PUT", f"/routers/{router['id']}/add_router_interface", demo_token, {"subnet_id": sub["id"]},
         status=400)
    # An interface by port.
    net2, sub2 = private(api, demo_token, "192.168.21.0/24")
    port = create(api, demo_token, "port", {"network_id": net2["id"]})
    info2 = call(api, "PUT", f"/routers/{router['id']}/add_router_interface", demo_token,
                 {"port_id": port["id"]}, status=200).json()
    assert info2["port_id"] == port["id"] and info2["subnet_ids"] == [sub2["id"]]
    routed = call(api, "PUT", f"/routers/{router['id']}", demo_token, {"router": {"routes": [
        {"destination": "10.99.0.0/16", "nexthop": "192.168.20.50"}]}}, status=200).json()["router"]
    assert routed["routes"] == [{"destination": "10.99.0.0/16", "nexthop": "192.168.20.50"}]
    error = call(api, "PUT", f"/routers/{router['id']}", demo_token, {"router": {"routes": [
        {"destination": "10.99.0.0/16", "nexthop": "8.8.8.8"}]}}, status=400).json()["NeutronError"]
    assert error["type"] == "InvalidRoutes"
    error = call(api, "DELETE", f"/routers/{router['id']}", demo_token, status=409).json()["NeutronError"]
    assert error["type"] == "RouterInUse"
    call(api, "PUT", f"/routers/{router['id']}", demo_token, {"router": {"routes": []}}, status=200)
    call(api, "PUT", f"/routers/{router['id']}/remove_router_interface", demo_token, {"subnet_id": sub["id"]},
         status=200)
    call(api, "PUT", f"/routers/{router['id']}/remove_router_interface", demo_token, {"port_id": port["id"]},
         status=200)
    error = call(api, "PUT", f"/routers/{router['id']}/remove_router_interface", demo_token,
                 {"subnet_id": sub["id"]}, status=404).json()["NeutronError"]
    assert error["type"] == "RouterInterfaceNotFoundForSubnet"
    call(api, "DELETE", f"/routers/{router['id']}", demo_token, status=204)
    call(api, "GET", f"/ports/{iface['id']}", demo_token, status=404)


def test_floating_ips(api, demo_token, external, cloud):
    ext, _ = external
    net, sub = private(api, demo_token, "192.168.30.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    fip = create(api, demo_token, "floatingip", {"floating_network_id": ext["id"]})
    assert fip["status"] == "DOWN" and fip["port_id"] is None
    assert fip["floating_ip_address"].startswith("198.51.100.")
    error = call(api, "PUT", f"/floatingips/{fip['id']}", demo_token, {"floatingip": {"port_id": port["id"]}},
                 status=404).json()["NeutronError"]
    assert error["type"] == "ExternalGatewayForFloatingIPNotFound"
    router = create(api, demo_token, "router",
                    {"name": unique("r"), "external_gateway_info": {"network_id": ext["id"]}})
    call(api, "PUT", f"/routers/{router['id']}/add_router_interface", demo_token, {"subnet_id": sub["id"]},
         status=200)
    fip = call(api, "PUT", f"/floatingips/{fip['id']}", demo_token, {"floatingip": {"port_id": port["id"]}},
               status=200).json()["floatingip"]
    assert fip["port_id"] == port["id"] and fip["router_id"] == router["id"] and fip["status"] == "ACTIVE"
    assert fip["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    second = create(api, demo_token, "floatingip", {"floating_network_id": ext["id"]})
    error = call(api, "PUT", f"/floatingips/{second['id']}", demo_token, {"floatingip": {"port_id": port["id"]}},
                 status=409).json()["NeutronError"]
    assert error["type"] == "FloatingIPPortAlreadyAssociated"
    error = call(api, "PUT", f"/routers/{router['id']}/remove_router_interface", demo_token,
                 {"subnet_id": sub["id"]}, status=409).json()["NeutronError"]
    assert error["type"] == "RouterInterfaceInUseByFloatingIP"
    driver = cloud.service("network").driver
    assert driver.of("floatingip_updated", fip["id"])[-1]["port_id"] == port["id"]
    fip = call(api, "PUT", f"/floatingips/{fip['id']}", demo_token, {"floatingip": {"port_id": None}},
               status=200).json()["floatingip"]
    assert fip["port_id"] is None and fip["fixed_ip_address"] is None
    explicit = create(api, admin_token := api.token("admin", "admin-secret", project="admin"), "floatingip",
                      {"floating_network_id": ext["id"], "floating_ip_address": "198.51.100.250"})
    assert explicit["floating_ip_address"] == "198.51.100.250"
    create(api, demo_token, "floatingip", {"floating_network_id": ext["id"],
                                           "floating_ip_address": "198.51.100.251"}, status=403)
    error = create(api, demo_token, "floatingip", {"floating_network_id": net["id"]}, status=400)
    assert error["type"] == "BadRequest"
    for f in (fip, second):
        call(api, "DELETE", f"/floatingips/{f['id']}", demo_token, status=204)
    call(api, "DELETE", f"/floatingips/{explicit['id']}", admin_token, status=204)
    assert driver.of("floatingip_deleted", fip["id"])


# -- quotas, tags, listing -------------------------------------------------------------------

def test_quotas(api, admin_token, other):
    project_id = other["project"]["id"]
    quota = call(api, "GET", f"/quotas/{project_id}", other["member"], status=200).json()["quota"]
    assert quota["network"] == 100 and quota["port"] == 500 and quota["router"] == 10
    call(api, "PUT", f"/quotas/{project_id}", other["member"], {"quota": {"router": 50}}, status=403)
    call(api, "PUT", f"/quotas/{project_id}", admin_token, {"quota": {"router": 1}}, status=200)
    create(api, other["member"], "router", {"name": unique("r")})
    error = create(api, other["member"], "router", {"name": unique("r")}, status=409)
    assert error == {"type": "OverQuota", "message": "Quota exceeded for resources: ['router'].", "detail": ""}
    details = call(api, "GET", f"/quotas/{project_id}/details.json", other["member"], status=200).json()["quota"]
    assert details["router"] == {"limit": 1, "used": 1, "reserved": 0}
    assert project_id in {q["project_id"] for q in call(api, "GET", "/quotas", admin_token,
                                                         status=200).json()["quotas"]}
    call(api, "DELETE", f"/quotas/{project_id}", admin_token, status=204)
    assert call(api, "GET", f"/quotas/{project_id}", admin_token, status=200).json()["quota"]["router"] == 10
    call(api, "PUT", f"/quotas/{project_id}", admin_token, {"quota": {"nonsense": 1}}, status=400)


def test_tags(api, demo_token):
    net = create(api, demo_token, "network", {"name": unique("n")})
    path = f"/networks/{net['id']}/tags"
    assert call(api, "PUT", path, demo_token, {"tags": ["red", "blue"]}, status=200).json()["tags"] == ["blue", "red"]
    call(api, "PUT", f"{path}/green", demo_token, status=201)
    assert call(api, "GET", path, demo_token, status=200).json()["tags"] == ["blue", "green", "red"]
    call(api, "GET", f"{path}/green", demo_token, status=204)
    call(api, "GET", f"{path}/nope", demo_token, status=404)
    call(api, "DELETE", f"{path}/red", demo_token, status=204)
    assert call(api, "GET", f"/networks/{net['id']}", demo_token, status=200).json()["network"]["tags"] == [
        "blue", "green"]
    found = call(api, "GET", "/networks?tags=blue,green", demo_token, status=200).json()["networks"]
    assert [n["id"] for n in found] == [net["id"]]
    assert net["id"] not in {n["id"] for n in call(api, "GET", "/networks?not-tags-any=blue", demo_token,
                                                   status=200).json()["networks"]}
    call(api, "DELETE", path, demo_token, status=204)
    assert call(api, "GET", path, demo_token, status=200).json()["tags"] == []


def test_filters_fields_sorting_and_paging(api, demo_token):
    prefix = unique("page")
    ids = sorted(create(api, demo_token, "network", {"name": f"{prefix}-{i}", "description": prefix})["id"]
                 for i in range(5))
    body = call(api, "GET", f"/networks?description={prefix}&fields=id&fields=name", demo_token,
                status=200).json()
    assert sorted(n["id"] for n in body["networks"]) == ids
    assert all(set(n) == {"id", "name"} for n in body["networks"])
    names = [n["name"] for n in call(api, "GET", f"/networks?description={prefix}&sort_key=name&sort_dir=desc",
                                     demo_token, status=200).json()["networks"]]
    assert names == sorted(names, reverse=True)
    seen, url = [], f"{NET}/networks?description={prefix}&limit=2"
    while url:
        page = api.request("GET", url, demo_token).json()
        seen += [n["id"] for n in page["networks"]]
        links = [link["href"] for link in page.get("networks_links", []) if link["rel"] == "next"]
        url = links[0].replace("http://127.0.0.1:8780", "") if links else None
    assert seen == ids
    later = call(api, "GET", f"/networks?description={prefix}&changed_since=2999-01-01T00:00:00Z", demo_token,
                 status=200).json()["networks"]
    assert later == []
    assert len(call(api, "GET", f"/networks?description={prefix}&changed_since=2000-01-01T00:00:00", demo_token,
                    status=200).json()["networks"]) == 5
    call(api, "GET", "/networks?changed_since=yesterday", demo_token, status=400)
    call(api, "GET", "/networks?sort_key=bogus", demo_token, status=400)
    call(api, "GET", "/networks?limit=x", demo_token, status=400)
    assert call(api, "GET", "/networks?admin_state_up=notabool", demo_token, status=400)


# -- policy ------------------------------------------------------------------------------------

def test_projects_see_nothing_of_each_other(api, demo_token, other, external):
    net, sub = private(api, demo_token, "192.168.40.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    router = create(api, demo_token, "router", {"name": unique("r")})
    sg = create(api, demo_token, "security_group", {"name": unique("sg")}, collection="security-groups")
    fip = create(api, demo_token, "floatingip", {"floating_network_id": external[0]["id"]})
    for token in (other["member"], other["reader"]):
        for collection, item in (("networks", net), ("subnets", sub), ("ports", port), ("routers", router),
                                 ("security-groups", sg), ("floatingips", fip)):
            listed = call(api, "GET", f"/{collection}", token, status=200).json()
            assert item["id"] not in {i["id"] for i in next(iter(listed.values()))}
            call(api, "GET", f"/{collection}/{item['id']}", token, status=404)
            call(api, "DELETE", f"/{collection}/{item['id']}", token, status=404)
    # A create under another project's network is refused by policy (Neutron looks the
    # owner up as an admin and answers a refused POST with 403); its router is not found.
    create(api, other["member"], "port", {"network_id": net["id"]}, status=403)
    call(api, "PUT", f"/routers/{router['id']}/add_router_interface", other["member"], {"subnet_id": sub["id"]},
         status=404)


def test_readers_only_read(api, other):
    error = create(api, other["reader"], "network", {"name": unique("n")}, status=403)
    assert error["type"] == "PolicyNotAuthorized"
    call(api, "GET", "/networks", other["reader"], status=200)
    net = create(api, other["member"], "network", {"name": unique("n")})
    call(api, "GET", f"/networks/{net['id']}", other["reader"], status=200)
    call(api, "PUT", f"/networks/{net['id']}", other["reader"], {"network": {"name": "x"}}, status=403)
    call(api, "DELETE", f"/networks/{net['id']}", other["reader"], status=403)


def test_readdressing_a_port_keeps_its_slaac_address(api, demo_token):
    """A port on a network with a SLAAC subnet given an address on another subnet keeps
    its derived address once (Tempest's test_network_v6 multi-prefix tests add a second
    IPv6 subnet, which re-addresses the DHCP port: it was a 409)."""
    net = create(api, demo_token, "network", {"name": unique("slaacnet")})
    slaac = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 6, "cidr": "2001:db8:5::/64",
                                               "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"})
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    assert [f["subnet_id"] for f in port["fixed_ips"]] == [slaac["id"]]
    second = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 6,
                                                "cidr": "2001:db8:6::/64", "ipv6_ra_mode": "dhcpv6-stateful",
                                                "ipv6_address_mode": "dhcpv6-stateful"})
    fixed = [{"subnet_id": slaac["id"], "ip_address": port["fixed_ips"][0]["ip_address"]},
             {"subnet_id": second["id"]}]
    updated = call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"fixed_ips": fixed}}, status=200)
    subnets = sorted(f["subnet_id"] for f in updated.json()["port"]["fixed_ips"])
    assert subnets == sorted([slaac["id"], second["id"]])
