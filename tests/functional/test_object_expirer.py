"""The object expirer: objects past X-Delete-At lose their data, listing row and counts,
leaving tombstones at the expiry time; stale queue entries are dropped.

Passes are run with an explicit ``now`` just after the objects' expiry, so nothing
sleeps; the ``pocketstack object expirer --once`` run uses the real clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pocketstack.object import expirer, timestamps

from conftest import unique


def project_id(api, token):
    response = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token})
    return response.json()["token"]["project"]["id"]


@pytest.fixture
def account(api, admin_token):
    return f"AUTH_{project_id(api, admin_token)}"


@pytest.fixture
def container(api, admin_token, account):
    name = unique("exp")
    assert api.request("PUT", f"/object-store/v1/{account}/{name}", admin_token).status_code == 201
    return name


@pytest.fixture
def manager(api):
    return api.cloud.object_store


def put(api, token, path, data=b"", **headers):
    response = api.request("PUT", f"/object-store/v1/{path}", token, content=data, headers=headers)
    assert response.status_code == 201, response.text
    return response


def queued(manager, delete_at: int) -> list[str]:
    found = manager.store.container(expirer.QUEUE_ACCOUNT, expirer.queue_container(delete_at))
    return [row["name"] for row in found[0].list(limit=10000)] if found else []


def replica_files(manager, account, container, obj) -> list[list[str]]:
    return [sorted(os.listdir(loc.directory)) if loc.directory.is_dir() else []
            for loc in manager.cluster.primaries("object", account, container, obj)]


def test_expired_objects_are_deleted_with_tombstones(api, admin_token, manager, account, container):
    delete_at = int(time.time()) + 60
    put(api, admin_token, f"{account}/{container}/doomed", b"12345", **{"X-Delete-At": str(delete_at)})
    put(api, admin_token, f"{account}/{container}/kept", b"678")
    entry = expirer.queue_entry(delete_at, account, container, "doomed")
    assert entry in queued(manager, delete_at)

    manager.expirer.run_once(now=delete_at - 1)
    assert entry in queued(manager, delete_at)
    assert api.request("HEAD", f"/object-store/v1/{account}/{container}/doomed", admin_token).status_code == 200

    stats = manager.expirer.run_once(now=delete_at)
    assert stats.expired >= 1
    assert entry not in queued(manager, delete_at)
    listing = api.request("GET", f"/object-store/v1/{account}/{container}", admin_token).text.split()
    assert listing == ["kept"]
    head = api.request("HEAD", f"/object-store/v1/{account}/{container}", admin_token).headers
    assert head["X-Container-Object-Count"] == "1" and head["X-Container-Bytes-Used"] == "3"
    # Every replica keeps only a tombstone stamped with the expiry time, so the
    # replicator spreads the deletion instead of bringing the data back.
    tombstone = timestamps.normalize(delete_at) + ".ts"
    assert replica_files(manager, account, container, "doomed") == [[tombstone]] * 3
    manager.replicator.run_once()
    assert replica_files(manager, account, container, "doomed") == [[tombstone]] * 3


def test_stale_entries_are_dropped_without_deleting(api, admin_token, manager, account, container):
    delete_at = int(time.time()) + 60
    later = delete_at + 30
    put(api, admin_token, f"{account}/{container}/replaced", b"a", **{"X-Delete-At": str(delete_at)})
    put(api, admin_token, f"{account}/{container}/replaced", b"no expiry now")
    put(api, admin_token, f"{account}/{container}/postponed", b"b", **{"X-Delete-At": str(delete_at)})
    response = api.request("POST", f"/object-store/v1/{account}/{container}/postponed", admin_token,
                           headers={"X-Delete-At": str(later)})
    assert response.status_code == 202
    put(api, admin_token, f"{account}/{container}/removed", b"c", **{"X-Delete-At": str(delete_at)})
    assert api.request("DELETE", f"/object-store/v1/{account}/{container}/removed", admin_token).status_code == 204

    manager.expirer.run_once(now=delete_at)
    names = [expirer.queue_entry(delete_at, account, container, o) for o in ("replaced", "postponed", "removed")]
    assert not set(names) & set(queued(manager, delete_at))
    for obj in ("replaced", "postponed"):
        assert api.request("HEAD", f"/object-store/v1/{account}/{container}/{obj}", admin_token).status_code == 200

    manager.expirer.run_once(now=later)
    listing = api.request("GET", f"/object-store/v1/{account}/{container}", admin_token).text.split()
    assert listing == ["replaced"]


def test_copies_and_manifests_are_queued_too(api, admin_token, manager, account, container):
    delete_at = int(time.time()) + 60
    put(api, admin_token, f"{account}/{container}/src", b"x")
    put(api, admin_token, f"{account}/{container}/copy", b"",
        **{"X-Copy-From": f"{container}/src", "X-Delete-At": str(delete_at)})
    assert expirer.queue_entry(delete_at, account, container, "copy") in queued(manager, delete_at)
    manager.expirer.run_once(now=delete_at)
    listing = api.request("GET", f"/object-store/v1/{account}/{container}", admin_token).text.split()
    assert listing == ["src"]


def test_expirer_command_runs_one_pass(api, admin_token, account, container, settings):
    put(api, admin_token, f"{account}/{container}/short", b"bye", **{"X-Delete-After": "1"})
    deadline = time.time() + 10
    while api.request("HEAD", f"/object-store/v1/{account}/{container}/short", admin_token).status_code != 404:
        assert time.time() < deadline
        time.sleep(0.2)
    command = Path(sys.executable).parent / "pocketstack"
    result = subprocess.run([str(command), "--data-dir", str(settings.data_dir), "--database-url",
                             settings.effective_database_url, "object", "expirer", "--once"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "expired" in result.stdout
    assert api.request("GET", f"/object-store/v1/{account}/{container}", admin_token).status_code == 204


def test_a_pass_before_anything_is_due_does_nothing(manager):
    stats = manager.expirer.run_once(now=0)
    assert (stats.expired, stats.failed) == (0, 0)


def test_a_finished_day_leaves_no_queue_container(api, admin_token, manager, account, container):
    delete_at = int(time.time()) + 60
    put(api, admin_token, f"{account}/{container}/o", b"x", **{"X-Delete-At": str(delete_at)})
    bucket = expirer.queue_container(delete_at)
    manager.expirer.run_once(now=delete_at)
    # The entry is gone but the day is not over, so its container stays.
    assert manager.store.container(expirer.QUEUE_ACCOUNT, bucket) is not None
    stats = manager.expirer.run_once(now=int(bucket) + expirer.DIVISOR)
    assert stats.containers_removed >= 1
    assert manager.store.container(expirer.QUEUE_ACCOUNT, bucket) is None
