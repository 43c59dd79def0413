"""CRUD, filters, links and error bodies of the Identity resources."""

from __future__ import annotations

import pytest

from conftest import unique

V3 = "/identity/v3"


def create(api, token, collection, key, body, status=201):
    r = api.request("POST", f"{V3}/{collection}", token, json={key: body})
    assert r.status_code == status, r.text
    return r.json().get(key) if status == 201 else r.json()


def test_domain_lifecycle(api, admin_token):
    domain = create(api, admin_token, "domains", "domain", {"name": unique("dom"), "description": "d"})
    assert domain["links"]["self"].endswith(f"/v3/domains/{domain['id']}")
    assert domain["enabled"] is True
    r = api.request("DELETE", f"{V3}/domains/{domain['id']}", admin_token)
    assert r.status_code == 403, "an enabled domain cannot be deleted"
    api.request("PATCH", f"{V3}/domains/{domain['id']}", admin_token, json={"domain": {"enabled": False}})
    assert api.request("DELETE", f"{V3}/domains/{domain['id']}", admin_token).status_code == 204
    assert api.request("GET", f"{V3}/domains/{domain['id']}", admin_token).status_code == 404


def test_project_hierarchy_tags_and_filters(api, admin_token):
    parent = create(api, admin_token, "projects", "project", {"name": unique("parent"), "tags": ["blue", "x"]})
    child = create(api, admin_token, "projects", "project", {"name": unique("child"), "parent_id": parent["id"]})
    assert child["parent_id"] == parent["id"] and child["domain_id"] == "default"
    shown = api.request("GET", f"{V3}/projects/{child['id']}?parents_as_ids", admin_token).json()["project"]
    assert shown["parents"] == {parent["id"]: None}
    subtree = api.request("GET", f"{V3}/projects/{parent['id']}?subtree_as_list", admin_token).json()["project"]
    assert [p["project"]["id"] for p in subtree["subtree"]] == [child["id"]]
    # A project with children cannot be deleted.
    assert api.request("DELETE", f"{V3}/projects/{parent['id']}", admin_token).status_code == 403
    tagged = api.request("GET", f"{V3}/projects?tags=blue", admin_token).json()["projects"]
    assert [p["id"] for p in tagged] == [parent["id"]]
    by_name = api.request("GET", f"{V3}/projects?name={child['name']}", admin_token).json()["projects"]
    assert [p["id"] for p in by_name] == [child["id"]]
    assert api.request("PUT", f"{V3}/projects/{child['id']}/tags/green", admin_token).status_code == 201
    assert api.request("GET", f"{V3}/projects/{child['id']}/tags/green", admin_token).status_code == 204
    assert api.request("GET", f"{V3}/projects/{child['id']}/tags", admin_token).json()["tags"] == ["green"]
    assert api.request("DELETE", f"{V3}/projects/{child['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{V3}/projects/{parent['id']}", admin_token).status_code == 204


def test_duplicate_names_conflict(api, admin_token):
    name = unique("dup")
    create(api, admin_token, "projects", "project", {"name": name})
    body = create(api, admin_token, "projects", "project", {"name": name}, status=409)
    assert body["error"]["code"] == 409 and body["error"]["title"] == "Conflict"
    create(api, admin_token, "users", "user", {"name": name})
    create(api, admin_token, "users", "user", {"name": name}, status=409)


@pytest.mark.parametrize("collection,key,body", [
    ("projects", "project", {}),
    ("projects", "project", {"name": 5}),
    ("projects", "project", {"name": "x", "enabled": "yes"}),
    ("projects", "project", {"name": "x" * 65}),
    ("users", "user", {"name": ""}),
    ("roles", "role", {"name": "r", "description": 5}),
    ("endpoints", "endpoint", {"service_id": "x", "interface": "sideways", "url": "http://x"}),
    ("groups", "group", {"name": None}),
])
def test_bad_bodies_are_400(api, admin_token, collection, key, body):
    r = api.request("POST", f"{V3}/{collection}", admin_token, json={key: body})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == 400


def test_unknown_ids_are_404_and_bad_json_400(api, admin_token):
    for path in ("projects/nope", "users/nope", "groups/nope", "roles/nope", "domains/nope",
                 "regions/nope", "services/nope", "endpoints/nope"):
        r = api.request("GET", f"{V3}/{path}", admin_token)
        assert r.status_code == 404, path
        assert r.json()["error"]["title"] == "Not Found"
    r = api.request("POST", f"{V3}/projects", admin_token, content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert api.request("GET", f"{V3}/no-such-thing", admin_token).status_code == 404
    assert api.request("PUT", f"{V3}/projects", admin_token).status_code == 405


def test_users_groups_membership(api, admin_token):
    user = create(api, admin_token, "users", "user", {"name": unique("u"), "password": "p", "email": "u@example.org"})
    assert "password" not in user and user["email"] == "u@example.org"
    group = create(api, admin_token, "groups", "group", {"name": unique("g")})
    path = f"{V3}/groups/{group['id']}/users/{user['id']}"
    assert api.request("HEAD", path, admin_token).status_code == 404
    assert api.request("PUT", path, admin_token).status_code == 204
    assert api.request("HEAD", path, admin_token).status_code == 204
    members = api.request("GET", f"{V3}/groups/{group['id']}/users", admin_token).json()["users"]
    assert [u["id"] for u in members] == [user["id"]]
    groups = api.request("GET", f"{V3}/users/{user['id']}/groups", admin_token).json()["groups"]
    assert [g["id"] for g in groups] == [group["id"]]
    assert api.request("DELETE", path, admin_token).status_code == 204
    updated = api.request("PATCH", f"{V3}/users/{user['id']}", admin_token,
                          json={"user": {"enabled": False, "description": "off"}}).json()["user"]
    assert updated["enabled"] is False and updated["description"] == "off"


def test_group_role_gives_members_access(api, admin_token):
    project = create(api, admin_token, "projects", "project", {"name": unique("gp")})
    user = create(api, admin_token, "users", "user", {"name": unique("gu"), "password": "pw-g"})
    group = create(api, admin_token, "groups", "group", {"name": unique("gg")})
    api.request("PUT", f"{V3}/groups/{group['id']}/users/{user['id']}", admin_token)
    member = api.request("GET", f"{V3}/roles?name=member", admin_token).json()["roles"][0]["id"]
    assert api.request("PUT", f"{V3}/projects/{project['id']}/groups/{group['id']}/roles/{member}",
                       admin_token).status_code == 204
    token = api.token(user["name"], "pw-g", project=project["name"])
    projects = api.request("GET", f"{V3}/users/{user['id']}/projects", token).json()["projects"]
    assert [p["id"] for p in projects] == [project["id"]]
    effective = api.request("GET", f"{V3}/role_assignments?effective&user.id={user['id']}", admin_token).json()
    roles = {(a["role"]["id"], a["scope"]["project"]["id"]) for a in effective["role_assignments"]}
    assert (member, project["id"]) in roles
    assert any("membership" in a["links"] for a in effective["role_assignments"])


def test_inherited_domain_role_reaches_projects(api, admin_token):
    project = create(api, admin_token, "projects", "project", {"name": unique("ip")})
    user = create(api, admin_token, "users", "user", {"name": unique("iu"), "password": "pw-i"})
    reader = api.request("GET", f"{V3}/roles?name=reader", admin_token).json()["roles"][0]["id"]
    r = api.request("PUT", f"{V3}/OS-INHERIT/domains/default/users/{user['id']}/roles/{reader}/inherited_to_projects",
                    admin_token)
    assert r.status_code == 204
    token = api.token(user["name"], "pw-i", project=project["name"])
    body = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token}).json()
    assert [r["name"] for r in body["token"]["roles"]] == ["reader"]


def test_implied_roles_and_role_assignments_names(api, admin_token):
    prior = create(api, admin_token, "roles", "role", {"name": unique("prior")})
    implied = create(api, admin_token, "roles", "role", {"name": unique("implied")})
    r = api.request("PUT", f"{V3}/roles/{prior['id']}/implies/{implied['id']}", admin_token)
    assert r.status_code == 201
    assert r.json()["role_inference"]["implies"]["id"] == implied["id"]
    cycle = api.request("PUT", f"{V3}/roles/{implied['id']}/implies/{prior['id']}", admin_token)
    assert cycle.status_code == 409
    admin = api.request("GET", f"{V3}/roles?name=admin", admin_token).json()["roles"][0]["id"]
    assert api.request("PUT", f"{V3}/roles/{prior['id']}/implies/{admin}", admin_token).status_code == 403
    project = create(api, admin_token, "projects", "project", {"name": unique("rp")})
    user = create(api, admin_token, "users", "user", {"name": unique("ru"), "password": "pw-r"})
    api.request("PUT", f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{prior['id']}", admin_token)
    listed = api.request("GET", f"{V3}/role_assignments?user.id={user['id']}&include_names&effective",
                         admin_token).json()["role_assignments"]
    names = sorted(a["role"]["name"] for a in listed)
    assert names == sorted([prior["name"], implied["name"]])
    assert all(a["user"]["name"] == user["name"] and a["scope"]["project"]["name"] == project["name"] for a in listed)
    scoped = api.request("GET", f"{V3}/role_assignments?scope.project.id={project['id']}", admin_token).json()
    assert len(scoped["role_assignments"]) == 1


def test_domain_specific_role_only_contributes_implied_roles(api, admin_token):
    ds = create(api, admin_token, "roles", "role", {"name": unique("ds"), "domain_id": "default"})
    assert ds["domain_id"] == "default"
    reader = api.request("GET", f"{V3}/roles?name=reader", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"{V3}/roles/{ds['id']}/implies/{reader}", admin_token)
    project = create(api, admin_token, "projects", "project", {"name": unique("dsp")})
    user = create(api, admin_token, "users", "user", {"name": unique("dsu"), "password": "pw-ds"})
    api.request("PUT", f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{ds['id']}", admin_token)
    token = api.token(user["name"], "pw-ds", project=project["name"])
    body = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token}).json()
    assert [r["name"] for r in body["token"]["roles"]] == ["reader"]


def test_catalog_crud(api, admin_token):
    region = create(api, admin_token, "regions", "region", {"id": unique("reg"), "description": "r"})
    service = create(api, admin_token, "services", "service", {"type": unique("type"), "name": "svc"})
    endpoint = create(api, admin_token, "endpoints", "endpoint", {
        "service_id": service["id"], "interface": "public", "url": "http://example.org/svc", "region_id": region["id"]})
    assert endpoint["region"] == region["id"]
    listed = api.request("GET", f"{V3}/endpoints?service_id={service['id']}", admin_token).json()["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    def issued_catalog():
        auth = {"identity": {"methods": ["token"], "token": {"id": admin_token}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}
        return api.request("POST", f"{V3}/auth/tokens", json={"auth": auth}).json()["token"]["catalog"]

    # Both catalogs come from a cache that any identity change invalidates.
    for catalog in (api.request("GET", f"{V3}/auth/catalog", admin_token).json()["catalog"], issued_catalog()):
        assert any(s["id"] == service["id"] and s["endpoints"][0]["url"] == "http://example.org/svc"
                   for s in catalog)
    api.request("PATCH", f"{V3}/services/{service['id']}", admin_token, json={"service": {"enabled": False}})
    for catalog in (api.request("GET", f"{V3}/auth/catalog", admin_token).json()["catalog"], issued_catalog()):
        assert all(s["id"] != service["id"] for s in catalog)
    assert api.request("DELETE", f"{V3}/services/{service['id']}", admin_token).status_code == 204
    assert api.request("GET", f"{V3}/endpoints/{endpoint['id']}", admin_token).status_code == 404
    assert api.request("DELETE", f"{V3}/regions/{region['id']}", admin_token).status_code == 204


def test_the_cached_catalog_follows_service_and_endpoint_changes(api, admin_token):
    """Token issue, token validation and ``/v3/auth/catalog`` all answer from the catalog
    cached per identity generation; every service or endpoint change shows at once in
    all three (the write bumps the generation)."""
    def catalogs() -> list[list[dict]]:
        auth = {"identity": {"methods": ["token"], "token": {"id": admin_token}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}
        issued = api.request("POST", f"{V3}/auth/tokens", json={"auth": auth}).json()["token"]["catalog"]
        validated = api.request("GET", f"{V3}/auth/tokens", admin_token,
                                headers={"X-Subject-Token": admin_token}).json()["token"]["catalog"]
        return [issued, validated, api.request("GET", f"{V3}/auth/catalog", admin_token).json()["catalog"]]

    def urls(service_id: str) -> list[list[str]]:
        return [sorted(e["url"] for s in catalog if s["id"] == service_id for e in s["endpoints"])
                for catalog in catalogs()]

    catalogs()  # cached now
    service = create(api, admin_token, "services", "service", {"type": unique("cached"), "name": "cached"})
    assert all(any(s["id"] == service["id"] for s in catalog) for catalog in catalogs())
    endpoint = create(api, admin_token, "endpoints", "endpoint", {
        "service_id": service["id"], "interface": "public", "url": "http://example.org/one", "region_id": "RegionOne"})
    assert urls(service["id"]) == [["http://example.org/one"]] * 3
    api.request("PATCH", f"{V3}/endpoints/{endpoint['id']}", admin_token,
                json={"endpoint": {"url": "http://example.org/two"}})
    assert urls(service["id"]) == [["http://example.org/two"]] * 3
    api.request("PATCH", f"{V3}/endpoints/{endpoint['id']}", admin_token, json={"endpoint": {"enabled": False}})
    assert urls(service["id"]) == [[]] * 3
    api.request("PATCH", f"{V3}/endpoints/{endpoint['id']}", admin_token, json={"endpoint": {"enabled": True}})
    assert urls(service["id"]) == [["http://example.org/two"]] * 3
    assert api.request("DELETE", f"{V3}/endpoints/{endpoint['id']}", admin_token).status_code == 204
    assert urls(service["id"]) == [[]] * 3
    assert api.request("DELETE", f"{V3}/services/{service['id']}", admin_token).status_code == 204
    assert all(all(s["id"] != service["id"] for s in catalog) for catalog in catalogs())


def test_application_credentials(api, admin_token):
    project = create(api, admin_token, "projects", "project", {"name": unique("acp")})
    user = create(api, admin_token, "users", "user", {"name": unique("acu"), "password": "pw-ac"})
    member = api.request("GET", f"{V3}/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{member}", admin_token)
    token = api.token(user["name"], "pw-ac", project=project["name"])
    base = f"{V3}/users/{user['id']}/application_credentials"
    r = api.request("POST", base, token, json={"application_credential": {"name": "ci", "roles": [{"name": "reader"}]}})
    assert r.status_code == 201, r.text
    cred = r.json()["application_credential"]
    assert cred["secret"] and [x["name"] for x in cred["roles"]] == ["reader"]
    listed = api.request("GET", base, token).json()["application_credentials"]
    assert "secret" not in listed[0]
    # Asking for a role the user does not hold is refused.
    r = api.request("POST", base, token, json={"application_credential": {"name": "x", "roles": [{"name": "admin"}]}})
    assert r.status_code == 403
    auth = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}}
    r = api.request("POST", "/identity/v3/auth/tokens", json=auth)
    assert r.status_code == 201
    body = r.json()["token"]
    assert body["project"]["id"] == project["id"] and [x["name"] for x in body["roles"]] == ["reader"]
    assert body["application_credential"]["restricted"] is True
    ac_token = r.headers["X-Subject-Token"]
    # A restricted credential cannot mint another one.
    r = api.request("POST", base, ac_token, json={"application_credential": {"name": "child"}})
    assert r.status_code == 403
    # ... nor delete any, itself included (Keystone: ForbiddenAction).
    r = api.request("DELETE", f"{base}/{cred['id']}", ac_token)
    assert r.status_code == 403, r.text
    assert "not allowed for managing additional application credentials" in r.json()["error"]["message"]
    assert api.request("GET", f"{base}/{cred['id']}", token).status_code == 200
    wrong = {"auth": {"identity": {"methods": ["application_credential"],
                                   "application_credential": {"id": cred["id"], "secret": "nope"}}}}
    assert api.request("POST", "/identity/v3/auth/tokens", json=wrong).status_code == 401
    assert api.request("DELETE", f"{base}/{cred['id']}", token).status_code == 204
    assert api.request("GET", "/identity/v3/auth/projects", ac_token).status_code == 401
    # Someone else's credentials are not visible.
    other = api.request("GET", f"{V3}/users/{user['id']}/application_credentials",
                        api.token("demo", "demo-secret", project="demo"))
    assert other.status_code == 403


def test_expired_application_credential_rejected(api, admin_token):
    r = api.request("POST", f"{V3}/users/{_admin_id(api, admin_token)}/application_credentials", admin_token,
                    json={"application_credential": {"name": unique("past"), "expires_at": "2001-01-01T00:00:00"}})
    assert r.status_code == 400


def _admin_id(api, token):
    return api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token}).json()[
        "token"]["user"]["id"]


def test_project_tags_beyond_latin1_are_percent_encoded_in_location(api, admin_token):
    project = create(api, admin_token, "projects", "project", {"name": unique("tagp")})
    r = api.request("PUT", f"{V3}/projects/{project['id']}/tags/caf%C3%A9-%E2%82%AC", admin_token)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"/v3/projects/{project['id']}/tags/caf%C3%A9-%E2%82%AC")
    tags = api.request("GET", f"{V3}/projects/{project['id']}/tags", admin_token).json()["tags"]
    assert tags == ["café-€"]


def test_a_role_keeps_extra_attributes(api, admin_token):
    """Keystone's role schemas take attributes of their own (stored as ``extra`` and shown
    back), as keystone-tempest-plugin's K2K scenario sends a ``project_id`` with a role."""
    role = create(api, admin_token, "roles", "role", {"name": unique("xr"), "project_id": "p1", "colour": "red"})
    assert (role["project_id"], role["colour"]) == ("p1", "red")
    r = api.request("PATCH", f"{V3}/roles/{role['id']}", admin_token, json={"role": {"colour": "blue"}})
    assert r.status_code == 200 and (r.json()["role"]["colour"], r.json()["role"]["project_id"]) == ("blue", "p1")
    shown = api.request("GET", f"{V3}/roles/{role['id']}", admin_token).json()["role"]
    assert shown["colour"] == "blue"
    # The role's own attributes keep their rules.
    assert api.request("POST", f"{V3}/roles", admin_token, json={"role": {"name": ""}}).status_code == 400
    assert api.request("DELETE", f"{V3}/roles/{role['id']}", admin_token).status_code == 204
