"""Volume backups kept in the object store: chunks and manifest are objects in the
backup's container of the owner's account, written with the ring's replicas.  Restore is
byte-identical, incrementals store only changed chunks, a chunk corrupted on every
replica fails the restore cleanly, and deleting the backup removes its objects."""

from __future__ import annotations

import pytest

from pocketstack.volume.backup_stores import ObjectChunks

from conftest import unique
from test_volume_api import call, create_volume, member, wait  # noqa: F401 - member is a fixture

MiB = 1 << 20


def object_path(api, token, container: str) -> str:
    project = api.cloud.identity.validate_token(token).project_id
    return f"/object-store/v1/AUTH_{project}/{container}"


def objects(api, token, container: str, backup_id: str) -> list[str]:
    """The object names of one backup, as ``openstack object list`` shows them."""
    response = api.request("GET", object_path(api, token, container) + f"?prefix=backup_{backup_id}/&format=json",
                           token)
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return [o["name"] for o in response.json()]


def write(path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def backup(api, token, volume_id: str, **spec) -> dict:
    response = call(api, token, "POST", "/backups", json={"backup": {"volume_id": volume_id, **spec}})
    assert response.status_code == 202, response.text
    return wait(api, token, f"/backups/{response.json()['backup']['id']}", "backup", ("available", "error"))


def restore(api, token, backup_id: str) -> dict:
    response = call(api, token, "POST", f"/backups/{backup_id}/restore", json={"restore": {}})
    assert response.status_code == 202, response.text
    return wait(api, token, f"/volumes/{response.json()['restore']['volume_id']}", "volume",
                ("available", "error_restoring"))


def delete(api, token, backup_id: str) -> None:
    assert call(api, token, "DELETE", f"/backups/{backup_id}").status_code == 202
    wait(api, token, f"/backups/{backup_id}", "backup", ("deleted",))


@pytest.fixture(scope="module")
def store_is_object(api):
    assert isinstance(api.cloud.service("volume").manager.backups.store.chunks.chosen, ObjectChunks)


def test_backup_restore_incremental_delete_in_object_store(api, member, store_is_object):
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    vid = create_volume(api, member, metadata={"purpose": "kept"})["id"]
    write(driver.path(vid), 5 * MiB, b"first" * 1000)
    write(driver.path(vid), 300 * MiB, bytes(range(256)) * 4096)
    container = unique("backups")
    full = backup(api, member, vid, container=container)
    assert full["status"] == "available" and full["container"] == container and full["object_count"] == 2
    assert sorted(objects(api, member, container, full["id"])) == [
        f"backup_{full['id']}/{name}" for name in ("chunk-000000", "chunk-000009", "manifest.json")]

    write(driver.path(vid), 900 * MiB, b"second")
    incr = backup(api, member, vid, container=container, incremental=True)
    assert incr["status"] == "available" and incr["is_incremental"] and incr["object_count"] == 1
    assert sorted(objects(api, member, container, incr["id"])) == [
        f"backup_{incr['id']}/{name}" for name in ("chunk-000028", "manifest.json")]

    restored = restore(api, member, incr["id"])
    assert restored["status"] == "available" and restored["metadata"] == {"purpose": "kept"}
    assert driver.path(restored["id"]).read_bytes() == driver.path(vid).read_bytes()

    for backup_id in (incr["id"], full["id"]):
        delete(api, member, backup_id)
        assert objects(api, member, container, backup_id) == []


def test_default_container_is_volumebackups(api, member, store_is_object):
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    vid = create_volume(api, member)["id"]
    write(driver.path(vid), 0, b"data")
    done = backup(api, member, vid)
    assert done["container"] == "volumebackups"
    assert len(objects(api, member, "volumebackups", done["id"])) == 2
    delete(api, member, done["id"])
    assert objects(api, member, "volumebackups", done["id"]) == []


def test_bad_container_name_is_refused(api, member):
    vid = create_volume(api, member)["id"]
    response = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid, "container": "a/b"}})
    assert response.status_code == 400 and "badRequest" in response.json()


def test_chunk_corrupt_on_every_replica_fails_restore(api, member, store_is_object):
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    cluster = api.cloud.service("object").manager.cluster
    vid = create_volume(api, member)["id"]
    write(driver.path(vid), 0, b"precious" * 10000)
    done = backup(api, member, vid, container=unique("backups"))
    assert done["status"] == "available"
    account = "AUTH_" + api.cloud.identity.validate_token(member).project_id
    primaries, _handoffs = cluster.read_locations("object", account, done["container"],
                                                  f"backup_{done['id']}/chunk-000000")
    corrupted = 0
    for location in primaries:
        for data_file in location.directory.glob("*.data"):
            with open(data_file, "r+b") as fh:  # same length and inode: metadata (xattr) stays
                fh.seek(10)
                byte = fh.read(1)
                fh.seek(10)
                fh.write(bytes([byte[0] ^ 0xFF]))
            corrupted += 1
    assert corrupted == len(primaries) == 3

    restored = restore(api, member, done["id"])
    assert restored["status"] == "error_restoring"
    assert wait(api, member, f"/backups/{done['id']}", "backup", ("available",))["status"] == "available"
    delete(api, member, done["id"])
