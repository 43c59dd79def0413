"""Host aggregates, server groups, services and hosts without a cloud: the parsing
functions and the handlers on a real compute schema."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from compute_api_support import ADMIN, MEMBER, READER, call, caller, database, spec

from pocketstack.common.api.microversions import Version
from pocketstack.common.errors import ApiError, Forbidden
from pocketstack.compute import errors
from pocketstack.compute.aggregates import Aggregates
from pocketstack.compute.api import hosts, os_hosts, server_groups
from pocketstack.compute.api.aggregates import AggregatesApi
from pocketstack.compute.api.server_groups import ServerGroupsApi
from pocketstack.compute.quotas import Quotas
from pocketstack.compute.server_groups import ServerGroups


@pytest.fixture
def db(tmp_path):
    return database(tmp_path)


def test_aggregates(db):
    api = AggregatesApi(Aggregates(db))
    made = call(api, "POST", "/v2.1/os-aggregates", caller(*ADMIN), version="2.41",
                body={"aggregate": {"name": "a1", "availability_zone": "z1"}})["aggregate"]
    assert "hosts" not in made and made["availability_zone"] == "z1" and made["uuid"]
    path = "/v2.1/os-aggregates/{aggregate_id}"
    params = {"aggregate_id": str(made["id"])}
    assert "uuid" not in call(api, "GET", path, caller(*ADMIN), params=params)["aggregate"]
    changed = call(api, "POST", path + "/action", caller(*ADMIN), params=params,
                   body={"set_metadata": {"metadata": {"k": "v"}}})["aggregate"]
    assert changed["metadata"] == {"availability_zone": "z1", "k": "v"}
    with pytest.raises(errors.ComputeHostNotFound, match="Compute host h9 could not be found."):
        call(api, "POST", path + "/action", caller(*ADMIN), params=params, body={"add_host": {"host": "h9"}})
    with pytest.raises(Forbidden):  # the action's rule, named by the body
        call(api, "POST", path + "/action", caller(*MEMBER), params=params, body={"remove_host": {"host": "h"}})
    # Nova has no rule against the zone its services report in: ``internal`` is a zone.
    renamed = call(api, "PUT", path, caller(*ADMIN), params=params,
                   body={"aggregate": {"availability_zone": "internal"}})["aggregate"]
    assert renamed["availability_zone"] == "internal"
    assert call(api, "DELETE", path, caller(*ADMIN), params=params).status_code == 200
    with pytest.raises(errors.AggregateNotFound, match=f"Aggregate {made['id']} could not be found."):
        call(api, "GET", path, caller(*ADMIN), params=params)


def test_server_group_create_request_by_microversion():
    old = {"server_group": {"name": "g", "policies": ["affinity"]}}
    assert server_groups.create_request(old, at_2_64=False) == ("g", "affinity", {})
    new = {"server_group": {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": "2"}}}
    assert server_groups.create_request(new, at_2_64=True) == ("g", "anti-affinity", {"max_server_per_host": 2})
    with pytest.raises(ApiError) as raised:  # the old body is not the 2.64 one
        server_groups.create_request(old, at_2_64=True)
    assert raised.value.status == 400
    assert server_groups.all_projects({"all_projects": ""}) and server_groups.all_projects({"all_projects": "yes"})
    assert not server_groups.all_projects({}) and not server_groups.all_projects({"all_projects": "0"})


def test_server_groups(db):
    api = ServerGroupsApi(ServerGroups(db, Quotas(db)))
    with pytest.raises(Forbidden):  # a reader may not create, whatever the body
        call(api, "POST", "/v2.1/os-server-groups", caller(*READER), body={})
    made = call(api, "POST", "/v2.1/os-server-groups", caller(*MEMBER), version="2.64",
                body={"server_group": {"name": "g", "policy": "affinity"}})["server_group"]
    assert made["policy"] == "affinity" and made["project_id"] == "p1" and made["members"] == []
    path, params = "/v2.1/os-server-groups/{group_id}", {"group_id": made["id"]}
    shown = call(api, "GET", path, caller(*READER), params=params)["server_group"]
    assert shown["policies"] == ["affinity"] and shown["metadata"] == {} and "project_id" not in shown
    with pytest.raises(errors.InstanceGroupNotFound):  # another project's: not revealed
        call(api, "GET", path, caller(*READER, project="p2"), params=params)
    assert call(api, "GET", "/v2.1/os-server-groups", caller(*ADMIN, project="p2"),
                query="all_projects=1")["server_groups"][0]["id"] == made["id"]
    with pytest.raises(Forbidden):
        call(api, "GET", "/v2.1/os-server-groups", caller(*READER), query="all_projects=1")
    assert call(api, "DELETE", path, caller(*MEMBER), params=params) is None


def test_service_changes():
    assert hosts.service_changes({"status": "disabled", "disabled_reason": "r"}) == {
        "disabled": True, "disabled_reason": "r"}
    assert hosts.service_changes({"status": "enabled", "disabled_reason": "r"}) == {
        "disabled": False, "disabled_reason": None}
    assert hosts.service_changes({"forced_down": True}) == {"forced_down": True}
    with pytest.raises(errors.DisabledReasonWithoutStatus):
        hosts.service_changes({"disabled_reason": "r"})


def test_service_ids_and_uptime():
    node = SimpleNamespace(service_id="6f1c0a4e-8c55-4f39-9a36-4cf0c3a1f2b7")
    new = SimpleNamespace(at_least=lambda major, minor: True)
    old = SimpleNamespace(at_least=lambda major, minor: False)
    assert hosts.service_id(new, node) == node.service_id
    assert hosts.service_id(new, node, "nova-scheduler") == "nova-scheduler-" + node.service_id
    assert hosts.service_id(old, node) % 4 == 0 and hosts.service_id(old, node, "nova-conductor") % 4 == 2
    assert hosts.uptime_text(dt.datetime(2026, 1, 1, 9, 5, 7), 2 * 86400 + 3 * 3600 + 4 * 60) == \
        " 09:05:07 up 2 days,  3:04"


def test_os_hosts_resources_and_range():
    node = SimpleNamespace(vcpus=8, memory_mb=4096, local_gb=100)
    servers = [SimpleNamespace(project_id="p1", flavor={"vcpus": 2, "ram": 512, "disk": 5, "ephemeral": 1}),
               SimpleNamespace(project_id="p1", flavor={"vcpus": 1, "ram": 256, "disk": 1})]
    rows = os_hosts.resource_rows(node, {"VCPU": 3, "MEMORY_MB": 768}, servers)
    assert rows == [("(total)", 8, 4096, 100), ("(used_now)", 3, 768, 0), ("(used_max)", 3, 768, 0),
                    ("p1", 3, 768, 7)]
    route = spec(os_hosts.HostsApi(None, None, None), "GET", "/v2.1/os-hosts")
    assert route.serves(Version(2, 42)) and not route.serves(Version(2, 43))
