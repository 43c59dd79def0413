"""The Image API without a cloud: Glance's JSON-patch dialects, the request parsing the
handlers use, the error format, and the image, member, data and task handlers
themselves on a real SQLite database and file store in a temporary directory, with
Glance's default rules enforced."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa
from starlette.datastructures import QueryParams
from starlette.requests import Request

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import Base
from pocketstack.common.policy import Enforcer
from pocketstack.image import errors
from pocketstack.image.api import data, discovery, images, members, patch, tasks
from pocketstack.image.api.data import DataApi
from pocketstack.image.api.errors import _accept, glance_format, negotiate
from pocketstack.image.api.images import ImagesApi
from pocketstack.image.api.members import MembersApi
from pocketstack.image.api.tasks import TasksApi
from pocketstack.image.contract import Change, ImageContract
from pocketstack.image.manager import ImageManager
from pocketstack.image.policies import RULES
from pocketstack.image.stores.file import FileStore

SERVICE_URL = "http://cloud.test/image"


# -- JSON patch ---------------------------------------------------------------------------
def test_patch_media_type_names_the_dialect_or_answers_415():
    assert patch.media_type("application/openstack-images-v2.1-json-patch; charset=UTF-8") == patch.V2_1
    assert patch.media_type("Application/OpenStack-Images-v2.0-JSON-Patch") == patch.V2_0
    with pytest.raises(errors.UnsupportedPatchType) as raised:
        patch.media_type("application/json")
    error = raised.value
    assert error.status == 415
    assert error.message == (f"Unsupported Content-Type; use {patch.V2_1} or {patch.V2_0}.")
    assert error.headers["Accept-Patch"] == f"{patch.V2_0}, {patch.V2_1}"
    with pytest.raises(errors.UnsupportedPatchType):
        patch.media_type(None)


def test_patch_decodes_both_dialects():
    v21 = patch.decode(patch.V2_1, [{"op": "replace", "path": "/name", "value": "n"},
                                    {"op": "add", "path": "/color", "value": "red"},
                                    {"op": "remove", "path": "/~0odd~1key"}])
    assert v21 == [Change("replace", "name", "n"), Change("add", "color", "red"), Change("remove", "~odd/key")]
    v20 = patch.decode(patch.V2_0, [{"add": "/color", "value": "red"}, {"replace": "/name", "value": "n"}])
    # The v2.0 dialect's add may not overwrite (the manager answers 409 for it).
    assert v20 == [Change("add", "color", "red", add_only_new=True), Change("replace", "name", "n")]


@pytest.mark.parametrize("body,kind,message", [
    ({"op": "replace"}, patch.V2_1, "Unable to find 'path' in JSON Schema change"),
    ({"path": "/name", "value": "x"}, patch.V2_1,
     "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace."),
    ({"op": "move", "path": "/name"}, patch.V2_1,
     "Invalid operation: `move`. It must be one of the following: add, remove, replace."),
    ({"add": "/a", "remove": "/b"}, patch.V2_0,
     'Operation objects must contain exactly one member named "add", "remove", or "replace".'),
    ({"op": "add", "path": "name", "value": "x"}, patch.V2_1, 'Pointer `name` does not start with "/".'),
    ({"op": "add", "path": "/a//b", "value": "x"}, patch.V2_1, 'Pointer `/a//b` contains adjacent "/".'),
    ({"op": "add", "path": "/a/", "value": "x"}, patch.V2_1, 'Pointer `/a/` end with "/".'),
    ({"op": "add", "path": "/a~2", "value": "x"}, patch.V2_1,
     'Pointer `/a~2` contains "~" not part of a recognized escape sequence.'),
    ({"op": "add", "path": "/a/b", "value": "x"}, patch.V2_1, "Invalid JSON pointer for this resource: '/a/b'"),
    ({"op": "add", "path": "/", "value": "x"}, patch.V2_1, "Invalid JSON pointer for this resource: '/'"),
    ({"op": "add", "path": "/name"}, patch.V2_1, 'Operation "add" requires a member named "value".'),
    ("add", patch.V2_1, "Operations must be JSON objects."),
])
def test_patch_refusals_in_glance_words(body, kind, message):
    with pytest.raises(errors.BadRequest) as raised:
        patch.decode(kind, [body])
    assert (raised.value.status, raised.value.message) == (400, message)


def test_patch_body_must_be_an_array_and_attributes_writable():
    with pytest.raises(errors.PatchNotArray):
        patch.decode(patch.V2_1, {"op": "add"})
    with pytest.raises(errors.ReadOnlyAttribute) as raised:
        patch.decode(patch.V2_1, [{"op": "replace", "path": "/status", "value": "active"}])
    assert (raised.value.status, raised.value.message) == (403, "Attribute 'status' is read-only.")
    with pytest.raises(errors.BadRequest):  # a property value must be a string
        patch.decode(patch.V2_1, [{"op": "add", "path": "/color", "value": 5}])


# -- request parsing ----------------------------------------------------------------------
def test_member_bodies():
    assert members.member_to_add({"member": "p2"}) == "p2"
    with pytest.raises(errors.MemberNotSpecified) as raised:
        members.member_to_add([])
    assert raised.value.message == "Member to be added not specified"
    for bad in ("", 5, "x" * 256, "a\x00b"):
        with pytest.raises(errors.InvalidMember):
            members.member_to_add({"member": bad})
    assert members.member_status({"status": "accepted"}) == "accepted"
    with pytest.raises(errors.MemberStatusNotSpecified):
        members.member_status({})
    with pytest.raises(errors.InvalidMemberStatus) as raised:
        members.member_status({"status": 3})
    assert raised.value.message == "Invalid status: 3"


def test_task_bodies_and_filters():
    assert tasks.task_to_create({"type": "import", "input": {}}) == ("import", {})
    with pytest.raises(errors.ReadOnlyAttribute) as raised:
        tasks.task_to_create({"type": "import", "input": {}, "status": "success"})
    assert (raised.value.status, raised.value.message) == (403, "Attribute 'status' is read-only.")
    with pytest.raises(errors.RequiredProperty) as raised:
        tasks.task_to_create({"type": "import"})
    assert raised.value.message == "'input' is a required property"
    with pytest.raises(errors.BodyNotObject):
        tasks.task_to_create(["import"])
    assert tasks.task_filters(QueryParams("type=import&status=pending&x=1")) == {"type": "import",
                                                                                "status": "pending"}
    with pytest.raises(errors.InvalidFilterValue) as raised:
        tasks.task_filters(QueryParams("status=done"))
    assert raised.value.message == "Invalid status value: done"


def test_create_targets_and_visibility_rules():
    assert images.create_target({}, "p1") == {"project_id": "p1", "owner": "p1", "visibility": "shared"}
    assert images.create_target({"owner": "p2", "visibility": "public"}, "p1")["project_id"] == "p2"
    assert images.visibility_rule("public") == "publicize_image"
    assert images.visibility_rule("community") == "communitize_image"
    assert images.visibility_rule("private") is None
    assert images.visibility_rule(["public"]) is None  # the schema check answers it


@pytest.mark.parametrize("header,size,span", [
    (None, 10, None), ("bytes=2-4", 10, (2, 3)), ("bytes=7-", 10, (7, 3)), ("bytes=-4", 10, (6, 4)),
    ("bytes=5-100", 10, (5, 5)), ("items=1-2", 10, None), ("bytes=-", 10, None),
])
def test_byte_range(header, size, span):
    assert data.byte_range(header, size) == span


@pytest.mark.parametrize("header,size", [("bytes=10-", 10), ("bytes=4-2", 10), ("bytes=0-1,3-4", 10),
                                         ("bytes=-0", 10), ("bytes=-5", 0)])
def test_byte_range_unsatisfiable(header, size):
    with pytest.raises(errors.RangeUnsatisfiable) as raised:
        data.byte_range(header, size)
    assert raised.value.status == 416
    assert raised.value.headers == {"Content-Range": f"bytes */{size}"}


def test_upload_media_type_and_schema_documents():
    data.upload_media_type("application/octet-stream; x=y")
    with pytest.raises(errors.UploadNotOctetStream) as raised:
        data.upload_media_type("application/json")
    assert raised.value.status == 415
    assert discovery.served_schema({"image": {"name": "image"}}, "image") == {"name": "image"}
    with pytest.raises(errors.ResourceNotFound) as raised:
        discovery.served_schema({}, "nope")
    assert (raised.value.status, raised.value.message) == (404, "The resource could not be found.")
    versions = discovery.versions_document(SERVICE_URL)["versions"]
    assert versions[0] == {"id": "v2.16", "status": "CURRENT", "links": [{"rel": "self",
                                                                         "href": SERVICE_URL + "/v2/"}]}
    assert versions[-1]["id"] == "v2.0" and all(v["status"] == "SUPPORTED" for v in versions[1:])


# -- the error format ----------------------------------------------------------------------
@pytest.mark.parametrize("accept,kind", [
    (None, "text/html"), ("application/json", "application/json"), ("text/plain", None),
    ("application/json;q=0.5, text/html", "text/html"), ("*/*", "text/html"), ("application/*", "application/json"),
])
def test_negotiate_as_webob(accept, kind):
    assert negotiate(accept) == kind


def test_glance_format_renders_each_kind():
    error = errors.ImageNotFound(image_id="abc")
    token = _accept.set("application/json")
    try:
        body = json.loads(glance_format(error).body)
    finally:
        _accept.reset(token)
    assert body == {"message": "No image found with ID abc<br /><br />\n\n\n", "code": "404 Not Found",
                    "title": "Not Found"}
    token = _accept.set("text/plain")
    try:
        response = glance_format(error)
    finally:
        _accept.reset(token)
    assert response.body == b"404 Not Found\n\nNo image found with ID abc\n\n   "
    html = glance_format(errors.BadRequest("a <b> & c")).body.decode()
    assert "<title>400 Bad Request</title>" in html and "a &lt;b&gt; &amp; c<br /><br />" in html


# -- the handlers on a real database -------------------------------------------------------
@pytest.fixture
def manager(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'image.db'}")
    Base.metadata.create_all(db.engine, tables=[t for t in Base.metadata.sorted_tables
                                                if t.name.startswith("image_")])
    manager = ImageManager(db, FileStore(tmp_path / "images"), FileStore(tmp_path / "image-staging"))
    yield manager
    manager.tasks.stop()
    db.engine.dispose()


@pytest.fixture
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


def caller(*roles: str, project: str = "p1") -> RequestContext:
    return RequestContext(user_id="u-" + project, user_name="alice", project_id=project, project_name=project,
                          roles=list(roles or ("reader", "member")))


def request(enforcer: Enforcer, method: str, path: str, context: RequestContext | None, body=None,
            headers: dict[str, str] | None = None, query: str = "", **path_params: str) -> ApiRequest:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(),
             "path_params": path_params,
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    return ApiRequest(Request(scope), context, enforcer, body=raw, attributes={"service_url": SERVICE_URL})


def test_the_manager_implements_the_contract(manager):
    contract: ImageContract = manager  # checked by mypy; the shape test checks signatures
    assert callable(contract.get_image)


def test_create_show_list_update_delete(manager, enforcer):
    api = ImagesApi(manager)
    owner = caller()
    created = api.create(request(enforcer, "POST", "/v2/images", owner,
                                 {"name": "cirros", "disk_format": "qcow2", "container_format": "bare",
                                  "color": "red", "tags": ["b", "a"]}))
    assert created.status_code == 201
    image = json.loads(created.body)
    assert created.headers["location"] == f"{SERVICE_URL}/v2/images/{image['id']}"
    assert (image["status"], image["owner"], image["visibility"], image["color"], image["tags"]) == (
        "queued", "p1", "shared", "red", ["a", "b"])
    assert image["self"] == f"/v2/images/{image['id']}" and image["schema"] == "/v2/schemas/image"

    shown = api.show(request(enforcer, "GET", "/", owner, image_id=image["id"]))
    assert shown["id"] == image["id"]
    listed = api.index(request(enforcer, "GET", "/v2/images", owner, query="limit=1"))
    assert [i["id"] for i in listed["images"]] == [image["id"]]
    assert listed["first"] == "/v2/images?limit=1" and listed["next"] == f"/v2/images?limit=1&marker={image['id']}"

    updated = api.update(request(enforcer, "PATCH", "/", owner,
                                 [{"op": "replace", "path": "/name", "value": "renamed"},
                                  {"op": "remove", "path": "/color"}],
                                 headers={"content-type": patch.V2_1}, image_id=image["id"]))
    assert updated["name"] == "renamed" and "color" not in updated

    api.add_tag(request(enforcer, "PUT", "/", owner, image_id=image["id"], tag="c"))
    api.delete_tag(request(enforcer, "DELETE", "/", owner, image_id=image["id"], tag="a"))
    assert manager.get_image(owner, image["id"]).tags == ["b", "c"]
    with pytest.raises(errors.TagNotFound) as raised:
        api.delete_tag(request(enforcer, "DELETE", "/", owner, image_id=image["id"], tag="zz"))
    assert raised.value.message == f"Tag zz not found on image {image['id']}."

    api.delete(request(enforcer, "DELETE", "/", owner, image_id=image["id"]))
    with pytest.raises(errors.ImageNotFound) as raised:
        api.show(request(enforcer, "GET", "/", owner, image_id=image["id"]))
    assert raised.value.message == f"No image found with ID {image['id']}"


def test_policies_and_visibility(manager, enforcer):
    api = ImagesApi(manager)
    member, reader = caller(), caller("reader")
    with pytest.raises(errors.Forbidden) as raised:
        api.create(request(enforcer, "POST", "/v2/images", member, {"visibility": "public"}))
    assert raised.value.message == "You are not authorized to perform the requested action: publicize_image."
    with pytest.raises(errors.Forbidden):
        api.create(request(enforcer, "POST", "/v2/images", reader, {"name": "x"}))
    with pytest.raises(errors.ImageBodyNotObject):
        api.create(request(enforcer, "POST", "/v2/images", member, ["x"]))
    image = manager.create_image(member, name="private", visibility="private")
    # Another project cannot see a private image: 404, not 403.
    with pytest.raises(errors.ImageNotFound):
        api.show(request(enforcer, "GET", "/", caller(project="p2"), image_id=image.id))
    # A reader of the owning project sees it but may not change it.
    assert api.show(request(enforcer, "GET", "/", reader, image_id=image.id))["name"] == "private"
    with pytest.raises(errors.Forbidden):
        api.update(request(enforcer, "PATCH", "/", reader, [], headers={"content-type": patch.V2_1},
                           image_id=image.id))


def test_v2_0_add_conflicts_and_state_transitions(manager, enforcer):
    api = ImagesApi(manager)
    owner = caller()
    image = manager.create_image(owner, name="x", color="red")
    with pytest.raises(errors.PropertyAlreadyPresent) as raised:
        api.update(request(enforcer, "PATCH", "/", owner, [{"add": "/color", "value": "blue"}],
                           headers={"content-type": patch.V2_0}, image_id=image.id))
    assert (raised.value.status, raised.value.message) == (409, "Property color already present.")
    with pytest.raises(errors.InvalidImageTransition) as raised:
        api.deactivate(request(enforcer, "POST", "/", owner, image_id=image.id))
    assert raised.value.message == "Not allowed to deactivate image in status 'queued'"
    manager.upload(owner, image.id, iter([b"data"]))
    api.deactivate(request(enforcer, "POST", "/", owner, image_id=image.id))
    with pytest.raises(errors.ImageDeactivated):
        DataApi(manager).download(request(enforcer, "GET", "/", owner, image_id=image.id))
    api.reactivate(request(enforcer, "POST", "/", owner, image_id=image.id))
    assert manager.get_image(owner, image.id).status == "active"


def test_download_whole_and_ranged(manager, enforcer):
    owner = caller()
    image = manager.create_image(owner, name="x")
    api = DataApi(manager)
    assert api.download(request(enforcer, "GET", "/", owner, image_id=image.id)).status_code == 204
    manager.upload(owner, image.id, iter([b"0123456789"]))

    async def read(response) -> bytes:
        return b"".join([chunk async for chunk in response.body_iterator])

    whole = api.download(request(enforcer, "GET", "/", owner, image_id=image.id))
    assert (whole.status_code, whole.headers["content-length"]) == (200, "10")
    assert whole.headers["content-md5"] == manager.get_image(owner, image.id).checksum
    assert asyncio.run(read(whole)) == b"0123456789"
    part = api.download(request(enforcer, "GET", "/", owner, headers={"range": "bytes=2-4"}, image_id=image.id))
    assert (part.status_code, part.headers["content-range"]) == (206, "bytes 2-4/10")
    assert asyncio.run(read(part)) == b"234"


def test_members_share_accept_and_refusals(manager, enforcer):
    owner, other = caller(), caller(project="p2")
    image = manager.create_image(owner, name="shared")
    api = MembersApi(manager)
    added = api.create(request(enforcer, "POST", "/", owner, {"member": "p2"}, image_id=image.id))
    assert (added["member_id"], added["status"], added["schema"]) == ("p2", "pending", "/v2/schemas/member")
    with pytest.raises(errors.DuplicateMember) as raised:
        api.create(request(enforcer, "POST", "/", owner, {"member": "p2"}, image_id=image.id))
    assert raised.value.message == f"Member p2 is duplicated for image {image.id}"
    # The member answers for its own project.
    accepted = api.update(request(enforcer, "PUT", "/", other, {"status": "accepted"},
                                  image_id=image.id, member_id="p2"))
    assert accepted["status"] == "accepted"
    assert [m["member_id"] for m in api.index(request(enforcer, "GET", "/", owner, image_id=image.id))["members"]] \
        == ["p2"]
    with pytest.raises(errors.MemberStatusForbidden):
        api.update(request(enforcer, "PUT", "/", owner, {"status": "rejected"}, image_id=image.id, member_id="p2"))
    with pytest.raises(errors.InvalidMemberStatus):
        api.update(request(enforcer, "PUT", "/", other, {"status": "maybe"}, image_id=image.id, member_id="p2"))
    api.delete(request(enforcer, "DELETE", "/", owner, image_id=image.id, member_id="p2"))
    with pytest.raises(errors.MemberNotFound) as raised:
        api.show(request(enforcer, "GET", "/", owner, image_id=image.id, member_id="p2"))
    assert raised.value.message == f"Member p2 not found for image {image.id}."
    private = manager.create_image(owner, name="private", visibility="private")
    with pytest.raises(errors.MembersOnlyForShared):
        api.create(request(enforcer, "POST", "/", owner, {"member": "p2"}, image_id=private.id))


def test_tasks_are_admin_only_and_checked(manager, enforcer):
    api = TasksApi(manager)
    with pytest.raises(errors.Forbidden) as raised:
        api.index(request(enforcer, "GET", "/v2/tasks", caller()))
    assert raised.value.message == "You are not authorized to perform the requested action: tasks_api_access."
    admin = caller("admin", "member", "reader")
    with pytest.raises(errors.TaskSourceNotHttp):
        api.create(request(enforcer, "POST", "/v2/tasks", admin,
                           {"type": "import", "input": {"import_from": "file:///etc/passwd",
                                                        "import_from_format": "raw", "image_properties": {}}}))
    with pytest.raises(errors.TaskNotFound) as raised:
        api.show(request(enforcer, "GET", "/", admin, task_id="nope"))
    assert raised.value.message == "Task with the given ID nope not found"
    listed = api.index(request(enforcer, "GET", "/v2/tasks", admin))
    assert listed == {"tasks": [], "schema": "/v2/schemas/tasks", "first": "/v2/tasks"}
    with manager.db.session(readonly=True) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(sa.table("image_task"))) == 0
