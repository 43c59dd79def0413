"""Networking API behaviour neutron-tempest-plugin's API tests found missing (issue 16):
paging as Neutron pages, the network owner's hold on the ports of its network, and small
body and status details."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import unique

NET = "/network/v2.0"


def call(api, method, path, token, body=None, status=None, headers=None):
    r = api.request(method, path if path.startswith("http") else f"{NET}{path}", token, json=body,
                    headers=headers)
    if status is not None:
        assert r.status_code == status, r.text
    return r


def create(api, token, kind, body, collection=None):
    return call(api, "POST", f"/{collection or kind + 's'}", token, {kind: body}, 201).json()[kind]


def network(api, token, cidr="10.61.0.0/24", **extra):
    net = create(api, token, "network", {"name": unique("net"), **extra})
    sub = create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr})
    return net, sub


@pytest.fixture(scope="module")
def member(api, admin_token):
    """A member of a second project."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("plugproj")}}).json()["project"]
    name = unique("member")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-secret"}}).json()["user"]
    role_id = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}", admin_token)
    # Its own limits: the routers and groups made here never use up the demo project's.
    call(api, "PUT", f"/quotas/{project['id']}", admin_token, {"quota": {"router": -1, "security_group": -1}}, 200)
    return {"project": project, "token": api.token(name, "pw-secret", project=project["name"])}


# -- paging ---------------------------------------------------------------------------------------

def _names(page: dict) -> list[str]:
    return [n["name"] for n in page["networks"]]


def _links(page: dict) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in page.get("networks_links", [])}


def test_limit_zero_is_no_paging(api, demo_token):
    prefix = unique("lz")
    for i in range(3):
        create(api, demo_token, "network", {"name": f"{prefix}{i}", "description": prefix})
    page = call(api, "GET", f"/networks?description={prefix}&limit=0", demo_token, status=200).json()
    assert len(page["networks"]) == 3 and "networks_links" not in page


def test_page_reverse_and_previous_links(api, demo_token):
    prefix = unique("pr")
    for i in range(5):
        create(api, demo_token, "network", {"name": f"{prefix}{i}", "description": prefix})
    query = f"/networks?description={prefix}&sort_key=name&sort_dir=asc"
    first = call(api, "GET", f"{query}&limit=3", demo_token, status=200).json()
    assert _names(first) == [f"{prefix}{i}" for i in range(3)]
    # Neutron: a full page links both ways.
    assert set(_links(first)) == {"next", "previous"}
    marker = first["networks"][-1]["id"]
    back = call(api, "GET", f"{query}&limit=2&marker={marker}&page_reverse=True", demo_token, status=200).json()
    assert _names(back) == [f"{prefix}0", f"{prefix}1"]   # before the marker, in the listing's order
    # Without a marker, backwards starts at the end.
    last = call(api, "GET", f"{query}&limit=2&page_reverse=True", demo_token, status=200).json()
    assert _names(last) == [f"{prefix}3", f"{prefix}4"]
    previous = parse_qs(urlsplit(_links(last)["previous"]).query)
    assert previous["marker"] == [last["networks"][0]["id"]] and previous["page_reverse"] == ["True"]
    # Walking forwards: the short last page has no next, and its previous is the page before.
    href, seen = _links(call(api, "GET", f"{query}&limit=2", demo_token, status=200).json())["next"], 2
    while True:
        page = call(api, "GET", href, demo_token, status=200).json()
        seen += len(page["networks"])
        if "next" not in _links(page):
            break
        href = _links(page)["next"]
    assert seen == 5 and _names(page) == [f"{prefix}4"]
    before = call(api, "GET", _links(page)["previous"], demo_token, status=200).json()
    assert _names(before) == [f"{prefix}2", f"{prefix}3"] and set(_links(before)) == {"next", "previous"}
    # A full page at the end links to an empty one, which has no next but a previous (Neutron).
    tail = call(api, "GET", f"{query}&limit=1&marker={last['networks'][-1]['id']}", demo_token, status=200).json()
    assert tail["networks"] == [] and set(_links(tail)) == {"previous"}


# -- quotas, subnets ----------------------------------------------------------------------------

def test_quota_update_takes_force(api, admin_token, member):
    path = f"/quotas/{member['project']['id']}"
    quota = call(api, "PUT", path, admin_token, {"quota": {"security_group": 7, "force": True}}, 200).json()["quota"]
    assert quota["security_group"] == 7 and "force" not in quota
    error = call(api, "PUT", path, admin_token, {"quota": {"force": "maybe"}}, 400).json()["NeutronError"]
    assert error["message"] == "Invalid input for operation: 'maybe' cannot be converted to boolean."


def test_subnet_ip_version_as_a_string(api, demo_token):
    net = create(api, demo_token, "network", {"name": unique("ipv")})
    sub = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": "4", "cidr": "10.62.0.0/24"})
    assert sub["ip_version"] == 4
    call(api, "POST", "/subnets", demo_token, {"subnet": {"network_id": net["id"], "ip_version": "5",
                                                          "cidr": "10.63.0.0/24"}}, 400)


def test_subnets_filtered_by_their_network_being_shared(api, admin_token, demo_token):
    _, own = network(api, demo_token, "10.64.0.0/24")
    _, shared = network(api, admin_token, "10.65.0.0/24", shared=True)
    for token in (demo_token, admin_token):
        yes = {s["id"] for s in call(api, "GET", "/subnets?shared=True", token, status=200).json()["subnets"]}
        no = {s["id"] for s in call(api, "GET", "/subnets?shared=False", token, status=200).json()["subnets"]}
        assert shared["id"] in yes and shared["id"] not in no
        assert own["id"] not in yes
    assert own["id"] in {s["id"] for s in call(api, "GET", "/subnets?shared=false", demo_token,
                                               status=200).json()["subnets"]}


def test_if_match_with_a_stale_revision_below_zero(api, demo_token):
    net = create(api, demo_token, "network", {"name": unique("rev")})
    stale = f"revision_number={net['revision_number'] - 1}"
    call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"name": "x"}}, 412,
         headers={"If-Match": stale})


# -- the network owner and other projects' ports ---------------------------------------------------

def test_network_owner_sees_and_deletes_other_projects_ports(api, demo_token, member):
    net, _ = network(api, demo_token, "10.66.0.0/24")
    demo_project = net["project_id"]
    create(api, demo_token, "rbac_policy", {"object_type": "network", "object_id": net["id"],
                                            "action": "access_as_shared",
                                            "target_tenant": member["project"]["id"]}, "rbac-policies")
    port = create(api, member["token"], "port", {"network_id": net["id"]})
    assert port["project_id"] != demo_project
    listed = call(api, "GET", f"/ports?network_id={net['id']}", demo_token, status=200).json()["ports"]
    assert port["id"] in {p["id"] for p in listed}
    call(api, "GET", f"/ports/{port['id']}", demo_token, status=200)
    call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"name": "renamed"}}, 200)
    call(api, "DELETE", f"/ports/{port['id']}", demo_token, status=204)
    # The port's project keeps no such hold on the network owner's ports.
    own = create(api, demo_token, "port", {"network_id": net["id"]})
    call(api, "GET", f"/ports/{own['id']}", member["token"], status=404)
    call(api, "DELETE", f"/ports/{own['id']}", member["token"], status=404)


@pytest.fixture(scope="module")
def routed(api, admin_token, member):
    """A network of the member's routed to an external one, for floating IPs."""
    ext = create(api, admin_token, "network", {"name": unique("ext"), "router:external": True})
    create(api, admin_token, "subnet", {"network_id": ext["id"], "ip_version": 4, "cidr": "198.51.110.0/24"})
    net, sub = network(api, member["token"], "10.67.0.0/24")
    router = create(api, member["token"], "router", {"name": unique("r"), "external_gateway_info": {
        "network_id": ext["id"]}})
    call(api, "PUT", f"/routers/{router['id']}/add_router_interface", member["token"], {"subnet_id": sub["id"]},
         200)
    return ext, net


def test_empty_floating_ip_update_dissociates(api, member, routed):
    ext, net = routed
    token = member["token"]
    port = create(api, token, "port", {"network_id": net["id"]})
    fip = create(api, token, "floatingip", {"floating_network_id": ext["id"], "port_id": port["id"]})
    kept = call(api, "PUT", f"/floatingips/{fip['id']}", token, {"floatingip": {"description": "d"}},
                200).json()["floatingip"]
    assert kept["port_id"] == port["id"] and kept["description"] == "d"
    cleared = call(api, "PUT", f"/floatingips/{fip['id']}", token, {"floatingip": {}}, 200).json()["floatingip"]
    assert cleared["port_id"] is None and cleared["fixed_ip_address"] is None


def test_floating_ip_of_another_projects_port_is_a_400(api, admin_token, demo_token, member, routed):
    ext, net = routed
    fip = create(api, member["token"], "floatingip", {"floating_network_id": ext["id"]})
    demo_project = api.cloud.identity.validate_token(demo_token).project_id
    port = create(api, admin_token, "port", {"network_id": net["id"], "project_id": demo_project})
    error = call(api, "PUT", f"/floatingips/{fip['id']}", member["token"], {"floatingip": {"port_id": port["id"]}},
                 400).json()["NeutronError"]
    assert error["type"] == "BadRequest"
    assert error["message"] == (f"Bad floatingip request: Cannot process floating IP association with Port "
                                f"{port['id']}, since that port is owned by a different tenant.")


# -- ports ----------------------------------------------------------------------------------------

def test_port_security_off_while_groups_remain_is_a_409(api, demo_token):
    net, _ = network(api, demo_token, "10.68.0.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    assert port["security_groups"]
    error = call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"port_security_enabled": False}},
                 409).json()["NeutronError"]
    assert error["type"] == "PortSecurityPortHasSecurityGroup"
    off = call(api, "PUT", f"/ports/{port['id']}", demo_token,
               {"port": {"port_security_enabled": False, "security_groups": []}}, 200).json()["port"]
    assert off["port_security_enabled"] is False and off["security_groups"] == []


# -- tags -----------------------------------------------------------------------------------------

def test_qos_policy_tags_under_policies(api, admin_token):
    policy = create(api, admin_token, "policy", {"name": unique("qos")}, "qos/policies")
    tags = call(api, "PUT", f"/policies/{policy['id']}/tags", admin_token, {"tags": ["red", "blue"]},
                200).json()["tags"]
    assert sorted(tags) == ["blue", "red"]
    call(api, "PUT", f"/policies/{policy['id']}/tags/green", admin_token, status=201)
    shown = call(api, "GET", f"/qos/policies/{policy['id']}", admin_token, status=200).json()["policy"]
    assert sorted(shown["tags"]) == ["blue", "green", "red"]
    call(api, "GET", f"/policies/{policy['id']}/tags/green", admin_token, status=204)


@pytest.fixture(scope="module")
def group(api, member):
    """One security group of the member's."""
    return create(api, member["token"], "security_group", {"name": unique("sg")}, "security-groups")


def test_duplicate_security_group_on_a_port_is_a_400(api, member, group):
    token = member["token"]
    net, _ = network(api, token, "10.69.0.0/24")
    port = create(api, token, "port", {"network_id": net["id"]})
    error = call(api, "PUT", f"/ports/{port['id']}", token,
                 {"port": {"security_groups": [group["id"], group["id"]]}}, 400).json()["NeutronError"]
    assert error["message"] == (f"Invalid input for security_groups. Reason: Duplicate items in the list: "
                                f"'{group['id']}'.")
    call(api, "POST", "/ports", token, {"port": {"network_id": net["id"],
                                                 "security_groups": [group["id"], group["id"]]}}, 400)


# -- security groups ------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["ipv6-icmp", "icmpv6", "41", 58, "ipv6-route"])
def test_ipv4_rule_with_an_ipv6_protocol_is_a_400(api, member, group, protocol):
    error = call(api, "POST", "/security-group-rules", member["token"], {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": protocol}},
        400).json()["NeutronError"]
    assert error["type"] == "SecurityGroupEthertypeConflictWithProtocol"
    assert error["message"] == f"Invalid ethertype IPv4 for protocol {protocol}."
    rule = call(api, "POST", "/security-group-rules", member["token"], {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv6", "protocol": protocol}},
        201).json()["security_group_rule"]
    call(api, "DELETE", f"/security-group-rules/{rule['id']}", member["token"], status=204)


def test_bulk_create_takes_wrapped_items(api, member):
    names = [unique("bulk"), unique("bulk")]
    body = {"security_groups": [{"security_group": {"name": names[0]}}, {"name": names[1]}]}
    created = call(api, "POST", "/security-groups", member["token"], body, 201).json()["security_groups"]
    assert [g["name"] for g in created] == names


# -- subnet pools ---------------------------------------------------------------------------------

def test_subnet_pool_prefix_lengths_are_strings(api, demo_token):
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.210.0.0/16"],
                                                  "min_prefixlen": "24"})
    assert (pool["min_prefixlen"], pool["default_prefixlen"], pool["max_prefixlen"]) == ("24", "24", "32")


def test_subnet_pool_update_checks(api, admin_token, demo_token):
    hidden = create(api, admin_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.211.0.0/16"]})
    # shared is create-only: refused with the body, before the pool is looked up.
    error = call(api, "PUT", f"/subnetpools/{hidden['id']}", demo_token, {"subnetpool": {"shared": True}},
                 400).json()["NeutronError"]
    assert error["message"] == "Cannot update read-only attribute shared"
    call(api, "POST", "/subnetpools", demo_token, {"subnetpool": {
        "name": unique("p"), "prefixes": ["10.212.0.0/16"], "address_scope_id": "foo-addr-scope"}}, 400)
    scope = create(api, admin_token, "address_scope", {"name": unique("s"), "ip_version": 4, "shared": True},
                   "address-scopes")
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.213.0.0/18"]})
    call(api, "PUT", f"/subnetpools/{pool['id']}", admin_token, {"subnetpool": {"address_scope_id": scope["id"]}},
         200)
    error = call(api, "PUT", f"/subnetpools/{pool['id']}", demo_token,
                 {"subnetpool": {"prefixes": ["10.213.0.0/18", "10.214.0.0/18"]}}, 400).json()["NeutronError"]
    assert error["type"] == "IllegalSubnetPoolUpdate"


def test_subnets_of_one_network_come_from_one_pool(api, admin_token):
    net = create(api, admin_token, "network", {"name": unique("aff")})
    create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.215.0.0/24"})
    pool = create(api, admin_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.216.0.0/16"]})
    error = call(api, "POST", "/subnets", admin_token, {"subnet": {
        "network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"], "cidr": "10.100.0.0/28"}},
        400).json()["NeutronError"]
    assert error["type"] == "NetworkSubnetPoolAffinityError"


# -- routers ----------------------------------------------------------------------------------------

def test_router_interface_checks(api, member):
    token = member["token"]  # a project of its own: its routers count against its quota
    net = create(api, token, "network", {"name": unique("gw")})
    sub = create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.70.0.0/24",
                                             "allocation_pools": [{"start": "10.70.0.100", "end": "10.70.0.200"}]})
    router = create(api, token, "router", {"name": unique("r")})
    path = f"/routers/{router['id']}/add_router_interface"
    error = call(api, "PUT", path, token, {"port_id": "tempest-port-1"}, 400).json()["NeutronError"]
    assert error["message"] == "Bad router request: 'tempest-port-1' is not a valid UUID."
    error = call(api, "PUT", path, token, {"port_id": sub["id"], "subnet_id": sub["id"]},
                 400).json()["NeutronError"]
    assert error["message"] == "Bad router request: Cannot specify both subnet-id and port-id."
    # A gateway a router interface holds stays until the interface goes.
    call(api, "PUT", f"/subnets/{sub['id']}", token, {"subnet": {"gateway_ip": "10.70.0.2"}}, 200)
    interface = call(api, "PUT", path, token, {"subnet_id": sub["id"]}, 200).json()
    for gateway in ("10.70.0.3", None):
        error = call(api, "PUT", f"/subnets/{sub['id']}", token, {"subnet": {"gateway_ip": gateway}},
                     409).json()["NeutronError"]
        assert error["message"] == (f"Current gateway ip 10.70.0.2 already in use by port {interface['port_id']}. "
                                    f"Unable to update.")


# -- QoS ------------------------------------------------------------------------------------------

def test_rule_on_another_projects_policy_is_a_403(api, admin_token, demo_token, member):
    policy = create(api, admin_token, "policy", {"name": unique("qos"), "project_id": member["project"]["id"]},
                    "qos/policies")
    call(api, "POST", f"/qos/policies/{policy['id']}/bandwidth_limit_rules", demo_token,
         {"bandwidth_limit_rule": {"max_kbps": 1}}, 403)
    call(api, "POST", f"/qos/policies/{'0' * 8}-0000-0000-0000-{'0' * 12}/bandwidth_limit_rules", demo_token,
         {"bandwidth_limit_rule": {"max_kbps": 1}}, 404)


def test_another_project_in_a_create_needs_an_admin(api, admin_token, demo_token, member):
    net = create(api, demo_token, "network", {"name": unique("own")})
    error = call(api, "POST", "/ports", demo_token, {"port": {"network_id": net["id"],
                                                              "project_id": member["project"]["id"]}},
                 400).json()["NeutronError"]
    assert error["type"] == "HTTPBadRequest" and error["message"].startswith(
        "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin")
    call(api, "POST", "/networks", demo_token, {"network": {"tenant_id": member["project"]["id"]}}, 400)
    created = call(api, "POST", "/networks", admin_token, {"network": {"project_id": member["project"]["id"]}},
                   201).json()["network"]
    assert created["project_id"] == member["project"]["id"]


def test_default_security_group_never_takes_the_callers_quota(api, admin_token):
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("sgq")}}).json()["project"]
    listed = call(api, "GET", f"/security-groups?project_id={project['id']}", admin_token,
                  status=200).json()["security_groups"]
    call(api, "PUT", f"/quotas/{project['id']}", admin_token, {"quota": {"security_group": len(listed) + 1}}, 200)
    body = {"security_group": {"name": unique("sg"), "project_id": project["id"]}}
    call(api, "POST", "/security-groups", admin_token, body, 201)
    names = {g["name"] for g in call(api, "GET", f"/security-groups?project_id={project['id']}", admin_token,
                                     status=200).json()["security_groups"]}
    assert "default" in names and len(names) == 2
    error = call(api, "POST", "/security-groups", admin_token, body, 409).json()["NeutronError"]
    assert error["type"] == "OverQuota"
    # With no room for rules, the group (its egress rules) is refused.
    call(api, "PUT", f"/quotas/{project['id']}", admin_token,
         {"quota": {"security_group": -1, "security_group_rule": 0}}, 200)
    call(api, "POST", "/security-groups", admin_token, {"security_group": {
        "name": unique("sg"), "project_id": project["id"]}}, 409)


def test_subnets_coming_and_going_bump_the_networks_revision(api, demo_token):
    net, sub = network(api, demo_token, "10.71.0.0/24")
    created = call(api, "GET", f"/networks/{net['id']}", demo_token, status=200).json()["network"]
    assert created["revision_number"] > net["revision_number"]
    call(api, "DELETE", f"/subnets/{sub['id']}", demo_token, status=204)
    deleted = call(api, "GET", f"/networks/{net['id']}", demo_token, status=200).json()["network"]
    assert deleted["revision_number"] > created["revision_number"] and deleted["subnets"] == []


def test_a_marker_the_caller_cannot_see(api, admin_token, demo_token):
    """Neutron's object-layer lists (QoS policies, subnet pools) drop it; the others 404."""
    policy = create(api, admin_token, "policy", {"name": unique("qos")}, "qos/policies")
    pool = create(api, admin_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.217.0.0/16"]})
    call(api, "GET", f"/qos/policies?limit=1&marker={policy['id']}", demo_token, status=200)
    call(api, "GET", f"/subnetpools?limit=1&marker={pool['id']}", demo_token, status=200)
    net = create(api, admin_token, "network", {"name": unique("n")})
    call(api, "GET", f"/networks?limit=1&marker={net['id']}", demo_token, status=404)
