"""Quota usage stays equal to what exists, whatever fails or races.

Every operation that reserves quota and then fails, is refused or is abandoned gives the
reservation back exactly once: a failed extend (the backend cannot grow the file, or its
data is gone), an extend an admin resets or force-deletes before the worker ran, a
restore that loses the race for its backup.  The first use of a project by many
concurrent creates never fails with a 500, even when the database picks some of them
as deadlock victims (MySQL error 1213, which is also how a Galera cluster reports two
nodes inserting the same usage row), and counts every volume.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from conftest import unique
from test_volume_api import call, create_volume, new_member, wait

MAX_INT = 2147483647


def project_of(api, token) -> str:
    return api.cloud.identity.validate_token(token).project_id


@pytest.fixture
def member(api, admin_token):
    """A fresh project without volume limits (each test counts its own usage)."""
    token = new_member(api, admin_token)
    assert call(api, admin_token, "PUT", f"/os-quota-sets/{project_of(api, token)}", json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1, "backup_gigabytes": -1}}).status_code == 200
    return token


def usage(api, token) -> dict[str, int]:
    quota_set = call(api, token, "GET", f"/os-quota-sets/{project_of(api, token)}?usage=true").json()["quota_set"]
    return {key: value["in_use"] for key, value in quota_set.items() if isinstance(value, dict)}


def assert_usage_is_real(api, token) -> None:
    """Usage is exactly what the project has: its volumes, snapshots and backups, whatever
    their status (one in ``error`` still counts until it is deleted, as in Cinder)."""
    volumes = call(api, token, "GET", "/volumes/detail").json()["volumes"]
    snapshots = call(api, token, "GET", "/snapshots/detail").json()["snapshots"]
    backups = call(api, token, "GET", "/backups/detail").json()["backups"]
    used = usage(api, token)
    assert used.get("volumes", 0) == len(volumes)
    assert used.get("gigabytes", 0) == sum(v["size"] for v in volumes) + sum(s["size"] for s in snapshots)
    assert used.get("snapshots", 0) == len(snapshots)
    assert used.get("backups", 0) == len(backups)
    assert used.get("backup_gigabytes", 0) == sum(b["size"] for b in backups)


def settled(api, token, volume_id: str) -> dict:
    return wait(api, token, f"/volumes/{volume_id}", "volume", ("available", "error_extending", "in-use"))


def test_extend_beyond_what_the_backend_can_hold_gives_the_gigabytes_back(api, member):
    """The audit's case: the file backend cannot make a file of MAX_INT GiB (EFBIG on ext4)."""
    volume = create_volume(api, member)
    response = call(api, member, "POST", f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": MAX_INT}})
    assert response.status_code == 202, response.text
    after = settled(api, member, volume["id"])
    if after["status"] == "error_extending":
        assert after["size"] == 1
    assert_usage_is_real(api, member)


def test_extend_of_a_volume_whose_data_is_gone_fails_and_gives_the_gigabytes_back(api, member):
    volume = create_volume(api, member, size=2)
    api.cloud.service("volume").manager.backends.all[0].driver.path(volume["id"]).unlink()  # the backend lost the data
    assert call(api, member, "POST", f"/volumes/{volume['id']}/action",
                json={"os-extend": {"new_size": 5}}).status_code == 202
    after = settled(api, member, volume["id"])
    assert after["status"] == "error_extending" and after["size"] == 2
    assert usage(api, member)["gigabytes"] == 2
    assert_usage_is_real(api, member)
    # Deleting the failed volume releases what it holds, once.
    assert call(api, member, "DELETE", f"/volumes/{volume['id']}").status_code == 202
    wait(api, member, f"/volumes/{volume['id']}", "volume", ("deleted",))
    assert usage(api, member)["gigabytes"] == 0


@pytest.mark.parametrize("action", ["os-reset_status", "os-force_delete"])
def test_an_extend_abandoned_by_an_admin_gives_the_gigabytes_back(api, member, admin_token, action):
    """While the worker waits for the volume's lock, an admin resets or force-deletes the
    extending volume: the extend never runs, so what it reserved must come back."""
    volume = create_volume(api, member)
    with api.cloud.coordinator.lock(f"volume-{volume['id']}"):
        assert call(api, member, "POST", f"/volumes/{volume['id']}/action",
                    json={"os-extend": {"new_size": 3}}).status_code == 202
        assert call(api, member, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "extending"
        assert usage(api, member)["gigabytes"] == 3
        body = {"os-reset_status": {"status": "available"}} if action == "os-reset_status" else {action: {}}
        assert call(api, admin_token, "POST", f"/volumes/{volume['id']}/action", json=body).status_code == 202
    if action == "os-force_delete":
        wait(api, member, f"/volumes/{volume['id']}", "volume", ("deleted",))
        assert usage(api, member)["gigabytes"] == 0
    else:
        time.sleep(0.5)  # the worker got the lock and found the volume no longer extending
        assert call(api, member, "GET", f"/volumes/{volume['id']}").json()["volume"]["size"] == 1
        assert usage(api, member)["gigabytes"] == 1
    assert_usage_is_real(api, member)


def test_restores_racing_for_one_backup_leave_no_volume_behind(api, member):
    """Of concurrent restores of one backup to new volumes, one wins; the others are
    refused with a 400 and leave neither a volume nor usage behind.  The test holds the
    backup's lock, so the winner's restore waits and the backup stays ``restoring``."""
    source = create_volume(api, member)
    backup = call(api, member, "POST", "/backups", json={"backup": {"volume_id": source["id"]}}).json()["backup"]
    wait(api, member, f"/backups/{backup['id']}", "backup", ("available",))

    def restore(_):
        return call(api, member, "POST", f"/backups/{backup['id']}/restore", json={"restore": {"name": unique("r")}})
    with api.cloud.coordinator.lock(f"backup-{backup['id']}"), ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(restore, range(16)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] + [400] * 15, [r.text for r in responses]
    restored = next(r.json()["restore"]["volume_id"] for r in responses if r.status_code == 202)
    wait(api, member, f"/volumes/{restored}", "volume", ("available",))
    volumes = {v["id"] for v in call(api, member, "GET", "/volumes").json()["volumes"]}
    assert volumes == {source["id"], restored}
    assert_usage_is_real(api, member)


def test_operations_failing_in_the_backend_count_until_deleted(api, member):
    """Creates from a snapshot or a clone, a snapshot and a backup whose source data the
    backend lost all fail; each failed resource counts (it exists, in ``error``) until it
    is deleted, which gives its quota back once."""
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    source = create_volume(api, member)
    snapshot = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": source["id"]}}).json()
    snapshot = wait(api, member, f"/snapshots/{snapshot['snapshot']['id']}", "snapshot", ("available",))
    driver.snapshot_path(snapshot["id"]).unlink()
    driver.path(source["id"]).unlink()
    from_snapshot = create_volume(api, member, snapshot_id=snapshot["id"])
    clone = create_volume(api, member, source_volid=source["id"])
    assert from_snapshot["status"] == clone["status"] == "error"
    failed_snapshot = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": source["id"]}}).json()
    failed_snapshot = wait(api, member, f"/snapshots/{failed_snapshot['snapshot']['id']}", "snapshot", ("error",))
    backup = call(api, member, "POST", "/backups", json={"backup": {"volume_id": source["id"]}}).json()["backup"]
    assert wait(api, member, f"/backups/{backup['id']}", "backup", ("available", "error"))["status"] == "error"
    assert_usage_is_real(api, member)
    assert usage(api, member)["volumes"] == 3 and usage(api, member)["snapshots"] == 2

    for path, key in ((f"/backups/{backup['id']}", "backup"), (f"/snapshots/{failed_snapshot['id']}", "snapshot"),
                      (f"/snapshots/{snapshot['id']}", "snapshot"), (f"/volumes/{from_snapshot['id']}", "volume"),
                      (f"/volumes/{clone['id']}", "volume"), (f"/volumes/{source['id']}", "volume")):
        assert call(api, member, "DELETE", path).status_code == 202
        wait(api, member, path, key, ("deleted",))
        assert_usage_is_real(api, member)
    assert {k: v for k, v in usage(api, member).items() if v} == {}


def hold_usage_row(cloud, project_id: str, resource: str):
    """Insert ``project_id``'s first usage row in a transaction left open: every creator
    inserting it waits on us.  Rolling back then makes InnoDB pick deadlock victims among
    the waiters (error 1213), the code a Galera cluster answers a certification conflict with."""
    connection = cloud.db.engine.connect()
    transaction = connection.begin()
    table = sa.table("volume_quota_usage", sa.column("project_id"), sa.column("resource"), sa.column("in_use"))
    connection.execute(sa.insert(table).values(project_id=project_id, resource=resource, in_use=0))
    return connection, transaction


@pytest.mark.parametrize("requests", [24])
def test_first_use_of_a_project_by_concurrent_creates(api, member, requests):
    project_id = project_of(api, member)
    held = None
    if api.cloud.db.dialect != "sqlite":  # SQLite serialises writers: nobody waits on a row
        held = hold_usage_row(api.cloud, project_id, "volumes")
    release = threading.Timer(2.0, lambda: held and (held[1].rollback(), held[0].close()))
    release.start()

    def create(i):
        return call(api, member, "POST", "/volumes", json={"volume": {"size": 1 + i % 2, "name": unique("race")}})
    with ThreadPoolExecutor(requests) as pool:
        responses = list(pool.map(create, range(requests)))
    release.join()
    assert [r.status_code for r in responses] == [202] * requests, [r.text for r in responses if r.status_code != 202]
    for response in responses:
        wait(api, member, f"/volumes/{response.json()['volume']['id']}", "volume", ("available",))
    used = usage(api, member)
    assert used["volumes"] == requests and used["gigabytes"] == sum(1 + i % 2 for i in range(requests))
    assert used["volumes___DEFAULT__"] == requests
    assert_usage_is_real(api, member)
