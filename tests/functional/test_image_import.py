"""Interoperable image import through the API: discovery, staging, ``glance-direct`` and
``web-download`` (from a real HTTP server on loopback) with their tasks, Glance's
errors, import filtering, recovery after a restart, and the cache API of a cache-less
site."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time
import uuid

import pytest

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.image import models as m
from pocketstack.image.import_filter import ImportFilter

from conftest import unique

IMAGES = "/image/v2/images"
OCTETS = {"Content-Type": "application/octet-stream"}
PAYLOAD = os.urandom(2 * 1024 * 1024 + 11)


def importer(api):
    return api.cloud.service("image").manager.importer


def create(api, token, **body):
    body.setdefault("name", unique("import"))
    body.setdefault("disk_format", "raw")
    body.setdefault("container_format", "bare")
    r = api.request("POST", IMAGES, token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def stage(api, token, image_id, content=PAYLOAD, headers=OCTETS):
    return api.request("PUT", f"{IMAGES}/{image_id}/stage", token, content=content, headers=headers)


def start(api, token, image_id, headers=None, **body):
    return api.request("POST", f"{IMAGES}/{image_id}/import", token, json=body, headers=headers)


def settled(api, token, image_id: str) -> dict:
    """The image once it left ``importing`` (a bounded wait for the worker thread)."""
    deadline = time.monotonic() + 60
    while True:
        image = api.request("GET", f"{IMAGES}/{image_id}", token).json()
        if image["status"] != "importing" or time.monotonic() > deadline:
            return image
        time.sleep(0.05)


def image_tasks(api, token, image_id: str) -> list[dict]:
    r = api.request("GET", f"{IMAGES}/{image_id}/tasks", token)
    assert r.status_code == 200, r.text
    return r.json()["tasks"]


@pytest.fixture(scope="module")
def web(api):
    """A real HTTP server on loopback (``/image.qcow2`` is PAYLOAD, ``/moved`` redirects
    to it, anything else 404), and the cloud's import filter allowing its port."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/image.qcow2")
                self.end_headers()
                return
            if self.path != "/image.qcow2":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    importing = importer(api)
    default = importing.allowed
    importing.allowed = ImportFilter(allowed_ports=frozenset({port}))
    yield f"http://127.0.0.1:{port}"
    importing.allowed = default
    server.shutdown()


def test_discovery(api, demo_token):
    r = api.request("GET", "/image/v2/info/import", demo_token)
    assert r.status_code == 200
    assert r.json() == {"import-methods": {"description": "Import methods available.", "type": "array",
                                           "value": ["glance-direct", "web-download", "glance-download"]}}
    for path in ("/image/v2/info/stores", "/image/v2/info/stores/detail"):
        r = api.request("GET", path, demo_token, headers={"Accept": "application/json"})
        assert r.status_code == 404 and "Multi backend is not supported at this site." in r.text


def test_create_names_the_import_methods(api, demo_token):
    r = api.request("POST", IMAGES, demo_token, json={"name": unique("hdr")})
    assert r.headers["OpenStack-image-import-methods"] == "glance-direct,web-download,glance-download"


def test_glance_direct(api, demo_token):
    image = create(api, demo_token)
    assert stage(api, demo_token, image["id"]).status_code == 204
    staged = api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()
    assert staged["status"] == "uploading" and staged["size"] == len(PAYLOAD)
    assert os.listdir(importer(api).staging.root).count(image["id"]) == 1
    # Stores are Glance's multi-store options: with one store they are ignored.
    r = start(api, demo_token, image["id"], method={"name": "glance-direct"}, stores=["x"], all_stores=True)
    assert r.status_code == 202 and r.content == b""
    done = settled(api, demo_token, image["id"])
    assert done["status"] == "active" and done["size"] == len(PAYLOAD)
    assert done["checksum"] == hashlib.md5(PAYLOAD).hexdigest()
    assert done["os_hash_value"] == hashlib.sha512(PAYLOAD).hexdigest()
    assert done["os_glance_importing_to_stores"] == "" and done["os_glance_failed_import"] == ""
    assert "os_glance_import_task" not in done
    assert api.request("GET", f"{IMAGES}/{image['id']}/file", demo_token).content == PAYLOAD
    assert image["id"] not in os.listdir(importer(api).staging.root)
    [task] = image_tasks(api, demo_token, image["id"])
    assert task["status"] == "success" and task["type"] == "api_image_import"
    assert task["request_id"] == r.headers["x-openstack-request-id"] and task["user_id"]
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert task["result"] == {"image_id": image["id"]} and task["image_id"] == image["id"]


def test_web_download(api, demo_token, web):
    image = create(api, demo_token, disk_format="qcow2")
    r = start(api, demo_token, image["id"], method={"name": "web-download", "uri": f"{web}/moved"})
    assert r.status_code == 202, r.text
    done = settled(api, demo_token, image["id"])
    assert done["status"] == "active" and done["checksum"] == hashlib.md5(PAYLOAD).hexdigest()
    [task] = image_tasks(api, demo_token, image["id"])
    assert task["status"] == "success" and task["input"]["import_req"]["method"]["uri"] == f"{web}/moved"


def test_failed_web_download_returns_the_image_to_queued(api, demo_token, web):
    image = create(api, demo_token)
    assert start(api, demo_token, image["id"], method={"name": "web-download", "uri": f"{web}/gone"}).status_code == 202
    failed = settled(api, demo_token, image["id"])
    assert failed["status"] == "queued" and failed["size"] is None
    # One store: Glance lists no store as failed.
    assert failed["os_glance_failed_import"] == "" and "os_glance_import_task" not in failed
    [task] = image_tasks(api, demo_token, image["id"])
    assert task["status"] == "failure" and "404" in task["message"]
    # The image may be imported again.
    assert start(api, demo_token, image["id"], method={"name": "web-download", "uri": f"{web}/image.qcow2"}
                 ).status_code == 202
    assert settled(api, demo_token, image["id"])["status"] == "active"


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8000/x", "ftp://127.0.0.1/x", "http://127.1/x",
                                 "http://2130706433/x", "file:///etc/passwd", None, "http://[::1"])
def test_web_download_filtering(api, demo_token, uri):
    """Glance's default filter (ports 80 and 443, schemes http and https); nothing is fetched."""
    image = create(api, demo_token)
    method = {"name": "web-download"} if uri is None else {"name": "web-download", "uri": uri}
    r = start(api, demo_token, image["id"], method=method, headers={"Accept": "application/json"})
    assert r.status_code == 400 and f"URI for web-download does not pass filtering: {uri}" in r.text
    assert api.request("GET", f"{IMAGES}/{image['id']}", demo_token).json()["status"] == "queued"


@pytest.mark.parametrize("body, message", [
    ({}, "Import request requires a 'method' field."),
    ({"method": {}}, "Import request requires a 'name' field."),
    ({"method": "glance-direct"}, "Import request requires a 'name' field."),
    ({"method": {"name": "copy-image"}}, "Unknown import method name 'copy-image'."),
    ({"method": {"name": "glance-direct"}, "all_stores": "yes"}, "'all_stores' must be boolean value only"),
    ({"method": {"name": "glance-direct"}, "all_stores_must_succeed": 1},
     "'all_stores_must_succeed' must be boolean value only"),
])
def test_bad_import_bodies(api, demo_token, body, message):
    # The body is checked first: 400 even for an image that does not exist.
    r = api.request("POST", f"{IMAGES}/{uuid.uuid4()}/import", demo_token, json=body)
    assert r.status_code == 400 and message in r.text


def test_import_conflicts(api, demo_token):
    direct = {"method": {"name": "glance-direct"}}
    queued = create(api, demo_token)
    r = start(api, demo_token, queued["id"], **direct)
    assert r.status_code == 409 and "Image needs to be staged before 'glance-direct' method can be used" in r.text
    assert stage(api, demo_token, queued["id"]).status_code == 204
    r = stage(api, demo_token, queued["id"])
    assert r.status_code == 409 and "Image status transition from uploading to uploading is not allowed" in r.text
    r = start(api, demo_token, queued["id"], method={"name": "web-download", "uri": "http://127.0.0.1/x"})
    assert r.status_code == 409 and "Image needs to be in 'queued' state to use 'web-download' method" in r.text
    r = start(api, demo_token, queued["id"], method={"name": "glance-direct"}, all_stores_must_succeed=False)
    assert r.status_code == 400 and "All_stores_must_succeed can only be set with enabled_backends None" in r.text
    assert start(api, demo_token, queued["id"], **direct).status_code == 202
    assert settled(api, demo_token, queued["id"])["status"] == "active"
    r = start(api, demo_token, queued["id"], **direct)
    assert r.status_code == 409 and "Image with status active cannot be target for import" in r.text
    assert stage(api, demo_token, queued["id"]).status_code == 409
    bare = api.request("POST", IMAGES, demo_token, json={"name": unique("bare")}).json()
    assert stage(api, demo_token, bare["id"]).status_code == 204
    r = start(api, demo_token, bare["id"], **direct)
    assert r.status_code == 409 and "'container_format' needs to be set before import" in r.text
    assert start(api, demo_token, str(uuid.uuid4()), **direct).status_code == 404


def test_stage_checks(api, demo_token, admin_token):
    image = create(api, demo_token)
    assert stage(api, demo_token, image["id"], headers={"Content-Type": "text/plain"}).status_code == 415
    assert stage(api, demo_token, str(uuid.uuid4())).status_code == 404
    private = create(api, admin_token, visibility="private")
    assert stage(api, demo_token, private["id"]).status_code == 404
    assert start(api, demo_token, private["id"], method={"name": "glance-direct"}).status_code == 404
    public = create(api, admin_token, visibility="public")
    assert stage(api, demo_token, public["id"]).status_code == 403
    assert api.request("GET", f"{IMAGES}/{public['id']}", admin_token).json()["status"] == "queued"


def test_deleting_a_staged_image_removes_its_staged_data(api, demo_token):
    image = create(api, demo_token)
    assert stage(api, demo_token, image["id"]).status_code == 204
    assert image["id"] in os.listdir(importer(api).staging.root)
    assert api.request("DELETE", f"{IMAGES}/{image['id']}", demo_token).status_code == 204
    assert image["id"] not in os.listdir(importer(api).staging.root)


def test_recovery_after_restart(api, demo_token):
    """A restarted node returns its interrupted stagings to queued, fails the imports it
    was running (image back to queued, staged data removed) and runs its pending ones."""
    importing = importer(api)
    half_staged, running, pending = (create(api, demo_token) for _ in range(3))
    for image in (running, pending):
        assert stage(api, demo_token, image["id"]).status_code == 204
    db = api.cloud.db
    now = utcnow()
    with db.session() as s:
        s.get(m.Image, half_staged["id"]).status = "uploading"
        s.get(m.Image, half_staged["id"]).upload_id = "interrupted"
        s.get(m.Image, half_staged["id"]).upload_node = importing.staging.node
        for image, status in ((running, "processing"), (pending, "pending")):
            task_id = str(uuid.uuid4())
            s.add(m.ImageTask(id=task_id, type="api_image_import", status=status, owner=image["owner"],
                              input={"image_id": image["id"], "import_req": {"method": {"name": "glance-direct"}},
                                     "backend": [None]}, result=None, message="", node=importing.node,
                              generation=0, created_at=now, updated_at=now, image_id=image["id"]))
            row = s.get(m.Image, image["id"])
            row.status, row.upload_id, row.upload_node = "importing", task_id, importing.node
    importing.recover()
    assert api.request("GET", f"{IMAGES}/{half_staged['id']}", demo_token).json()["status"] == "queued"
    failed = api.request("GET", f"{IMAGES}/{running['id']}", demo_token).json()
    assert failed["status"] == "queued" and running["id"] not in os.listdir(importing.staging.root)
    [task] = image_tasks(api, demo_token, running["id"])
    assert task["status"] == "failure" and "restart" in task["message"]
    assert settled(api, demo_token, pending["id"])["status"] == "active"


def test_an_image_deleted_while_importing_fails_the_task(api, demo_token):
    image = create(api, demo_token)
    assert stage(api, demo_token, image["id"]).status_code == 204
    importing = importer(api)
    task_id = str(uuid.uuid4())
    with api.cloud.db.session() as s:  # an import created but not yet run
        now = utcnow()
        s.add(m.ImageTask(id=task_id, type="api_image_import", status="pending", owner=image["owner"],
                          input={"image_id": image["id"], "import_req": {"method": {"name": "glance-direct"}},
                                 "backend": [None]}, result=None, message="", node="elsewhere",
                          generation=0, created_at=now, updated_at=now, image_id=image["id"]))
        row = s.get(m.Image, image["id"])
        row.status, row.upload_id = "importing", task_id
    api.cloud.service("image").manager.delete_image(RequestContext.admin(), image["id"])
    importing.run(task_id)
    with api.cloud.db.session(readonly=True) as s:
        task = s.get(m.ImageTask, task_id)
        assert task.status == "failure" and task.message == "Image has been deleted, aborting import."
    assert not [n for n in os.listdir(importing.store.default.root) if n == image["id"]]


def test_cache_api_of_a_cacheless_site(api, admin_token, demo_token):
    image = create(api, demo_token)
    json = {"Accept": "application/json"}
    for method, path in (("GET", "/image/v2/cache"), ("DELETE", "/image/v2/cache"),
                         ("PUT", f"/image/v2/cache/{image['id']}"), ("DELETE", f"/image/v2/cache/{image['id']}"),
                         ("POST", "/image/v2/cache/clean"), ("POST", "/image/v2/cache/prune")):
        r = api.request(method, path, admin_token, headers=json)
        assert r.status_code == 404 and "Caching via API is not supported at this site." in r.text
        assert api.request(method, path, demo_token).status_code == 403
    r = api.request("PUT", f"/image/v2/cache/{uuid.uuid4()}", admin_token)
    assert r.status_code == 404 and "not found" in r.text
