"""Neutron's QoS extension: policies with their rules embedded, each rule type's routes
and checks (ranges, directions, DSCP marks, one rule per type and direction, a minimum
above a limit), the rule types, one default policy per project, policies bound to
networks and ports (a policy not seen is a 404, one in use cannot go), sharing, and who
may do what (a project's managers and admins change policies; members bind them)."""

from __future__ import annotations

import threading
import uuid

import pytest

from conftest import unique

NET = "/network/v2.0"
QOS = "/qos/policies"


def call(api, method, path, token, body=None, status=None):
    r = api.request(method, f"{NET}{path}", token, json=body)
    if status is not None:
        assert r.status_code == status, r.text
    return r


def error(api, method, path, token, body, status) -> dict:
    return call(api, method, path, token, body, status).json()["NeutronError"]


def _user(api, admin_token, project: dict, role_name: str) -> str:
    name = unique(f"qos{role_name}")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-secret"}}).json()["user"]
    role = api.request("GET", f"/identity/v3/roles?name={role_name}", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role}", admin_token)
    return api.token(name, "pw-secret", project=project["name"])


@pytest.fixture(scope="module")
def project(api, admin_token):
    """A project with a manager (who makes policies) and a member (who binds them)."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("qosproj")}}).json()["project"]
    return {"id": project["id"], "manager": _user(api, admin_token, project, "manager"),
            "member": _user(api, admin_token, project, "member")}


def policy(api, token, status=201, **attrs) -> dict:
    body = {"name": unique("qos"), **attrs}
    r = call(api, "POST", QOS, token, {"policy": body}, status)
    return r.json()["policy"] if status == 201 else r.json()["NeutronError"]


def rule(api, token, policy_id, kind, body, status=201) -> dict:
    r = call(api, "POST", f"{QOS}/{policy_id}/{kind}_rules", token, {f"{kind}_rule": body}, status)
    return r.json()[f"{kind}_rule"] if status == 201 else r.json()["NeutronError"]


# -- discovery and rule types ---------------------------------------------------------------------
def test_extensions_and_rule_types(api, admin_token, demo_token):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"qos", "qos-bw-limit-direction", "qos-bw-minimum-ingress", "qos-default", "qos-rule-type-details",
            "qos-rules-alias", "qos-port-network-policy"} <= aliases
    types = call(api, "GET", "/qos/rule-types", demo_token, status=200).json()["rule_types"]
    assert types == [{"type": "bandwidth_limit"}, {"type": "dscp_marking"}, {"type": "minimum_bandwidth"}]
    shown = call(api, "GET", "/qos/rule-types/bandwidth_limit", admin_token, status=200).json()["rule_type"]
    assert shown["type"] == "bandwidth_limit"
    params = {p["parameter_name"]: p for p in shown["drivers"][0]["supported_parameters"]}
    assert params["direction"]["parameter_values"] == ["ingress", "egress"]
    assert params["max_kbps"]["parameter_values"] == {"start": 0, "end": 2147483647}
    assert call(api, "GET", "/qos/rule-types/packet_rate_limit", admin_token, status=200).json()["rule_type"] == {
        "type": "packet_rate_limit", "drivers": []}
    assert error(api, "GET", "/qos/rule-types/bandwidth_limit", demo_token, None, 403)["type"] == "NotAuthorized"
    assert error(api, "GET", "/qos/rule-types/nonsense", admin_token, None, 400)["type"] == "HTTPBadRequest"


# -- policies ---------------------------------------------------------------------------------------
def test_policy_crud_with_rules_embedded(api, project):
    token = project["manager"]
    created = policy(api, token, description="10 Mbit/s", shared=False)
    assert {k: created[k] for k in ("description", "shared", "is_default", "rules", "project_id", "tenant_id",
                                    "revision_number", "tags")} == {
        "description": "10 Mbit/s", "shared": False, "is_default": False, "rules": [], "project_id": project["id"],
        "tenant_id": project["id"], "revision_number": 0, "tags": []}
    assert created["created_at"] and created["updated_at"]
    bw = rule(api, token, created["id"], "bandwidth_limit", {"max_kbps": 10000})
    assert bw == {"id": bw["id"], "max_kbps": 10000, "max_burst_kbps": 0, "direction": "egress"}
    dscp = rule(api, token, created["id"], "dscp_marking", {"dscp_mark": "26"})
    assert dscp == {"id": dscp["id"], "dscp_mark": 26}
    shown = call(api, "GET", f"{QOS}/{created['id']}", token, status=200).json()["policy"]
    assert shown["revision_number"] == 2  # each rule change is a new revision of the policy
    assert shown["rules"] == [
        {"id": bw["id"], "qos_policy_id": created["id"], "type": "bandwidth_limit", "max_kbps": 10000,
         "max_burst_kbps": 0, "direction": "egress"},
        {"id": dscp["id"], "qos_policy_id": created["id"], "type": "dscp_marking", "dscp_mark": 26}]
    # the datapath is told the policy with its rules (the Linux one limits bandwidth with them)
    told = api.cloud.service("network").driver.of("qos_policy_updated", created["id"])[-1]
    assert told["rules"] == shown["rules"]
    updated = call(api, "PUT", f"{QOS}/{created['id']}", token, {"policy": {"name": "renamed",
                                                                             "description": ""}}, 200)
    assert updated.json()["policy"]["name"] == "renamed"
    listed = call(api, "GET", f"{QOS}?name=renamed&fields=id&fields=rules", token, status=200).json()["policies"]
    assert listed == [{"id": created["id"], "rules": shown["rules"]}]
    call(api, "PUT", f"{QOS}/{created['id']}/tags/gold", token, status=201)
    assert call(api, "GET", f"{QOS}?tags=gold", token, status=200).json()["policies"][0]["id"] == created["id"]
    call(api, "DELETE", f"{QOS}/{created['id']}", token, status=204)
    assert api.cloud.service("network").driver.of("qos_policy_deleted", created["id"])
    assert error(api, "GET", f"{QOS}/{created['id']}", token, None, 404)["type"] == "QosPolicyNotFound"
    # the rules went with it
    call(api, "GET", f"/qos/alias_bandwidth_limit_rules/{bw['id']}", token, status=404)


def test_policy_list_sorts_and_pages(api, project):
    token = project["manager"]
    ids = sorted(policy(api, token, name=f"page-{n}")["id"] for n in range(3))
    page = call(api, "GET", f"{QOS}?sort_key=id&sort_dir=asc&limit=2&name=page-0&name=page-1&name=page-2", token,
                status=200).json()
    assert [p["id"] for p in page["policies"]] == ids[:2]
    assert page["policies_links"][0]["rel"] == "next"
    rest = call(api, "GET", f"{QOS}?sort_key=id&sort_dir=asc&limit=2&marker={ids[1]}&name=page-0&name=page-1"
                            f"&name=page-2", token, status=200).json()["policies"]
    assert [p["id"] for p in rest] == ids[2:]
    assert error(api, "GET", f"{QOS}?sort_key=shared&sort_dir=asc", token, None, 400)["type"] == "HTTPBadRequest"
    for policy_id in ids:
        call(api, "DELETE", f"{QOS}/{policy_id}", token, status=204)


def test_policy_bad_input(api, project):
    token = project["manager"]
    assert policy(api, token, status=400, rules=[])["message"].startswith("Attribute 'rules' not allowed in POST")
    assert "Unrecognized attribute" in policy(api, token, status=400, color="red")["message"]
    policy(api, token, status=400, shared="yes please")
    policy(api, token, status=400, name="x" * 256)
    created = policy(api, token)
    error(api, "PUT", f"{QOS}/{created['id']}", token, {"policy": {"rules": []}}, 400)
    error(api, "PUT", f"{QOS}/{created['id']}", token, {"policy": {"id": str(uuid.uuid4())}}, 400)
    error(api, "PUT", f"{QOS}/{uuid.uuid4()}", token, {"policy": {"name": "x"}}, 404)
    call(api, "DELETE", f"{QOS}/{created['id']}", token, status=204)


def test_one_default_policy_per_project(api, project, admin_token):
    token = project["manager"]
    first = policy(api, token, is_default=True)
    assert first["is_default"] is True
    clash = policy(api, token, status=409, is_default=True)
    assert clash["type"] == "QoSPolicyDefaultAlreadyExists"
    second = policy(api, token)
    assert error(api, "PUT", f"{QOS}/{second['id']}", token, {"policy": {"is_default": True}},
                 409)["type"] == "QoSPolicyDefaultAlreadyExists"
    assert [p["id"] for p in call(api, "GET", f"{QOS}?is_default=true", token, status=200).json()["policies"]] == [
        first["id"]]
    # another project has a default of its own
    other = policy(api, admin_token, is_default=True)
    # a network made without a policy gets its project's default (Neutron's qos-default)
    network = call(api, "POST", "/networks", project["member"], {"network": {"name": unique("qosnet")}},
                   201).json()["network"]
    assert network["qos_policy_id"] == first["id"]
    call(api, "PUT", f"/networks/{network['id']}", project["member"], {"network": {"qos_policy_id": None}}, 200)
    call(api, "DELETE", f"/networks/{network['id']}", project["member"], status=204)
    call(api, "PUT", f"{QOS}/{first['id']}", token, {"policy": {"is_default": False}}, 200)
    assert call(api, "PUT", f"{QOS}/{second['id']}", token, {"policy": {"is_default": True}},
                200).json()["policy"]["is_default"] is True
    for policy_id in (first["id"], second["id"]):
        call(api, "DELETE", f"{QOS}/{policy_id}", token, status=204)
    call(api, "DELETE", f"{QOS}/{other['id']}", admin_token, status=204)


# -- rules ------------------------------------------------------------------------------------------
def test_rule_crud_and_alias(api, project):
    token = project["manager"]
    pid = policy(api, token)["id"]
    egress = rule(api, token, pid, "bandwidth_limit", {"max_kbps": 1000, "max_burst_kbps": 800})
    ingress = rule(api, token, pid, "bandwidth_limit", {"max_kbps": 2000, "direction": "ingress"})
    minimum = rule(api, token, pid, "minimum_bandwidth", {"min_kbps": 500})
    assert minimum == {"id": minimum["id"], "min_kbps": 500, "direction": "egress"}
    listed = call(api, "GET", f"{QOS}/{pid}/bandwidth_limit_rules?sort_key=max_kbps&sort_dir=desc", token,
                  status=200).json()["bandwidth_limit_rules"]
    assert [r["id"] for r in listed] == [ingress["id"], egress["id"]]
    assert call(api, "GET", f"{QOS}/{pid}/bandwidth_limit_rules?direction=ingress", token,
                status=200).json()["bandwidth_limit_rules"] == [ingress]
    assert call(api, "GET", f"{QOS}/{pid}/bandwidth_limit_rules/{egress['id']}", token,
                status=200).json()["bandwidth_limit_rule"] == egress
    changed = call(api, "PUT", f"{QOS}/{pid}/bandwidth_limit_rules/{egress['id']}", token,
                   {"bandwidth_limit_rule": {"max_kbps": "1500"}}, 200).json()["bandwidth_limit_rule"]
    assert changed == {**egress, "max_kbps": 1500}
    # the same rule by its id alone (qos-rules-alias)
    alias = f"/qos/alias_bandwidth_limit_rules/{egress['id']}"
    assert call(api, "GET", alias, token, status=200).json()["alias_bandwidth_limit_rule"]["max_kbps"] == 1500
    assert call(api, "PUT", alias, token, {"alias_bandwidth_limit_rule": {"max_burst_kbps": 0}},
                200).json()["alias_bandwidth_limit_rule"]["max_burst_kbps"] == 0
    # a rule of another type is not found under this type's routes
    assert error(api, "GET", f"{QOS}/{pid}/dscp_marking_rules/{egress['id']}", token, None,
                 404)["type"] == "QosRuleNotFound"
    call(api, "DELETE", alias, token, status=204)
    call(api, "DELETE", f"{QOS}/{pid}/minimum_bandwidth_rules/{minimum['id']}", token, status=204)
    assert error(api, "DELETE", f"{QOS}/{pid}/minimum_bandwidth_rules/{minimum['id']}", token, None,
                 404)["type"] == "QosRuleNotFound"
    assert error(api, "GET", f"{QOS}/{uuid.uuid4()}/bandwidth_limit_rules", token, None,
                 404)["type"] == "QosPolicyNotFound"
    shown = call(api, "GET", f"{QOS}/{pid}", token, status=200).json()["policy"]
    assert [r["id"] for r in shown["rules"]] == [ingress["id"]]
    call(api, "DELETE", f"{QOS}/{pid}", token, status=204)


def test_rule_validation(api, project):
    token = project["manager"]
    pid = policy(api, token)["id"]
    for body in ({"max_kbps": -1}, {"max_kbps": 2 ** 31}, {"max_kbps": "ten"}, {"max_kbps": 10, "max_burst_kbps": -5},
                 {"max_kbps": 10, "direction": "sideways"}, {"max_kbps": None}, {}, {"max_kbps": 10, "tenant_id": "x"},
                 {"max_kbps": 10, "id": str(uuid.uuid4())}):
        rule(api, token, pid, "bandwidth_limit", body, status=400)
    for mark in (7, 64, -1, "af41"):
        rule(api, token, pid, "dscp_marking", {"dscp_mark": mark}, status=400)
    assert "9 is not in [0, 8, 10" in rule(api, token, pid, "dscp_marking", {"dscp_mark": 9}, status=400)["message"]
    rule(api, token, pid, "minimum_bandwidth", {"min_kbps": 1, "direction": "both"}, status=400)
    call(api, "POST", f"{QOS}/{pid}/bandwidth_limit_rules", token, {"dscp_marking_rule": {"dscp_mark": 8}}, 400)
    call(api, "POST", f"{QOS}/{pid}/bandwidth_limit_rules", token, ["not", "an", "object"], 400)
    # one rule per type and direction (one DSCP rule)
    rule(api, token, pid, "bandwidth_limit", {"max_kbps": 100})
    ingress = rule(api, token, pid, "bandwidth_limit", {"max_kbps": 100, "direction": "ingress"})
    assert rule(api, token, pid, "bandwidth_limit", {"max_kbps": 5}, status=409)["type"] == "QoSRulesConflict"
    assert error(api, "PUT", f"{QOS}/{pid}/bandwidth_limit_rules/{ingress['id']}", token,
                 {"bandwidth_limit_rule": {"direction": "egress"}}, 409)["type"] == "QoSRulesConflict"
    rule(api, token, pid, "dscp_marking", {"dscp_mark": 0})
    assert rule(api, token, pid, "dscp_marking", {"dscp_mark": 8}, status=409)["type"] == "QoSRulesConflict"
    # a minimum above the same direction's limit, and a limit below its minimum
    conflict = rule(api, token, pid, "minimum_bandwidth", {"min_kbps": 101}, status=409)
    assert conflict["type"] == "QoSRuleParameterConflict"
    minimum = rule(api, token, pid, "minimum_bandwidth", {"min_kbps": 100})
    # the other direction's limit may be below it
    call(api, "PUT", f"{QOS}/{pid}/bandwidth_limit_rules/{ingress['id']}", token,
         {"bandwidth_limit_rule": {"max_kbps": 50, "direction": "ingress"}}, 200)
    assert error(api, "PUT", f"{QOS}/{pid}/minimum_bandwidth_rules/{minimum['id']}", token,
                 {"minimum_bandwidth_rule": {"min_kbps": 200}}, 409)["type"] == "QoSRuleParameterConflict"
    call(api, "DELETE", f"{QOS}/{pid}", token, status=204)


# -- bindings -----------------------------------------------------------------------------------------
def test_networks_and_ports_bind_policies(api, project, admin_token, demo_token):
    manager, member = project["manager"], project["member"]
    mine = policy(api, manager)
    net_body = {"network": {"name": unique("qosnet"), "qos_policy_id": mine["id"]}}
    network = call(api, "POST", "/networks", member, net_body, 201).json()["network"]
    assert network["qos_policy_id"] == mine["id"]
    port = call(api, "POST", "/ports", member, {"port": {"network_id": network["id"]}}, 201).json()["port"]
    assert (port["qos_policy_id"], port["qos_network_policy_id"]) == (None, mine["id"])
    port = call(api, "PUT", f"/ports/{port['id']}", member, {"port": {"qos_policy_id": mine["id"]}},
                200).json()["port"]
    assert port["qos_policy_id"] == mine["id"]
    # in use: 409 naming what uses it
    in_use = error(api, "DELETE", f"{QOS}/{mine['id']}", manager, None, 409)
    assert in_use["type"] == "QosPolicyInUse" and port["id"] in in_use["message"]
    # a policy the project does not see (the admin's, not shared) is not found; a bad id is a 400
    private = policy(api, admin_token)
    for path, key in ((f"/ports/{port['id']}", "port"), (f"/networks/{network['id']}", "network")):
        assert error(api, "PUT", path, member, {key: {"qos_policy_id": private["id"]}},
                     404)["type"] == "QosPolicyNotFound"
        assert error(api, "PUT", path, member, {key: {"qos_policy_id": "not-a-uuid"}},
                     400)["type"] == "HTTPBadRequest"
    error(api, "POST", "/networks", member, {"network": {"qos_policy_id": private["id"]}}, 404)
    error(api, "POST", "/ports", member, {"port": {"network_id": network["id"], "qos_policy_id": str(uuid.uuid4())}},
          404)
    # the admin binds its private policy to the project's port: the project may not take it off
    call(api, "PUT", f"/ports/{port['id']}", admin_token, {"port": {"qos_policy_id": private["id"]}}, 200)
    assert error(api, "PUT", f"/ports/{port['id']}", member, {"port": {"qos_policy_id": None}},
                 403)["type"] == "PolicyRemoveAuthorizationError"
    call(api, "PUT", f"/ports/{port['id']}", admin_token, {"port": {"qos_policy_id": None}}, 200)
    call(api, "PUT", f"/networks/{network['id']}", member, {"network": {"qos_policy_id": None}}, 200)
    call(api, "DELETE", f"{QOS}/{mine['id']}", manager, status=204)
    call(api, "DELETE", f"/ports/{port['id']}", member, status=204)
    call(api, "DELETE", f"/networks/{network['id']}", member, status=204)
    call(api, "DELETE", f"{QOS}/{private['id']}", admin_token, status=204)


def test_shared_policy_and_who_may_change_it(api, project, admin_token, demo_token):
    shared = policy(api, admin_token, shared=True)
    bw = rule(api, admin_token, shared["id"], "bandwidth_limit", {"max_kbps": 10})
    # every project sees a shared policy, with its rules, and binds it
    seen = call(api, "GET", f"{QOS}/{shared['id']}", demo_token, status=200).json()["policy"]
    assert seen["shared"] is True and seen["rules"][0]["id"] == bw["id"]
    network = call(api, "POST", "/networks", project["member"], {"network": {"qos_policy_id": shared["id"]}},
                   201).json()["network"]
    # ... but not its rules on their own (not its project's), nor change it
    error(api, "GET", f"{QOS}/{shared['id']}/bandwidth_limit_rules/{bw['id']}", demo_token, None, 404)
    assert call(api, "GET", f"{QOS}/{shared['id']}/bandwidth_limit_rules", demo_token,
                status=200).json()["bandwidth_limit_rules"] == []
    error(api, "PUT", f"{QOS}/{shared['id']}", demo_token, {"policy": {"name": "mine"}}, 403)
    error(api, "DELETE", f"{QOS}/{shared['id']}", project["manager"], None, 403)
    rule(api, project["manager"], shared["id"], "dscp_marking", {"dscp_mark": 8}, status=403)
    # unsharing it would leave the project's network with a policy it cannot see
    assert error(api, "PUT", f"{QOS}/{shared['id']}", admin_token, {"policy": {"shared": False}},
                 409)["type"] == "RbacPolicyInUse"
    call(api, "DELETE", f"/networks/{network['id']}", project["member"], status=204)
    call(api, "PUT", f"{QOS}/{shared['id']}", admin_token, {"policy": {"shared": False}}, 200)
    error(api, "GET", f"{QOS}/{shared['id']}", demo_token, None, 404)
    call(api, "DELETE", f"{QOS}/{shared['id']}", admin_token, status=204)


def test_members_and_readers_do_not_make_policies(api, project, demo_token):
    """Neutron's defaults: a project's managers (and admins) make policies and rules."""
    assert policy(api, demo_token, status=403)["type"] == "PolicyNotAuthorized"
    mine = policy(api, project["manager"])
    rule(api, project["member"], mine["id"], "bandwidth_limit", {"max_kbps": 1}, status=403)
    error(api, "PUT", f"{QOS}/{mine['id']}", project["member"], {"policy": {"name": "x"}}, 403)
    # the member reads the project's policy and its rules
    call(api, "GET", f"{QOS}/{mine['id']}/bandwidth_limit_rules", project["member"], status=200)
    # another project does not see it at all
    error(api, "GET", f"{QOS}/{mine['id']}", demo_token, None, 404)
    error(api, "DELETE", f"{QOS}/{mine['id']}", demo_token, None, 404)
    # A create is checked against the policy as an admin finds it: refused, not hidden (Neutron).
    error(api, "POST", f"{QOS}/{mine['id']}/dscp_marking_rules", demo_token, {"dscp_marking_rule": {"dscp_mark": 8}},
          403)
    call(api, "DELETE", f"{QOS}/{mine['id']}", project["manager"], status=204)


def test_alias_update_bad_input(api, project):
    token = project["manager"]
    pid = policy(api, token)["id"]
    bw = rule(api, token, pid, "bandwidth_limit", {"max_kbps": 10})
    alias = f"/qos/alias_bandwidth_limit_rules/{bw['id']}"
    call(api, "PUT", alias, token, {"bandwidth_limit_rule": {"max_kbps": 5}}, 400)  # the alias key is required
    assert "Unrecognized attribute" in error(api, "PUT", alias, token,
                                             {"alias_bandwidth_limit_rule": {"dscp_mark": 8}}, 400)["message"]
    error(api, "PUT", alias, token, {"alias_bandwidth_limit_rule": {"max_kbps": -1}}, 400)
    assert error(api, "GET", f"/qos/alias_dscp_marking_rules/{bw['id']}", token, None,
                 404)["type"] == "QosRuleNotFound"
    call(api, "DELETE", f"{QOS}/{pid}", token, status=204)


def _race(*calls):
    """Run the calls at once; their responses, in order."""
    results: list = [None] * len(calls)

    def run(i, fn):
        results[i] = fn()
    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_rule_changes(api, project):
    """One rule per type and direction holds under concurrent creates; rules of distinct
    directions all land, each a revision of the policy."""
    token = project["manager"]
    pid = policy(api, token)["id"]
    path = f"{QOS}/{pid}/bandwidth_limit_rules"
    same = _race(*[lambda n=n: call(api, "POST", path, token, {"bandwidth_limit_rule": {"max_kbps": n + 1}})
                   for n in range(4)])
    assert sorted(r.status_code for r in same) == [201, 409, 409, 409]
    assert all(r.json()["NeutronError"]["type"] == "QoSRulesConflict" for r in same if r.status_code == 409)
    kinds = _race(lambda: call(api, "POST", path, token, {"bandwidth_limit_rule": {"max_kbps": 9,
                                                                                   "direction": "ingress"}}),
                  lambda: call(api, "POST", f"{QOS}/{pid}/dscp_marking_rules", token,
                               {"dscp_marking_rule": {"dscp_mark": 8}}))
    assert [r.status_code for r in kinds] == [201, 201]
    shown = call(api, "GET", f"{QOS}/{pid}", token, status=200).json()["policy"]
    assert len(shown["rules"]) == 3 and shown["revision_number"] == 3
    call(api, "DELETE", f"{QOS}/{pid}", token, status=204)


def test_binding_races_with_delete(api, project):
    """A port bound to a policy while the policy is deleted: one of the two wins, and no
    port is left bound to a policy that is gone."""
    network = call(api, "POST", "/networks", project["member"], {"network": {"name": unique("qosrace")}},
                   201).json()["network"]
    for _ in range(3):
        pid = policy(api, project["manager"])["id"]
        port, gone = _race(
            lambda pid=pid: call(api, "POST", "/ports", project["member"], {"port": {
                "network_id": network["id"], "qos_policy_id": pid}}),
            lambda pid=pid: call(api, "DELETE", f"{QOS}/{pid}", project["manager"]))
        assert (port.status_code, gone.status_code) in ((201, 409), (404, 204)), (port.text, gone.text)
        if port.status_code == 201:
            call(api, "DELETE", f"/ports/{port.json()['port']['id']}", project["member"], status=204)
            call(api, "DELETE", f"{QOS}/{pid}", project["manager"], status=204)
    call(api, "DELETE", f"/networks/{network['id']}", project["member"], status=204)
