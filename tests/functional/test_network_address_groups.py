"""Address groups (Neutron's address-group, rbac-address-group and
security-groups-remote-address-group extensions): CRUD, add_addresses/remove_addresses
with Neutron's normalization and errors, list queries, security group rules naming a
group as their remote, a group in use, RBAC sharing, and what reaches the datapath."""

from __future__ import annotations

import threading

import pytest
from test_network_rbac_scopes import call, create, error

from conftest import unique
from test_compute_helpers import new_member

GROUP_KEYS = {"id", "name", "description", "project_id", "tenant_id", "addresses", "created_at", "updated_at",
              "revision_number"}


@pytest.fixture(scope="module")
def other(api, admin_token):
    """A second project with a member."""
    member = new_member(api, admin_token)
    return {"id": member["project"]["id"], "token": member["token"]}


def new_group(api, token, **attrs) -> dict:
    return create(api, token, "address-groups", "address_group", {"name": unique("ag"), **attrs})


def change(api, token, group_id, action, addresses, status=200):
    response = call(api, "PUT", f"/address-groups/{group_id}/{action}", token, {"addresses": addresses}, status)
    return response.json()["address_group"] if status == 200 else response.json()["NeutronError"]


def test_extensions_are_listed(api, demo_token):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"address-group", "rbac-address-group", "security-groups-remote-address-group"} <= aliases
    shown = call(api, "GET", "/extensions/address-group", demo_token, status=200).json()["extension"]
    assert shown["name"] == "Address group"


def test_crud_and_addresses_normalized(api, demo_token):
    group = new_group(api, demo_token, description="web clients",
                      addresses=["10.0.1.34/32", "192.168.100.5/24", "2001:db8::1/64"])
    assert set(group) == GROUP_KEYS
    assert group["addresses"] == ["10.0.1.34/32", "192.168.100.0/24", "2001:db8::/64"]
    assert group["description"] == "web clients" and group["tenant_id"] == group["project_id"]
    path = f"/address-groups/{group['id']}"
    assert call(api, "GET", path, demo_token, status=200).json()["address_group"] == group
    updated = call(api, "PUT", path, demo_token, {"address_group": {"name": "renamed", "description": "d"}},
                   200).json()["address_group"]
    assert (updated["name"], updated["description"]) == ("renamed", "d")
    assert updated["revision_number"] == group["revision_number"] + 1
    # addresses change only through the actions; no tags (Neutron's model has none)
    assert error(api, "PUT", path, demo_token, {"address_group": {"addresses": []}}, 400) == {
        "type": "HTTPBadRequest", "message": "Cannot update read-only attribute addresses", "detail": ""}
    assert error(api, "PUT", path, demo_token, {"address_group": {"shared": True}}, 400)["message"] == \
        "Cannot update read-only attribute shared"
    call(api, "PUT", f"{path}/tags/t1", demo_token, status=404)
    assert "shared" not in call(api, "GET", f"{path}?fields=shared&fields=id", demo_token, status=200).json()[
        "address_group"]
    call(api, "DELETE", path, demo_token, status=204)
    assert error(api, "GET", path, demo_token, None, 404) == {
        "type": "AddressGroupNotFound", "message": f"Address group {group['id']} could not be found.", "detail": ""}


def test_create_checks_addresses_as_neutron(api, demo_token):
    def refused(addresses):
        return create(api, demo_token, "address-groups", "address_group", {"addresses": addresses}, 400)["message"]

    assert refused(["10.0.0.1"]) == \
        "Invalid input for addresses. Reason: '10.0.0.1' is not a valid IP subnet."
    assert refused(["10.0.0.0/33"]) == "Invalid input for addresses. Reason: '10.0.0.0/33' is not a valid IP subnet."
    assert refused(["10.0.0.0/255.255.255.0"]).endswith("'10.0.0.0/255.255.255.0' is not a valid IP subnet.")
    assert refused(["x/8", "10.0.0.0/8"]).endswith("'x/8' is not a valid IP subnet.")
    assert refused([5]).endswith("'5' is not a valid IP subnet.")
    assert refused("10.0.0.0/8") == "Invalid input for addresses. Reason: '10.0.0.0/8' is not a list."
    assert refused(["10.0.0.0/8", "10.0.0.0/8"]) == \
        "Invalid input for addresses. Reason: Duplicate items in the list: '10.0.0.0/8'."
    # null is an empty list; the same network written twice is one address
    assert new_group(api, demo_token, addresses=None)["addresses"] == []
    assert new_group(api, demo_token, addresses=["10.9.0.1/16", "10.9.0.0/16"])["addresses"] == ["10.9.0.0/16"]
    assert create(api, demo_token, "address-groups", "address_group", {"created_at": "x"}, 400)["message"] == \
        "Attribute 'created_at' not allowed in POST"
    assert create(api, demo_token, "address-groups", "address_group", {"tags": ["a"]}, 400)["message"] == \
        "Unrecognized attribute(s) 'tags'"


def test_add_and_remove_addresses(api, demo_token):
    group = new_group(api, demo_token, addresses=["10.0.1.34/32"])
    gid = group["id"]
    added = change(api, demo_token, gid, "add_addresses", ["10.0.2.100", "192.168.100.1/24", "10.0.2.100/32"])
    assert added["addresses"] == ["10.0.1.34/32", "10.0.2.100/32", "192.168.100.0/24"]
    assert added["revision_number"] == group["revision_number"] + 1
    assert change(api, demo_token, gid, "add_addresses", ["10.0.1.34/32", "10.7.0.0/16"], 400) == {
        "type": "AddressesAlreadyExist", "detail": "",
        "message": f"Addresses ['10.0.1.34/32'] already exist in the address group {gid}."}
    assert change(api, demo_token, gid, "remove_addresses", ["10.0.2.100/32", "172.16.0.0/12"], 404) == {
        "type": "AddressesNotFound", "detail": "",
        "message": f"Addresses ['172.16.0.0/12'] not found in the address group {gid}."}
    # Neither refused change did anything (all or nothing).
    shown = call(api, "GET", f"/address-groups/{gid}", demo_token, status=200).json()["address_group"]
    assert shown["addresses"] == added["addresses"] and shown["revision_number"] == added["revision_number"]
    removed = change(api, demo_token, gid, "remove_addresses", ["192.168.100.77/24", "10.0.2.100"])
    assert removed["addresses"] == ["10.0.1.34/32"]
    assert change(api, demo_token, gid, "add_addresses", [])["revision_number"] == removed["revision_number"]
    for body in ({}, {"addresses": "10.0.0.0/8"}, {"addresses": ["nonsense"]}, {"addresses": [["10.0.0.0/8"]]}):
        response = call(api, "PUT", f"/address-groups/{gid}/add_addresses", demo_token, body, 400)
        assert response.json()["NeutronError"]["type"] == "HTTPBadRequest"
    change(api, demo_token, "0" * 8, "add_addresses", ["10.0.0.0/8"], 404)
    # If-Match: revision_number=N (revision-if-match): 412 on a stale revision
    stale = api.request("PUT", f"/network/v2.0/address-groups/{gid}/add_addresses", demo_token,
                        json={"addresses": ["10.8.0.0/16"]},
                        headers={"If-Match": f"revision_number={removed['revision_number'] - 1}"})
    assert stale.status_code == 412, stale.text
    # neutron-tempest-plugin's test_remove_wrong_address_from_address_group
    assert change(api, demo_token, gid, "remove_addresses", ["this is bad IP address"], 400)["message"] == \
        "Invalid input for addresses. Reason: 'this is bad IP address' is not a valid IP subnet."


def test_concurrent_adds_are_all_kept(api, demo_token):
    """N clients each adding one address all end up in the group (the revision's
    compare-and-swap re-runs the losers on the winners' addresses)."""
    group = new_group(api, demo_token)
    wanted = [f"10.{80 + i}.0.0/16" for i in range(8)]
    codes: list[int] = []

    def add(address):
        codes.append(call(api, "PUT", f"/address-groups/{group['id']}/add_addresses", demo_token,
                          {"addresses": [address]}).status_code)
    threads = [threading.Thread(target=add, args=(address,)) for address in wanted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * len(wanted)
    shown = call(api, "GET", f"/address-groups/{group['id']}", demo_token, status=200).json()["address_group"]
    assert shown["addresses"] == sorted(wanted)
    assert shown["revision_number"] == group["revision_number"] + len(wanted)


def test_list_filters_sorts_pages_and_fields(api, demo_token, other):
    tag = unique("agl")
    made = [new_group(api, demo_token, name=f"{tag}-{n}", description=tag) for n in "cab"]
    foreign = new_group(api, other["token"], name=f"{tag}-z", description=tag)
    listed = call(api, "GET", f"/address-groups?description={tag}&sort_key=name&sort_dir=desc", demo_token,
                  status=200).json()["address_groups"]
    assert [g["name"] for g in listed] == [f"{tag}-{n}" for n in "cba"]  # never the other project's
    page = call(api, "GET", f"/address-groups?description={tag}&sort_key=name&sort_dir=asc&limit=2", demo_token,
                status=200).json()
    assert [g["name"] for g in page["address_groups"]] == [f"{tag}-a", f"{tag}-b"]
    assert page["address_groups_links"][0]["rel"] == "next"
    only = call(api, "GET", f"/address-groups?name={tag}-a&fields=id&fields=addresses", demo_token,
                status=200).json()["address_groups"]
    assert only == [{"id": made[1]["id"], "addresses": []}]
    assert error(api, "GET", "/address-groups?sort_key=addresses&sort_dir=asc", demo_token, None, 400)[
        "message"] == "['addresses'] is invalid attribute for sort_keys"
    admin_sees = call(api, "GET", f"/address-groups?description={tag}&project_id={other['id']}",
                      api.token("admin", "admin-secret", project="admin"), status=200).json()["address_groups"]
    assert [g["id"] for g in admin_sees] == [foreign["id"]]
    assert call(api, "GET", f"/address-groups/{foreign['id']}", demo_token, status=404)


def test_rules_with_a_remote_address_group(api, demo_token, other):
    group = new_group(api, demo_token, addresses=["10.20.0.0/24"])
    sg = create(api, demo_token, "security-groups", "security_group", {"name": unique("sg")})
    rule = create(api, demo_token, "security-group-rules", "security_group_rule", {
        "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
        "port_range_max": 22, "remote_address_group_id": group["id"]})
    assert rule["remote_address_group_id"] == group["id"]
    assert rule["remote_ip_prefix"] is None and rule["remote_group_id"] is None
    shown = call(api, "GET", f"/security-groups/{sg['id']}", demo_token, status=200).json()["security_group"]
    assert [r["remote_address_group_id"] for r in shown["security_group_rules"] if r["id"] == rule["id"]] == \
        [group["id"]]
    # The group's id is a filter and a sort key of rules; the same rule twice is a 409.
    found = call(api, "GET", f"/security-group-rules?remote_address_group_id={group['id']}"
                 "&sort_key=remote_address_group_id&sort_dir=asc", demo_token, status=200).json()
    assert [r["id"] for r in found["security_group_rules"]] == [rule["id"]]
    duplicate = create(api, demo_token, "security-group-rules", "security_group_rule", {
        "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
        "port_range_max": 22, "remote_address_group_id": group["id"]}, 409)
    assert duplicate["type"] == "SecurityGroupRuleExists"
    # One remote at most, with Neutron's message.
    for extra in ({"remote_ip_prefix": "10.0.0.0/8"}, {"remote_group_id": sg["id"]}):
        refused = create(api, demo_token, "security-group-rules", "security_group_rule", {
            "security_group_id": sg["id"], "direction": "egress", "remote_address_group_id": group["id"], **extra},
            400)
        assert refused == {"type": "SecurityGroupMultipleRemoteEntites", "detail": "",
                           "message": "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id "
                                      "may be provided."}
    # A group the caller does not see is not found.
    foreign = new_group(api, other["token"])
    missing = create(api, demo_token, "security-group-rules", "security_group_rule", {
        "security_group_id": sg["id"], "direction": "egress", "remote_address_group_id": foreign["id"]}, 404)
    assert missing["type"] == "AddressGroupNotFound"
    # In use: not deleted (409), until the rule goes.
    assert error(api, "DELETE", f"/address-groups/{group['id']}", demo_token, None, 409) == {
        "type": "AddressGroupInUse", "detail": "",
        "message": f"Address group {group['id']} is in use on one or more security group rules."}
    call(api, "DELETE", f"/security-group-rules/{rule['id']}", demo_token, status=204)
    call(api, "DELETE", f"/address-groups/{group['id']}", demo_token, status=204)


def test_shared_by_rbac_policy(api, demo_token, other):
    group = new_group(api, demo_token, addresses=["10.30.0.0/24"])
    path = f"/address-groups/{group['id']}"
    t = other["token"]
    call(api, "GET", path, t, status=404)
    policy = create(api, demo_token, "rbac-policies", "rbac_policy", {
        "object_type": "address_group", "object_id": group["id"], "action": "access_as_shared",
        "target_tenant": other["id"]})
    assert policy["object_type"] == "address_group"
    assert create(api, demo_token, "rbac-policies", "rbac_policy", {
        "object_type": "address_group", "object_id": group["id"], "action": "access_as_external",
        "target_tenant": other["id"]}, 400)["type"] == "InvalidActionForType"
    # The target reads it (no ``shared`` shown) and names it in its rules; changes nothing.
    seen = call(api, "GET", path, t, status=200).json()["address_group"]
    assert set(seen) == GROUP_KEYS and seen["addresses"] == ["10.30.0.0/24"]
    assert group["id"] in [g["id"] for g in call(api, "GET", "/address-groups", t, status=200).json()[
        "address_groups"]]
    # (An update is a 404 to it, as Neutron's policy hook answers: it checks the group
    # without ``shared``; a delete and the actions are 403s.)
    call(api, "PUT", path, t, {"address_group": {"name": "mine"}}, 404)
    call(api, "PUT", f"{path}/add_addresses", t, {"addresses": ["10.31.0.0/24"]}, 403)
    call(api, "PUT", f"{path}/remove_addresses", t, {"addresses": ["10.30.0.0/24"]}, 403)
    call(api, "DELETE", path, t, status=403)
    sg = create(api, t, "security-groups", "security_group", {"name": unique("sg")})
    rule = create(api, t, "security-group-rules", "security_group_rule", {
        "security_group_id": sg["id"], "direction": "ingress", "remote_address_group_id": group["id"]})
    # The policy its rule depends on stays; the group too (whose ever the rule is).
    assert error(api, "DELETE", f"/rbac-policies/{policy['id']}", demo_token, None, 409)["type"] == "RbacPolicyInUse"
    assert error(api, "DELETE", path, demo_token, None, 409)["type"] == "AddressGroupInUse"
    call(api, "DELETE", f"/security-group-rules/{rule['id']}", t, status=204)
    call(api, "DELETE", f"/rbac-policies/{policy['id']}", demo_token, status=204)
    call(api, "GET", path, t, status=404)
    # A deleted group takes its policies with it.
    again = create(api, demo_token, "rbac-policies", "rbac_policy", {
        "object_type": "address_group", "object_id": group["id"], "action": "access_as_shared",
        "target_tenant": other["id"]})
    call(api, "DELETE", path, demo_token, status=204)
    call(api, "GET", f"/rbac-policies/{again['id']}", demo_token, status=404)


def test_changes_reach_the_datapath(api, cloud, demo_token):
    driver = cloud.service("network").driver
    group = new_group(api, demo_token, addresses=["10.40.0.0/24"])
    assert driver.of("address_group_updated", group["id"])[-1]["addresses"] == ["10.40.0.0/24"]
    change(api, demo_token, group["id"], "add_addresses", ["10.41.0.1/32"])
    assert driver.of("address_group_updated", group["id"])[-1]["addresses"] == ["10.40.0.0/24", "10.41.0.1/32"]
    call(api, "DELETE", f"/address-groups/{group['id']}", demo_token, status=204)
    assert driver.of("address_group_deleted", group["id"])
    state = cloud.service("network").manager.datapath_state()
    assert "address_groups" in state and group["id"] not in [g["id"] for g in state["address_groups"]]


def test_policy_rules_are_registered():
    from pocketstack.network.policies import RULES

    names = {rule.name: rule for rule in RULES}
    for name in ("get_address_group", "create_address_group", "update_address_group", "delete_address_group",
                 "add_addresses", "remove_addresses", "shared_address_groups"):
        assert name in names and names[name].description
