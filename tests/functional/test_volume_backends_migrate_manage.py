"""Several file backends (``volume_backends``): types choose one through
``volume_backend_name``, pools and services list each, and ``os-migrate_volume`` /
``os-retype`` with ``migration_policy=on-demand`` move the volume's file between their
directories.  Also manage/unmanage of volumes and snapshots (files named by reference),
and the refusals of references that would leave a backend's directory."""

from __future__ import annotations

import contextlib
import os

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from pocketstack.common import config
from pocketstack.common.db.base import utcnow
from pocketstack.volume import models as m
from pocketstack.volume.recovery import recover

from conftest import ADMIN_PASSWORD, Api, bootstrapped_cloud, unique
from test_volume_api import call as api_call
from test_volume_api import create_volume
from test_volume_api import wait as api_wait

V = "OpenStack-API-Version"


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """A cloud of its own with the backends ``file`` and ``fast``."""
    data_dir = tmp_path_factory.mktemp("volume-backends")
    settings = config.load(overrides={
        "data_dir": data_dir, "database_url": f"sqlite:///{data_dir}/db.sqlite", "bcrypt_rounds": 4, "port": 8780,
        "clouds_file": str(data_dir / "clouds.yaml"), "volume_backends": "file,fast"}, environ={})
    with contextlib.ExitStack() as stack:
        cloud = stack.enter_context(bootstrapped_cloud(settings))
        client = stack.enter_context(TestClient(cloud.asgi_app(), base_url="http://127.0.0.1:8780"))
        api = Api(client, cloud)
        yield api, api.token("admin", ADMIN_PASSWORD, project="admin"), data_dir


def call(two, method, path, version="3.44", **kw):
    return api_call(two[0], two[1], method, path, headers={V: f"volume {version}"}, **kw)


def wait(two, path, key, statuses):
    return api_wait(two[0], two[1], path, key, statuses)


def make_type(two, **specs) -> str:
    name = unique("vtype")
    assert call(two, "POST", "/types", json={"volume_type": {"name": name, "extra_specs": specs}}).status_code == 200
    return name


def create(two, **spec) -> dict:
    return create_volume(two[0], two[1], **spec)


def test_types_choose_backends_and_listings_show_each(two):
    data_dir = two[2]
    on_file = create(two, volume_type=make_type(two, volume_backend_name="file"))
    on_fast = create(two, volume_type=make_type(two, **{"capabilities:volume_backend_name": "fast"}))
    assert on_file["os-vol-host-attr:host"] == "pocketstack@file#file"
    assert on_fast["os-vol-host-attr:host"] == "pocketstack@fast#fast"
    assert (data_dir / "volumes" / f"volume-{on_file['id']}").exists()
    assert (data_dir / "volumes-fast" / f"volume-{on_fast['id']}").exists()
    nowhere = create(two, volume_type=make_type(two, volume_backend_name="slow"))
    assert nowhere["status"] == "error" and nowhere["os-vol-host-attr:host"] is None

    pools = call(two, "GET", "/scheduler-stats/get_pools?detail=true").json()["pools"]
    assert {p["name"]: p["capabilities"]["volume_backend_name"] for p in pools} == {
        "pocketstack@file#file": "file", "pocketstack@fast#fast": "fast"}
    services = call(two, "GET", "/os-services?binary=cinder-volume").json()["services"]
    assert sorted(s["host"] for s in services) == ["pocketstack@fast", "pocketstack@file"]
    assert call(two, "GET", "/capabilities/pocketstack@fast").json()["volume_backend_name"] == "fast"
    # A clone stays on its source's backend.
    clone = create(two, source_volid=on_fast["id"], volume_type=make_type(two))
    assert clone["os-vol-host-attr:host"] == "pocketstack@fast#fast"


def test_migrate_and_retype_move_the_file(two):
    data_dir = two[2]
    src_type, dst_type = make_type(two, volume_backend_name="file"), make_type(two, volume_backend_name="fast")
    volume = create(two, volume_type=src_type)
    path = data_dir / "volumes" / f"volume-{volume['id']}"
    with open(path, "r+b") as fh:
        fh.write(b"pocketstack data")

    refused = call(two, "POST", f"/volumes/{volume['id']}/action",
                   json={"os-retype": {"new_type": dst_type, "migration_policy": "never"}})
    assert refused.status_code == 400 and "requires migration" in refused.text
    response = call(two, "POST", f"/volumes/{volume['id']}/action",
                    json={"os-retype": {"new_type": dst_type, "migration_policy": "on-demand"}})
    assert response.status_code == 202, response.text
    after = wait(two, f"/volumes/{volume['id']}", "volume", ("available",))
    assert after["volume_type"] == dst_type and after["migration_status"] == "success"
    assert after["os-vol-host-attr:host"] == "pocketstack@fast#fast"
    moved = data_dir / "volumes-fast" / f"volume-{volume['id']}"
    assert not path.exists() and moved.read_bytes()[:16] == b"pocketstack data"

    # os-migrate_volume back (the type now only fits "fast", but an admin may move it).
    bad = call(two, "POST", f"/volumes/{volume['id']}/action", json={"os-migrate_volume": {"host": "nowhere@x"}})
    assert bad.status_code == 400
    same = call(two, "POST", f"/volumes/{volume['id']}/action",
                json={"os-migrate_volume": {"host": "pocketstack@fast#fast"}})
    assert same.status_code == 400
    back = call(two, "POST", f"/volumes/{volume['id']}/action",
                json={"os-migrate_volume": {"host": "pocketstack@file"}})
    assert back.status_code == 202, back.text
    after = wait(two, f"/volumes/{volume['id']}", "volume", ("available",))
    assert after["os-vol-host-attr:host"] == "pocketstack@file#file" and after["migration_status"] == "success"
    assert path.read_bytes()[:16] == b"pocketstack data" and not moved.exists()
    # Not mid-migration: Cinder's completion answers with the new volume's id only when neither is.
    other = create(two)
    done = call(two, "POST", f"/volumes/{volume['id']}/action",
                json={"os-migrate_volume_completion": {"new_volume": other["id"]}})
    assert done.status_code == 400 and "Destination volume not mid-migration" in done.text


def test_unmanage_then_manage_volume_and_snapshot(two):
    data_dir = two[2]
    volume = create(two)
    snap = call(two, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()["snapshot"]
    wait(two, f"/snapshots/{snap['id']}", "snapshot", ("available",))
    assert call(two, "POST", f"/snapshots/{snap['id']}/action", json={"os-unmanage": {}}).status_code == 202
    wait(two, f"/snapshots/{snap['id']}", "snapshot", ("deleted",))
    assert (data_dir / "volumes" / f"snapshot-{snap['id']}").exists()
    listed = call(two, "GET", "/manageable_snapshots/detail?host=pocketstack@file", version="3.8").json()
    entry = next(e for e in listed["manageable-snapshots"] if e["reference"]["source-name"] == f"snapshot-{snap['id']}")
    assert entry["safe_to_manage"] is True and entry["cinder_id"] is None
    managed = call(two, "POST", "/os-snapshot-manage", json={"snapshot": {
        "volume_id": volume["id"], "ref": {"source-name": f"snapshot-{snap['id']}"}, "name": "back",
        "metadata": {"k": "v"}}})
    assert managed.status_code == 202, managed.text
    new_snap = wait(two, f"/snapshots/{managed.json()['snapshot']['id']}", "snapshot", ("available",))
    assert new_snap["name"] == "back" and new_snap["metadata"] == {"k": "v"} and new_snap["size"] == 1
    assert (data_dir / "volumes" / f"snapshot-{new_snap['id']}").exists()
    assert call(two, "DELETE", f"/snapshots/{new_snap['id']}").status_code == 202
    wait(two, f"/snapshots/{new_snap['id']}", "snapshot", ("deleted",))

    assert call(two, "POST", f"/volumes/{volume['id']}/action", json={"os-unmanage": {}}).status_code == 202
    wait(two, f"/volumes/{volume['id']}", "volume", ("deleted",))
    name = f"volume-{volume['id']}"
    assert (data_dir / "volumes" / name).exists()
    summary = call(two, "GET", "/os-volume-manage?host=pocketstack@file").json()["manageable-volumes"]
    assert {"reference": {"source-name": name}, "size": 1, "safe_to_manage": True} in summary
    response = call(two, "POST", "/os-volume-manage", json={"volume": {
        "host": "pocketstack@file#file", "ref": {"source-name": name}, "name": "adopted"}})
    assert response.status_code == 202, response.text
    adopted = wait(two, f"/volumes/{response.json()['volume']['id']}", "volume", ("available",))
    assert adopted["name"] == "adopted" and adopted["size"] == 1
    assert adopted["os-vol-host-attr:host"] == "pocketstack@file#file"
    assert not (data_dir / "volumes" / name).exists()
    detail = call(two, "GET", "/os-volume-manage/detail?host=pocketstack@file").json()["manageable-volumes"]
    mine = next(e for e in detail if e["cinder_id"] == adopted["id"])
    assert mine["safe_to_manage"] is False and mine["reason_not_safe"] == "already managed"


def test_manage_references_stay_inside_the_backend(two):
    data_dir = two[2]
    (data_dir / "secret").write_bytes(b"x")
    os.symlink(data_dir / "secret", data_dir / "volumes" / "link")
    (data_dir / "volumes" / "adir").mkdir()
    managed = create(two)

    def manage(ref, host="pocketstack@file"):
        return call(two, "POST", "/os-volume-manage", json={"volume": {"host": host, "ref": ref}})

    for ref in ({"source-name": "../secret"}, {"source-name": ".."}, {"source-name": "link"},
                {"source-name": "adir"}, {"source-name": "missing"}, {"source-id": "x"}, "volume-x",
                {"source-name": f"volume-{managed['id']}"}):
        response = manage(ref)
        assert response.status_code == 400, (ref, response.text)
    assert manage({"source-name": "x"}, host="nowhere@else").status_code == 404
    assert call(two, "GET", "/os-volume-manage?host=nowhere@else").status_code == 404
    assert call(two, "GET", "/os-volume-manage").status_code == 400  # no host
    assert call(two, "GET", "/os-volume-manage?host=pocketstack@file&sort_key=name").status_code == 400
    assert call(two, "POST", "/manageable_volumes", version="3.7", json={}).status_code == 404
    assert (data_dir / "secret").read_bytes() == b"x"


def test_an_abandoned_migration_is_rolled_back(two):
    """Recovery: a volume left ``migrating`` by a dead worker goes back to its host and
    status with ``migration_status`` ``error``, the partial copy removed."""
    api, data_dir = two[0], two[2]
    volume = create(two, volume_type=make_type(two, volume_backend_name="file"))
    partial = data_dir / "volumes-fast" / f"volume-{volume['id']}"
    partial.write_bytes(b"half")
    manager = api.cloud.service("volume").manager
    with manager.db.session() as s:
        s.execute(sa.update(m.Volume).where(m.Volume.id == volume["id"]).values(
            status="maintenance", migration_status="migrating", task_started_at=utcnow(),
            task_args={"dest": "pocketstack@fast#fast", "previous": "available"}))
    assert recover(manager.worker, window=-1)["rolled_back"] >= 1
    after = call(two, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert after["status"] == "available" and after["migration_status"] == "error"
    assert after["os-vol-host-attr:host"] == "pocketstack@file#file"
    assert not partial.exists() and (data_dir / "volumes" / f"volume-{volume['id']}").exists()
