"""Glance's metadata definitions catalog through the API: namespaces (visibility,
protection, renames, paging and filters), resource types and their associations,
objects, properties, tags, the schemas, and Glance's admin-writes policy."""

from __future__ import annotations

import pytest

from pocketstack.common.context import RequestContext
from pocketstack.common.errors import Forbidden, NotFound

from conftest import unique

NS = "/image/v2/metadefs/namespaces"
JSON = {"Accept": "application/json"}


def create_namespace(api, token, **body):
    body.setdefault("namespace", unique("ns"))
    r = api.request("POST", NS, token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_schemas(api, demo_token):
    expected = {"namespace": "namespace", "namespaces": "namespaces", "resource_type": "resource_type_association",
                "resource_types": "resource_type_associations", "object": "object", "objects": "objects",
                "property": "property", "properties": "properties", "tag": "tag", "tags": "tags"}
    for path, name in expected.items():
        r = api.request("GET", f"/image/v2/schemas/metadefs/{path}", demo_token)
        assert r.status_code == 200 and r.json()["name"] == name
    namespace = api.request("GET", "/image/v2/schemas/metadefs/namespace", demo_token).json()
    assert namespace["required"] == ["namespace"] and namespace["additionalProperties"] is False
    assert namespace["properties"]["visibility"]["enum"] == ["public", "private"]
    assert api.request("GET", "/image/v2/schemas/metadefs/nope", demo_token).status_code == 404


def test_resource_types_are_seeded(api, demo_token):
    r = api.request("GET", "/image/v2/metadefs/resource_types", demo_token)
    assert r.status_code == 200
    names = {t["name"] for t in r.json()["resource_types"]}
    assert {"OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor"} <= names
    assert all(set(t) == {"name", "created_at", "updated_at"} for t in r.json()["resource_types"])


def test_namespace_lifecycle(api, admin_token):
    name = unique("ns")
    body = create_namespace(api, admin_token, namespace=name, display_name="Disp", description="Tempest",
                            visibility="public", protected=True,
                            resource_type_associations=[{"name": "OS::Glance::Image", "prefix": "hw_"}],
                            properties={"cpu": {"title": "CPU", "type": "integer", "minimum": 1}},
                            objects=[{"name": "obj", "properties": {"x": {"title": "X", "type": "string"}},
                                      "required": ["x"]}],
                            tags=[{"name": "t1"}, {"name": "t2"}])
    assert body["namespace"] == name and body["visibility"] == "public" and body["protected"] is True
    assert body["self"] == f"/v2/metadefs/namespaces/{name}" and body["schema"] == "/v2/schemas/metadefs/namespace"
    assert body["resource_type_associations"][0]["name"] == "OS::Glance::Image"
    shown = api.request("GET", f"{NS}/{name}", admin_token).json()
    assert shown["properties"] == {"cpu": {"title": "CPU", "type": "integer", "minimum": 1}}
    assert [o["name"] for o in shown["objects"]] == ["obj"] and shown["objects"][0]["required"] == ["x"]
    assert sorted(t["name"] for t in shown["tags"]) == ["t1", "t2"]
    prefixed = api.request("GET", f"{NS}/{name}?resource_type=OS::Glance::Image", admin_token).json()
    assert set(prefixed["properties"]) == {"hw_cpu"} and prefixed["objects"][0]["required"] == ["hw_x"]
    listed = api.request("GET", f"{NS}?limit=1000", admin_token).json()
    assert name in [n["namespace"] for n in listed["namespaces"]]
    assert listed["schema"] == "/v2/schemas/metadefs/namespaces" and listed["first"].startswith("/v2/metadefs")
    # Protected: no delete, no bulk delete of its definitions.
    assert api.request("DELETE", f"{NS}/{name}", admin_token, headers=JSON).status_code == 403
    assert api.request("DELETE", f"{NS}/{name}/objects", admin_token).status_code == 403
    # PUT replaces: unprotect, make private, rename.
    new_name = unique("ns-renamed")
    r = api.request("PUT", f"{NS}/{name}", admin_token,
                    json={"namespace": new_name, "description": "Tempest", "visibility": "private",
                          "protected": False})
    assert r.status_code == 200, r.text
    assert r.json()["namespace"] == new_name and r.json()["protected"] is False and "display_name" not in r.json()
    assert api.request("GET", f"{NS}/{name}", admin_token).status_code == 404
    assert api.request("GET", f"{NS}/{new_name}/objects/obj", admin_token).status_code == 200
    assert api.request("DELETE", f"{NS}/{new_name}", admin_token).status_code == 204
    assert api.request("GET", f"{NS}/{new_name}", admin_token).status_code == 404
    assert api.request("GET", f"{NS}/{new_name}/tags", admin_token).status_code == 404


def test_namespace_conflicts_and_bad_input(api, admin_token):
    first = create_namespace(api, admin_token)
    second = create_namespace(api, admin_token)
    assert api.request("POST", NS, admin_token, json={"namespace": first["namespace"]}).status_code == 409
    r = api.request("PUT", f"{NS}/{second['namespace']}", admin_token, json={"namespace": first["namespace"]})
    assert r.status_code == 409
    for body, status in [({}, 400), ({"namespace": "x" * 81}, 400), ({"namespace": unique("ns"), "bogus": 1}, 400),
                         ({"namespace": unique("ns"), "visibility": "shared"}, 400),
                         ({"namespace": unique("ns"), "created_at": "x"}, 403), ([], 400),
                         ({"namespace": unique("ns"), "tags": [{"name": "a"}, {"name": "a"}]}, 409),
                         ({"namespace": unique("ns"), "resource_type_associations": [{"prefix": "p_"}]}, 400),
                         ({"namespace": unique("ns"), "objects": [{"description": "nameless"}]}, 400),
                         ({"namespace": unique("ns"), "tags": [{}]}, 400)]:
        r = api.request("POST", NS, admin_token, json=body, headers=JSON)
        assert r.status_code == status, (body, r.text)
        assert "message" in r.json()
    assert api.request("POST", NS, admin_token, content=b"{nope", headers=JSON).status_code == 400
    assert api.request("GET", f"{NS}/{unique('missing')}", admin_token).status_code == 404
    assert api.request("GET", f"{NS}?visibility=shared", admin_token).status_code == 400
    assert api.request("GET", f"{NS}?limit=-1", admin_token).status_code == 400
    assert api.request("GET", f"{NS}?sort_key=bogus", admin_token).status_code == 400
    assert api.request("GET", f"{NS}?marker={unique('missing')}", admin_token).status_code == 404


def test_paging_sorting_and_filters(api, admin_token):
    kind = unique("Test::Type")
    names = [create_namespace(api, admin_token, namespace=unique("page"), visibility=v,
                              resource_type_associations=[{"name": kind}])["namespace"]
             for v in ("public", "private", "public")]
    query = f"resource_types={kind}&sort_key=namespace&sort_dir=asc"
    page = api.request("GET", f"{NS}?{query}&limit=2", admin_token).json()
    assert [n["namespace"] for n in page["namespaces"]] == sorted(names)[:2]
    assert "marker=" in page["next"]
    rest = api.request("GET", "/image" + page["next"], admin_token).json()
    assert [n["namespace"] for n in rest["namespaces"]] == sorted(names)[2:] and "next" not in rest
    public = api.request("GET", f"{NS}?{query}&visibility=public", admin_token).json()["namespaces"]
    assert sorted(n["namespace"] for n in public) == sorted([names[0], names[2]])
    # A resource type first named by an association now exists.
    types = api.request("GET", "/image/v2/metadefs/resource_types", admin_token).json()["resource_types"]
    assert kind in {t["name"] for t in types}


def test_visibility_and_policy(api, admin_token, demo_token):
    public = create_namespace(api, admin_token, visibility="public")["namespace"]
    private = create_namespace(api, admin_token, visibility="private")["namespace"]
    listed = {n["namespace"] for n in api.request("GET", f"{NS}?limit=1000", demo_token).json()["namespaces"]}
    assert public in listed and private not in listed
    assert api.request("GET", f"{NS}/{public}", demo_token).status_code == 200
    assert api.request("GET", f"{NS}/{private}", demo_token).status_code == 404
    assert api.request("GET", f"{NS}/{public}/objects", demo_token).status_code == 200
    # Writes are admin-only by default (metadef_admin).
    assert api.request("POST", NS, demo_token, json={"namespace": unique("ns")}).status_code == 403
    assert api.request("DELETE", f"{NS}/{public}", demo_token).status_code == 403
    assert api.request("POST", f"{NS}/{public}/objects", demo_token, json={"name": "o"}).status_code == 403
    assert api.request("POST", f"{NS}/{public}/tags/t", demo_token).status_code == 403
    r = api.request("POST", f"{NS}/{public}/resource_types", demo_token, json={"name": "OS::Glance::Image"})
    assert r.status_code == 403


def test_resource_type_associations(api, admin_token):
    name = create_namespace(api, admin_token)["namespace"]
    path = f"{NS}/{name}/resource_types"
    r = api.request("POST", path, admin_token, json={"name": "OS::Cinder::Volume", "prefix": "p_",
                                                      "properties_target": "image"})
    assert r.status_code == 201 and r.json()["name"] == "OS::Cinder::Volume" and r.json()["prefix"] == "p_"
    assert api.request("POST", path, admin_token, json={"name": "OS::Cinder::Volume"}).status_code == 409
    assert api.request("POST", path, admin_token, json={"prefix": "x"}).status_code == 400
    listed = api.request("GET", path, admin_token).json()["resource_type_associations"]
    assert [a["name"] for a in listed] == ["OS::Cinder::Volume"]
    assert api.request("DELETE", f"{path}/OS::Cinder::Volume", admin_token).status_code == 204
    assert api.request("DELETE", f"{path}/OS::Cinder::Volume", admin_token).status_code == 404
    assert api.request("GET", path, admin_token).json()["resource_type_associations"] == []


def test_objects(api, admin_token):
    name = create_namespace(api, admin_token)["namespace"]
    path = f"{NS}/{name}/objects"
    body = {"name": "obj1", "description": "d", "required": ["a"],
            "properties": {"a": {"title": "A", "type": "string", "enum": ["x", "y"]}}}
    r = api.request("POST", path, admin_token, json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["properties"] == body["properties"]
    assert created["self"] == f"/v2/metadefs/namespaces/{name}/objects/obj1"
    assert api.request("POST", path, admin_token, json={"name": "obj1"}).status_code == 409
    assert api.request("POST", path, admin_token, json={"name": "o", "properties": {"a": {"type": "string"}}}
                       ).status_code == 400
    assert api.request("POST", path, admin_token, json={"name": "obj2"}).json()["properties"] == {}
    r = api.request("PUT", f"{path}/obj1", admin_token, json={"name": "obj1-renamed", "description": "e"})
    assert r.status_code == 200 and r.json()["name"] == "obj1-renamed" and r.json()["description"] == "e"
    assert api.request("GET", f"{path}/obj1", admin_token).status_code == 404
    assert api.request("PUT", f"{path}/obj2", admin_token, json={"name": "obj1-renamed"}).status_code == 409
    listed = api.request("GET", f"{path}?sort_key=name&sort_dir=asc", admin_token).json()
    assert [o["name"] for o in listed["objects"]] == ["obj1-renamed", "obj2"]
    assert listed["schema"] == "/v2/schemas/metadefs/objects"
    assert api.request("DELETE", f"{path}/obj2", admin_token).status_code == 204
    assert api.request("DELETE", f"{path}/obj2", admin_token).status_code == 404
    assert api.request("DELETE", path, admin_token).status_code == 204
    assert api.request("GET", path, admin_token).json()["objects"] == []


def test_properties(api, admin_token):
    name = create_namespace(api, admin_token)["namespace"]
    path = f"{NS}/{name}/properties"
    enum = ["xen", "qemu", "kvm"]
    r = api.request("POST", path, admin_token, json={"name": "OS::Glance::Image", "title": "T", "type": "string",
                                                      "enum": enum})
    assert r.status_code == 201 and r.json() == {"name": "OS::Glance::Image", "title": "T", "type": "string",
                                                 "enum": enum}
    assert api.request("GET", f"{path}/OS::Glance::Image", admin_token).json()["title"] == "T"
    assert api.request("POST", path, admin_token, json={"name": "p", "title": "T"}).status_code == 400
    assert api.request("POST", path, admin_token, json={"name": "p", "title": "T", "type": "nope"}
                       ).status_code == 400
    r = api.request("PUT", f"{path}/OS::Glance::Image", admin_token,
                    json={"name": "OS::Glance::Image", "title": "T2", "type": "string", "enum": enum})
    assert r.status_code == 200 and r.json()["title"] == "T2"
    assert api.request("GET", path, admin_token).json() == {
        "properties": {"OS::Glance::Image": {"title": "T2", "type": "string", "enum": enum}}}
    assert api.request("DELETE", f"{path}/OS::Glance::Image", admin_token).status_code == 204
    assert api.request("GET", path, admin_token).json() == {"properties": {}}


def test_tags(api, admin_token):
    name = create_namespace(api, admin_token)["namespace"]
    path = f"{NS}/{name}/tags"
    r = api.request("POST", path, admin_token, json={"tags": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})
    assert r.status_code == 201 and r.json() == {"tags": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    assert len(api.request("GET", path, admin_token).json()["tags"]) == 3
    # Creating several replaces the existing tags, unless told to append.
    api.request("POST", path, admin_token, json={"tags": [{"name": "d"}]})
    assert [t["name"] for t in api.request("GET", path, admin_token).json()["tags"]] == ["d"]
    r = api.request("POST", path, admin_token, json={"tags": [{"name": "e"}]}, headers={"X-Openstack-Append": "true"})
    assert r.status_code == 201
    assert sorted(t["name"] for t in api.request("GET", path, admin_token).json()["tags"]) == ["d", "e"]
    assert api.request("POST", path, admin_token, json={"tags": [{"name": "d"}]},
                       headers={"X-Openstack-Append": "true"}).status_code == 409
    assert api.request("POST", path, admin_token, json={"tags": [{"name": "x"}, {"name": "x"}]}).status_code == 409
    assert api.request("POST", f"{path}/single", admin_token).status_code == 201
    assert api.request("POST", f"{path}/single", admin_token).status_code == 409
    assert api.request("GET", f"{path}/single", admin_token).json()["name"] == "single"
    r = api.request("PUT", f"{path}/single", admin_token, json={"name": "renamed"})
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    assert api.request("DELETE", f"{path}/renamed", admin_token).status_code == 204
    assert api.request("GET", f"{path}/renamed", admin_token).status_code == 404
    assert api.request("DELETE", path, admin_token).status_code == 204
    assert api.request("GET", path, admin_token).json()["tags"] == []


def test_catalog_enforces_ownership_beyond_policy(api, cloud, admin_token):
    """Glance's ownership rule sits under the policy rules (which an operator may relax):
    only the owner's project, or admin, changes a namespace and what is in it."""
    catalog = cloud.service("image").manager.namespaces
    definitions = cloud.service("image").manager.definitions
    outsider = RequestContext(project_id="some-other-project", roles=["member", "reader"])
    public = create_namespace(api, admin_token, visibility="public")["namespace"]
    private = create_namespace(api, admin_token, visibility="private")["namespace"]
    assert catalog.get_namespace(outsider, public).namespace == public
    with pytest.raises(NotFound):
        catalog.get_namespace(outsider, private)
    with pytest.raises(Forbidden):
        catalog.update_namespace(outsider, public, {"namespace": public})
    with pytest.raises(Forbidden):
        catalog.delete_namespace(outsider, public)
    with pytest.raises(Forbidden):
        definitions.create(outsider, public, "tag", "t", {})
    mine = catalog.create_namespace(outsider, {"namespace": unique("ns")})
    assert mine.owner == "some-other-project" and mine.visibility == "private"
    definitions.create(outsider, mine.namespace, "tag", "t", {})
    catalog.delete_namespace(outsider, mine.namespace)
