"""RBAC policies on QoS policies, security groups, address scopes and subnet pools, with
Neutron's effects: the target project sees the object (``shared`` true to it) and uses it
on its own resources but does not change it, a policy its uses depend on is not removed
(409 RbacPolicyInUse), and revoking it hides the object again."""

from __future__ import annotations

import pytest
from test_network_rbac_scopes import call, create, error

from conftest import unique
from test_compute_helpers import new_member


@pytest.fixture(scope="module")
def target(api, admin_token):
    """A second project with a member: the target of the policies."""
    member = new_member(api, admin_token)
    return {"id": member["project"]["id"], "token": member["token"]}


def grant(api, token, object_type, object_id, target_tenant, status=201, action="access_as_shared"):
    return create(api, token, "rbac-policies", "rbac_policy", {
        "object_type": object_type, "object_id": object_id, "action": action, "target_tenant": target_tenant},
        status)


def assert_in_use(api, token, policy, object_id, project_id):
    assert error(api, "DELETE", f"/rbac-policies/{policy['id']}", token, None, 409) == {
        "type": "RbacPolicyInUse", "detail": "",
        "message": f"RBAC policy on object {object_id} cannot be removed because other objects depend on it.\n"
                   f"Details: project_id={project_id}"}


def own_network(api, token):
    return create(api, token, "networks", "network", {"name": unique("rbacobj")})


def test_security_group_shared_with_a_project(api, demo_token, target):
    group = create(api, demo_token, "security-groups", "security_group", {"name": unique("sg")})
    path = f"/security-groups/{group['id']}"
    t = target["token"]
    call(api, "GET", path, t, status=404)
    # Only the owner (or an admin) shares it, and only admins with everyone.
    assert error(api, "POST", "/rbac-policies", t, {"rbac_policy": {
        "object_type": "security_group", "object_id": group["id"], "action": "access_as_shared",
        "target_tenant": target["id"]}}, 400)["message"] == \
        "Invalid input for operation: Only admins can manipulate policies on objects they do not own."
    grant(api, demo_token, "security_group", group["id"], "*", status=403)
    assert grant(api, demo_token, "security_group", group["id"], target["id"], action="access_as_external",
                 status=400) == {
        "type": "InvalidActionForType", "detail": "",
        "message": "Invalid action 'access_as_external' for object type 'security_group'. Valid actions: "
                   "('access_as_shared',)"}
    policy = grant(api, demo_token, "security_group", group["id"], target["id"])
    assert policy["object_type"] == "security_group" and policy["object_id"] == group["id"]
    grant(api, demo_token, "security_group", group["id"], target["id"], status=409)
    # The target sees it, shared to it (the owner does not: no wildcard), with its rules.
    seen = call(api, "GET", path, t, status=200).json()["security_group"]
    assert seen["shared"] is True and seen["security_group_rules"]
    assert call(api, "GET", path, demo_token, status=200).json()["security_group"]["shared"] is False
    listed = call(api, "GET", "/security-groups?shared=true", t, status=200).json()["security_groups"]
    assert [g["id"] for g in listed] == [group["id"]]
    # It uses the group on its own ports; it changes neither the group nor its rules.
    net = own_network(api, t)
    port = create(api, t, "ports", "port", {"network_id": net["id"], "security_groups": [group["id"]]})
    call(api, "PUT", path, t, {"security_group": {"name": "mine"}}, 403)
    call(api, "DELETE", path, t, status=403)
    call(api, "POST", "/security-group-rules", t, {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress"}}, 403)
    assert_in_use(api, demo_token, policy, group["id"], target["id"])
    # Retargeting would take it from the port's project too.
    call(api, "PUT", f"/rbac-policies/{policy['id']}", demo_token, {"rbac_policy": {"target_tenant": "0" * 32}}, 409)
    call(api, "DELETE", f"/ports/{port['id']}", t, status=204)
    call(api, "DELETE", f"/rbac-policies/{policy['id']}", demo_token, status=204)
    call(api, "GET", path, t, status=404)
    call(api, "POST", "/ports", t, {"port": {"network_id": net["id"], "security_groups": [group["id"]]}}, 404)
    call(api, "DELETE", f"/networks/{net['id']}", t, status=204)
    # A deleted group takes its policies with it.
    again = grant(api, demo_token, "security_group", group["id"], target["id"])
    call(api, "DELETE", path, demo_token, status=204)
    call(api, "GET", f"/rbac-policies/{again['id']}", demo_token, status=404)


def test_qos_policy_shared_with_a_project(api, admin_token, target):
    policy_obj = create(api, admin_token, "qos/policies", "policy", {"name": unique("qos")})
    path = f"/qos/policies/{policy_obj['id']}"
    t = target["token"]
    call(api, "GET", path, t, status=404)
    policy = grant(api, admin_token, "qos_policy", policy_obj["id"], target["id"])
    assert call(api, "GET", path, t, status=200).json()["policy"]["shared"] is True
    assert call(api, "GET", path, admin_token, status=200).json()["policy"]["shared"] is False
    # The target binds it to its network and its ports; it does not change it.
    net = create(api, t, "networks", "network", {"name": unique("q"), "qos_policy_id": policy_obj["id"]})
    assert net["qos_policy_id"] == policy_obj["id"]
    call(api, "PUT", path, t, {"policy": {"name": "mine"}}, 403)
    call(api, "DELETE", path, t, status=403)
    assert_in_use(api, admin_token, policy, policy_obj["id"], target["id"])
    call(api, "PUT", f"/networks/{net['id']}", t, {"network": {"qos_policy_id": None}}, 200)
    call(api, "DELETE", f"/rbac-policies/{policy['id']}", admin_token, status=204)
    call(api, "GET", path, t, status=404)
    call(api, "PUT", f"/networks/{net['id']}", t, {"network": {"qos_policy_id": policy_obj["id"]}}, 404)
    call(api, "DELETE", f"/networks/{net['id']}", t, status=204)
    call(api, "DELETE", path, admin_token, status=204)


def test_qos_shared_flag_is_the_wildcard_policy(api, admin_token, target):
    policy_obj = create(api, admin_token, "qos/policies", "policy", {"name": unique("qos"), "shared": True})
    assert policy_obj["shared"] is True
    wildcard = call(api, "GET", f"/rbac-policies?object_id={policy_obj['id']}", admin_token,
                    status=200).json()["rbac_policies"]
    assert [(p["object_type"], p["target_tenant"], p["action"]) for p in wildcard] == [
        ("qos_policy", "*", "access_as_shared")]
    # As in Neutron, even the owner's own network bound to it keeps the wildcard.
    own = create(api, admin_token, "networks", "network", {"name": unique("q"), "qos_policy_id": policy_obj["id"]})
    assert error(api, "PUT", f"/qos/policies/{policy_obj['id']}", admin_token, {"policy": {"shared": False}},
                 409)["message"].endswith("Details: project_id=*")
    call(api, "DELETE", f"/networks/{own['id']}", admin_token, status=204)
    t = target["token"]
    net = create(api, t, "networks", "network", {"name": unique("q"), "qos_policy_id": policy_obj["id"]})
    # Unsharing (or deleting the wildcard) would take it from the network's project.
    assert error(api, "PUT", f"/qos/policies/{policy_obj['id']}", admin_token, {"policy": {"shared": False}},
                 409)["type"] == "RbacPolicyInUse"
    assert_in_use(api, admin_token, wildcard[0], policy_obj["id"], "*")
    # A policy for the project itself keeps it: then the wildcard goes.
    grant(api, admin_token, "qos_policy", policy_obj["id"], target["id"])
    unshared = call(api, "PUT", f"/qos/policies/{policy_obj['id']}", admin_token, {"policy": {"shared": False}},
                    200).json()["policy"]
    assert unshared["shared"] is False
    assert call(api, "GET", f"/qos/policies/{policy_obj['id']}", t, status=200).json()["policy"]["shared"] is True
    call(api, "DELETE", f"/networks/{net['id']}", t, status=204)
    call(api, "DELETE", f"/qos/policies/{policy_obj['id']}", admin_token, status=204)
    assert call(api, "GET", f"/rbac-policies?object_id={policy_obj['id']}", admin_token,
                status=200).json()["rbac_policies"] == []


def test_address_scope_shared_with_a_project(api, demo_token, target):
    scope = create(api, demo_token, "address-scopes", "address_scope", {"name": unique("as"), "ip_version": 4})
    path = f"/address-scopes/{scope['id']}"
    t = target["token"]
    pool_body = {"name": unique("p"), "prefixes": ["10.170.0.0/16"], "address_scope_id": scope["id"]}
    call(api, "POST", "/subnetpools", t, {"subnetpool": pool_body}, 404)
    policy = grant(api, demo_token, "address_scope", scope["id"], target["id"])
    assert call(api, "GET", path, t, status=200).json()["address_scope"]["shared"] is True
    assert call(api, "GET", "/address-scopes?shared=false", t, status=200).json()["address_scopes"] == []
    pool = create(api, t, "subnetpools", "subnetpool", pool_body)
    call(api, "PUT", path, t, {"address_scope": {"name": "mine"}}, 403)
    call(api, "DELETE", path, t, status=403)
    assert_in_use(api, demo_token, policy, scope["id"], target["id"])
    call(api, "DELETE", f"/subnetpools/{pool['id']}", t, status=204)
    call(api, "DELETE", f"/rbac-policies/{policy['id']}", demo_token, status=204)
    call(api, "GET", path, t, status=404)
    call(api, "DELETE", path, demo_token, status=204)


def test_subnet_pool_shared_with_a_project(api, demo_token, target):
    pool = create(api, demo_token, "subnetpools", "subnetpool", {
        "name": unique("p"), "prefixes": ["10.171.0.0/16"], "default_prefixlen": 24})
    path = f"/subnetpools/{pool['id']}"
    t = target["token"]
    net = own_network(api, t)
    subnet_body = {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]}
    call(api, "POST", "/subnets", t, {"subnet": subnet_body}, 404)
    policy = grant(api, demo_token, "subnetpool", pool["id"], target["id"])
    assert call(api, "GET", path, t, status=200).json()["subnetpool"]["shared"] is True
    subnet = create(api, t, "subnets", "subnet", subnet_body)
    assert subnet["subnetpool_id"] == pool["id"] and subnet["cidr"].startswith("10.171.")
    call(api, "PUT", path, t, {"subnetpool": {"name": "mine"}}, 403)
    call(api, "DELETE", path, t, status=403)
    assert_in_use(api, demo_token, policy, pool["id"], target["id"])
    call(api, "DELETE", f"/subnets/{subnet['id']}", t, status=204)
    call(api, "DELETE", f"/rbac-policies/{policy['id']}", demo_token, status=204)
    call(api, "GET", path, t, status=404)
    call(api, "DELETE", f"/networks/{net['id']}", t, status=204)
    call(api, "DELETE", path, demo_token, status=204)


def test_pool_shared_only_where_its_scope_is(api, demo_token, target):
    scope = create(api, demo_token, "address-scopes", "address_scope", {"name": unique("as"), "ip_version": 4})
    pool = create(api, demo_token, "subnetpools", "subnetpool", {
        "name": unique("p"), "prefixes": ["10.172.0.0/16"], "address_scope_id": scope["id"]})
    assert grant(api, demo_token, "subnetpool", pool["id"], target["id"], status=400) == {
        "type": "InvalidInput", "detail": "",
        "message": f"Invalid input for operation: Failed to create RBAC policy on object {pool['id']} because "
                   "target project doesn't have access to associated address scope."}
    grant(api, demo_token, "address_scope", scope["id"], target["id"])
    grant(api, demo_token, "subnetpool", pool["id"], target["id"])
    assert call(api, "GET", f"/subnetpools/{pool['id']}", target["token"], status=200).json()["subnetpool"][
        "address_scope_id"] == scope["id"]
    # The object must exist (and be a UUID).
    missing = "00000000-0000-0000-0000-000000000000"
    assert grant(api, demo_token, "subnetpool", missing, target["id"], status=400)["message"] == \
        f"Invalid input for operation: Subnet pool {missing} could not be found."
    call(api, "DELETE", f"/subnetpools/{pool['id']}", demo_token, status=204)
    call(api, "DELETE", f"/address-scopes/{scope['id']}", demo_token, status=204)


def test_object_types_advertised(api, demo_token, target):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"rbac-security-groups", "rbac-address-scope", "rbac-subnetpool",
            "security-groups-shared-filtering"} <= aliases
    assert "rbac-address-group" in aliases  # test_network_address_groups.py
    # A policy's object is of its type: a security group is no address group.
    group = create(api, demo_token, "security-groups", "security_group", {"name": unique("sg")})
    assert grant(api, demo_token, "address_group", group["id"], target["id"], status=400)["message"] == \
        f"Invalid input for operation: Address group {group['id']} could not be found."
    assert grant(api, demo_token, "address_groups", group["id"], target["id"], status=400)["message"] == \
        "Invalid input for operation: 'address_groups' is not a valid RBAC object type."
    call(api, "DELETE", f"/security-groups/{group['id']}", demo_token, status=204)
