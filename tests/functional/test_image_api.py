"""Glance v2 images through the API: discovery, schemas, create/list/show/patch/delete,
tags, actions, the visibility matrix and members."""

from __future__ import annotations

import json
import uuid

import pytest

from conftest import unique

IMAGES = "/image/v2/images"
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


@pytest.fixture(scope="module")
def other(api, admin_token):
    """A member of a third project: (token, project_id)."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("imgproj")}}).json()["project"]
    name = unique("imguser")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-img-1"}}).json()["user"]
    role = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    assert api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role}",
                       admin_token).status_code == 204
    return api.token(name, "pw-img-1", project=project["name"]), project["id"]


@pytest.fixture(scope="module")
def demo_project(api, demo_token):
    return api.request("GET", "/identity/v3/auth/tokens", demo_token,
                       headers={"X-Subject-Token": demo_token}).json()["token"]["project"]["id"]


def create(api, token, **body):
    body.setdefault("name", unique("img"))
    r = api.request("POST", IMAGES, token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def patch(api, token, image_id, ops, headers=PATCH):
    return api.request("PATCH", f"{IMAGES}/{image_id}", token, json=ops, headers=headers)


def names(api, token, query=""):
    r = api.request("GET", f"{IMAGES}?limit=1000{query}", token)
    assert r.status_code == 200, r.text
    return {i["name"] for i in r.json()["images"]}


def test_version_discovery(api):
    root = api.request("GET", "/image/")
    assert root.status_code == 300
    versions = root.json()["versions"]
    assert versions[0] == {"id": "v2.16", "status": "CURRENT",
                           "links": [{"rel": "self", "href": "http://127.0.0.1:8780/image/v2/"}]}
    assert {v["status"] for v in versions[1:]} == {"SUPPORTED"} and versions[-1]["id"] == "v2.0"
    assert api.request("GET", "/image/versions").status_code == 200


def test_schemas(api, demo_token):
    image = api.request("GET", "/image/v2/schemas/image", demo_token).json()
    assert image["name"] == "image" and image["additionalProperties"] == {"type": "string"}
    assert image["properties"]["status"]["readOnly"] is True
    assert api.request("GET", "/image/v2/schemas/images", demo_token).json()["name"] == "images"
    assert api.request("GET", "/image/v2/schemas/member", demo_token).json()["name"] == "member"
    assert api.request("GET", "/image/v2/schemas/members", demo_token).json()["name"] == "members"
    assert api.request("GET", "/image/v2/schemas/nope", demo_token).status_code == 404


def test_requires_token(api):
    r = api.request("GET", IMAGES)
    assert r.status_code == 401 and r.json()["error"]["code"] == 401
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")


def test_create_show_defaults(api, demo_token, demo_project):
    image_id = str(uuid.uuid4())
    r = api.request("POST", IMAGES, demo_token, json={
        "id": image_id, "name": "cirros", "disk_format": "qcow2", "container_format": "bare",
        "min_disk": 1, "min_ram": 64, "tags": ["a", "b", "a"], "os_distro": "cirros", "hw_rng": "on"})
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"http://127.0.0.1:8780/image/v2/images/{image_id}"
    body = r.json()
    assert body["id"] == image_id and body["status"] == "queued" and body["visibility"] == "shared"
    assert body["owner"] == demo_project and body["protected"] is False and body["os_hidden"] is False
    assert body["size"] is None and body["checksum"] is None and body["virtual_size"] is None
    assert body["tags"] == ["a", "b"] and body["os_distro"] == "cirros" and body["hw_rng"] == "on"
    assert body["self"] == f"/v2/images/{image_id}" and body["file"] == f"/v2/images/{image_id}/file"
    assert body["schema"] == "/v2/schemas/image" and body["created_at"].endswith("Z")
    shown = api.request("GET", f"{IMAGES}/{image_id}", demo_token)
    assert shown.status_code == 200 and shown.json() == body
    assert api.request("POST", IMAGES, demo_token, json={"id": image_id}).status_code == 409


@pytest.mark.parametrize("body, status", [
    ({"status": "active"}, 403),
    ({"checksum": "x"}, 403),
    ({"self": "/x"}, 403),
    ({"location": "file:///etc/passwd"}, 403),
    ({"os_glance_import_task": "x"}, 403),
    ({"id": "not-a-uuid"}, 400),
    ({"disk_format": "floppy"}, 400),
    ({"container_format": 7}, 400),
    ({"visibility": "everyone"}, 400),
    ({"visibility": ["public"]}, 400),
    ({"visibility": {"public": True}}, 400),
    ({"min_disk": "big"}, 400),
    ({"min_ram": -1}, 400),
    ({"min_ram": 2**40}, 400),
    ({"protected": "yes"}, 400),
    ({"custom": 1}, 400),
    ({"tags": "notalist"}, 400),
    ({"name": "x" * 256}, 400),
    ({"k" * 256: "v"}, 400),
])
def test_create_bad_input(api, demo_token, body, status):
    r = api.request("POST", IMAGES, demo_token, json=body)
    assert r.status_code == status, r.text


def test_nul_characters_are_rejected(api, demo_token):
    image = create(api, demo_token)
    assert api.request("POST", IMAGES, demo_token, json={"name": "a\x00b"}).status_code == 400
    assert api.request("POST", IMAGES, demo_token, json={"k": "a\x00b"}).status_code == 400
    assert api.request("POST", IMAGES, demo_token, json={"tags": ["\x00"]}).status_code == 400
    assert api.request("GET", f"{IMAGES}?name=a%00b", demo_token).status_code == 400
    assert api.request("GET", f"{IMAGES}/a%00b", demo_token).status_code == 400
    assert api.request("PUT", f"{IMAGES}/{image['id']}/tags/a%00b", demo_token).status_code == 400
    r = api.request("POST", f"{IMAGES}/{image['id']}/members", demo_token, json={"member": "a\x00"})
    assert r.status_code == 400
    r = patch(api, demo_token, image["id"], [{"op": "add", "path": "/a\x00", "value": "x"}])
    assert r.status_code == 400


def test_lone_surrogates_are_rejected(api, demo_token):
    """A lone UTF-16 surrogate (sent as the JSON escape) in an image property's name or
    value is a 400 (the audit met a 500: no database stores one), on create and patch."""
    image = create(api, demo_token)
    for body in ({"prop": "a\ud800"}, {"\udfff": "x"}, {"name": "\ud83d"}, {"tags": ["\ud800"]}):
        r = api.request("POST", IMAGES, demo_token, content=json.dumps(body).encode(),
                        headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.text)
    for op in ({"op": "add", "path": "/prop", "value": "\ud800"}, {"op": "add", "path": "/\ud800", "value": "x"},
               {"op": "replace", "path": "/name", "value": "x\udfff"}):
        r = api.request("PATCH", f"{IMAGES}/{image['id']}", demo_token, content=json.dumps([op]).encode(),
                        headers=PATCH)
        assert r.status_code == 400, (op, r.text)
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json() == image


def test_router_errors_follow_accept(api, demo_token):
    """Paths no route takes (a tag with a slash) and methods a route does not serve are
    answered by the router itself, in the negotiated format too."""
    image = create(api, demo_token)
    r = api.request("PUT", f"{IMAGES}/{image['id']}/tags/a%2Fb", demo_token, headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert r.json() == {"message": "The resource could not be found.<br /><br />\n\n\n", "code": "404 Not Found",
                        "title": "Not Found"}
    r = api.request("POST", f"{IMAGES}/{image['id']}", demo_token, headers={"Accept": "application/json"})
    assert r.status_code == 405 and r.json()["code"] == "405 Method Not Allowed"
    html = api.request("PUT", f"{IMAGES}/{image['id']}/tags/a%2Fb", demo_token, headers={"Accept": "*/*"})
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")


def test_create_malformed_body(api, demo_token):
    for content in (b"{nope", b"[1, 2]", b""):
        r = api.request("POST", IMAGES, demo_token, content=content, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (content, r.text)


def test_error_format_follows_accept(api, demo_token):
    missing = f"{IMAGES}/{uuid.uuid4()}"
    as_json = api.request("GET", missing, demo_token, headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.json()["code"] == "404 Not Found"
    assert "No image found" in as_json.json()["message"]
    as_html = api.request("GET", missing, demo_token, headers={"Accept": "*/*"})
    assert as_html.headers["content-type"].startswith("text/html") and "<h1>404 Not Found</h1>" in as_html.text
    plain = api.request("GET", missing, demo_token, headers={"Accept": "text/plain"})
    assert plain.text.startswith("404 Not Found\n\nNo image found")


def test_publicize_needs_admin(api, admin_token, demo_token):
    assert api.request("POST", IMAGES, demo_token, json={"visibility": "public"}).status_code == 403
    image = create(api, demo_token, visibility="private")
    assert patch(api, demo_token, image["id"], [{"op": "replace", "path": "/visibility",
                                                 "value": "public"}]).status_code == 403
    r = patch(api, admin_token, image["id"], [{"op": "replace", "path": "/visibility", "value": "public"}])
    assert r.status_code == 200 and r.json()["visibility"] == "public"
    assert create(api, demo_token, visibility="community")["visibility"] == "community"


def test_non_admin_cannot_create_for_another_owner(api, demo_token, other):
    assert api.request("POST", IMAGES, demo_token, json={"owner": other[1]}).status_code == 403


def test_json_patch(api, demo_token):
    image = create(api, demo_token, foo="1", bar="2")
    r = patch(api, demo_token, image["id"], [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/baz", "value": "3"},
        {"op": "add", "path": "/foo", "value": "one"},
        {"op": "replace", "path": "/bar", "value": "two"},
        {"op": "remove", "path": "/baz"},
        {"op": "add", "path": "/min_ram", "value": 512},
        {"op": "replace", "path": "/tags", "value": ["x", "y"]},
        {"op": "add", "path": "/a~1b", "value": "slash"},
    ])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "renamed" and body["foo"] == "one" and body["bar"] == "two"
    assert "baz" not in body and body["min_ram"] == 512 and body["tags"] == ["x", "y"]
    assert body["a/b"] == "slash" and body["updated_at"] >= image["updated_at"]
    r = patch(api, demo_token, image["id"], [{"op": "remove", "path": "/foo"}])
    assert "foo" not in r.json()


@pytest.mark.parametrize("ops, status", [
    ([{"op": "replace", "path": "/status", "value": "active"}], 403),
    ([{"op": "replace", "path": "/id", "value": str(uuid.uuid4())}], 403),
    ([{"op": "add", "path": "/checksum", "value": "x"}], 403),
    ([{"op": "remove", "path": "/size"}], 403),
    ([{"op": "add", "path": "/deleted", "value": "x"}], 403),
    ([{"op": "remove", "path": "/name"}], 403),
    ([{"op": "replace", "path": "/missing", "value": "x"}], 409),
    ([{"op": "remove", "path": "/missing"}], 409),
    ([{"op": "move", "path": "/name", "from": "/x"}], 400),
    ([{"path": "/name", "value": "x"}], 400),
    ([{"op": "replace", "value": "x"}], 400),
    ([{"op": "replace", "path": "name", "value": "x"}], 400),
    ([{"op": "replace", "path": "/a/b", "value": "x"}], 400),
    ([{"op": "replace", "path": "//a", "value": "x"}], 400),
    ([{"op": "replace", "path": "/a~2", "value": "x"}], 400),
    ([{"op": "replace", "path": "/name"}], 400),
    ([{"op": "add", "path": "/prop", "value": 5}], 400),
    ([{"op": "replace", "path": "/min_disk", "value": "x"}], 400),
    ([{"op": "replace", "path": "/visibility", "value": "nope"}], 400),
    ({"op": "replace"}, 400),
    (["replace"], 400),
])
def test_json_patch_rejects(api, demo_token, ops, status):
    image = create(api, demo_token)
    r = patch(api, demo_token, image["id"], ops)
    assert r.status_code == status, r.text
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json() == image


def test_json_patch_is_atomic(api, demo_token):
    image = create(api, demo_token)
    r = patch(api, demo_token, image["id"], [{"op": "replace", "path": "/name", "value": "changed"},
                                             {"op": "remove", "path": "/missing"}])
    assert r.status_code == 409
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["name"] == image["name"]


def test_json_patch_media_type(api, demo_token):
    image = create(api, demo_token)
    r = patch(api, demo_token, image["id"], [], headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    assert r.headers["Accept-Patch"] == ("application/openstack-images-v2.0-json-patch, "
                                         "application/openstack-images-v2.1-json-patch")


PATCH_V2_0 = {"Content-Type": "application/openstack-images-v2.0-json-patch"}


def test_json_patch_v2_0_dialect(api, demo_token):
    """The draft-04 form Tempest sends: the operation is the key holding the path."""
    image = create(api, demo_token, foo="1")
    r = patch(api, demo_token, image["id"], [
        {"replace": "/name", "value": "renamed-v20"},
        {"add": "/baz", "value": "3"},
        {"replace": "/foo", "value": "one"},
        {"replace": "/protected", "value": True},
    ], headers=PATCH_V2_0)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "renamed-v20" and body["baz"] == "3" and body["foo"] == "one" and body["protected"]
    assert api.request("DELETE", f"{IMAGES}/{image['id']}", demo_token).status_code == 403
    r = patch(api, demo_token, image["id"], [{"remove": "/baz"}, {"replace": "/protected", "value": False}],
              headers=PATCH_V2_0)
    assert r.status_code == 200 and "baz" not in r.json() and r.json()["protected"] is False
    assert api.request("DELETE", f"{IMAGES}/{image['id']}", demo_token).status_code == 204


@pytest.mark.parametrize("ops, status", [
    ([{"add": "/foo", "value": "again"}], 409),       # v2.0 add never overwrites a property
    ([{"add": "/name", "value": "x"}], 409),          # ... nor a base attribute
    ([{"replace": "/missing", "value": "x"}], 409),
    ([{"replace": "/status", "value": "active"}], 403),
    ([{"op": "replace", "path": "/name", "value": "x"}], 400),  # the v2.1 form is not v2.0
    ([{"add": "/x", "replace": "/y", "value": "x"}], 400),
    ([{"replace": "name", "value": "x"}], 400),
    ([{"replace": "/name"}], 400),
])
def test_json_patch_v2_0_rejects(api, demo_token, ops, status):
    image = create(api, demo_token, foo="1")
    r = patch(api, demo_token, image["id"], ops, headers=PATCH_V2_0)
    assert r.status_code == status, r.text
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json() == image


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
def test_empty_image_id_is_not_found(api, demo_token, method):
    r = api.request(method, f"{IMAGES}/", demo_token, headers={"Accept": "application/json", **PATCH})
    assert r.status_code == 404 and r.json()["code"] == "404 Not Found"


def test_owner_change_needs_admin(api, admin_token, demo_token, other):
    image = create(api, demo_token)
    ops = [{"op": "replace", "path": "/owner", "value": other[1]}]
    assert patch(api, demo_token, image["id"], ops).status_code == 403
    assert patch(api, admin_token, image["id"], ops).json()["owner"] == other[1]


def test_tags(api, demo_token, other):
    image = create(api, demo_token, tags=["one"])
    url = f"{IMAGES}/{image['id']}/tags"
    assert api.request("PUT", f"{url}/two", demo_token).status_code == 204
    assert api.request("PUT", f"{url}/two", demo_token).status_code == 204
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["tags"] == ["one", "two"]
    assert api.request("DELETE", f"{url}/one", demo_token).status_code == 204
    assert api.request("DELETE", f"{url}/one", demo_token).status_code == 404
    assert api.request("PUT", f"{url}/{'x' * 256}", demo_token).status_code == 400
    assert api.request("PUT", f"{url}/x", other[0]).status_code == 404
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["tags"] == ["two"]


def test_delete_and_protected(api, demo_token, other):
    image = create(api, demo_token, protected=True)
    url = f"{IMAGES}/{image['id']}"
    assert api.request("DELETE", url, demo_token).status_code == 403
    assert api.request("DELETE", url, other[0]).status_code == 404
    patch(api, demo_token, image["id"], [{"op": "replace", "path": "/protected", "value": False}])
    assert api.request("DELETE", url, demo_token).status_code == 204
    assert api.request("GET", url, demo_token).status_code == 404
    assert api.request("DELETE", url, demo_token).status_code == 404


def test_deactivate_needs_active(api, demo_token):
    image = create(api, demo_token)
    r = api.request("POST", f"{IMAGES}/{image['id']}/actions/deactivate", demo_token)
    assert r.status_code == 403 and "queued" in r.text
    assert api.request("POST", f"{IMAGES}/{image['id']}/actions/reactivate", demo_token).status_code == 403
    assert api.request("POST", f"{IMAGES}/{uuid.uuid4()}/actions/deactivate", demo_token).status_code == 404


def test_visibility_matrix(api, admin_token, demo_token, other, demo_project):
    tag = unique("vis")
    made = {}
    made["public"] = create(api, admin_token, name=f"{tag}-public", visibility="public", tags=[tag])
    for v in ("private", "shared", "community"):
        made[v] = create(api, demo_token, name=f"{tag}-{v}", visibility=v, tags=[tag])
    q = f"&tag={tag}"
    assert names(api, demo_token, q) == {f"{tag}-{v}" for v in ("public", "private", "shared", "community")}
    # Another project: public only by default; community on request; never private/shared.
    assert names(api, other[0], q) == {f"{tag}-public"}
    assert names(api, other[0], q + "&visibility=community") == {f"{tag}-community"}
    assert names(api, other[0], q + "&visibility=all") == {f"{tag}-public", f"{tag}-community"}
    assert names(api, other[0], q + "&visibility=private") == set()
    for v, status in (("public", 200), ("community", 200), ("private", 404), ("shared", 404)):
        assert api.request("GET", f"{IMAGES}/{made[v]['id']}", other[0]).status_code == status, v
    # Admin sees everything, except other projects' community images unless asked.
    assert names(api, admin_token, q) == {f"{tag}-{v}" for v in ("public", "private", "shared")}
    assert names(api, admin_token, q + "&visibility=all") == {f"{tag}-{v}" for v in made}
    # Writes by another project are refused (404: it cannot even see the private image).
    ops = [{"op": "replace", "path": "/name", "value": "x"}]
    assert patch(api, other[0], made["private"]["id"], ops).status_code == 404
    assert patch(api, other[0], made["community"]["id"], ops).status_code == 403
    assert api.request("DELETE", f"{IMAGES}/{made['public']['id']}", demo_token).status_code == 403


def test_members_and_sharing(api, demo_token, other):
    tag = unique("share")
    image = create(api, demo_token, name=tag, tags=[tag])
    members = f"{IMAGES}/{image['id']}/members"
    token, project = other
    r = api.request("POST", members, demo_token, json={"member": project})
    assert r.status_code == 200, r.text
    member = r.json()
    assert member["status"] == "pending" and member["member_id"] == project
    assert member["image_id"] == image["id"] and member["schema"] == "/v2/schemas/member"
    assert api.request("POST", members, demo_token, json={"member": project}).status_code == 409
    assert api.request("POST", members, demo_token, json={}).status_code == 400
    # Pending: visible directly, not listed unless asked.
    assert api.request("GET", f"{IMAGES}/{image['id']}", token).status_code == 200
    assert names(api, token, f"&tag={tag}") == set()
    assert names(api, token, f"&tag={tag}&member_status=pending") == {tag}
    assert names(api, token, f"&tag={tag}&member_status=all") == {tag}
    assert api.request("GET", f"{IMAGES}?member_status=maybe", token).status_code == 400
    # Only the member decides its status.
    me = f"{members}/{project}"
    assert api.request("PUT", me, demo_token, json={"status": "accepted"}).status_code == 403
    assert api.request("PUT", me, token, json={"status": "maybe"}).status_code == 400
    assert api.request("PUT", me, token, json={}).status_code == 400
    r = api.request("PUT", me, token, json={"status": "accepted"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert names(api, token, f"&tag={tag}") == {tag}
    assert names(api, token, f"&tag={tag}&visibility=shared") == {tag}
    listed = api.request("GET", members, demo_token).json()
    assert listed["schema"] == "/v2/schemas/members" and [m["status"] for m in listed["members"]] == ["accepted"]
    assert api.request("GET", members, token).json()["members"][0]["member_id"] == project
    assert api.request("GET", me, token).json()["status"] == "accepted"
    # The member cannot change the image or manage members.
    assert patch(api, token, image["id"], [{"op": "replace", "path": "/name", "value": "x"}]).status_code == 403
    assert api.request("DELETE", me, token).status_code == 403
    # Removing the member hides the image again.
    assert api.request("DELETE", me, demo_token).status_code == 204
    assert api.request("DELETE", me, demo_token).status_code == 404
    assert api.request("GET", f"{IMAGES}/{image['id']}", token).status_code == 404


def test_members_only_for_shared(api, demo_token, other):
    image = create(api, demo_token, visibility="private")
    r = api.request("POST", f"{IMAGES}/{image['id']}/members", demo_token, json={"member": other[1]})
    assert r.status_code == 403 and "Only shared images have members" in r.text
    assert api.request("GET", f"{IMAGES}/{image['id']}/members", demo_token).status_code == 403


def test_list_filters(api, demo_token):
    tag = unique("flt")
    a = create(api, demo_token, name=f"{tag}-a", tags=[tag, "x"], disk_format="raw", os_distro="ubuntu")
    b = create(api, demo_token, name=f"{tag}-b", tags=[tag], disk_format="qcow2", protected=True)
    c = create(api, demo_token, name=f"{tag}-c", tags=[tag], os_hidden=True)
    q = f"&tag={tag}"
    assert names(api, demo_token, q) == {a["name"], b["name"]}
    assert names(api, demo_token, q + "&os_hidden=true") == {c["name"]}
    assert names(api, demo_token, q + "&tag=x") == {a["name"]}
    assert names(api, demo_token, f"&name={a['name']}") == {a["name"]}
    assert names(api, demo_token, q + f"&name=in:{a['name']},{b['name']}") == {a["name"], b["name"]}
    assert names(api, demo_token, q + "&disk_format=qcow2") == {b["name"]}
    assert names(api, demo_token, q + "&os_distro=ubuntu") == {a["name"]}
    assert names(api, demo_token, q + "&protected=true") == {b["name"]}
    assert names(api, demo_token, q + "&status=queued") == {a["name"], b["name"]}
    assert names(api, demo_token, q + "&status=active") == set()
    assert names(api, demo_token, q + f"&owner={a['owner']}") == {a["name"], b["name"]}
    assert names(api, demo_token, q + "&size_min=1") == set()
    # Any column of the image compares exactly (Glance), integers as integers.
    a_min_ram = api.request("PATCH", f"{IMAGES}/{a['id']}", demo_token, content=json.dumps(
        [{"op": "replace", "path": "/min_ram", "value": 512}]),
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert a_min_ram.status_code == 200, a_min_ram.text
    assert names(api, demo_token, q + "&min_ram=512") == {a["name"]}
    assert names(api, demo_token, q + "&min_ram=0") == {b["name"]}
    assert api.request("PUT", f"{IMAGES}/{a['id']}/file", demo_token, content=b"x" * 2994,
                       headers={"Content-Type": "application/octet-stream"}).status_code == 204
    assert names(api, demo_token, q + "&size=2994") == {a["name"]}
    assert names(api, demo_token, q + "&size=2995") == set()
    assert names(api, demo_token, q + f"&created_at=gte:{a['created_at']}") == {a["name"], b["name"]}
    assert names(api, demo_token, q + "&created_at=lt:2000-01-01T00:00:00Z") == set()
    assert names(api, demo_token, q + "&updated_at=gt:2000-01-01T00:00:00Z") == {a["name"], b["name"]}
    assert names(api, demo_token, q + "&created_at=neq:2000-01-01T00:00:00Z") == {a["name"], b["name"]}


@pytest.mark.parametrize("query", [
    "limit=x", "limit=-1", "sort_key=nope", "sort_dir=sideways", "sort=name:up", "sort=name&sort_key=id",
    "visibility=everyone", "size_min=big", "size_max=99999999999999999999999", "size=big", "min_ram=1.5",
    "created_at=gt:9999-12-31T23:59:59-14:00", "created_at=gt:yesterday", "protected=maybe", "changes-since=x",
    "marker=6f1c2a9e-0d3b-4c1e-9a57-3e2b8d4f0a11", "sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc",
])
def test_list_bad_query(api, demo_token, query):
    r = api.request("GET", f"{IMAGES}?{query}", demo_token)
    assert r.status_code == 400, r.text


def test_paging_and_sorting(api, demo_token):
    tag = unique("page")
    made = [create(api, demo_token, name=f"{tag}-{i}", tags=[tag]) for i in range(5)]
    url = f"{IMAGES}?tag={tag}&sort_key=name&sort_dir=asc&limit=2"
    body = api.request("GET", url, demo_token).json()
    assert body["schema"] == "/v2/schemas/images"
    assert body["first"] == f"/v2/images?tag={tag}&sort_key=name&sort_dir=asc&limit=2"
    seen = [i["name"] for i in body["images"]]
    while "next" in body:
        assert body["next"].startswith("/v2/images?")
        body = api.request("GET", "/image" + body["next"], demo_token).json()
        seen += [i["name"] for i in body["images"]]
    assert seen == sorted(i["name"] for i in made)
    desc = api.request("GET", f"{IMAGES}?tag={tag}&sort=name:desc", demo_token).json()["images"]
    assert [i["name"] for i in desc] == sorted(seen, reverse=True)
    default = api.request("GET", f"{IMAGES}?tag={tag}", demo_token).json()["images"]
    assert [i["id"] for i in default][-1] == made[0]["id"] or len({i["created_at"] for i in made}) == 1
    assert api.request("GET", f"{IMAGES}?tag={tag}&limit=0", demo_token).json()["images"] == []


def test_concurrent_changes_are_not_lost(api, demo_token):
    """Racing PATCHes and tag edits each land: the loser of a compare-and-swap re-reads."""
    from concurrent.futures import ThreadPoolExecutor

    from pocketstack.common.context import RequestContext
    from pocketstack.image.manager import Change

    image = create(api, demo_token)
    images = api.cloud.service("image").manager
    context = RequestContext(project_id=image["owner"], roles=["member", "reader"])

    def work(i):
        images.update_image(context, image["id"], [Change("add", f"p{i}", str(i))])
        images.add_tag(context, image["id"], f"t{i}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(16)))
    final = api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()
    assert all(final[f"p{i}"] == str(i) for i in range(16))
    assert sorted(final["tags"]) == sorted(f"t{i}" for i in range(16))
