"""Block Storage behaviours Tempest's whole-cloud run found different from Cinder's
(docs/compatibility.md, "Whole cloud"): the ``os-services`` host filter and actions,
backups of snapshots, the ``readonly`` admin metadata, force-detach, ``os-hosts`` and
backup records (export/import)."""

from __future__ import annotations

import base64
import json
import time
import uuid

from test_volume_api import call, create_volume, member, wait  # noqa: F401 - member is a fixture


def test_services_host_filter_matches_backends_and_pools(api, admin_token):
    """Cinder's ``_filter_host``: a bare host also matches ``host@backend`` and
    ``host@backend#pool``, a backend its pools, a pool only itself (Tempest's
    test_get_service_by_host_name / test_get_service_by_volume_host_name)."""
    def binaries(query: str) -> list[str]:
        r = call(api, admin_token, "GET", f"/os-services?{query}")
        assert r.status_code == 200, r.text
        return sorted(s["binary"] for s in r.json()["services"])

    assert binaries("host=pocketstack") == ["cinder-backup", "cinder-scheduler", "cinder-volume"]
    assert binaries("host=pocketstack&binary=cinder-volume") == ["cinder-volume"]
    assert binaries("host=pocketstack@file") == ["cinder-volume"]
    assert binaries("host=pocketstack@file%23file") == []
    assert binaries("host=pocket") == []
    assert binaries("host=pocketstack@fil") == []
    volume = create_volume(api, admin_token)
    host = volume["os-vol-host-attr:host"].split("@")[0]
    assert binaries(f"host={host}&binary=cinder-volume") == ["cinder-volume"]


def test_services_actions_validate_as_cinder(api, admin_token, member):  # noqa: F811
    """``PUT os-services/disable-log-reason``, ``freeze`` and ``thaw``: Cinder's 400s for
    a missing reason or an unknown host, its 404 for an unknown service, 403 for non-admins."""
    put = lambda action, body, token=admin_token, **kw: call(  # noqa: E731
        api, token, "PUT", f"/os-services/{action}", json=body, **kw)
    r = put("disable-log-reason", {"host": "pocketstack", "binary": "cinder-volume", "disabled_reason": None})
    assert r.status_code == 400, r.text
    r = put("disable-log-reason", {"host": "pocketstack", "binary": "cinder-volume", "disabled_reason": "  "})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        "Invalid input received: disabled_reason has a minimum character requirement of 1.")
    assert put("disable-log-reason", {"host": "pocketstack", "disabled_reason": "x"}).status_code == 400
    assert put("disable-log-reason", {"binary": "cinder-volume", "disabled_reason": "x",
                                      "bogus": 1}).status_code == 400
    r = put("disable-log-reason", {"binary": "cinder-volume", "disabled_reason": "x"})
    assert r.status_code == 400 and "Host field is missing." in r.json()["badRequest"]["message"], r.text
    r = put("disable-log-reason", {"host": "invalid_host", "binary": "cinder-volume", "disabled_reason": "x"})
    assert r.status_code == 404, r.text
    assert r.json()["itemNotFound"]["message"] == "Service cinder-volume could not be found on host invalid_host."
    assert put("disable-log-reason", {"host": "pocketstack", "binary": "nova-compute",
                                      "disabled_reason": "x"}).status_code == 404
    for action in ("freeze", "thaw"):
        r = put(action, {"host": "invalid_host"})
        assert r.status_code == 400, r.text
        assert r.json()["badRequest"]["message"] == "Invalid input received: No service found with host=invalid_host"
        assert put(action, {}).status_code == 400
        assert put(action, {"host": "bad host!"}).status_code == 400
        assert put(action, {"host": "pocketstack", "cluster": "c1"}).status_code == 400
        r = put(action, {"host": "pocketstack"}, headers={"OpenStack-API-Version": "volume 3.20"})
        assert r.status_code != 404, r.text  # before 3.26 the cluster is not read; the host still counts
        assert put(action, {"host": "pocketstack"}, token=member).status_code == 403
    # Nothing is frozen, so a thaw of the real host is Cinder's "must be True" 400.
    r = put("thaw", {"host": "pocketstack"})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        "Invalid input received: No service could be changed: frozen in ['pocketstack@file'] must be True "
        "to failover.")
    # A change of state is not kept here: 501, and the services stay enabled.
    assert put("freeze", {"host": "pocketstack"}).status_code == 501
    assert put("disable-log-reason", {"host": "pocketstack", "binary": "cinder-volume",
                                      "disabled_reason": "maintenance"}).status_code == 501
    services = call(api, admin_token, "GET", "/os-services").json()["services"]
    assert {s["status"] for s in services} == {"enabled"}
    assert put("disable-log-reason", {"host": "pocketstack", "binary": "cinder-volume", "disabled_reason": "x"},
               token=member).status_code == 403


def test_readonly_flag_shows_true_and_false_once_set(api, member):  # noqa: F811
    """Cinder keeps ``readonly`` as admin metadata once ``os-update_readonly_flag`` set
    it and shows it in ``metadata`` as "True" or "False" (Tempest's
    test_volume_readonly_update); never set, there is no key. Only an ``available``
    volume takes the flag (400 otherwise)."""
    vid = create_volume(api, member, metadata={"tier": "gold"})["id"]

    def metadata() -> dict:
        return call(api, member, "GET", f"/volumes/{vid}").json()["volume"]["metadata"]

    def set_flag(value) -> int:
        return call(api, member, "POST", f"/volumes/{vid}/action",
                    json={"os-update_readonly_flag": {"readonly": value}}).status_code

    assert metadata() == {"tier": "gold"}
    assert set_flag(True) == 202
    assert metadata() == {"tier": "gold", "readonly": "True"}
    assert set_flag(False) == 202
    assert metadata() == {"tier": "gold", "readonly": "False"}
    listed = call(api, member, "GET", "/volumes/detail").json()["volumes"]
    assert [v["metadata"] for v in listed if v["id"] == vid] == [{"tier": "gold", "readonly": "False"}]
    assert call(api, member, "GET", f"/volumes/{vid}/metadata").json()["metadata"] == {"tier": "gold"}
    assert set_flag("maybe") == 400
    # In use: Cinder refuses the flag.
    assert call(api, member, "POST", f"/volumes/{vid}/action", json={"os-reserve": None}).status_code == 202
    r = call(api, member, "POST", f"/volumes/{vid}/action", json={"os-update_readonly_flag": {"readonly": True}})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        f"Invalid volume: Volume {vid} status must be available to update readonly flag, but current status "
        "is: attaching.")
    assert metadata()["readonly"] == "False"


def test_backup_of_a_snapshot(api, member, admin_token):  # noqa: F811
    """``POST /backups`` with ``snapshot_id`` backs up the snapshot's data, not the
    volume's, and shows the ``snapshot_id`` (Tempest's test_snapshot_backup); Cinder's
    checks: the snapshot must exist (404), be of that volume and ``available`` (400)."""
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    vid = create_volume(api, member)["id"]
    with open(driver.path(vid), "r+b") as fh:
        fh.write(b"as-snapshotted")
    r = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": vid}})
    assert r.status_code == 202, r.text
    sid = wait(api, member, f"/snapshots/{r.json()['snapshot']['id']}", "snapshot", ("available",))["id"]
    with open(driver.path(vid), "r+b") as fh:
        fh.write(b"changed-since!")
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid, "snapshot_id": sid}})
    assert r.status_code == 202, r.text
    backup = wait(api, member, f"/backups/{r.json()['backup']['id']}", "backup", ("available", "error"))
    assert backup["status"] == "available" and backup["snapshot_id"] == sid, backup
    snapshot = call(api, member, "GET", f"/snapshots/{sid}").json()["snapshot"]
    assert snapshot["status"] == "available"
    assert backup["data_timestamp"] == snapshot["created_at"]
    assert call(api, member, "GET", f"/volumes/{vid}").json()["volume"]["status"] == "available"
    listed = call(api, member, "GET", "/backups/detail").json()["backups"]
    assert [b["snapshot_id"] for b in listed if b["id"] == backup["id"]] == [sid]
    r = call(api, member, "POST", f"/backups/{backup['id']}/restore", json={"restore": {}})
    assert r.status_code == 202, r.text
    new_id = r.json()["restore"]["volume_id"]
    wait(api, member, f"/volumes/{new_id}", "volume", ("available",))
    with open(driver.path(new_id), "rb") as fh:
        assert fh.read(14) == b"as-snapshotted"
    # A volume backup still shows no snapshot.
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid}})
    plain = wait(api, member, f"/backups/{r.json()['backup']['id']}", "backup", ("available",))
    assert plain["snapshot_id"] is None
    # Cinder's refusals.
    other = create_volume(api, member)["id"]
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": other, "snapshot_id": sid}})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        f"Invalid volume: Volume {other} does not match with snapshot.volume_id {vid}.")
    missing = "0f0e0d0c-0000-4000-8000-000000000000"
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid, "snapshot_id": missing}})
    assert r.status_code == 404, r.text
    project = api.cloud.identity.validate_token(member).project_id
    assert api.request("POST", f"/volume/v3/{project}/snapshots/{sid}/action", admin_token,
                       json={"os-reset_status": {"status": "error"}}).status_code == 202
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid, "snapshot_id": sid}})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        'Invalid snapshot: Snapshot to be backed up must be available, but the current status is "error".')


def test_update_snapshot_status(api, member, admin_token):  # noqa: F811
    """``os-update_snapshot_status`` (project members): from ``creating`` to creating /
    available / error, from ``deleting`` to deleting / error_deleting, with a progress
    shown as ``os-extended-snapshot-attributes:progress`` (Tempest's admin
    test_update_snapshot_status); anything else is Cinder's 400."""
    vid = create_volume(api, member)["id"]
    r = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": vid}})
    sid = wait(api, member, f"/snapshots/{r.json()['snapshot']['id']}", "snapshot", ("available",))["id"]
    project = api.cloud.identity.validate_token(member).project_id

    def update(body, token=member) -> object:
        return call(api, token, "POST", f"/snapshots/{sid}/action", json={"os-update_snapshot_status": body})

    r = update({"status": "error"})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == "Snapshot status available not allowed for update_snapshot_status"
    assert api.request("POST", f"/volume/v3/{project}/snapshots/{sid}/action", admin_token,
                       json={"os-reset_status": {"status": "creating"}}).status_code == 202
    r = update({"status": "deleting"})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        "Provided snapshot status deleting not allowed for snapshot with status creating.")
    for bad in ({"status": "error", "progress": "80"}, {"status": "error", "progress": "101%"},
                {"progress": "80%"}, {"status": "error", "bogus": 1}):
        assert update(bad).status_code == 400, bad
    assert update({"status": "error", "progress": "80%"}).status_code == 202
    snapshot = call(api, member, "GET", f"/snapshots/{sid}").json()["snapshot"]
    assert snapshot["status"] == "error", snapshot
    assert snapshot["os-extended-snapshot-attributes:progress"] == "80%"


def test_backup_reset_status(api, member, admin_token):  # noqa: F811
    """``POST /backups/{id}/action`` ``os-reset_status`` (admin): to ``available`` or
    ``error`` (Tempest's admin test_volume_backup_reset_status); other statuses and other
    actions 400, a member 403, an unknown backup 404."""
    vid = create_volume(api, member)["id"]
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid}})
    bid = wait(api, member, f"/backups/{r.json()['backup']['id']}", "backup", ("available",))["id"]
    project = api.cloud.identity.validate_token(member).project_id
    base = f"/volume/v3/{project}/backups"

    def reset(status, token=admin_token, backup_id=bid):
        return api.request("POST", f"{base}/{backup_id}/action", token, json={"os-reset_status": {"status": status}})

    assert reset("error").status_code == 202
    assert call(api, member, "GET", f"/backups/{bid}").json()["backup"]["status"] == "error"
    assert reset("AVAILABLE").status_code == 202
    assert call(api, member, "GET", f"/backups/{bid}").json()["backup"]["status"] == "available"
    r = reset("creating")
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        "Backup status: creating is invalid, valid statuses are: ['available', 'error'].")
    assert reset("error", token=member).status_code == 403
    assert reset("error", backup_id="0f0e0d0c-0000-4000-8000-000000000000").status_code == 404
    r = api.request("POST", f"{base}/{bid}/action", admin_token, json={"os-bogus": {}})
    assert r.status_code == 400, r.text
    assert call(api, member, "GET", f"/backups/{bid}").json()["backup"]["status"] == "available"


def test_os_hosts_lists_services_and_shows_volume_usage(api, admin_token, member):  # noqa: F811
    """Cinder's Hosts extension (Tempest's admin test_volume_hosts): every service by host,
    and a cinder-volume host's volumes and snapshots per project, as strings."""
    r = call(api, admin_token, "GET", "/os-hosts")
    assert r.status_code == 200, r.text
    hosts = r.json()["hosts"]
    assert {(h["host_name"], h["service"]) for h in hosts} == {
        ("pocketstack", "cinder-scheduler"), ("pocketstack@file", "cinder-volume"), ("pocketstack", "cinder-backup")}
    assert all(h["service-state"] == "enabled" and h["zone"] == "nova" for h in hosts)
    assert call(api, admin_token, "GET", "/os-hosts?zone=elsewhere").json()["hosts"] == []
    volume = create_volume(api, member)
    r = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    wait(api, member, f"/snapshots/{r.json()['snapshot']['id']}", "snapshot", ("available",))
    shown = call(api, admin_token, "GET", "/os-hosts/pocketstack@file").json()["host"]
    total, per_project = shown[0]["resource"], {x["resource"]["project"]: x["resource"] for x in shown[1:]}
    project = api.cloud.identity.validate_token(member).project_id
    assert total["project"] == "(total)" and int(total["volume_count"]) >= 1
    mine = per_project[project]
    assert int(mine["volume_count"]) >= 1 and int(mine["snapshot_count"]) >= 1
    assert isinstance(mine["total_volume_gb"], str)
    assert int(total["snapshot_count"]) == sum(int(x["snapshot_count"]) for x in per_project.values())
    assert call(api, admin_token, "GET", "/os-hosts/pocketstack").status_code == 404
    assert call(api, member, "GET", "/os-hosts").status_code == 403
    aliases = {e["alias"] for e in call(api, member, "GET", "/extensions").json()["extensions"]}
    assert {"os-hosts", "os-quota-class-sets", "encryption"} <= aliases


def test_backup_export_and_import(api, admin_token, member):  # noqa: F811
    """Cinder's backup records (Tempest's admin test_volume_backup_export_import): an
    exported record imported under another id is a backup of the same data; the data
    stays while any backup refers to it."""
    volume = create_volume(api, member)
    call(api, member, "POST", f"/volumes/{volume['id']}/metadata", json={"metadata": {"k": "v"}})
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": volume["id"], "name": "orig"}})
    backup = wait(api, member, f"/backups/{r.json()['backup']['id']}", "backup", ("available", "error"))
    r = call(api, admin_token, "GET", f"/backups/{backup['id']}/export_record")
    assert r.status_code == 200, r.text
    exported = r.json()["backup-record"]
    assert set(exported) == {"backup_service", "backup_url"}
    assert exported["backup_service"].startswith("cinder.backup.drivers.")
    record = json.loads(base64.b64decode(exported["backup_url"]))
    assert record["id"] == backup["id"] and record["size"] == 1 and record["display_name"] == "orig"
    new_id = str(uuid.uuid4())
    url = base64.b64encode(json.dumps({**record, "id": new_id}).encode()).decode()
    r = call(api, admin_token, "POST", "/backups/import_record", json={"backup-record": {
        "backup_service": exported["backup_service"], "backup_url": url}})
    assert r.status_code == 201, r.text
    assert r.json()["backup"]["id"] == new_id and set(r.json()["backup"]) == {"id", "links", "name"}
    imported = wait(api, admin_token, f"/backups/{new_id}", "backup", ("available", "error"))
    assert imported["status"] == "available" and imported["name"] == "orig", imported
    # the same record again: it exists
    r = call(api, admin_token, "POST", "/backups/import_record", json={"backup-record": {
        "backup_service": exported["backup_service"], "backup_url": url}})
    assert r.status_code == 400 and "Backup already exists in database." in r.text
    # deleting the original keeps the data for the imported copy, which restores
    assert call(api, member, "DELETE", f"/backups/{backup['id']}").status_code == 202
    deadline = time.monotonic() + 20
    while call(api, member, "GET", f"/backups/{backup['id']}").status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = call(api, admin_token, "POST", f"/backups/{new_id}/restore", json={"restore": {"name": "back"}})
    assert r.status_code == 202, r.text
    restored = wait(api, admin_token, f"/volumes/{r.json()['restore']['volume_id']}", "volume",
                    ("available", "error_restoring"))
    assert restored["status"] == "available" and restored["metadata"] == {"k": "v"}
    # refusals: another driver's record fails, garbage is a 400, members may not
    other = str(uuid.uuid4())
    r = call(api, admin_token, "POST", "/backups/import_record", json={"backup-record": {
        "backup_service": "cinder.backup.drivers.nfs.NFSBackupDriver",
        "backup_url": base64.b64encode(json.dumps({**record, "id": other}).encode()).decode()}})
    assert r.status_code == 201
    failed = call(api, admin_token, "GET", f"/backups/{other}").json()["backup"]
    assert failed["status"] == "error" and "cannot find backup service" in failed["fail_reason"]
    for bad in ("not base64!", base64.b64encode(b"[1]").decode(), base64.b64encode(b'{"size": 1}').decode()):
        r = call(api, admin_token, "POST", "/backups/import_record", json={"backup-record": {
            "backup_service": exported["backup_service"], "backup_url": bad}})
        assert r.status_code == 400, (bad, r.text)
    assert call(api, member, "GET", f"/backups/{new_id}/export_record").status_code in (403, 404)
    assert call(api, member, "POST", "/backups/import_record", json={"backup-record": {
        "backup_service": exported["backup_service"], "backup_url": url}}).status_code == 403
