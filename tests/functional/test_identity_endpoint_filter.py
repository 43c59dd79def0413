"""Endpoint filtering (``/v3/OS-EP-FILTER``) through the Keystone v3 API: endpoint
groups, endpoints and endpoint groups associated with projects, and the catalog of a
filtered project's tokens (keystone/api/os_ep_filter.py, keystone/catalog/)."""

from __future__ import annotations

import pytest
from test_identity_trusts import assert_error, grant, new_user, password_token

from conftest import unique

V3 = "/identity/v3"
EPF = f"{V3}/OS-EP-FILTER"
GROUPS = f"{EPF}/endpoint_groups"


def create(api, token, path, key, body):
    r = api.request("POST", path, token, json={key: body})
    assert r.status_code == 201, r.text
    return r.json()[key]


@pytest.fixture
def catalog(api, admin_token):
    """A service of its own with a public and an internal endpoint in a region of its own."""
    service = create(api, admin_token, f"{V3}/services", "service", {"type": unique("epf"), "name": unique("epf")})
    region = create(api, admin_token, f"{V3}/regions", "region", {"id": unique("epf-region")})
    endpoints = {interface: create(api, admin_token, f"{V3}/endpoints", "endpoint", {
        "service_id": service["id"], "interface": interface, "url": f"http://{interface}.epf.example/",
        "region_id": region["id"]}) for interface in ("public", "internal")}
    return {"service": service, "region": region, "endpoints": endpoints}


@pytest.fixture
def project(api, admin_token):
    return create(api, admin_token, f"{V3}/projects", "project", {"name": unique("epf-p")})


def test_endpoint_group_crud(api, admin_token, catalog):
    service_id = catalog["service"]["id"]
    name = unique("epg")
    group = create(api, admin_token, GROUPS, "endpoint_group", {
        "name": name, "description": "public ones", "filters": {"service_id": service_id, "interface": "public"}})
    assert group["filters"] == {"service_id": service_id, "interface": "public"}
    assert group["links"]["self"].endswith(f"/v3/OS-EP-FILTER/endpoint_groups/{group['id']}")
    assert api.request("GET", f"{GROUPS}/{group['id']}", admin_token).json()["endpoint_group"] == group
    listed = api.request("GET", f"{GROUPS}?name={name}", admin_token).json()
    assert [g["id"] for g in listed["endpoint_groups"]] == [group["id"]]
    endpoints = api.request("GET", f"{GROUPS}/{group['id']}/endpoints", admin_token).json()["endpoints"]
    assert [e["id"] for e in endpoints] == [catalog["endpoints"]["public"]["id"]]
    r = api.request("PATCH", f"{GROUPS}/{group['id']}", admin_token,
                    json={"endpoint_group": {"filters": {"region_id": catalog["region"]["id"]}}})
    assert r.status_code == 200 and r.json()["endpoint_group"]["description"] == "public ones"
    endpoints = api.request("GET", f"{GROUPS}/{group['id']}/endpoints", admin_token).json()["endpoints"]
    assert {e["id"] for e in endpoints} == {e["id"] for e in catalog["endpoints"].values()}
    assert api.request("DELETE", f"{GROUPS}/{group['id']}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{GROUPS}/{group['id']}", admin_token), 404,
                 f"Could not find Endpoint Group: {group['id']}.")


@pytest.mark.parametrize("body, message", [
    ({"name": "g", "filters": {}}, "filters field is required and cannot be empty"),
    ({"name": "g", "filters": {"enabled": True}},
     "Expecting to find service_id or region_id or interface in endpoint_group. The server could not comply with "
     "the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."),
    ({"name": "g", "filters": {"interface": "sideways"}}, None),
    ({"name": "g"}, None),
    ({"filters": {"interface": "public"}}, None),
    ({"name": "", "filters": {"interface": "public"}}, None),
    ({"name": "g", "filters": {"interface": "public"}, "id": "mine"}, None),
])
def test_endpoint_group_validation(api, admin_token, body, message):
    assert_error(api.request("POST", GROUPS, admin_token, json={"endpoint_group": body}), 400, message)


def test_endpoint_group_update_and_list_validation(api, admin_token):
    group = create(api, admin_token, GROUPS, "endpoint_group", {"name": unique("epg"),
                                                                "filters": {"interface": "admin"}})
    for change in ({}, {"filters": {}}, {"filters": {"url": "x"}}):
        assert_error(api.request("PATCH", f"{GROUPS}/{group['id']}", admin_token,
                                 json={"endpoint_group": change}), 400)
    assert_error(api.request("GET", f"{GROUPS}?marker=x", admin_token), 400)


def test_project_associations(api, admin_token, catalog, project):
    public, internal = catalog["endpoints"]["public"], catalog["endpoints"]["internal"]
    group = create(api, admin_token, GROUPS, "endpoint_group", {"name": unique("epg"),
                                                                "filters": {"interface": "internal",
                                                                            "service_id": catalog["service"]["id"]}})
    membership = f"{GROUPS}/{group['id']}/projects/{project['id']}"
    assert api.request("PUT", membership, admin_token).status_code == 204
    assert_error(api.request("PUT", membership, admin_token), 409)
    shown = api.request("GET", membership, admin_token).json()["project_endpoint_group"]
    assert shown["endpoint_group_id"] == group["id"] and shown["project_id"] == project["id"]
    assert shown["links"]["self"].endswith(f"/OS-EP-FILTER/endpoint_groups/{group['id']}/projects/{project['id']}")
    projects = api.request("GET", f"{GROUPS}/{group['id']}/projects", admin_token).json()["projects"]
    assert [p["id"] for p in projects] == [project["id"]]
    groups = api.request("GET", f"{EPF}/projects/{project['id']}/endpoint_groups", admin_token).json()
    assert [g["id"] for g in groups["endpoint_groups"]] == [group["id"]]

    direct = f"{EPF}/projects/{project['id']}/endpoints/{public['id']}"
    assert_error(api.request("GET", direct, admin_token), 404,
                 f"Endpoint {public['id']} not found in project {project['id']}")
    assert api.request("PUT", direct, admin_token).status_code == 204
    assert api.request("HEAD", direct, admin_token).status_code == 204
    assert api.request("GET", direct, admin_token).status_code == 204
    listed = api.request("GET", f"{EPF}/projects/{project['id']}/endpoints", admin_token).json()["endpoints"]
    assert {e["id"] for e in listed} == {public["id"], internal["id"]}
    by_endpoint = api.request("GET", f"{EPF}/endpoints/{public['id']}/projects", admin_token).json()["projects"]
    assert [p["id"] for p in by_endpoint] == [project["id"]]

    assert api.request("DELETE", direct, admin_token).status_code == 204
    assert_error(api.request("DELETE", direct, admin_token), 404)
    assert api.request("DELETE", membership, admin_token).status_code == 204
    assert_error(api.request("GET", membership, admin_token), 404, "Endpoint Group Project Association not found")
    assert api.request("GET", f"{EPF}/projects/{project['id']}/endpoints", admin_token).json()["endpoints"] == []


def test_missing_things_are_404(api, admin_token, catalog, project):
    public = catalog["endpoints"]["public"]
    group = create(api, admin_token, GROUPS, "endpoint_group", {"name": unique("epg"),
                                                                "filters": {"interface": "public"}})
    nothing = "0" * 32
    for method, path in (("PUT", f"{GROUPS}/{group['id']}/projects/{nothing}"),
                         ("PUT", f"{GROUPS}/{nothing}/projects/{project['id']}"),
                         ("GET", f"{GROUPS}/{nothing}/endpoints"),
                         ("PUT", f"{EPF}/projects/{project['id']}/endpoints/{nothing}"),
                         ("PUT", f"{EPF}/projects/{nothing}/endpoints/{public['id']}"),
                         ("GET", f"{EPF}/projects/{nothing}/endpoints"),
                         ("GET", f"{EPF}/projects/{nothing}/endpoint_groups"),
                         ("GET", f"{EPF}/endpoints/{nothing}/projects")):
        assert_error(api.request(method, path, admin_token), 404)
    # As in Keystone, a group's projects are listed without looking the group up.
    assert api.request("GET", f"{GROUPS}/{nothing}/projects", admin_token).json()["projects"] == []


def _catalog_endpoints(api, token) -> set[str]:
    r = api.request("GET", f"{V3}/auth/catalog", token)
    assert r.status_code == 200, r.text
    return {e["id"] for service in r.json()["catalog"] for e in service["endpoints"]}


def test_a_filtered_project_sees_only_its_endpoints(api, admin_token, catalog, project):
    public, internal = catalog["endpoints"]["public"], catalog["endpoints"]["internal"]
    user = new_user(api, admin_token)
    grant(api, admin_token, project["id"], user["id"], "member")

    def token():
        return password_token(api, user, project["id"]).headers["X-Subject-Token"]

    everything = _catalog_endpoints(api, token())
    assert {public["id"], internal["id"]} < everything
    assert api.request("PUT", f"{EPF}/projects/{project['id']}/endpoints/{public['id']}",
                       admin_token).status_code == 204
    assert _catalog_endpoints(api, token()) == {public["id"]}
    body = password_token(api, user, project["id"]).json()["token"]
    assert [s["id"] for s in body["catalog"]] == [catalog["service"]["id"]]
    group = create(api, admin_token, GROUPS, "endpoint_group", {"name": unique("epg"),
                                                                "filters": {"region_id": catalog["region"]["id"]}})
    assert api.request("PUT", f"{GROUPS}/{group['id']}/projects/{project['id']}", admin_token).status_code == 204
    assert _catalog_endpoints(api, token()) == {public["id"], internal["id"]}
    # A disabled endpoint leaves the catalog, associated or not.
    assert api.request("PATCH", f"{V3}/endpoints/{internal['id']}", admin_token,
                       json={"endpoint": {"enabled": False}}).status_code == 200
    assert _catalog_endpoints(api, token()) == {public["id"]}
    # Other projects keep the whole catalog.
    assert {public["id"]} < _catalog_endpoints(api, admin_token)


def test_deletions_drop_associations(api, admin_token, catalog, project):
    public = catalog["endpoints"]["public"]
    group = create(api, admin_token, GROUPS, "endpoint_group", {"name": unique("epg"),
                                                                "filters": {"interface": "public"}})
    other = create(api, admin_token, f"{V3}/projects", "project", {"name": unique("epf-o")})
    for p in (project, other):
        assert api.request("PUT", f"{EPF}/projects/{p['id']}/endpoints/{public['id']}", admin_token).status_code == 204
        assert api.request("PUT", f"{GROUPS}/{group['id']}/projects/{p['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{V3}/projects/{other['id']}", admin_token).status_code == 204
    by_endpoint = api.request("GET", f"{EPF}/endpoints/{public['id']}/projects", admin_token).json()["projects"]
    assert [p["id"] for p in by_endpoint] == [project["id"]]
    assert [p["id"] for p in api.request("GET", f"{GROUPS}/{group['id']}/projects",
                                         admin_token).json()["projects"]] == [project["id"]]
    assert api.request("DELETE", f"{V3}/endpoints/{public['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{GROUPS}/{group['id']}", admin_token).status_code == 204
    assert api.request("GET", f"{EPF}/projects/{project['id']}/endpoints", admin_token).json()["endpoints"] == []
    assert api.request("GET", f"{EPF}/projects/{project['id']}/endpoint_groups",
                       admin_token).json()["endpoint_groups"] == []


def test_only_admins_and_system_readers(api, admin_token, demo_token, catalog, project):
    public = catalog["endpoints"]["public"]
    group = create(api, admin_token, GROUPS, "endpoint_group", {"name": unique("epg"),
                                                                "filters": {"interface": "public"}})
    for method, path, body in (
            ("GET", GROUPS, None), ("GET", f"{GROUPS}/{group['id']}", None),
            ("POST", GROUPS, {"endpoint_group": {"name": "x", "filters": {"interface": "public"}}}),
            ("PATCH", f"{GROUPS}/{group['id']}", {"endpoint_group": {"name": "y"}}),
            ("DELETE", f"{GROUPS}/{group['id']}", None),
            ("PUT", f"{GROUPS}/{group['id']}/projects/{project['id']}", None),
            ("GET", f"{EPF}/projects/{project['id']}/endpoints", None),
            ("PUT", f"{EPF}/projects/{project['id']}/endpoints/{public['id']}", None),
            ("GET", f"{EPF}/endpoints/{public['id']}/projects", None)):
        assert_error(api.request(method, path, demo_token, json=body), 403)
