"""Block Storage calls Tempest exercises beyond the basics: volume summary, availability
zones, extensions, the legacy attach actions, backup update, snapshot force-delete,
quota reset, Cinder's create/update views and the Python-literal metadata filter."""

from __future__ import annotations

import uuid

from test_volume_api import call, create_volume, member, new_member, wait  # noqa: F401 - member is a fixture


def test_summary_zones_extensions(api, member):  # noqa: F811
    vid = create_volume(api, member, metadata={"tier": "gold"})["id"]
    summary = call(api, member, "GET", "/volumes/summary").json()["volume-summary"]
    assert summary["total_count"] >= 1 and summary["total_size"] >= 1 and "gold" in summary["metadata"]["tier"]
    old = call(api, member, "GET", "/volumes/summary", headers={"OpenStack-API-Version": "volume 3.11"})
    assert old.status_code == 404
    zones = call(api, member, "GET", "/os-availability-zone").json()["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}}]
    aliases = {e["alias"] for e in call(api, member, "GET", "/extensions").json()["extensions"]}
    assert {"os-vol-tenant-attr", "backups", "os-volume-actions"} <= aliases
    listed = call(api, member, "GET", "/volumes/detail?metadata=%7B%27tier%27%3A+%27gold%27%7D").json()["volumes"]
    assert [v["id"] for v in listed] == [vid]


def test_create_and_update_views_carry_no_extension_attributes(api, admin_token):
    # An admin of a fresh project: the shared admin project's volume quota may be used up.
    admin_token = new_member(api, admin_token, role="admin")
    created = call(api, admin_token, "POST", "/volumes", json={"volume": {"size": 1}}).json()["volume"]
    assert "os-vol-tenant-attr:tenant_id" not in created and "os-vol-host-attr:host" not in created
    shown = wait(api, admin_token, f"/volumes/{created['id']}", "volume", ("available",))
    assert shown["os-vol-tenant-attr:tenant_id"]
    updated = call(api, admin_token, "PUT", f"/volumes/{created['id']}", json={"volume": {"name": "x"}})
    assert updated.json()["volume"]["name"] == "x" and "os-vol-tenant-attr:tenant_id" not in updated.json()["volume"]
    assert call(api, admin_token, "DELETE", f"/volumes/{created['id']}").status_code == 202


def test_legacy_reserve_attach_detach(api, member):  # noqa: F811
    vid = create_volume(api, member)["id"]

    def action(body):
        return call(api, member, "POST", f"/volumes/{vid}/action", json=body)

    def status():
        return call(api, member, "GET", f"/volumes/{vid}").json()["volume"]["status"]

    assert action({"os-reserve": {}}).status_code == 202 and status() == "attaching"
    assert action({"os-reserve": {}}).status_code == 400  # never twice
    assert action({"os-unreserve": {}}).status_code == 202 and status() == "available"
    server = str(uuid.uuid4())
    assert action({"os-reserve": {}}).status_code == 202
    assert action({"os-attach": {"instance_uuid": server, "mountpoint": "/dev/vdc"}}).status_code == 202
    volume = call(api, member, "GET", f"/volumes/{vid}").json()["volume"]
    assert volume["status"] == "in-use" and volume["attachments"][0]["server_id"] == server
    assert action({"os-attach": {"instance_uuid": server}}).status_code == 400  # no mountpoint
    assert action({"os-detach": {}}).status_code == 202 and status() == "available"
    # Detaching again is a no-op that succeeds, as in Cinder (Tempest's cleanups rely on it);
    # naming an attachment the volume does not have is still refused.
    assert action({"os-detach": {}}).status_code == 202 and status() == "available"
    assert action({"os-detach": {"attachment_id": str(uuid.uuid4())}}).status_code == 400


def test_backup_update_snapshot_force_delete_quota_reset(api, member, admin_token):  # noqa: F811
    vid = create_volume(api, member)["id"]
    backup = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid}}).json()["backup"]
    wait(api, member, f"/backups/{backup['id']}", "backup", ("available",))
    r = call(api, member, "PUT", f"/backups/{backup['id']}", json={"backup": {"name": "renamed"}})
    assert r.status_code == 200 and set(r.json()["backup"]) == {"id", "name", "links"}
    assert call(api, member, "GET", f"/backups/{backup['id']}").json()["backup"]["name"] == "renamed"
    assert call(api, member, "PUT", f"/backups/{backup['id']}", json={"backup": {"name": "x"}},
                headers={"OpenStack-API-Version": "volume 3.8"}).status_code == 404
    snap = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": vid}}).json()["snapshot"]
    assert "os-extended-snapshot-attributes:progress" not in snap
    shown = wait(api, member, f"/snapshots/{snap['id']}", "snapshot", ("available",))
    assert shown["os-extended-snapshot-attributes:progress"] == "100%"
    project = api.cloud.identity.validate_token(member).project_id
    admin_path = f"/volume/v3/{project}/snapshots/{snap['id']}"
    assert api.request("POST", admin_path + "/action", admin_token, json={
        "os-reset_status": {"status": "creating"}}).status_code == 202
    assert call(api, member, "POST", f"/snapshots/{snap['id']}/action",
                json={"os-force_delete": {}}).status_code == 403
    assert api.request("POST", admin_path + "/action", admin_token,
                       json={"os-force_delete": {}}).status_code == 202
    wait(api, member, f"/snapshots/{snap['id']}", "snapshot", ("deleted",))
    assert call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": None}}).status_code == 404
    quota_path = f"/volume/v3/{project}/os-quota-sets/{project}"
    assert api.request("PUT", quota_path, admin_token, json={"quota_set": {"snapshots": 3}}).status_code == 200
    assert api.request("DELETE", quota_path, admin_token).status_code == 200
    assert api.request("GET", quota_path, admin_token).json()["quota_set"]["snapshots"] == 10


def test_clone_of_bootable_volume_is_bootable(api, member):  # noqa: F811
    vid = create_volume(api, member)["id"]
    assert call(api, member, "POST", f"/volumes/{vid}/action",
                json={"os-set_bootable": {"bootable": True}}).status_code == 200
    clone = create_volume(api, member, source_volid=vid)
    assert clone["status"] == "available" and clone["bootable"] == "true"
    snap = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": vid}}).json()["snapshot"]
    wait(api, member, f"/snapshots/{snap['id']}", "snapshot", ("available",))
    assert create_volume(api, member, snapshot_id=snap["id"])["bootable"] == "true"


def test_snapshot_metadata_item(api, member):  # noqa: F811
    vid = create_volume(api, member)["id"]
    snap = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": vid, "metadata": {"a": "1"}}})
    sid = snap.json()["snapshot"]["id"]
    wait(api, member, f"/snapshots/{sid}", "snapshot", ("available",))
    r = call(api, member, "PUT", f"/snapshots/{sid}/metadata/a", json={"meta": {"a": "2"}})
    assert r.status_code == 200 and r.json() == {"meta": {"a": "2"}}
    assert call(api, member, "GET", f"/snapshots/{sid}/metadata/a").json() == {"meta": {"a": "2"}}
    assert call(api, member, "PUT", f"/snapshots/{sid}/metadata/a", json={"meta": {"b": "2"}}).status_code == 400
    assert call(api, member, "GET", f"/snapshots/{sid}/metadata/zz").status_code == 404


def test_force_detach_and_maintenance(api, member, admin_token):  # noqa: F811
    vid = create_volume(api, member)["id"]
    project = api.cloud.identity.validate_token(member).project_id
    path = f"/volume/v3/{project}/volumes/{vid}"
    assert call(api, member, "POST", f"/volumes/{vid}/action", json={
        "os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}}).status_code == 202
    assert call(api, member, "POST", f"/volumes/{vid}/action", json={"os-force_detach": {}}).status_code == 403
    assert api.request("POST", path + "/action", admin_token,
                       json={"os-reset_status": {"status": "error"}}).status_code == 202
    assert api.request("POST", path + "/action", admin_token, json={"os-force_detach": {}}).status_code == 202
    volume = call(api, member, "GET", f"/volumes/{vid}").json()["volume"]
    # Cinder's volume_detached: the last attachment gone, the volume is available again, even
    # from the error an admin reset it to (Tempest's admin test_force_detach_volume).
    assert volume["status"] == "available" and volume["attachments"] == [], volume
    assert api.request("POST", path + "/action", admin_token,
                       json={"os-reset_status": {"status": "available"}}).status_code == 202
    assert api.request("POST", path + "/action", admin_token,
                       json={"os-reset_status": {"status": "maintenance"}}).status_code == 202
    assert api.request("POST", path + "/action", admin_token, json={"os-force_delete": {}}).status_code == 202
    wait(api, member, f"/volumes/{vid}", "volume", ("deleted",))
