"""Metering labels and rules (Neutron's metering and metering_source_and_destination_fields
extensions): CRUD, Neutron's validation and errors, policies (a project's managers make
them, readers read them, other projects see none), a label's rules deleted with it, list
queries, and what reaches the datapath."""

from __future__ import annotations

import pytest
from test_network_rbac_scopes import call, create, error

from conftest import unique
from test_compute_helpers import new_member

LABEL_KEYS = {"id", "name", "description", "shared", "project_id", "tenant_id"}
RULE_KEYS = {"id", "metering_label_id", "direction", "remote_ip_prefix", "source_ip_prefix",
             "destination_ip_prefix", "excluded"}
LABELS, RULES = "metering/metering-labels", "metering/metering-label-rules"


@pytest.fixture(scope="module")
def manager(api, admin_token):
    """A manager of a fresh project, and a member and a reader of the same project."""
    first = new_member(api, admin_token, role="manager")
    member = new_member(api, admin_token, role="member", project=first["project"])
    reader = new_member(api, admin_token, role="reader", project=first["project"])
    return {"project": first["project"]["id"], "token": first["token"], "member": member["token"],
            "reader": reader["token"]}


def label(api, token, **attrs) -> dict:
    return create(api, token, LABELS, "metering_label", {"name": unique("ml"), **attrs})


def rule(api, token, label_id, status=201, **attrs) -> dict:
    return create(api, token, RULES, "metering_label_rule",
                  {"metering_label_id": label_id, "direction": "ingress", **attrs}, status)


def test_extensions_and_resources_are_listed(api, demo_token):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"metering", "metering_source_and_destination_fields"} <= aliases
    assert call(api, "GET", "/extensions/metering", demo_token, status=200).json()["extension"]["name"] == \
        "Neutron Metering"


def test_label_crud_as_neutron_shows_it(api, admin_token):
    created = label(api, admin_token, description="all traffic", shared=True)
    assert set(created) == LABEL_KEYS and created["shared"] is True
    assert created["tenant_id"] == created["project_id"] and created["description"] == "all traffic"
    path = f"/{LABELS}/{created['id']}"
    assert call(api, "GET", path, admin_token, status=200).json()["metering_label"] == created
    listed = call(api, "GET", f"/{LABELS}?id={created['id']}", admin_token, status=200).json()["metering_labels"]
    assert listed == [created]
    assert call(api, "GET", f"/{LABELS}?id=33", admin_token, status=200).json()["metering_labels"] == []
    # nothing of a label changes; no tags
    assert error(api, "PUT", path, admin_token, {"metering_label": {"name": "x"}}, 400)["message"] == \
        "Cannot update read-only attribute name"
    call(api, "PUT", f"{path}/tags/t1", admin_token, status=404)
    call(api, "DELETE", path, admin_token, status=204)
    assert error(api, "GET", path, admin_token, None, 404) == {
        "type": "MeteringLabelNotFound", "message": f"Metering label '{created['id']}' does not exist.",
        "detail": ""}
    call(api, "DELETE", path, admin_token, status=404)


def test_label_validation(api, admin_token):
    assert create(api, admin_token, LABELS, "metering_label", {"name": "x" * 256}, 400)["type"] == "HTTPBadRequest"
    assert create(api, admin_token, LABELS, "metering_label", {"description": "d" * 1024}, 201)
    create(api, admin_token, LABELS, "metering_label", {"description": "d" * 1025}, 400)
    create(api, admin_token, LABELS, "metering_label", {"shared": "maybe"}, 400)
    assert create(api, admin_token, LABELS, "metering_label", {"tags": ["a"]}, 400)["message"] == \
        "Unrecognized attribute(s) 'tags'"


def test_rules_crud_validation_and_overlaps(api, admin_token):
    owner = label(api, admin_token)
    made = rule(api, admin_token, owner["id"], remote_ip_prefix="10.0.1.0/24")
    assert set(made) == RULE_KEYS
    assert made == {**made, "direction": "ingress", "excluded": False, "remote_ip_prefix": "10.0.1.0/24",
                    "source_ip_prefix": None, "destination_ip_prefix": None}
    path = f"/{RULES}/{made['id']}"
    assert call(api, "GET", path, admin_token, status=200).json()["metering_label_rule"] == made
    # a bare address is its /32; source and destination together
    both = rule(api, admin_token, owner["id"], direction="egress", source_ip_prefix="192.0.2.1",
                destination_ip_prefix="198.51.100.0/24")
    assert (both["source_ip_prefix"], both["destination_ip_prefix"]) == ("192.0.2.1/32", "198.51.100.0/24")
    # overlapping remote prefixes of one label, direction and excluded: 409
    assert rule(api, admin_token, owner["id"], 409, remote_ip_prefix="10.0.1.128/25") == {
        "type": "MeteringLabelRuleOverlaps", "detail": "",
        "message": "Metering label rule with remote_ip_prefix '10.0.1.128/25' overlaps another."}
    rule(api, admin_token, owner["id"], remote_ip_prefix="10.0.1.128/25", excluded=True)
    rule(api, admin_token, owner["id"], remote_ip_prefix="10.0.1.0/24", direction="egress")
    # Neutron's plugin checks
    assert rule(api, admin_token, owner["id"], 400, remote_ip_prefix="10.0.0.0/8",
                source_ip_prefix="10.0.0.0/8")["message"] == (
        "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.")
    assert rule(api, admin_token, owner["id"], 400)["message"].startswith(
        "You must define at least one of the following parameters")
    assert rule(api, admin_token, owner["id"], 400, remote_ip_prefix="10.0.0.300/8")["type"] == "Invalid"
    assert rule(api, admin_token, owner["id"], 400, destination_ip_prefix=42)["type"] == "Invalid"
    rule(api, admin_token, owner["id"], 400, direction="sideways", remote_ip_prefix="10.9.0.0/16")
    create(api, admin_token, RULES, "metering_label_rule", {"metering_label_id": owner["id"],
                                                           "remote_ip_prefix": "10.9.0.0/16"}, 400)
    assert rule(api, admin_token, "00000000-0000-0000-0000-000000000000", 404,
                remote_ip_prefix="10.9.0.0/16")["type"] == "MeteringLabelNotFound"
    assert error(api, "PUT", path, admin_token, {"metering_label_rule": {"excluded": True}}, 400)["message"] == \
        "Cannot update read-only attribute excluded"
    # list filters; deleting the label deletes its rules
    rules = call(api, "GET", f"/{RULES}?metering_label_id={owner['id']}&direction=egress", admin_token,
                 status=200).json()["metering_label_rules"]
    assert sorted(r["id"] for r in rules) == sorted([both["id"], rules[0]["id"] if rules[0]["id"] != both["id"]
                                                     else rules[1]["id"]])
    assert all(r["direction"] == "egress" for r in rules) and len(rules) == 2
    call(api, "DELETE", path, admin_token, status=204)
    assert error(api, "GET", path, admin_token, None, 404)["type"] == "MeteringLabelRuleNotFound"
    call(api, "DELETE", f"/{LABELS}/{owner['id']}", admin_token, status=204)
    assert call(api, "GET", f"/{RULES}?metering_label_id={owner['id']}", admin_token,
                status=200).json()["metering_label_rules"] == []


def test_policies_managers_write_readers_read_others_see_nothing(api, admin_token, demo_token, manager):
    own = label(api, manager["token"])
    assert own["project_id"] == manager["project"]
    made = rule(api, manager["token"], own["id"], remote_ip_prefix="10.20.0.0/16")
    # members and readers of the project read, may not write
    for token in (manager["member"], manager["reader"]):
        assert call(api, "GET", f"/{LABELS}/{own['id']}", token, status=200).json()["metering_label"] == own
        assert call(api, "GET", f"/{RULES}/{made['id']}", token, status=200).json()["metering_label_rule"] == made
        create(api, token, LABELS, "metering_label", {"name": "no"}, 403)
        rule(api, token, own["id"], 403, remote_ip_prefix="10.21.0.0/16")
        call(api, "DELETE", f"/{RULES}/{made['id']}", token, status=403)
        call(api, "DELETE", f"/{LABELS}/{own['id']}", token, status=403)
    # another project sees neither, and cannot add a rule to the label
    call(api, "GET", f"/{LABELS}/{own['id']}", demo_token, status=404)
    call(api, "GET", f"/{RULES}/{made['id']}", demo_token, status=404)
    assert own["id"] not in {x["id"] for x in call(api, "GET", f"/{LABELS}", demo_token,
                                                   status=200).json()["metering_labels"]}
    assert made["id"] not in {x["id"] for x in call(api, "GET", f"/{RULES}", demo_token,
                                                    status=200).json()["metering_label_rules"]}
    rule(api, demo_token, own["id"], 404, remote_ip_prefix="10.22.0.0/16")
    call(api, "DELETE", f"/{LABELS}/{own['id']}", demo_token, status=404)
    # the admin sees everything; the manager deletes
    call(api, "GET", f"/{RULES}/{made['id']}", admin_token, status=200)
    call(api, "DELETE", f"/{RULES}/{made['id']}", manager["token"], status=204)
    call(api, "DELETE", f"/{LABELS}/{own['id']}", manager["token"], status=204)


def test_datapath_is_told_label_and_rules(api, admin_token, cloud):
    driver = cloud.service("network").driver
    owner = label(api, admin_token)
    assert driver.of("metering_label_updated", owner["id"])[-1]["rules"] == []
    made = rule(api, admin_token, owner["id"], remote_ip_prefix="10.30.0.0/16", excluded=True)
    told = driver.of("metering_label_updated", owner["id"])[-1]
    assert [(r["id"], r["excluded"], r["remote_ip_prefix"]) for r in told["rules"]] == [
        (made["id"], True, "10.30.0.0/16")]
    assert told["shared"] is False and told["project_id"] == owner["project_id"]
    call(api, "DELETE", f"/{LABELS}/{owner['id']}", admin_token, status=204)
    assert driver.of("metering_label_deleted", owner["id"])
