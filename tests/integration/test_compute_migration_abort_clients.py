"""A running live migration aborted and forced to complete with the real ``openstack``
CLI, against a real ``pocketstack up`` whose fake live migrations take a minute unless
steered (``fake_live_migration_time``): ``server migration abort`` (2.24; by the
migration's UUID from 2.59) leaves the server ACTIVE on its source with the migration
``cancelled``; ``server migration force complete`` (2.22) ends the next one at once on
the other host, ``completed``."""

from __future__ import annotations

import pytest

from cloudproc import eventually, running_cloud

HOST = "OS-EXT-SRV-ATTR:host"


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("migration-cli")
    with running_cloud(tmp, "--fake-hosts", "2", env={"POCKETSTACK_FAKE_LIVE_MIGRATION_TIME": "60"}) as proc:
        yield proc


def migrations(os_, server: str) -> list[dict]:
    return os_("--os-compute-api-version", "2.59", "server", "migration", "list", "--server", server, "-f", "json")


def running(os_, server: str) -> dict | None:
    return next((m for m in migrations(os_, server) if m["Status"] == "running"), None)


def settled(os_, server: str) -> dict | None:
    shown = os_("server", "show", server, "-f", "json")
    return shown if shown["status"] == "ACTIVE" and not shown["OS-EXT-STS:task_state"] else None


def test_a_live_migration_aborted_then_one_forced_to_complete(cloud_proc, tmp_path):
    os_ = cloud_proc.openstack
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"fake disk")
    os_("image", "create", "--file", str(disk), "--disk-format", "raw", "img", "-f", "json")
    os_("flavor", "create", "--vcpus", "1", "--ram", "64", "--disk", "1", "tiny", "-f", "json")
    server = os_("server", "create", "--image", "img", "--flavor", "tiny", "--nic", "none", "--wait", "vm",
                 "-f", "json")["id"]
    source = os_("server", "show", server, "-f", "json")[HOST]

    # (1) Aborted (by the migration's UUID): back to ACTIVE on its source, the record cancelled.
    os_("--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", server, parse=False)
    live = eventually(lambda: running(os_, server), timeout=30, interval=0.5)
    assert (live["Source Compute"], live["Type"]) == (source, "live-migration"), live
    assert os_("server", "show", server, "-f", "json")["status"] == "MIGRATING"
    os_("--os-compute-api-version", "2.59", "server", "migration", "abort", server, live["UUID"], parse=False)
    shown = eventually(lambda: settled(os_, server), timeout=30, interval=0.5)
    assert shown[HOST] == source
    [aborted] = migrations(os_, server)
    assert (aborted["UUID"], aborted["Status"]) == (live["UUID"], "cancelled"), aborted

    # (2) Forced to complete (by its id): on the other host at once, the record completed.
    os_("--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", server, parse=False)
    live = eventually(lambda: running(os_, server), timeout=30, interval=0.5)
    os_("--os-compute-api-version", "2.22", "server", "migration", "force", "complete", server, str(live["Id"]),
        parse=False)
    shown = eventually(lambda: settled(os_, server), timeout=30, interval=0.5)
    assert shown[HOST] not in (source, None) and shown[HOST] == live["Dest Compute"], (shown, live)
    statuses = {m["UUID"]: m["Status"] for m in migrations(os_, server)}
    assert statuses == {aborted["UUID"]: "cancelled", live["UUID"]: "completed"}, statuses

    events = [e["Action"] for e in os_("server", "event", "list", server, "-f", "json")]
    assert events[:4] == ["live_migration_force_complete", "live-migration", "live_migration_cancel",
                          "live-migration"], events
    # A finished migration can be neither aborted nor forced any more (409 from the API).
    refused = os_("--os-compute-api-version", "2.24", "server", "migration", "abort", server, str(live["Id"]),
                  check=False, parse=False)
    assert refused.returncode != 0 and "409" in refused.stderr, refused.stderr
