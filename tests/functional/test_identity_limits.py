"""Unified limits through the Keystone v3 API: ``/v3/registered_limits``, ``/v3/limits``
and ``/v3/limits/model``, with Keystone's status codes, messages and policy defaults
(keystone/limit/, keystone/api/limits.py, keystone/common/policies/limit.py)."""

from __future__ import annotations

import pytest
from test_identity_trusts import assert_error, grant, new_user, password_token, role_id

from conftest import unique

V3 = "/identity/v3"
REGISTERED = f"{V3}/registered_limits"
LIMITS = f"{V3}/limits"


def create(api, token, path, key, body):
    return api.request("POST", f"{V3}/{path}", token, json={key: body})


@pytest.fixture
def service(api, admin_token):
    r = create(api, admin_token, "services", "service", {"type": unique("quota"), "name": unique("svc")})
    assert r.status_code == 201, r.text
    return r.json()["service"]["id"]


@pytest.fixture
def region(api, admin_token):
    r = create(api, admin_token, "regions", "region", {"id": unique("lim-region")})
    assert r.status_code == 201, r.text
    return r.json()["region"]["id"]


@pytest.fixture
def project(api, admin_token):
    return create(api, admin_token, "projects", "project", {"name": unique("lim-p")}).json()["project"]


def register(api, admin_token, *items):
    r = api.request("POST", REGISTERED, admin_token, json={"registered_limits": list(items)})
    assert r.status_code == 201, r.text
    return r.json()["registered_limits"]


def add_limits(api, admin_token, *items):
    r = api.request("POST", LIMITS, admin_token, json={"limits": list(items)})
    assert r.status_code == 201, r.text
    return r.json()["limits"]


def test_registered_limit_crud_and_filters(api, admin_token, demo_token, service, region):
    cores, ram = register(api, admin_token,
                          {"service_id": service, "resource_name": "cores", "default_limit": 10,
                           "description": "vCPUs"},
                          {"service_id": service, "region_id": region, "resource_name": "ram", "default_limit": -1})
    assert cores["default_limit"] == 10 and cores["region_id"] is None and cores["description"] == "vCPUs"
    assert ram["region_id"] == region and ram["description"] is None
    assert cores["links"]["self"].endswith(f"/v3/registered_limits/{cores['id']}")
    listed = api.request("GET", f"{REGISTERED}?service_id={service}", demo_token).json()
    assert {r["id"] for r in listed["registered_limits"]} == {cores["id"], ram["id"]}
    assert listed["links"]["self"].endswith("/v3/registered_limits")
    by_region = api.request("GET", f"{REGISTERED}?service_id={service}&region_id={region}", demo_token).json()
    assert [r["id"] for r in by_region["registered_limits"]] == [ram["id"]]
    by_name = api.request("GET", f"{REGISTERED}?service_id={service}&resource_name=cores", demo_token).json()
    assert [r["id"] for r in by_name["registered_limits"]] == [cores["id"]]
    shown = api.request("GET", f"{REGISTERED}/{cores['id']}", demo_token).json()["registered_limit"]
    assert shown == cores
    r = api.request("PATCH", f"{REGISTERED}/{cores['id']}", admin_token,
                    json={"registered_limit": {"default_limit": 20, "region_id": region, "description": None}})
    assert r.status_code == 200, r.text
    assert {k: r.json()["registered_limit"][k] for k in ("default_limit", "region_id", "description")} == {
        "default_limit": 20, "region_id": region, "description": None}
    assert api.request("DELETE", f"{REGISTERED}/{cores['id']}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{REGISTERED}/{cores['id']}", admin_token), 404,
                 f"Could not find registered limit for {cores['id']}.")


def test_registered_limits_are_unique(api, admin_token, service, region):
    register(api, admin_token, {"service_id": service, "resource_name": "disks", "default_limit": 5})
    # The same name in a region is another registered limit.
    regional = register(api, admin_token, {"service_id": service, "region_id": region, "resource_name": "disks",
                                           "default_limit": 5})[0]
    again = api.request("POST", REGISTERED, admin_token, json={"registered_limits": [
        {"service_id": service, "resource_name": "disks", "default_limit": 1}]})
    assert_error(again, 409, "Conflict occurred attempting to store registered_limit - Duplicate entry.")
    # A batch with a duplicate creates nothing.
    batch = api.request("POST", REGISTERED, admin_token, json={"registered_limits": [
        {"service_id": service, "resource_name": "snaps", "default_limit": 1},
        {"service_id": service, "resource_name": "snaps", "default_limit": 2}]})
    assert_error(batch, 409)
    assert api.request("GET", f"{REGISTERED}?service_id={service}&resource_name=snaps",
                       admin_token).json()["registered_limits"] == []
    moved = api.request("PATCH", f"{REGISTERED}/{regional['id']}", admin_token,
                        json={"registered_limit": {"region_id": None}})
    assert_error(moved, 409)


@pytest.mark.parametrize("item, field", [
    ({"resource_name": "x" * 256}, "resource_name"),
    ({"resource_name": ""}, "resource_name"),
    ({"default_limit": -2}, "default_limit"),
    ({"default_limit": 2 ** 31}, "default_limit"),
    ({"default_limit": "5"}, "default_limit"),
    ({"default_limit": True}, "default_limit"),
    ({"service_id": "not-a-uuid"}, "service_id"),
    ({"description": "d" * 256}, "description"),
    ({"id": "mine"}, None),
    ({"extra": 1}, None),
])
def test_registered_limit_validation(api, admin_token, service, item, field):
    body = {"service_id": service, "resource_name": unique("res"), "default_limit": 1, **item}
    r = api.request("POST", REGISTERED, admin_token, json={"registered_limits": [body]})
    assert_error(r, 400)
    if field:
        assert field in r.json()["error"]["message"]


def test_registered_limit_references_must_exist(api, admin_token, service):
    unknown_service = api.request("POST", REGISTERED, admin_token, json={"registered_limits": [
        {"service_id": "0" * 32, "resource_name": "cores", "default_limit": 1}]})
    assert_error(unknown_service, 400, "Expecting to find service_id in registered_limit. The server could not "
                                       "comply with the request since it is either malformed or otherwise "
                                       "incorrect. The client is assumed to be in error.")
    unknown_region = api.request("POST", REGISTERED, admin_token, json={"registered_limits": [
        {"service_id": service, "region_id": "nowhere", "resource_name": "cores", "default_limit": 1}]})
    assert_error(unknown_region, 400)
    assert "region_id" in unknown_region.json()["error"]["message"]
    for body in ({}, {"registered_limits": []}, {"registered_limits": {}}):
        assert_error(api.request("POST", REGISTERED, admin_token, json=body), 400)


def test_limits_for_projects_and_domains(api, admin_token, service, region, project):
    register(api, admin_token, {"service_id": service, "resource_name": "cores", "default_limit": 10},
             {"service_id": service, "region_id": region, "resource_name": "cores", "default_limit": 8})
    domain = create(api, admin_token, "domains", "domain", {"name": unique("lim-d")}).json()["domain"]
    mine, regional, domains = add_limits(
        api, admin_token,
        {"service_id": service, "project_id": project["id"], "resource_name": "cores", "resource_limit": 5},
        {"service_id": service, "region_id": region, "project_id": project["id"], "resource_name": "cores",
         "resource_limit": -1, "description": "unlimited here"},
        # A project_id naming a domain makes a domain limit, as in Keystone.
        {"service_id": service, "project_id": domain["id"], "resource_name": "cores", "resource_limit": 50})
    assert mine["project_id"] == project["id"] and mine["domain_id"] is None and mine["region_id"] is None
    assert mine["service_id"] == service and mine["resource_name"] == "cores" and mine["description"] is None
    assert regional["region_id"] == region and regional["resource_limit"] == -1
    assert domains["domain_id"] == domain["id"] and domains["project_id"] is None
    listed = api.request("GET", f"{LIMITS}?service_id={service}", admin_token).json()["limits"]
    assert {lim["id"] for lim in listed} == {mine["id"], regional["id"], domains["id"]}
    for query, expected in ((f"project_id={project['id']}&region_id={region}", [regional["id"]]),
                            (f"domain_id={domain['id']}", [domains["id"]]),
                            (f"service_id={service}&resource_name=ram", [])):
        found = api.request("GET", f"{LIMITS}?{query}", admin_token).json()["limits"]
        assert [lim["id"] for lim in found] == expected, query
    r = api.request("PATCH", f"{LIMITS}/{mine['id']}", admin_token,
                    json={"limit": {"resource_limit": 0, "description": "none"}})
    assert r.status_code == 200, r.text
    assert r.json()["limit"]["resource_limit"] == 0 and r.json()["limit"]["description"] == "none"
    assert api.request("GET", f"{LIMITS}/{mine['id']}", admin_token).json()["limit"]["resource_limit"] == 0
    assert api.request("DELETE", f"{LIMITS}/{mine['id']}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{LIMITS}/{mine['id']}", admin_token), 404,
                 f"Could not find limit for {mine['id']}.")


def test_limit_rules(api, admin_token, service, project):
    reg = register(api, admin_token, {"service_id": service, "resource_name": "ram", "default_limit": 10})[0]
    base = {"service_id": service, "project_id": project["id"], "resource_name": "ram", "resource_limit": 5}
    orphan = api.request("POST", LIMITS, admin_token, json={"limits": [{**base, "resource_name": "gpus"}]})
    assert_error(orphan, 403, "Unable to create a limit that has no corresponding registered limit.")
    limit = add_limits(api, admin_token, base)[0]
    assert_error(api.request("POST", LIMITS, admin_token, json={"limits": [base]}), 409,
                 "Conflict occurred attempting to store limit - Duplicate entry.")
    # A registered limit in use can be neither changed nor deleted.
    in_use = (f"Unable to update or delete registered limit {reg['id']} because there are project limits "
              "associated with it.")
    assert_error(api.request("PATCH", f"{REGISTERED}/{reg['id']}", admin_token,
                             json={"registered_limit": {"default_limit": 3}}), 403, in_use)
    assert_error(api.request("DELETE", f"{REGISTERED}/{reg['id']}", admin_token), 403, in_use)
    # Nor can the service it names.
    assert_error(api.request("DELETE", f"{V3}/services/{service}", admin_token), 409)
    assert api.request("DELETE", f"{LIMITS}/{limit['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{REGISTERED}/{reg['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{V3}/services/{service}", admin_token).status_code == 204


@pytest.mark.parametrize("item, code, field", [
    ({"domain_id": "default"}, 400, None),                 # both a project and a domain
    ({"project_id": None}, 400, None),                     # neither
    ({"project_id": "0" * 32}, 400, "project_id"),
    ({"project_id": None, "domain_id": "0" * 32}, 400, None),
    ({"resource_limit": -2}, 400, "resource_limit"),
    ({"resource_limit": 1.5}, 400, "resource_limit"),
    ({"region_id": "nowhere"}, 400, "region_id"),
    ({"service_id": "0" * 32}, 400, "service_id"),
    ({"registered_limit_id": "x"}, 400, None),
])
def test_limit_validation(api, admin_token, service, project, item, code, field):
    register(api, admin_token, {"service_id": service, "resource_name": "ram", "default_limit": 1})
    body = {"service_id": service, "project_id": project["id"], "resource_name": "ram", "resource_limit": 1, **item}
    r = api.request("POST", LIMITS, admin_token, json={"limits": [body]})
    assert_error(r, code)
    if field:
        assert field in r.json()["error"]["message"]


def test_limit_update_accepts_only_limit_and_description(api, admin_token, service, project):
    register(api, admin_token, {"service_id": service, "resource_name": "ram", "default_limit": 1})
    limit = add_limits(api, admin_token, {"service_id": service, "project_id": project["id"],
                                          "resource_name": "ram", "resource_limit": 1})[0]
    for change in ({"project_id": project["id"]}, {"resource_limit": -5}, {"id": limit["id"]}):
        assert_error(api.request("PATCH", f"{LIMITS}/{limit['id']}", admin_token, json={"limit": change}), 400)
    assert_error(api.request("PATCH", f"{LIMITS}/{'0' * 32}", admin_token, json={"limit": {"resource_limit": 2}}),
                 404)


def test_limit_model(api, demo_token):
    r = api.request("GET", f"{LIMITS}/model", demo_token)
    assert r.status_code == 200, r.text
    assert r.json() == {"model": {"name": "flat", "description": "Limit enforcement and validation does not take "
                                                                 "project hierarchy into consideration."}}


def test_policy_defaults(api, admin_token, service):
    """Admins write; anyone reads registered limits; a project's users see its limits
    only, a domain-scoped token its domain's and its projects' (Keystone's defaults)."""
    domain = create(api, admin_token, "domains", "domain", {"name": unique("lim-d")}).json()["domain"]
    a = create(api, admin_token, "projects", "project", {"name": unique("lim-a"), "domain_id": domain["id"]})
    b = create(api, admin_token, "projects", "project", {"name": unique("lim-b")})
    a, b = a.json()["project"], b.json()["project"]
    reg = register(api, admin_token, {"service_id": service, "resource_name": "ram", "default_limit": 1})[0]
    la, lb, ld = add_limits(api, admin_token, *({"service_id": service, "project_id": p, "resource_name": "ram",
                                                "resource_limit": 2} for p in (a["id"], b["id"], domain["id"])))
    reader = new_user(api, admin_token)
    grant(api, admin_token, a["id"], reader["id"], "reader")
    token = password_token(api, reader, a["id"]).headers["X-Subject-Token"]
    assert api.request("GET", f"{REGISTERED}/{reg['id']}", token).status_code == 200
    listed = api.request("GET", f"{LIMITS}?service_id={service}", token).json()["limits"]
    assert [lim["id"] for lim in listed] == [la["id"]]
    assert api.request("GET", f"{LIMITS}/{la['id']}", token).status_code == 200
    for limit in (lb, ld):
        assert_error(api.request("GET", f"{LIMITS}/{limit['id']}", token), 403)
    assert_error(api.request("GET", f"{LIMITS}/{'0' * 32}", token), 403)
    for method, path, body in (
            ("POST", REGISTERED, {"registered_limits": [{"service_id": service, "resource_name": "x",
                                                         "default_limit": 1}]}),
            ("PATCH", f"{REGISTERED}/{reg['id']}", {"registered_limit": {"default_limit": 2}}),
            ("DELETE", f"{REGISTERED}/{reg['id']}", None),
            ("POST", LIMITS, {"limits": [{"service_id": service, "project_id": a["id"], "resource_name": "ram",
                                          "resource_limit": 3}]}),
            ("PATCH", f"{LIMITS}/{la['id']}", {"limit": {"resource_limit": 3}}),
            ("DELETE", f"{LIMITS}/{la['id']}", None)):
        assert_error(api.request(method, path, token, json=body), 403)
    # A domain-scoped reader: the domain's own limit and those of its projects.
    domain_reader = new_user(api, admin_token)
    r = api.request("PUT", f"{V3}/domains/{domain['id']}/users/{domain_reader['id']}/roles/"
                           f"{role_id(api, admin_token, 'reader')}", admin_token)
    assert r.status_code == 204, r.text
    scoped = password_token(api, domain_reader, scope={"domain": {"id": domain["id"]}})
    domain_token = scoped.headers["X-Subject-Token"]
    listed = api.request("GET", f"{LIMITS}?service_id={service}", domain_token).json()["limits"]
    assert {lim["id"] for lim in listed} == {la["id"], ld["id"]}
    assert api.request("GET", f"{LIMITS}/{la['id']}", domain_token).status_code == 200
    assert_error(api.request("GET", f"{LIMITS}/{lb['id']}", domain_token), 403)
    # An unscoped token lists nothing.
    unscoped = password_token(api, reader).headers["X-Subject-Token"]
    assert api.request("GET", f"{LIMITS}?service_id={service}", unscoped).json()["limits"] == []


def test_deleting_a_project_or_domain_deletes_its_limits(api, admin_token, service):
    domain = create(api, admin_token, "domains", "domain", {"name": unique("lim-d")}).json()["domain"]
    inner = create(api, admin_token, "projects", "project",
                   {"name": unique("lim-in"), "domain_id": domain["id"]}).json()["project"]
    lone = create(api, admin_token, "projects", "project", {"name": unique("lim-lone")}).json()["project"]
    register(api, admin_token, {"service_id": service, "resource_name": "ram", "default_limit": 1})
    add_limits(api, admin_token, *({"service_id": service, "project_id": p, "resource_name": "ram",
                                    "resource_limit": 2} for p in (inner["id"], lone["id"], domain["id"])))
    assert api.request("DELETE", f"{V3}/projects/{lone['id']}", admin_token).status_code == 204
    assert api.request("PATCH", f"{V3}/domains/{domain['id']}", admin_token,
                       json={"domain": {"enabled": False}}).status_code == 200
    assert api.request("DELETE", f"{V3}/domains/{domain['id']}", admin_token).status_code == 204
    assert api.request("GET", f"{LIMITS}?service_id={service}", admin_token).json()["limits"] == []


def test_query_filters_are_validated(api, admin_token):
    assert_error(api.request("GET", f"{REGISTERED}?service_id=nope", admin_token), 400)
    assert_error(api.request("GET", f"{LIMITS}?project_id=no/such", admin_token), 400)
    assert_error(api.request("GET", f"{LIMITS}?resource_name={'x' * 256}", admin_token), 400)
