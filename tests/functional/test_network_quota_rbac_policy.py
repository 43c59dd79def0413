"""The ``rbac_policy`` quota (neutron-tempest-plugin's test_rbac_policy_quota): API
creates are refused at the limit with Neutron's OverQuota; the policies an object's
``shared`` makes are counted but never refused; a slot comes back when its policy goes,
whether deleted itself or with its object."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from pocketstack.network.models import RbacPolicy

from conftest import unique

NET = "/network/v2.0"


def call(api, method, path, token, body=None, status=None):
    r = api.request(method, f"{NET}{path}", token, json=body)
    if status is not None:
        assert r.status_code == status, r.text
    return r


@pytest.fixture
def project(api, admin_token):
    """A new project with a member and an ``rbac_policy`` limit of 3."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("rbacq")}}).json()["project"]
    name = unique("rbacq-user")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-secret"}}).json()["user"]
    role_id = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}", admin_token)
    call(api, "PUT", f"/quotas/{project['id']}", admin_token, {"quota": {"rbac_policy": 3}}, 200)
    return {"id": project["id"], "token": api.token(name, "pw-secret", project=project["name"])}


def share(api, token, object_type, object_id, status=201):
    body = {"rbac_policy": {"object_type": object_type, "object_id": object_id, "action": "access_as_shared",
                            "target_tenant": uuid.uuid4().hex}}
    return call(api, "POST", "/rbac-policies", token, body, status)


def used(api, admin_token, project_id) -> int:
    return call(api, "GET", f"/quotas/{project_id}/details", admin_token, status=200).json()["quota"][
        "rbac_policy"]["used"]


def test_creates_beyond_the_limit_are_refused(api, admin_token, project):
    net = call(api, "POST", "/networks", project["token"], {"network": {"name": unique("n")}}, 201).json()["network"]
    policies = [share(api, project["token"], "network", net["id"]).json()["rbac_policy"] for _ in range(3)]
    refused = share(api, project["token"], "network", net["id"], status=409)
    assert refused.json()["NeutronError"] == {"type": "OverQuota", "detail": "",
                                              "message": "Quota exceeded for resources: ['rbac_policy']."}
    assert used(api, admin_token, project["id"]) == 3
    call(api, "DELETE", f"/rbac-policies/{policies[0]['id']}", project["token"], status=204)
    assert used(api, admin_token, project["id"]) == 2
    share(api, project["token"], "network", net["id"])
    # The network's delete takes its policies, and their slots.
    call(api, "DELETE", f"/networks/{net['id']}", project["token"], status=204)
    assert used(api, admin_token, project["id"]) == 0


def test_an_objects_delete_gives_its_policies_slots_back(api, admin_token, project):
    group = call(api, "POST", "/security-groups", project["token"],
                 {"security_group": {"name": unique("g")}}, 201).json()["security_group"]
    for _ in range(3):
        share(api, project["token"], "security_group", group["id"])
    share(api, project["token"], "security_group", group["id"], status=409)
    call(api, "DELETE", f"/security-groups/{group['id']}", project["token"], status=204)
    assert used(api, admin_token, project["id"]) == 0
    scope = call(api, "POST", "/address-scopes", project["token"],
                 {"address_scope": {"name": unique("s"), "ip_version": 4}}, 201).json()["address_scope"]
    for _ in range(3):
        share(api, project["token"], "address_scope", scope["id"])
    call(api, "DELETE", f"/address-scopes/{scope['id']}", project["token"], status=204)
    assert used(api, admin_token, project["id"]) == 0


def test_the_wildcard_policy_of_shared_is_counted_never_refused(api, admin_token, project):
    net = call(api, "POST", "/networks", project["token"], {"network": {"name": unique("n")}}, 201).json()["network"]
    for _ in range(3):
        share(api, project["token"], "network", net["id"])
    # The admin shares one of the project's networks: its wildcard policy is the project's.
    shared = call(api, "POST", "/networks", admin_token, {"network": {
        "name": unique("n"), "project_id": project["id"], "shared": True}}, 201).json()["network"]
    assert shared["shared"] is True
    assert used(api, admin_token, project["id"]) == 3
    call(api, "DELETE", f"/networks/{net['id']}", project["token"], status=204)
    # Room again: a network shared now takes a slot, and the API's creates count with it.
    call(api, "PUT", f"/networks/{shared['id']}", admin_token, {"network": {"shared": False}}, 200)
    call(api, "PUT", f"/networks/{shared['id']}", admin_token, {"network": {"shared": True}}, 200)
    assert used(api, admin_token, project["id"]) == 1
    for _ in range(2):
        share(api, project["token"], "network", shared["id"])
    share(api, project["token"], "network", shared["id"], status=409)


def test_slots_of_policies_gone_without_release_are_forgotten(api, admin_token, project):
    """A policy removed by its object's foreign key alone (no release on that path) holds
    no slot once the project next creates one."""
    net = call(api, "POST", "/networks", project["token"], {"network": {"name": unique("n")}}, 201).json()["network"]
    for _ in range(3):
        share(api, project["token"], "network", net["id"])
    with api.cloud.db.session() as s:
        s.execute(sa.delete(RbacPolicy).where(RbacPolicy.object_id == net["id"]))
    assert used(api, admin_token, project["id"]) == 3  # until the next create looks
    for _ in range(3):
        share(api, project["token"], "network", net["id"])
    assert used(api, admin_token, project["id"]) == 3


def test_racing_creates_commit_no_more_than_the_limit(api, admin_token, project):
    net = call(api, "POST", "/networks", project["token"], {"network": {"name": unique("n")}}, 201).json()["network"]
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda _: share(api, project["token"], "network", net["id"], status=None).status_code,
                                 range(12)))
    assert sorted(statuses) == [201] * 3 + [409] * 9
    assert used(api, admin_token, project["id"]) == 3
    listed = call(api, "GET", f"/rbac-policies?object_id={net['id']}", project["token"], status=200).json()
    assert len(listed["rbac_policies"]) == 3
