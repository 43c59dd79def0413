"""Object storage without a cloud: the request parsing the handlers use, the handlers
themselves on a real store in a temporary directory, the owner rules they enforce, and
the manager as other services call it (``ObjectContract``)."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.datastructures import Headers
from starlette.requests import Request

from pocketstack.common import config
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.context import RequestContext
from pocketstack.common.policy import Enforcer
from pocketstack.object import errors
from pocketstack.object.api import access, containers, large, objects
from pocketstack.object.api.body import once
from pocketstack.object.api.containers import ContainersApi
from pocketstack.object.api.info import InfoApi
from pocketstack.object.manager import ObjectManager
from pocketstack.object.policies import RULES

NOW = 1_700_000_000.0


# -- request parsing --------------------------------------------------------------------------
def test_delete_at_from_after_or_at():
    assert objects.delete_at(Headers({"x-delete-after": "60"}), now=NOW) == str(int(NOW) + 60)
    assert objects.delete_at(Headers({"x-delete-at": str(int(NOW) + 5)}), now=NOW) == str(int(NOW) + 5)
    # Ten digits at most, as Swift keeps it.
    assert objects.delete_at(Headers({"x-delete-at": "99999999999"}), now=NOW) == "9999999999"
    assert objects.delete_at(Headers({}), now=NOW) is None


@pytest.mark.parametrize("headers,message", [
    ({"x-delete-after": "0"}, "X-Delete-After in past"),
    ({"x-delete-at": str(int(NOW))}, "X-Delete-At in past"),
    ({"x-delete-after": "soon"}, "Non-integer X-Delete-After"),
    ({"x-delete-at": "1.5"}, "Non-integer X-Delete-At"),
])
def test_delete_at_refusals(headers, message):
    with pytest.raises(errors.ApiError) as raised:
        objects.delete_at(Headers(headers), now=NOW)
    assert (raised.value.status, raised.value.message) == (400, message)


def test_user_metadata_guesses_the_type_and_keeps_empty_meta():
    updates = objects.user_metadata(Headers({"x-object-meta-a": "", "content-disposition": ""}), "photo.png")
    assert updates == {"X-Object-Meta-A": "", "Content-Type": "image/png"}
    detected = objects.user_metadata(Headers({"content-type": "text/plain", "x-detect-content-type": "true"}),
                                     "x.bin", {"Content-Type": "application/x-kept"})
    assert detected["Content-Type"] == "application/x-kept"


def test_user_metadata_refuses_a_manifest_without_a_prefix():
    with pytest.raises(errors.InvalidManifestHeader) as raised:
        objects.user_metadata(Headers({"x-object-manifest": "segments"}), "o")
    assert raised.value.message == "X-Object-Manifest must be in the format container/prefix"


def test_object_path():
    assert objects.object_path("/c/a/b%20c") == ("c", "a/b c")
    assert objects.object_path("c") is None
    assert objects.object_path("/c/") is None


def test_declared_length_and_upload_expectations():
    assert objects.declared_length(Headers({"transfer-encoding": "chunked"})) is None
    assert objects.declared_length(Headers({"content-length": "12"})) == 12
    for headers, kind in (({}, errors.LengthRequired), ({"content-length": "-1"}, errors.InvalidContentLength),
                          ({"content-length": str(objects.MAX_OBJECT_SIZE + 1)}, errors.ObjectTooLarge)):
        with pytest.raises(kind):
            objects.declared_length(Headers(headers))
    expected = objects.Expected.of(Headers({"content-length": "3", "etag": '"ABC"'}))
    assert expected == objects.Expected(3, "abc")
    expected.check("abc", 3)
    with pytest.raises(errors.IncompleteBody):
        expected.check("abc", 2)
    with pytest.raises(errors.EtagMismatch) as raised:
        expected.check("abd", 3)
    assert (raised.value.status, raised.value.message) == (422, "Unprocessable Entity")


def test_container_updates_check_acls_and_versioning():
    updates = containers.container_updates(Headers({"x-container-read": ".r:*", "x-versions-location": "arch"}))
    assert updates == {"X-Container-Read": ".r:*", "X-Versions-Location": "arch", "X-History-Location": ""}
    with pytest.raises(errors.InvalidAclElement):
        containers.container_updates(Headers({"x-container-write": "nocolon"}))
    with pytest.raises(errors.TwoVersioningModes):
        containers.container_updates(Headers({"x-versions-location": "a", "x-history-location": "b"}))


@pytest.mark.parametrize("body,message", [
    (b"{", "Manifest must be valid JSON.\n"),
    (b"{}", "Manifest must be a list of segments.\n"),
    (b"[]", "Manifest must be a list of segments.\n"),
    (json.dumps([{"path": "/c/o"}] * (large.MAX_SEGMENTS + 1)).encode(), "Too many segments; max 1000\n"),
])
def test_manifest_entries_refusals(body, message):
    with pytest.raises(errors.ApiError) as raised:
        large.manifest_entries(body)
    assert (raised.value.status, raised.value.message) == (400, message)


def test_manifest_entries_too_large():
    with pytest.raises(errors.ManifestTooLarge) as raised:
        large.manifest_entries(b" " * (large.MAX_MANIFEST + 1))
    assert raised.value.message == "Manifest File > 2097152 bytes"


# -- handlers on a real store -----------------------------------------------------------------
@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    settings = config.load(overrides={"data_dir": tmp_path_factory.mktemp("object")}, environ={})
    manager = ObjectManager(settings)
    yield manager
    manager.close()


@pytest.fixture(scope="module")
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


def request(enforcer: Enforcer, method: str, path: str, context: RequestContext | None,
            headers: dict[str, str] | None = None, **path_params: str) -> ApiRequest:
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "path_params": path_params,
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    return ApiRequest(Request(scope), context, enforcer, attributes={"service_path": "/object-store"})


def caller(*roles: str, project: str = "p1") -> RequestContext:
    return RequestContext(user_id="u1", user_name="alice", project_id=project, project_name="proj", roles=list(roles))


def test_healthcheck_and_info(enforcer):
    api = InfoApi()
    assert api.healthcheck(request(enforcer, "GET", "/healthcheck", None)).body == b"OK"
    head = api.healthcheck(request(enforcer, "HEAD", "/healthcheck", None))
    assert head.body == b"" and head.headers["content-length"] == "2"
    assert json.loads(api.info(request(enforcer, "GET", "/info", None)).body)["slo"]["max_manifest_segments"] == 1000


@pytest.mark.parametrize("roles,project,owner,reader", [
    (("admin",), "other", True, True),
    (("member", "reader"), "p1", True, True),
    (("swiftoperator",), "p1", True, True),
    (("reader",), "p1", False, True),
    (("member",), "p2", False, False),
])
def test_owner_rules(enforcer, roles, project, owner, reader):
    req = request(enforcer, "GET", "/", caller(*roles, project=project))
    assert access.is_owner(req, "AUTH_p1", write=True) is owner
    assert access.is_owner(req, "AUTH_p1", write=False) is reader
    # An account not named AUTH_<project> belongs to no project: only the administrator.
    assert access.is_owner(req, "p1", write=False) is ("admin" in roles)


def test_container_handlers_answer_by_ownership(manager, enforcer):
    api = ContainersApi(manager.store)
    manager.put_container("AUTH_p1", "box", {"X-Container-Read": "p9:*", "X-Container-Meta-Color": "blue"},
                          manager.timestamp())

    def head(context):
        return api.head(request(enforcer, "HEAD", "/v1/AUTH_p1/box", context, account="AUTH_p1", container="box"))

    owned = head(caller("member"))
    assert owned.status_code == 204 and owned.headers["x-container-read"] == "p9:*"
    read_only = head(caller("reader"))  # a reader sees the metadata, not the ACLs
    assert read_only.headers["x-container-meta-color"] == "blue" and "x-container-read" not in read_only.headers
    assert head(caller("member", project="p9")).headers["x-container-object-count"] == "0"  # an ACL grantee
    with pytest.raises(errors.AccessForbidden):
        head(caller("member", project="p2"))
    with pytest.raises(errors.AccessDenied):
        head(None)
    with pytest.raises(errors.ResourceNotFound):
        api.head(request(enforcer, "HEAD", "/v1/AUTH_p1/none", caller("member"), account="AUTH_p1",
                         container="none"))


def test_container_delete_refuses_a_reader_and_a_full_container(manager, enforcer):
    api = ContainersApi(manager.store)
    manager.put_container("AUTH_p1", "full", {}, manager.timestamp())
    asyncio.run(manager.put_object("AUTH_p1", "full", "o", once(b"x"), {"Content-Type": "text/plain"},
                                   manager.timestamp()))

    def delete(context):
        return api.delete(request(enforcer, "DELETE", "/v1/AUTH_p1/full", context, account="AUTH_p1",
                                  container="full"))

    with pytest.raises(errors.AccessForbidden):
        delete(caller("reader"))
    with pytest.raises(errors.ContainerNotEmpty) as raised:
        delete(caller("member"))
    assert raised.value.status == 409


# -- the contract -----------------------------------------------------------------------------
def test_manager_stores_reads_and_removes_objects(manager):
    assert manager.put_container("AUTH_p5", "backups", {}, manager.timestamp()) is True
    assert manager.put_container("AUTH_p5", "backups", {}, manager.timestamp()) is False
    etag, size = asyncio.run(manager.put_object("AUTH_p5", "backups", "b/chunk-1", once(b"data"),
                                                {"Content-Type": "application/octet-stream"}, manager.timestamp()))
    assert size == 4
    state = manager.object_state("AUTH_p5", "backups", "b/chunk-1")
    assert state.exists and state.metadata["ETag"] == etag and b"".join(state.read(0, 4)) == b"data"
    listing, info = manager.container("AUTH_p5", "backups")
    assert [row["name"] for row in listing.list(limit=10, prefix="b/")] == ["b/chunk-1"]
    manager.remove_object("AUTH_p5", "backups", "b/chunk-1", state)
    assert not manager.object_state("AUTH_p5", "backups", "b/chunk-1").exists
    assert listing.list(limit=10, prefix="b/") == []
    assert manager.container("AUTH_p5", "none") is None


def test_a_not_modified_answer_has_no_body_but_keeps_the_object_headers():
    from pocketstack.object.api.responses import swift_format

    response = swift_format(errors.NotModified(headers={"Content-Length": "11", "ETag": '"abc"'}))
    assert (response.status_code, response.body) == (304, b"")
    assert response.headers["content-length"] == "11" and response.headers["etag"] == '"abc"'
