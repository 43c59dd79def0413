"""Multiple image stores through the API (a cloud of this module's own with the
``image_stores`` setting ``fast:100,slow:10``, served over real HTTP so that
``glance-download`` can read from it): store discovery, uploads to a store
(``X-Image-Meta-Store``), imports into several stores (``stores``, ``all_stores``,
``all_stores_must_succeed``), ``copy-image``, ``DELETE /v2/stores/{store}/{image}``,
``glance-download`` from the cloud's own region, who may do what, and that the bytes
really are in each store's directory."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest
import uvicorn
from starlette.testclient import TestClient

from pocketstack.common import config
from pocketstack.image.import_filter import ImportFilter

from backends import scratch_database
from cloudproc import free_port, serving
from conftest import ADMIN_PASSWORD, DEMO_PASSWORD, Api, bootstrapped_cloud, unique

IMAGES = "/image/v2/images"
OCTETS = {"Content-Type": "application/octet-stream"}
PAYLOAD = os.urandom(1024 * 1024 + 7)


@pytest.fixture(scope="module")
def multi(backend, module_stacks):
    return module_stacks.entered(backend, "multi", lambda: _multi_store_cloud(backend, module_stacks.tmp_path_factory))


@contextlib.contextmanager
def _multi_store_cloud(backend, tmp_path_factory):
    port = free_port()
    with scratch_database(backend, tmp_path_factory.mktemp(f"image-stores-{backend}")) as url:
        data_dir = tmp_path_factory.mktemp("image-stores-data")
        settings = config.load(overrides={"data_dir": data_dir, "database_url": url, "bcrypt_rounds": 4,
                                          "port": port, "clouds_file": str(data_dir / "clouds.yaml"),
                                          "image_stores": "fast:100,slow:10"}, environ={})
        with bootstrapped_cloud(settings) as cloud:
            server = uvicorn.Config(cloud.asgi_app(), host="127.0.0.1", port=port, log_config=None,
                                    access_log=False, lifespan="off")
            with serving(server, name="image-stores-cloud"), \
                    TestClient(cloud.asgi_app(), base_url=f"http://127.0.0.1:{port}") as client:
                api = Api(client, cloud)
                api.port = port
                yield api


@pytest.fixture
def own_port_allowed(multi):
    """The import filter lets imports read from the cloud's own port (Glance's default
    allows 80 and 443 only)."""
    importer = multi.cloud.service("image").manager.importer
    default = importer.allowed
    importer.allowed = ImportFilter(allowed_ports=frozenset({multi.port}))
    yield
    importer.allowed = default


@pytest.fixture(scope="module")
def admin(multi):
    return multi.token("admin", ADMIN_PASSWORD, project="admin")


@pytest.fixture(scope="module")
def demo(multi):
    return multi.token("demo", DEMO_PASSWORD, project="demo")


def store_dir(api, store: str) -> Path:
    return api.cloud.service("image").manager.store.get(store).store.root


def in_store(api, store: str, image_id: str) -> bytes | None:
    path = store_dir(api, store) / image_id
    return path.read_bytes() if path.exists() else None


def create(api, token, **body) -> dict:
    body = {"name": unique("ms"), "disk_format": "raw", "container_format": "bare", **body}
    r = api.request("POST", IMAGES, token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def show(api, token, image_id) -> dict:
    return api.request("GET", f"{IMAGES}/{image_id}", token).json()


def staged(api, token) -> dict:
    image = create(api, token)
    r = api.request("PUT", f"{IMAGES}/{image['id']}/stage", token, content=PAYLOAD, headers=OCTETS)
    assert r.status_code == 204, r.text
    return image


def uploaded(api, token, store: str | None = None) -> dict:
    image = create(api, token)
    headers = {**OCTETS, **({"X-Image-Meta-Store": store} if store else {})}
    r = api.request("PUT", f"{IMAGES}/{image['id']}/file", token, content=PAYLOAD, headers=headers)
    assert r.status_code == 204, r.text
    return show(api, token, image["id"])


def import_(api, token, image_id, headers=None, **body):
    return api.request("POST", f"{IMAGES}/{image_id}/import", token, json=body, headers=headers)


def settled(api, token, image_id, done) -> dict:
    """The image once ``done(image)`` holds (a bounded wait for the import thread)."""
    deadline = time.monotonic() + 60
    while True:
        image = show(api, token, image_id)
        if done(image) or time.monotonic() > deadline:
            return image
        time.sleep(0.05)


def imported(image) -> bool:
    return image["status"] != "importing"


def copied(image) -> bool:
    return "os_glance_import_task" not in image


def last_task(api, token, image_id) -> dict:
    return api.request("GET", f"{IMAGES}/{image_id}/tasks", token).json()["tasks"][0]


def test_discovery(multi, admin, demo):
    r = multi.request("GET", "/image/v2/info/stores", demo)
    assert r.status_code == 200
    assert r.json() == {"stores": [{"id": "fast", "description": "File store fast", "default": "true"},
                                   {"id": "slow", "description": "File store slow"}]}
    assert multi.request("GET", "/image/v2/info/stores/detail", demo).status_code == 403
    detail = multi.request("GET", "/image/v2/info/stores/detail", admin).json()["stores"]
    assert [(s["id"], s["type"], s["weight"]) for s in detail] == [("fast", "file", 100), ("slow", "file", 10)]
    assert detail[1]["properties"]["data_dir"] == str(store_dir(multi, "slow"))
    methods = multi.request("GET", "/image/v2/info/import", demo).json()["import-methods"]["value"]
    assert methods == ["glance-direct", "web-download", "glance-download", "copy-image"]


def test_upload_to_a_store(multi, demo):
    default = uploaded(multi, demo)
    assert default["stores"] == "fast" and in_store(multi, "fast", default["id"]) == PAYLOAD
    image = uploaded(multi, demo, store="slow")
    assert image["stores"] == "slow" and image["status"] == "active"
    assert in_store(multi, "slow", image["id"]) == PAYLOAD and in_store(multi, "fast", image["id"]) is None
    assert multi.request("GET", f"{IMAGES}/{image['id']}/file", demo).content == PAYLOAD
    queued = create(multi, demo)
    assert "stores" not in queued
    r = multi.request("PUT", f"{IMAGES}/{queued['id']}/file", demo, content=b"x",
                      headers={**OCTETS, "X-Image-Meta-Store": "nowhere"})
    assert r.status_code == 400 and "Unknown scheme 'nowhere' found in URI" in r.text
    assert show(multi, demo, queued["id"])["status"] == "queued"


def test_glance_direct_to_all_stores(multi, demo):
    image = staged(multi, demo)
    r = import_(multi, demo, image["id"], method={"name": "glance-direct"}, all_stores=True)
    assert r.status_code == 202, r.text
    done = settled(multi, demo, image["id"], imported)
    assert done["status"] == "active" and done["stores"] == "fast,slow"
    assert done["os_glance_importing_to_stores"] == "" and done["os_glance_failed_import"] == ""
    assert done["checksum"] == hashlib.md5(PAYLOAD).hexdigest()
    assert in_store(multi, "fast", image["id"]) == PAYLOAD == in_store(multi, "slow", image["id"])
    assert multi.request("GET", f"{IMAGES}/{image['id']}/file", demo).content == PAYLOAD
    assert last_task(multi, demo, image["id"])["input"]["backend"] == ["fast", "slow"]


def test_glance_direct_to_named_stores(multi, demo):
    image = staged(multi, demo)
    assert import_(multi, demo, image["id"], method={"name": "glance-direct"}, stores=["slow"]).status_code == 202
    done = settled(multi, demo, image["id"], imported)
    assert done["status"] == "active" and done["stores"] == "slow"
    assert in_store(multi, "fast", image["id"]) is None and in_store(multi, "slow", image["id"]) == PAYLOAD
    header = staged(multi, demo)
    r = import_(multi, demo, header["id"], {"X-Image-Meta-Store": "slow"}, method={"name": "glance-direct"})
    assert r.status_code == 202
    assert settled(multi, demo, header["id"], imported)["stores"] == "slow"


@pytest.mark.parametrize("body,headers,status,message", [
    ({"all_stores": True, "stores": ["fast"]}, None, 400, "All_stores parameter can't be used"),
    ({"all_stores": True}, {"X-Image-Meta-Store": "fast"}, 400, "All_stores parameter can't be used"),
    ({"stores": ["fast"]}, {"X-Image-Meta-Store": "fast"}, 400, "can't be both specified"),
    ({"stores": "fast"}, None, 400, "'stores' must be a list"),
    ({"stores": ["nowhere"]}, None, 409, "Unknown scheme 'nowhere' found in URI"),
])
def test_import_store_errors(multi, demo, body, headers, status, message):
    image = staged(multi, demo)
    r = import_(multi, demo, image["id"], headers, method={"name": "glance-direct"}, **body)
    assert r.status_code == status and message in r.text
    assert show(multi, demo, image["id"])["status"] == "uploading"


@pytest.fixture
def broken_slow(multi):
    """The slow store cannot take new data (its partial-upload directory is a file)."""
    partials = store_dir(multi, "slow") / ".partial"
    shutil.rmtree(partials)
    partials.write_bytes(b"")
    yield
    partials.unlink()
    partials.mkdir()


def test_a_store_failing_fails_the_import(multi, demo, broken_slow):
    image = staged(multi, demo)
    assert import_(multi, demo, image["id"], method={"name": "glance-direct"}, all_stores=True).status_code == 202
    done = settled(multi, demo, image["id"], imported)
    assert done["status"] == "queued" and "stores" not in done
    assert done["os_glance_failed_import"] == "slow" and done["os_glance_importing_to_stores"] == ""
    assert in_store(multi, "fast", image["id"]) is None  # the copy already written was removed
    assert last_task(multi, demo, image["id"])["status"] == "failure"


def test_partial_success_without_all_stores_must_succeed(multi, demo, broken_slow):
    image = staged(multi, demo)
    r = import_(multi, demo, image["id"], method={"name": "glance-direct"}, all_stores=True,
                all_stores_must_succeed=False)
    assert r.status_code == 202
    done = settled(multi, demo, image["id"], imported)
    assert done["status"] == "active" and done["stores"] == "fast"
    assert done["os_glance_failed_import"] == "slow" and done["os_glance_importing_to_stores"] == ""
    assert in_store(multi, "fast", image["id"]) == PAYLOAD


def test_copy_image(multi, admin, demo):
    image = uploaded(multi, demo)
    body = {"method": {"name": "copy-image"}, "all_stores": True, "all_stores_must_succeed": False}
    assert import_(multi, demo, image["id"], **body).status_code == 403  # copy_image: admin
    assert import_(multi, admin, image["id"], **body).status_code == 202
    done = settled(multi, admin, image["id"], copied)
    assert done["status"] == "active" and done["stores"] == "fast,slow"
    assert done["os_glance_importing_to_stores"] == "" and done["os_glance_failed_import"] == ""
    assert in_store(multi, "slow", image["id"]) == PAYLOAD
    task = last_task(multi, admin, image["id"])
    assert task["status"] == "success" and task["input"]["backend"] == ["slow"]
    # Already everywhere: all_stores has nothing to do, a named store is a 400.
    assert import_(multi, admin, image["id"], **body).status_code == 202
    r = import_(multi, admin, image["id"], method={"name": "copy-image"}, stores=["slow"])
    assert r.status_code == 400 and "Image is already present at store 'slow'" in r.text
    queued = create(multi, demo)
    r = import_(multi, admin, queued["id"], method={"name": "copy-image"}, all_stores=True)
    assert r.status_code == 409 and "Only images with status active can be targeted for copying" in r.text


def test_copy_image_failing(multi, admin, demo, broken_slow):
    image = uploaded(multi, demo)
    r = import_(multi, admin, image["id"], method={"name": "copy-image"}, stores=["slow"])
    assert r.status_code == 202
    done = settled(multi, admin, image["id"], copied)
    assert done["status"] == "active" and done["stores"] == "fast"
    assert done["os_glance_failed_import"] == "slow"
    assert last_task(multi, admin, image["id"])["status"] == "failure"


def test_delete_from_store(multi, admin, demo):
    image = staged(multi, demo)
    import_(multi, demo, image["id"], method={"name": "glance-direct"}, all_stores=True)
    settled(multi, demo, image["id"], imported)
    path = f"/image/v2/stores/fast/{image['id']}"
    assert multi.request("DELETE", path, demo).status_code == 403  # delete_image_location: admin
    r = multi.request("DELETE", f"/image/v2/stores/nowhere/{image['id']}", admin)
    assert r.status_code == 409 and "The selected store nowhere is not available on this node." in r.text
    assert multi.request("DELETE", "/image/v2/stores/fast/" + "0" * 36, admin).status_code == 404
    assert multi.request("DELETE", path, admin).status_code == 204
    after = show(multi, demo, image["id"])
    assert after["stores"] == "slow" and in_store(multi, "fast", image["id"]) is None
    # Reads moved to the copy left.
    assert multi.request("GET", f"{IMAGES}/{image['id']}/file", demo).content == PAYLOAD
    r = multi.request("DELETE", f"/image/v2/stores/slow/{image['id']}", admin)
    assert r.status_code == 403 and "Cannot delete image data from the only store" in r.text
    queued = create(multi, demo)
    r = multi.request("DELETE", f"/image/v2/stores/fast/{queued['id']}", admin)
    assert r.status_code == 409 and "image status is not 'active'" in r.text


def test_delete_image_removes_every_copy(multi, admin, demo):
    image = staged(multi, demo)
    import_(multi, demo, image["id"], method={"name": "glance-direct"}, all_stores=True)
    settled(multi, demo, image["id"], imported)
    assert multi.request("DELETE", f"{IMAGES}/{image['id']}", demo).status_code == 204
    assert in_store(multi, "fast", image["id"]) is None and in_store(multi, "slow", image["id"]) is None


def test_another_project_sees_nothing(multi, admin, demo):
    image = uploaded(multi, demo)
    other = create(multi, admin)  # the admin project's, private
    assert import_(multi, demo, other["id"], method={"name": "copy-image"}, all_stores=True).status_code == 404
    assert multi.request("DELETE", f"/image/v2/stores/fast/{image['id']}", demo).status_code == 403


def test_bad_setting(tmp_path):
    from pocketstack.image.stores.catalog import StoreCatalog

    for value in ("a,a", "os_glance_x", "a:heavy", "bad id"):
        with pytest.raises(ValueError):
            StoreCatalog.from_setting(value, tmp_path)
    assert not StoreCatalog.from_setting(" , ", tmp_path).multiple


def test_glance_download(multi, demo, own_port_allowed):
    source = staged(multi, demo)
    import_(multi, demo, source["id"], method={"name": "glance-direct"}, all_stores=True)
    settled(multi, demo, source["id"], imported)
    patch = [{"op": "add", "path": f"/{k}", "value": v}
             for k, v in (("hw_cpu_cores", "5"), ("trait:STORAGE_DISK_SSD", "required"), ("os_distro", "rhel"),
                          ("speed", "88mph"))]
    r = multi.request("PATCH", f"{IMAGES}/{source['id']}", demo, json=patch,
                      headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 200, r.text
    target = create(multi, demo, disk_format="iso", container_format="ovf", os_distro="windows")
    method = {"name": "glance-download", "glance_image_id": source["id"],
              "glance_region": multi.cloud.settings.region}
    assert import_(multi, demo, target["id"], method=method, stores=["slow"]).status_code == 202
    done = settled(multi, demo, target["id"], imported)
    assert done["status"] == "active" and done["stores"] == "slow", done
    assert (done["disk_format"], done["container_format"]) == ("raw", "bare")
    assert (done["hw_cpu_cores"], done["trait:STORAGE_DISK_SSD"], done["os_distro"]) == ("5", "required", "rhel")
    assert "speed" not in done and done["checksum"] == hashlib.md5(PAYLOAD).hexdigest()
    assert in_store(multi, "slow", target["id"]) == PAYLOAD
    task = last_task(multi, demo, target["id"])
    assert task["input"]["import_req"]["method"]["glance_service_interface"] == "public"


@pytest.mark.parametrize("method,message", [
    ({"glance_image_id": "foo", "glance_region": "RegionOne"}, "Remote image id does not look like a UUID: foo"),
    ({"glance_image_id": "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c"}, "'glance_region' needs to be set"),
    ({"glance_region": "RegionOne"}, "'glance_image_id' needs to be set"),
])
def test_glance_download_bad_request(multi, demo, method, message):
    image = create(multi, demo)
    r = import_(multi, demo, image["id"], method={"name": "glance-download", **method})
    assert r.status_code == 400 and message in r.text
    assert show(multi, demo, image["id"])["status"] == "queued"


@pytest.mark.parametrize("method,message", [
    ({"glance_region": "not a region", "glance_service_interface": "not an interface"},
     "not an interface glance endpoint not found for region not a region"),
    ({}, "404 Not Found"),
])
def test_glance_download_failing(multi, demo, own_port_allowed, method, message):
    image = create(multi, demo, hw_cpu_cores="1")
    method = {"name": "glance-download", "glance_image_id": "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c",
              "glance_region": multi.cloud.settings.region, **method}
    assert import_(multi, demo, image["id"], method=method).status_code == 202
    done = settled(multi, demo, image["id"], imported)
    assert done["status"] == "queued" and done["hw_cpu_cores"] == "1" and done["disk_format"] == "raw"
    task = last_task(multi, demo, image["id"])
    assert task["status"] == "failure" and message in task["message"], task


def test_glance_download_is_filtered(multi, demo):
    """Glance's default filter (ports 80 and 443) refuses the cloud's own port."""
    image = create(multi, demo)
    method = {"name": "glance-download", "glance_image_id": "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c",
              "glance_region": multi.cloud.settings.region}
    assert import_(multi, demo, image["id"], method=method).status_code == 202
    assert settled(multi, demo, image["id"], imported)["status"] == "queued"
    assert "does not pass filtering" in last_task(multi, demo, image["id"])["message"]


def test_copy_interrupted_by_a_restart(multi, admin, demo):
    """A copy-image task the node was running when it stopped fails at start-up; the
    image stays active, unlocked, in its stores."""
    import uuid

    from pocketstack.common.db.base import utcnow
    from pocketstack.image import models as m

    image = uploaded(multi, demo)
    importer = multi.cloud.service("image").manager.importer
    task_id, now = str(uuid.uuid4()), utcnow()
    with multi.cloud.db.session() as s:
        s.add(m.ImageTask(id=task_id, type="api_image_import", status="processing", owner=image["owner"],
                          input={"image_id": image["id"], "import_req": {"method": {"name": "copy-image"}},
                                 "backend": ["slow"]}, result=None, message="", node=importer.node,
                          generation=0, created_at=now, updated_at=now, image_id=image["id"]))
        s.add(m.ImageProperty(image_id=image["id"], name="os_glance_import_task", value=task_id))
    importer.recover()
    after = show(multi, demo, image["id"])
    assert after["status"] == "active" and after["stores"] == "fast" and "os_glance_import_task" not in after
    assert last_task(multi, admin, image["id"])["status"] == "failure"
    assert multi.request("GET", f"{IMAGES}/{image['id']}/file", demo).content == PAYLOAD


def test_image_from_before_the_stores_were_named(multi, admin, demo):
    """An image uploaded to the single store (no ``stores``, its file in the default
    store's directory) counts as held by the default store."""
    from pocketstack.image import models as m

    image = uploaded(multi, demo)
    with multi.cloud.db.session() as s:
        s.get(m.Image, image["id"]).stores = None
    assert "stores" not in show(multi, demo, image["id"])
    assert import_(multi, admin, image["id"], method={"name": "copy-image"}, all_stores=True).status_code == 202
    done = settled(multi, admin, image["id"], copied)
    assert done["stores"] == "fast,slow" and last_task(multi, admin, image["id"])["input"]["backend"] == ["slow"]
    assert multi.request("DELETE", f"/image/v2/stores/fast/{image['id']}", admin).status_code == 204
    assert multi.request("GET", f"{IMAGES}/{image['id']}/file", demo).content == PAYLOAD
