"""Image data through the API and the manager: streaming upload, integrity, ranged
download, the upload state machine (conflicts, killed on failure, crash recovery)."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from pocketstack.common.context import RequestContext
from pocketstack.common.errors import Conflict, Gone

from conftest import unique

IMAGES = "/image/v2/images"
OCTETS = {"Content-Type": "application/octet-stream"}


def create(api, token, **body):
    body.setdefault("name", unique("data"))
    r = api.request("POST", IMAGES, token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def upload(api, token, image_id, content, headers=OCTETS):
    return api.request("PUT", f"{IMAGES}/{image_id}/file", token, content=content, headers=headers)


@pytest.fixture(scope="module")
def payload():
    return os.urandom(3 * 1024 * 1024 + 123)


@pytest.fixture(scope="module")
def active(api, demo_token, payload):
    image = create(api, demo_token, disk_format="raw", container_format="bare")
    assert upload(api, demo_token, image["id"], payload).status_code == 204
    return api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()


def manager(api):
    return api.cloud.service("image").manager


def partials(api) -> list[str]:
    return os.listdir(manager(api).store.default.partials)


def test_upload_sets_size_and_hashes(active, payload):
    assert active["status"] == "active" and active["size"] == len(payload)
    assert active["checksum"] == hashlib.md5(payload).hexdigest()
    assert active["os_hash_algo"] == "sha512" and active["os_hash_value"] == hashlib.sha512(payload).hexdigest()


def test_download_is_identical(api, demo_token, active, payload):
    r = api.request("GET", f"{IMAGES}/{active['id']}/file", demo_token)
    assert r.status_code == 200 and r.content == payload
    assert r.headers["Content-MD5"] == active["checksum"]
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Length"] == str(len(payload))


@pytest.mark.parametrize("header, start, end", [
    ("bytes=0-9", 0, 9), ("bytes=100-", 100, None), ("bytes=-50", -50, None),
    ("bytes=10-99999999999", 10, None),
])
def test_ranged_download(api, demo_token, active, payload, header, start, end):
    r = api.request("GET", f"{IMAGES}/{active['id']}/file", demo_token, headers={"Range": header})
    expected = payload[start:] if end is None else payload[start:end + 1]
    assert r.status_code == 206 and r.content == expected
    first = start if start >= 0 else len(payload) + start
    assert r.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(payload)}"
    assert r.headers["Content-Length"] == str(len(expected))


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=5-1", "bytes=-0", "bytes=0-1,5-6"])
def test_unsatisfiable_range(api, demo_token, active, payload, header):
    r = api.request("GET", f"{IMAGES}/{active['id']}/file", demo_token, headers={"Range": header})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(payload)}"


def test_malformed_range_is_ignored(api, demo_token, active, payload):
    r = api.request("GET", f"{IMAGES}/{active['id']}/file", demo_token, headers={"Range": "pages=1-2"})
    assert r.status_code == 200 and len(r.content) == len(payload)


def test_queued_image_has_no_data(api, demo_token):
    image = create(api, demo_token)
    assert api.request("GET", f"{IMAGES}/{image['id']}/file", demo_token).status_code == 204


def test_second_upload_conflicts(api, demo_token, active):
    assert upload(api, demo_token, active["id"], b"again").status_code == 409


def test_upload_needs_octet_stream_and_owner(api, demo_token, admin_token):
    image = create(api, demo_token)
    assert upload(api, demo_token, image["id"], b"x", {"Content-Type": "text/plain"}).status_code == 415
    public = create(api, admin_token, visibility="public")
    assert upload(api, demo_token, public["id"], b"x").status_code == 403
    assert upload(api, demo_token, str(uuid.uuid4()), b"x").status_code == 404
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["status"] == "queued"


def test_empty_upload(api, demo_token):
    image = create(api, demo_token)
    assert upload(api, demo_token, image["id"], b"").status_code == 204
    body = api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()
    assert body["status"] == "active" and body["size"] == 0 and body["checksum"] == hashlib.md5(b"").hexdigest()
    r = api.request("GET", f"{IMAGES}/{image['id']}/file", demo_token)
    assert r.status_code == 200 and r.content == b""


def test_concurrent_upload_loses_with_409(api, demo_token):
    image = create(api, demo_token)
    images = manager(api)
    context = RequestContext(project_id=image["owner"], roles=["member", "reader"])
    first = images.data.begin(context, image["id"])
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["status"] == "saving"
    assert upload(api, demo_token, image["id"], b"late").status_code == 409
    with pytest.raises(Conflict):
        images.data.begin(context, image["id"])
    first.write(b"first")
    assert images.data.finish(context, first).status == "active"
    assert api.request("GET", f"{IMAGES}/{image['id']}/file", demo_token).content == b"first"


def test_failed_upload_is_killed_and_cleaned(api, demo_token):
    image = create(api, demo_token)
    data = manager(api).data
    cap = data.size_cap
    data.size_cap = 1024
    try:
        declared = upload(api, demo_token, image["id"], b"x" * 2048)
        assert declared.status_code == 413
        assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["status"] == "queued"
        streamed = upload(api, demo_token, image["id"], iter([b"x" * 1000] * 3))
    finally:
        data.size_cap = cap
    assert streamed.status_code == 413
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["status"] == "killed"
    assert not [p for p in partials(api) if p.startswith(image["id"])]
    assert upload(api, demo_token, image["id"], b"x").status_code == 409


def test_broken_stream_is_killed(api, demo_token):
    """The in-process client hands its body error to the app as the stream's error (a
    real disconnect is covered by the integration test); either way the upload dies."""
    image = create(api, demo_token)

    def body():
        yield b"x" * (2 << 20)
        raise ConnectionError("client went away")

    try:
        upload(api, demo_token, image["id"], body())
    except ConnectionError:
        pass
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["status"] == "killed"
    assert not [p for p in partials(api) if p.startswith(image["id"])]


def test_delete_during_upload_answers_gone(api, demo_token):
    image = create(api, demo_token)
    images = manager(api)
    context = RequestContext(project_id=image["owner"], roles=["member", "reader"])
    pending = images.data.begin(context, image["id"])
    pending.write(b"abc")
    assert api.request("DELETE", f"{IMAGES}/{image['id']}", demo_token).status_code == 204
    with pytest.raises(Exception) as raised:
        images.data.finish(context, pending)
    assert getattr(raised.value, "status", None) == 410
    assert not (images.store.default.root / image["id"]).exists()


def test_restart_recovers_interrupted_upload(api, demo_token):
    image = create(api, demo_token)
    images = manager(api)
    context = RequestContext(project_id=image["owner"], roles=["member", "reader"])
    interrupted = images.data.begin(context, image["id"])
    interrupted.write(b"partial")
    assert [p for p in partials(api) if p.startswith(image["id"])]
    images.data.recover()  # what the service does on start
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["status"] == "queued"
    assert not [p for p in partials(api) if p.startswith(image["id"])]
    assert upload(api, demo_token, image["id"], b"complete").status_code == 204
    assert api.request("GET", f"{IMAGES}/{image['id']}/file", demo_token).content == b"complete"


def test_recovery_removes_orphaned_data(api):
    images = manager(api)
    orphan = images.store.default.root / str(uuid.uuid4())
    orphan.write_bytes(b"left behind")
    images.data.recover()
    assert not orphan.exists()


def test_delete_removes_data(api, demo_token):
    image = create(api, demo_token)
    assert upload(api, demo_token, image["id"], b"bytes").status_code == 204
    path = manager(api).store.default.root / image["id"]
    assert path.read_bytes() == b"bytes"
    assert api.request("DELETE", f"{IMAGES}/{image['id']}", demo_token).status_code == 204
    assert not path.exists()


def test_deactivated_download(api, admin_token, demo_token):
    image = create(api, demo_token)
    assert upload(api, demo_token, image["id"], b"secret").status_code == 204
    url = f"{IMAGES}/{image['id']}"
    assert api.request("POST", f"{url}/actions/deactivate", demo_token).status_code == 204
    assert api.request("POST", f"{url}/actions/deactivate", demo_token).status_code == 204
    assert api.request("GET", url, demo_token).json()["status"] == "deactivated"
    assert api.request("GET", f"{url}/file", demo_token).status_code == 403
    assert api.request("GET", f"{url}/file", admin_token).content == b"secret"
    assert api.request("POST", f"{url}/actions/reactivate", demo_token).status_code == 204
    assert api.request("GET", f"{url}/file", demo_token).content == b"secret"


def test_manager_interface_for_other_services(api, demo_token):
    images = manager(api)
    admin = RequestContext.admin()
    image = images.create_image(admin, name=unique("snap"), disk_format="qcow2", container_format="bare",
                                visibility="private", tags=["snapshot"], instance_uuid=str(uuid.uuid4()))
    assert image.status == "queued" and image.tags == ["snapshot"] and "instance_uuid" in image.properties
    done = images.upload(admin, image.id, iter([b"a" * 10, b"b" * 10]))
    assert done.status == "active" and done.size == 20
    same, chunks = images.open_data(admin, image.id, offset=5, length=10)
    assert b"".join(chunks) == b"a" * 5 + b"b" * 5
    assert images.get_image(admin, image.id).checksum == hashlib.md5(b"a" * 10 + b"b" * 10).hexdigest()
    images.delete_image(admin, image.id)


def test_discard_unfinished_snapshot(api, demo_token, active):
    """Compute's crash recovery deletes its interrupted snapshot's image, and only that."""
    images = manager(api)
    server_id = str(uuid.uuid4())
    queued = create(api, demo_token, instance_uuid=server_id, image_type="snapshot")
    saving = create(api, demo_token, instance_uuid=server_id)
    upload_in_progress = images.data.begin(RequestContext.admin(), saving["id"])
    other_server = create(api, demo_token, instance_uuid=str(uuid.uuid4()))
    assert not images.discard_unfinished_snapshot(other_server["id"], server_id)
    assert not images.discard_unfinished_snapshot(active["id"], server_id)  # active: kept
    assert not images.discard_unfinished_snapshot(str(uuid.uuid4()), server_id)
    assert images.discard_unfinished_snapshot(queued["id"], server_id)
    assert images.discard_unfinished_snapshot(saving["id"], server_id)
    upload_in_progress.write(b"late bytes")
    with pytest.raises(Gone):
        images.data.finish(RequestContext.admin(), upload_in_progress)
    for image in (queued, saving):
        assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).status_code == 404
    assert api.request("GET", f"{IMAGES}/{other_server['id']}", demo_token).json()["status"] == "queued"
