"""Glance's tasks API (``/v2/tasks``): the ``import`` task fetching an image from a
real local HTTP server, its failure path, visibility, and recovery after a restart."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time
import uuid

import pytest

from pocketstack.common.db.base import utcnow
from pocketstack.image import models as m

from conftest import unique

TASKS = "/image/v2/tasks"
PAYLOAD = os.urandom(256 * 1024 + 7)


@pytest.fixture(scope="module")
def web():
    """A real HTTP server: ``/image.qcow2`` is PAYLOAD, anything else is a 404."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
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
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def task_body(url: str, **props) -> dict:
    props.setdefault("name", unique("task-img"))
    return {"type": "import", "input": {"import_from": url, "import_from_format": "qcow2",
                                        "image_properties": {"disk_format": "qcow2", "container_format": "bare",
                                                             **props}}}


def finished(api, token, task_id: str) -> dict:
    """The task once it left pending/processing (a bounded wait for the worker thread)."""
    deadline = time.monotonic() + 60
    while True:
        task = api.request("GET", f"{TASKS}/{task_id}", token).json()
        if task["status"] not in ("pending", "processing") or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def test_import_task_succeeds(api, admin_token, web):
    r = api.request("POST", TASKS, admin_token, json=task_body(f"{web}/image.qcow2"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] in ("pending", "processing", "success") and created["type"] == "import"
    assert created["self"] == f"/v2/tasks/{created['id']}" and created["schema"] == "/v2/schemas/task"
    task = finished(api, admin_token, created["id"])
    assert task["status"] == "success", task
    assert task["expires_at"] and task["input"]["import_from"].endswith("/image.qcow2")
    image = api.request("GET", f"/image/v2/images/{task['result']['image_id']}", admin_token).json()
    assert image["status"] == "active" and image["size"] == len(PAYLOAD)
    assert image["checksum"] == hashlib.md5(PAYLOAD).hexdigest() and image["disk_format"] == "qcow2"
    listed = api.request("GET", f"{TASKS}?status=success&type=import&limit=1000", admin_token).json()
    entry = next(t for t in listed["tasks"] if t["id"] == created["id"])
    assert "input" not in entry and "result" not in entry and listed["schema"] == "/v2/schemas/tasks"


def test_import_task_fails_on_a_missing_file(api, admin_token, web):
    task = api.request("POST", TASKS, admin_token, json=task_body(f"{web}/missing.qcow2")).json()
    task = finished(api, admin_token, task["id"])
    assert task["status"] == "failure" and "404" in task["message"]
    # The image it created for the data is gone with the failure.
    assert api.request("GET", f"/image/v2/images/{task['result']['image_id']}", admin_token).status_code == 404


@pytest.mark.parametrize("body, status", [
    ({"type": "import"}, 400),
    ({"input": {}}, 400),
    ({"type": "bogus", "input": {}}, 400),
    ({"type": "import", "input": {"import_from": "http://x/y", "import_from_format": "raw"}}, 400),
    ({"type": "import", "input": {"import_from": "file:///etc/passwd", "import_from_format": "raw",
                                  "image_properties": {}}}, 400),
    ({"type": "import", "input": "nope"}, 400),
    ({"type": "import", "input": {}, "status": "success"}, 403),
    ([], 400),
])
def test_bad_task_requests(api, admin_token, body, status):
    r = api.request("POST", TASKS, admin_token, json=body, headers={"Accept": "application/json"})
    assert r.status_code == status, r.text
    assert "message" in r.json()


def test_tasks_are_admin_only_and_private(api, admin_token, demo_token, web):
    assert api.request("POST", TASKS, demo_token, json=task_body(f"{web}/image.qcow2")).status_code == 403
    assert api.request("GET", TASKS, demo_token).status_code == 403
    assert api.request("GET", f"{TASKS}/{uuid.uuid4()}", admin_token).status_code == 404
    assert api.request("GET", f"{TASKS}?status=bogus", admin_token).status_code == 400
    assert api.request("GET", f"{TASKS}?sort_key=bogus", admin_token).status_code == 400


def test_recovery_after_restart(api, admin_token, web):
    """A restarted node runs its pending tasks again and fails the ones it was running,
    deleting the unfinished image they had created."""
    images = api.cloud.service("image").manager
    tasks = images.tasks
    half_done = api.request("POST", "/image/v2/images", admin_token, json={"name": unique("half")}).json()
    now = utcnow()
    rows = {
        "pending": m.ImageTask(id=str(uuid.uuid4()), type="import", status="pending", owner="p",
                               input=task_body(f"{web}/image.qcow2")["input"], result=None, message="",
                               node=tasks.node, generation=0, created_at=now, updated_at=now),
        "processing": m.ImageTask(id=str(uuid.uuid4()), type="import", status="processing", owner="p",
                                  input=task_body(f"{web}/image.qcow2")["input"],
                                  result={"image_id": half_done["id"]}, message="", node=tasks.node,
                                  generation=1, created_at=now, updated_at=now),
        "elsewhere": m.ImageTask(id=str(uuid.uuid4()), type="import", status="processing", owner="p",
                                 input={}, result=None, message="", node="another-node", generation=1,
                                 created_at=now, updated_at=now),
    }
    with api.cloud.db.session() as s:
        s.add_all(rows.values())
    tasks.recover()
    failed = finished(api, admin_token, rows["processing"].id)
    assert failed["status"] == "failure" and "restart" in failed["message"]
    assert api.request("GET", f"/image/v2/images/{half_done['id']}", admin_token).status_code == 404
    assert finished(api, admin_token, rows["pending"].id)["status"] == "success"
    assert api.request("GET", f"{TASKS}/{rows['elsewhere'].id}", admin_token).json()["status"] == "processing"


def test_image_tasks_lists_the_task_that_made_the_image(api, admin_token, demo_token, web):
    task = finished(api, admin_token, api.request("POST", TASKS, admin_token,
                                                  json=task_body(f"{web}/image.qcow2")).json()["id"])
    image_id = task["result"]["image_id"]
    r = api.request("GET", f"/image/v2/images/{image_id}/tasks", admin_token)
    assert r.status_code == 200, r.text
    [entry] = r.json()["tasks"]
    assert entry["id"] == task["id"] and entry["status"] == "success" and entry["image_id"] == image_id
    assert entry["result"] == {"image_id": image_id} and entry["input"] == task["input"]
    assert {"request_id", "user_id", "expires_at", "message", "owner"} <= set(entry)
    # An image no task made has none; an unknown or invisible (private, other project) image is a 404.
    plain = api.request("POST", "/image/v2/images", demo_token, json={"name": unique("plain")}).json()
    assert api.request("GET", f"/image/v2/images/{plain['id']}/tasks", demo_token).json() == {"tasks": []}
    assert api.request("GET", f"/image/v2/images/{uuid.uuid4()}/tasks", admin_token).status_code == 404
    assert api.request("GET", f"/image/v2/images/{image_id}/tasks", demo_token).status_code == 404
    api.request("DELETE", f"/image/v2/images/{plain['id']}", demo_token)
