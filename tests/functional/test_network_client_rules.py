"""Neutron behaviour that real clients' own functional tests rely on (issue 16): port
listings filtered by security group, CIDRs with host bits normalised, gateways outside
the subnet, a subnet pool's ``default_quota``, attribute rules that apply only to values
other than the default, and extra routes via the external gateway's subnet."""

from __future__ import annotations

from conftest import unique
from test_network_api import call, create, external, other, private  # noqa: F401  (fixtures)


def _ids(response, key) -> set[str]:
    return {item["id"] for item in response.json()[key]}


def test_ports_are_filtered_by_security_group(api, demo_token):
    net, _ = private(api, demo_token, "10.98.1.0/24")
    groups = [create(api, demo_token, "security_group", {"name": unique("sg")}, collection="security-groups")
              for _ in range(2)]
    first = create(api, demo_token, "port", {"network_id": net["id"], "security_groups": [groups[0]["id"]]})
    both = create(api, demo_token, "port", {"network_id": net["id"],
                                            "security_groups": [groups[0]["id"], groups[1]["id"]]})
    plain = create(api, demo_token, "port", {"network_id": net["id"]})
    path = f"/ports?network_id={net['id']}&security_groups="
    assert _ids(call(api, "GET", path + groups[0]["id"], demo_token, status=200), "ports") == {first["id"],
                                                                                              both["id"]}
    assert _ids(call(api, "GET", path + groups[1]["id"], demo_token, status=200), "ports") == {both["id"]}
    # Repeated: a port in any of them (Neutron's list filter).
    repeated = f"{path}{groups[1]['id']}&security_groups={plain['security_groups'][0]}"
    assert _ids(call(api, "GET", repeated, demo_token, status=200), "ports") == {both["id"], plain["id"]}
    assert _ids(call(api, "GET", path + "no-such-group", demo_token, status=200), "ports") == set()
    # Paged, the filter still holds (it is part of the query, not applied afterwards).
    page = call(api, "GET", path + groups[0]["id"] + "&limit=1", demo_token, status=200).json()["ports"]
    assert len(page) == 1 and page[0]["id"] in {first["id"], both["id"]}


def test_extension_of_security_group_port_filtering_is_listed(api, demo_token):
    call(api, "GET", "/extensions/port-security-groups-filtering", demo_token, status=200)


def test_a_cidr_with_host_bits_is_normalised(api, demo_token):
    net = create(api, demo_token, "network", {"name": unique("n")})
    sub = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.99.99.0/16"})
    assert sub["cidr"] == "10.99.0.0/16" and sub["gateway_ip"] == "10.99.0.1"
    six = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 6,
                                             "cidr": "fd00:99:0:0:1::5/64"})
    assert six["cidr"] == "fd00:99::/64"
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.230.7.0/16"]})
    assert pool["prefixes"] == ["10.230.0.0/16"]


def test_a_gateway_outside_the_subnet_is_allowed(api, demo_token):
    net = create(api, demo_token, "network", {"name": unique("n")})
    sub = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.97.1.0/24",
                                             "gateway_ip": "10.97.200.1"})
    assert sub["gateway_ip"] == "10.97.200.1"
    assert sub["allocation_pools"] == [{"start": "10.97.1.1", "end": "10.97.1.254"}]
    updated = call(api, "PUT", f"/subnets/{sub['id']}", demo_token, {"subnet": {"gateway_ip": "192.0.2.1"}},
                   status=200).json()["subnet"]
    assert updated["gateway_ip"] == "192.0.2.1"
    # The network and broadcast addresses are still refused, as is another IP version.
    for gateway in ("10.97.2.0", "10.97.2.255", "fd00::1"):
        error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.97.2.0/24",
                                                   "gateway_ip": gateway}, status=400)
        assert error["type"] == "InvalidInput", error


def test_subnet_pool_default_quota_is_stored(api, demo_token):
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.231.0.0/16"],
                                                 "default_quota": 512})
    assert pool["default_quota"] == 512
    shown = call(api, "GET", f"/subnetpools/{pool['id']}", demo_token, status=200).json()["subnetpool"]
    assert shown["default_quota"] == 512
    updated = call(api, "PUT", f"/subnetpools/{pool['id']}", demo_token, {"subnetpool": {"default_quota": None}},
                   status=200).json()["subnetpool"]
    assert updated["default_quota"] is None
    error = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.232.0.0/16"],
                                                  "default_quota": -1}, status=400)
    assert error["type"] == "HTTPBadRequest" and "default_quota" in error["message"]


def test_subnet_pool_default_quota_limits_each_projects_prefixes(api, demo_token):
    # 512 IPv4 addresses: two /24s, not a third (Neutron counts addresses, /64s for IPv6).
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.235.0.0/16"],
                                                 "default_prefixlen": 24, "default_quota": "512"})
    net = create(api, demo_token, "network", {"name": unique("n")})
    for _ in range(2):
        create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]})
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4,
                                               "subnetpool_id": pool["id"]}, status=409)
    assert error == {"type": "SubnetPoolQuotaExceeded", "message": "Per-project subnet pool prefix quota exceeded.",
                     "detail": ""}


def test_an_attribute_rule_applies_only_to_a_value_other_than_the_default(api, other):
    pool = create(api, other["member"], "subnetpool", {"name": unique("p"), "prefixes": ["10.233.0.0/16"],
                                                      "shared": False, "is_default": False})
    assert pool["shared"] is False
    net = create(api, other["member"], "network", {"name": unique("n"), "shared": False, "router:external": False})
    assert net["shared"] is False
    for kind, attrs in (("subnetpool", {"prefixes": ["10.234.0.0/16"], "shared": True}),
                        ("network", {"shared": True})):
        error = create(api, other["member"], kind, {"name": unique("x"), **attrs}, status=403)
        assert error["type"] == "PolicyNotAuthorized"


def test_an_extra_route_via_the_gateway_subnet_is_accepted(api, demo_token, external):
    ext_net, ext_sub = external
    router = create(api, demo_token, "router", {"name": unique("r"),
                                                "external_gateway_info": {"network_id": ext_net["id"]}})
    route = {"destination": "203.0.113.0/24", "nexthop": "198.51.100.254"}
    updated = call(api, "PUT", f"/routers/{router['id']}", demo_token, {"router": {"routes": [route]}},
                   status=200).json()["router"]
    assert updated["routes"] == [route]
    # The router's own address is no nexthop (Neutron: "the nexthop is used by router").
    own = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    error = call(api, "PUT", f"/routers/{router['id']}", demo_token,
                 {"router": {"routes": [{"destination": "203.0.113.0/24", "nexthop": own}]}}, status=400)
    assert "the nexthop is used by router" in error.json()["NeutronError"]["message"]
    error = call(api, "PUT", f"/routers/{router['id']}", demo_token,
                 {"router": {"routes": [{"destination": "203.0.113.0/24", "nexthop": "192.0.2.9"}]}}, status=400)
    assert "the nexthop is not connected with router" in error.json()["NeutronError"]["message"]
