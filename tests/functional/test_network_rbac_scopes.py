"""Neutron's address scopes and network RBAC policies, in Neutron's formats and with
Neutron's effects: a network shared with one project through a policy is that project's
to see and to put ports on, and the policy cannot go while those ports are there."""

from __future__ import annotations

import pytest

from conftest import unique

NET = "/network/v2.0"


def call(api, method, path, token, body=None, status=None):
    r = api.request(method, f"{NET}{path}", token, json=body)
    if status is not None:
        assert r.status_code == status, r.text
    return r


def create(api, token, collection, member, body, status=201):
    r = call(api, "POST", f"/{collection}", token, {member: body}, status)
    return r.json()[member] if status == 201 else r.json()["NeutronError"]


def error(api, method, path, token, body, status) -> dict:
    return call(api, method, path, token, body, status).json()["NeutronError"]


@pytest.fixture(scope="module")
def project_b(api, admin_token):
    """A second project with a member: the target of the policies."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("rbacproj")}}).json()["project"]
    name = unique("rbacuser")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-secret"}}).json()["user"]
    role = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role}", admin_token)
    return {"id": project["id"], "token": api.token(name, "pw-secret", project=project["name"])}


def network_with_subnet(api, token, cidr: str) -> tuple[dict, dict]:
    net = create(api, token, "networks", "network", {"name": unique("rbacnet")})
    sub = create(api, token, "subnets", "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr})
    return net, sub


def share(api, token, network_id, target, action="access_as_shared", status=201):
    return create(api, token, "rbac-policies", "rbac_policy", {
        "object_type": "network", "object_id": network_id, "action": action, "target_tenant": target}, status)


# -- discovery -----------------------------------------------------------------------------------
def test_extensions_listed(api, demo_token):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"address-scope", "rbac-policies"} <= aliases
    shown = call(api, "GET", "/extensions/rbac-policies", demo_token, status=200).json()["extension"]
    assert shown["name"] == "RBAC Policies"
    assert call(api, "GET", "/extensions/address-scope", demo_token, status=200).json()["extension"]["alias"] \
        == "address-scope"


# -- address scopes ------------------------------------------------------------------------------
def test_address_scope_crud(api, demo_token, project_b):
    scope = create(api, demo_token, "address-scopes", "address_scope", {"name": unique("as"), "ip_version": 4})
    assert set(scope) == {"id", "name", "tenant_id", "project_id", "shared", "ip_version"}
    assert scope["shared"] is False and scope["ip_version"] == 4 and scope["tenant_id"] == scope["project_id"]
    path = f"/address-scopes/{scope['id']}"
    assert call(api, "GET", path, demo_token, status=200).json()["address_scope"] == scope
    listed = call(api, "GET", "/address-scopes?ip_version=4", demo_token, status=200).json()["address_scopes"]
    assert scope["id"] in {s["id"] for s in listed}
    renamed = call(api, "PUT", path, demo_token, {"address_scope": {"name": "renamed"}}, 200).json()
    assert renamed["address_scope"]["name"] == "renamed"
    # Another project neither lists nor sees it.
    assert scope["id"] not in call(api, "GET", "/address-scopes", project_b["token"], status=200).text
    assert error(api, "GET", path, project_b["token"], None, 404) == {
        "type": "AddressScopeNotFound", "message": f"Address scope {scope['id']} could not be found.", "detail": ""}
    # ip_version is fixed; address scopes have no description (nor tags).
    assert error(api, "PUT", path, demo_token, {"address_scope": {"ip_version": 6}}, 400)["message"] == \
        "Cannot update read-only attribute ip_version"
    assert "description" in error(api, "POST", "/address-scopes", demo_token,
                                  {"address_scope": {"ip_version": 4, "description": "x"}}, 400)["message"]
    call(api, "GET", f"{path}/tags", demo_token, status=404)
    call(api, "DELETE", path, demo_token, status=204)
    call(api, "GET", path, demo_token, status=404)


def test_address_scope_input_and_sharing(api, demo_token, admin_token, project_b):
    for body in ({"ip_version": 5}, {"name": "no-version"}, {"ip_version": 4, "shared": "yes"}):
        call(api, "POST", "/address-scopes", demo_token, {"address_scope": body}, 400)
    # Only admins share a scope; every project sees a shared one; it stays shared.
    call(api, "POST", "/address-scopes", demo_token, {"address_scope": {"ip_version": 4, "shared": True}}, 403)
    scope = create(api, admin_token, "address-scopes", "address_scope", {"ip_version": "6", "shared": True})
    assert scope["ip_version"] == 6
    assert call(api, "GET", f"/address-scopes/{scope['id']}", project_b["token"], status=200).json()[
        "address_scope"]["shared"] is True
    call(api, "PUT", f"/address-scopes/{scope['id']}", project_b["token"], {"address_scope": {"name": "x"}}, 403)
    assert error(api, "PUT", f"/address-scopes/{scope['id']}", admin_token, {"address_scope": {"shared": False}},
                 400) == {"type": "AddressScopeUpdateError", "detail": "",
                          "message": f"Unable to update address scope {scope['id']} : Shared address scope "
                                     "can't be unshared."}
    call(api, "DELETE", f"/address-scopes/{scope['id']}", admin_token, status=204)


def test_subnet_pools_in_an_address_scope(api, demo_token):
    v4 = create(api, demo_token, "address-scopes", "address_scope", {"name": unique("as4"), "ip_version": 4})
    v6 = create(api, demo_token, "address-scopes", "address_scope", {"name": unique("as6"), "ip_version": 6})
    wrong = error(api, "POST", "/subnetpools", demo_token, {"subnetpool": {
        "name": unique("p"), "prefixes": ["10.150.0.0/16"], "address_scope_id": v6["id"]}}, 400)
    assert wrong["type"] == "IllegalSubnetPoolIpVersionAssociationToAddressScope"
    assert wrong["message"].endswith(f"address scope {v6['id']} because subnetpool ip_version is not 6.")
    pool = create(api, demo_token, "subnetpools", "subnetpool", {
        "name": unique("p"), "prefixes": ["10.150.0.0/16"], "address_scope_id": v4["id"]})
    assert pool["address_scope_id"] == v4["id"]
    # Pools of one scope may not overlap.
    assert error(api, "POST", "/subnetpools", demo_token, {"subnetpool": {
        "name": unique("p"), "prefixes": ["10.150.128.0/17"], "address_scope_id": v4["id"]}}, 409)["type"] == \
        "AddressScopePrefixConflict"
    other = create(api, demo_token, "subnetpools", "subnetpool", {"name": unique("p"), "prefixes": ["10.150.0.0/17"]})
    call(api, "PUT", f"/subnetpools/{other['id']}", demo_token, {"subnetpool": {"address_scope_id": v4["id"]}}, 409)
    call(api, "PUT", f"/subnetpools/{other['id']}", demo_token,
         {"subnetpool": {"address_scope_id": "00000000-0000-0000-0000-000000000000"}}, 404)
    # A network shows the scope of the pool its subnet came from.
    net = create(api, demo_token, "networks", "network", {"name": unique("scoped")})
    create(api, demo_token, "subnets", "subnet", {"network_id": net["id"], "ip_version": 4,
                                                  "subnetpool_id": pool["id"], "prefixlen": 24})
    shown = call(api, "GET", f"/networks/{net['id']}", demo_token, status=200).json()["network"]
    assert shown["ipv4_address_scope"] == v4["id"] and shown["ipv6_address_scope"] is None
    call(api, "POST", "/networks", demo_token, {"network": {"ipv4_address_scope": v4["id"]}}, 400)
    # A scope in use is not deleted.
    assert error(api, "DELETE", f"/address-scopes/{v4['id']}", demo_token, None, 409) == {
        "type": "AddressScopeInUse", "detail": "",
        "message": f"Unable to complete operation on address scope {v4['id']}. There are one or more subnet pools "
                   "in use on the address scope."}
    call(api, "DELETE", f"/networks/{net['id']}", demo_token, status=204)
    call(api, "PUT", f"/subnetpools/{pool['id']}", demo_token, {"subnetpool": {"address_scope_id": None}}, 200)
    call(api, "DELETE", f"/address-scopes/{v4['id']}", demo_token, status=204)
    call(api, "DELETE", f"/address-scopes/{v6['id']}", demo_token, status=204)


# -- network RBAC --------------------------------------------------------------------------------
def test_network_shared_with_one_project(api, demo_token, admin_token, project_b):
    net, sub = network_with_subnet(api, demo_token, "10.160.0.0/24")
    b = project_b["token"]
    call(api, "GET", f"/networks/{net['id']}", b, status=404)
    policy = share(api, demo_token, net["id"], project_b["id"])
    demo_project = net["project_id"]
    assert policy == {"id": policy["id"], "project_id": demo_project, "tenant_id": demo_project,
                      "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
                      "target_tenant": project_b["id"]}
    assert call(api, "GET", f"/rbac-policies/{policy['id']}", demo_token, status=200).json()["rbac_policy"] == policy
    # Project B sees the network (shared, to it), its subnet, and may put a port on it.
    assert call(api, "GET", f"/networks/{net['id']}", b, status=200).json()["network"]["shared"] is True
    assert net["id"] in {n["id"] for n in call(api, "GET", "/networks?shared=true", b, status=200).json()["networks"]}
    assert net["id"] not in call(api, "GET", "/networks?shared=false", b, status=200).text
    call(api, "GET", f"/subnets/{sub['id']}", b, status=200)
    # The owner sees it as not shared (with everyone).
    assert call(api, "GET", f"/networks/{net['id']}", demo_token, status=200).json()["network"]["shared"] is False
    port = create(api, b, "ports", "port", {"network_id": net["id"]})
    # The policy is its owner's: project B neither sees nor deletes it.
    assert error(api, "GET", f"/rbac-policies/{policy['id']}", b, None, 404) == {
        "type": "RbacPolicyNotFound", "detail": "",
        "message": f"RBAC policy of type unknown with ID {policy['id']} not found"}
    # B's port depends on the policy.
    in_use = error(api, "DELETE", f"/rbac-policies/{policy['id']}", demo_token, None, 409)
    assert in_use["type"] == "RbacPolicyInUse"
    assert in_use["message"].startswith(f"RBAC policy on object {net['id']} cannot be removed because other "
                                        "objects depend on it.\nDetails: ")
    # ... and so does the network's sharing (as Neutron: retargeting is refused too).
    call(api, "PUT", f"/rbac-policies/{policy['id']}", demo_token,
         {"rbac_policy": {"target_tenant": "0" * 32}}, 409)
    call(api, "DELETE", f"/ports/{port['id']}", b, status=204)
    call(api, "DELETE", f"/rbac-policies/{policy['id']}", demo_token, status=204)
    call(api, "GET", f"/networks/{net['id']}", b, status=404)
    call(api, "POST", "/ports", b, {"port": {"network_id": net["id"]}}, 403)


def test_rbac_policy_input(api, demo_token, project_b):
    net, _ = network_with_subnet(api, demo_token, "10.161.0.0/24")
    assert share(api, demo_token, net["id"], project_b["id"], action="access_as_bogus", status=400) == {
        "type": "InvalidActionForType", "detail": "",
        "message": "Invalid action 'access_as_bogus' for object type 'network'. Valid actions: "
                   "('access_as_shared', 'access_as_external')"}
    bad_type = error(api, "POST", "/rbac-policies", demo_token, {"rbac_policy": {
        "object_type": "qos-thing", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": project_b["id"]}}, 400)
    assert bad_type["message"] == "Invalid input for operation: 'qos-thing' is not a valid RBAC object type."
    assert "not a valid target project ID" in share(api, demo_token, net["id"], "not-a-project", status=400)["message"]
    # Only admins share with every project; missing attributes are refused.
    share(api, demo_token, net["id"], "*", status=403)
    call(api, "POST", "/rbac-policies", demo_token, {"rbac_policy": {"object_type": "network"}}, 400)
    call(api, "POST", "/rbac-policies", demo_token, {"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": project_b["id"], "description": "no such attribute"}}, 400)
    # A network the caller does not see (or does not own) cannot be shared by it.
    other, _ = network_with_subnet(api, project_b["token"], "10.162.0.0/24")
    refused = share(api, demo_token, other["id"], project_b["id"], status=400)
    assert refused["message"] == f"Invalid input for operation: Network {other['id']} could not be found."
    policy = share(api, demo_token, net["id"], project_b["id"])
    assert share(api, demo_token, net["id"], project_b["id"], status=409) == {
        "type": "DuplicateRbacPolicy", "detail": "", "message": "An RBAC policy already exists with those values."}
    # Only target_tenant changes.
    call(api, "PUT", f"/rbac-policies/{policy['id']}", demo_token, {"rbac_policy": {"action": "x"}}, 400)
    moved = call(api, "PUT", f"/rbac-policies/{policy['id']}", demo_token,
                 {"rbac_policy": {"target_tenant": "1" * 32}}, 200).json()["rbac_policy"]
    assert moved["target_tenant"] == "1" * 32
    call(api, "PUT", f"/rbac-policies/{policy['id']}", demo_token, {"rbac_policy": {"target_tenant": "*"}}, 403)
    call(api, "GET", f"/rbac-policies/{policy['id']}/tags", demo_token, status=404)
    call(api, "DELETE", f"/networks/{net['id']}", demo_token, status=204)
    call(api, "GET", f"/rbac-policies/{policy['id']}", demo_token, status=404)


def test_shared_flag_is_the_wildcard_policy(api, admin_token, project_b):
    net = create(api, admin_token, "networks", "network", {"name": unique("wild"), "shared": True})
    policies = call(api, "GET", f"/rbac-policies?object_id={net['id']}", admin_token, status=200).json()
    wildcard = policies["rbac_policies"]
    assert [(p["action"], p["target_tenant"]) for p in wildcard] == [("access_as_shared", "*")]
    port = create(api, project_b["token"], "ports", "port", {"network_id": net["id"]})
    # Unsharing while another project has a port: Neutron's InvalidSharedSetting (and
    # RbacPolicyInUse through the policy) -- unless that project has a policy of its own.
    assert error(api, "PUT", f"/networks/{net['id']}", admin_token, {"network": {"shared": False}}, 409)["type"] \
        == "InvalidSharedSetting"
    call(api, "DELETE", f"/rbac-policies/{wildcard[0]['id']}", admin_token, status=409)
    share(api, admin_token, net["id"], project_b["id"])
    call(api, "DELETE", f"/rbac-policies/{wildcard[0]['id']}", admin_token, status=204)
    shown = call(api, "GET", f"/networks/{net['id']}", admin_token, status=200).json()["network"]
    assert shown["shared"] is False
    assert call(api, "GET", f"/networks/{net['id']}", project_b["token"], status=200).json()["network"]["shared"]
    # A wildcard policy shares it again, as the flag does.
    share(api, admin_token, net["id"], "*")
    assert call(api, "GET", f"/networks/{net['id']}", admin_token, status=200).json()["network"]["shared"] is True
    call(api, "DELETE", f"/ports/{port['id']}", project_b["token"], status=204)
    call(api, "DELETE", f"/networks/{net['id']}", admin_token, status=204)


def test_access_as_external(api, admin_token, demo_token, project_b):
    net = create(api, admin_token, "networks", "network", {"name": unique("ext")})
    assert net["router:external"] is False
    policy = share(api, admin_token, net["id"], project_b["id"], action="access_as_external")
    shown = call(api, "GET", f"/networks/{net['id']}", project_b["token"], status=200).json()["network"]
    assert shown["router:external"] is True and shown["shared"] is False
    call(api, "GET", f"/networks/{net['id']}", demo_token, status=404)
    # Only shared access lets a project make ports.
    call(api, "POST", "/ports", project_b["token"], {"port": {"network_id": net["id"]}}, 403)
    call(api, "DELETE", f"/rbac-policies/{policy['id']}", admin_token, status=204)
    assert call(api, "GET", f"/networks/{net['id']}", admin_token, status=200).json()["network"][
        "router:external"] is False
    call(api, "DELETE", f"/networks/{net['id']}", admin_token, status=204)
