"""Block Storage microversions 3.45 to 3.70, each version's behaviour change against
the version before it (docs/volume.md's microversion table)."""

from __future__ import annotations

import json
import time
import uuid

from test_volume_groups import group_type, group_volume, make_group, volume_type

from conftest import unique
from test_volume_api import call, create_volume, new_member, wait


def at(version: str) -> dict:
    return {"OpenStack-API-Version": f"volume {version}"}


def test_345_with_count_on_volume_snapshot_and_backup_lists(api, admin_token):
    token = new_member(api, admin_token)
    vids = [create_volume(api, token, name=f"counted-{i}")["id"] for i in range(3)]
    snapshot = call(api, token, "POST", "/snapshots", json={"snapshot": {"volume_id": vids[0]}}).json()["snapshot"]
    backup = call(api, token, "POST", "/backups", json={"backup": {"volume_id": vids[1]}}).json()["backup"]
    wait(api, token, f"/snapshots/{snapshot['id']}", "snapshot", ("available",))
    wait(api, token, f"/backups/{backup['id']}", "backup", ("available",))
    for path, total in (("/volumes", 3), ("/volumes/detail", 3), ("/snapshots", 1), ("/snapshots/detail", 1),
                        ("/backups", 1), ("/backups/detail", 1)):
        paged = call(api, token, "GET", f"{path}?with_count=true&limit=1", headers=at("3.45"))
        assert paged.status_code == 200, paged.text
        assert paged.json()["count"] == total and len(next(iter(paged.json().values()))) == 1
        assert "count" not in call(api, token, "GET", f"{path}?with_count=false", headers=at("3.45")).json()
        assert "count" not in call(api, token, "GET", f"{path}?with_count=true", headers=at("3.44")).json()
        assert call(api, token, "GET", f"{path}?with_count=maybe", headers=at("3.45")).status_code == 400
    # The count honours the filters, not the page.
    filtered = call(api, token, "GET", "/volumes?with_count=1&name=counted-2", headers=at("3.45")).json()
    assert filtered["count"] == 1 and [v["id"] for v in filtered["volumes"]] == [vids[2]]


def nova_image(api, token, snapshot_id: str) -> str:
    """A volume-backed server's image as Nova registers it: no data, the boot volume's
    snapshot in ``block_device_mapping``."""
    mapping = [{"source_type": "snapshot", "destination_type": "volume", "boot_index": 0,
                "snapshot_id": snapshot_id, "volume_size": 2}]
    image = api.request("POST", "/image/v2/images", token, json={
        "name": unique("nova-img"), "disk_format": "raw", "container_format": "bare",
        "block_device_mapping": json.dumps(mapping), "bdm_v2": "True"}).json()
    assert api.request("PUT", f"/image/v2/images/{image['id']}/file", token, content=b"",
                       headers={"Content-Type": "application/octet-stream"}).status_code == 204
    return image["id"]


def test_346_volume_from_a_nova_image_comes_from_its_boot_snapshot(api, admin_token):
    token = new_member(api, admin_token)
    vid = create_volume(api, token, size=2)["id"]
    snapshot = call(api, token, "POST", "/snapshots", json={"snapshot": {"volume_id": vid}}).json()["snapshot"]
    wait(api, token, f"/snapshots/{snapshot['id']}", "snapshot", ("available",))
    image_id = nova_image(api, token, snapshot["id"])
    made = call(api, token, "POST", "/volumes", headers=at("3.46"), json={"volume": {"imageRef": image_id}})
    assert made.status_code == 202, made.text
    shown = wait(api, token, f"/volumes/{made.json()['volume']['id']}", "volume", ("available", "error"))
    assert shown["status"] == "available" and shown["snapshot_id"] == snapshot["id"] and shown["size"] == 2
    # Before 3.46 the image is an image: its (empty) data, the size the caller asks for.
    old = call(api, token, "POST", "/volumes", headers=at("3.45"), json={"volume": {"imageRef": image_id, "size": 1}})
    assert old.status_code == 202, old.text
    assert old.json()["volume"]["snapshot_id"] is None
    # A boot snapshot that is gone is a 404 at every version, as in Cinder.
    gone = nova_image(api, token, "0b9b1f1c-8c1f-4a57-9d58-000000000000")
    for version in ("3.45", "3.46"):
        missing = call(api, token, "POST", "/volumes", headers=at(version),
                       json={"volume": {"imageRef": gone, "size": 1}})
        assert missing.status_code == 404 and "Nova specific image" in missing.json()["itemNotFound"]["message"]


def test_347_volume_from_a_backup(api, admin_token):
    token = new_member(api, admin_token)
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    vid = create_volume(api, token, size=2)["id"]
    with open(driver.path(vid), "r+b") as fh:
        fh.seek(3 << 20)
        fh.write(b"kept")
    backup = call(api, token, "POST", "/backups", json={"backup": {"volume_id": vid}}).json()["backup"]
    wait(api, token, f"/backups/{backup['id']}", "backup", ("available",))

    made = call(api, token, "POST", "/volumes", headers=at("3.47"),
                json={"volume": {"backup_id": backup["id"], "name": "from-backup"}})
    assert made.status_code == 202, made.text
    shown = wait(api, token, f"/volumes/{made.json()['volume']['id']}", "volume", ("available", "error"))
    assert shown["status"] == "available" and shown["size"] == 2 and shown["name"] == "from-backup"
    with open(driver.path(shown["id"]), "rb") as fh:
        fh.seek(3 << 20)
        assert fh.read(4) == b"kept"
    assert wait(api, token, f"/backups/{backup['id']}", "backup", ("available",))["status"] == "available"

    def create(version: str, **spec):
        return call(api, token, "POST", "/volumes", headers=at(version), json={"volume": spec})

    assert create("3.47", backup_id=backup["id"], size=1).status_code == 400  # smaller than the backup
    assert create("3.47", backup_id="not-a-uuid").status_code == 400
    assert create("3.47", backup_id="0b9b1f1c-8c1f-4a57-9d58-000000000000").status_code == 404
    # Before 3.47 backup_id is no parameter: a size is needed, the volume is empty.
    assert create("3.46", backup_id=backup["id"]).status_code == 400
    old = create("3.46", backup_id=backup["id"], size=1)
    assert old.status_code == 202
    assert call(api, token, "GET", f"/backups/{backup['id']}").json()["backup"]["status"] == "available"


def test_348_shared_targets_and_service_uuid(api, admin_token):
    token = new_member(api, admin_token)
    vid = create_volume(api, token)["id"]
    shown = call(api, token, "GET", f"/volumes/{vid}", headers=at("3.48")).json()["volume"]
    assert shown["shared_targets"] is False and uuid.UUID(shown["service_uuid"])
    listed = call(api, token, "GET", "/volumes/detail", headers=at("3.48")).json()["volumes"]
    assert [v["service_uuid"] for v in listed] == [shown["service_uuid"]]
    older = call(api, token, "GET", f"/volumes/{vid}", headers=at("3.47")).json()["volume"]
    assert "shared_targets" not in older and "service_uuid" not in older


def test_349_backend_state_of_the_volume_service(api, admin_token):
    def services(version):
        response = call(api, admin_token, "GET", "/os-services", headers=at(version))
        assert response.status_code == 200, response.text
        return {s["binary"]: s for s in response.json()["services"]}

    now = services("3.49")
    assert now["cinder-volume"]["backend_state"] == "up"
    assert "backend_state" not in now["cinder-scheduler"] and "backend_state" not in now["cinder-backup"]
    assert all(s["cluster"] is None for s in now.values())
    assert "backend_state" not in services("3.48")["cinder-volume"]
    assert "cluster" not in services("3.6")["cinder-volume"]


def test_351_backup_availability_zone(api, admin_token):
    token = new_member(api, admin_token)
    vid = create_volume(api, token)["id"]

    def backup(version: str, zone):
        return call(api, token, "POST", "/backups", headers=at(version),
                    json={"backup": {"volume_id": vid, "availability_zone": zone}})

    assert backup("3.50", "nova").status_code == 400  # no such parameter before 3.51
    made = backup("3.51", "nova")
    assert made.status_code == 202, made.text
    done = wait(api, token, f"/backups/{made.json()['backup']['id']}", "backup", ("available", "error"))
    assert done["status"] == "available" and done["availability_zone"] == "nova"
    # No backup service in that zone: accepted, then failed as Cinder's scheduler fails it.
    lost = backup("3.51", "elsewhere")
    assert lost.status_code == 202, lost.text
    failed = call(api, token, "GET", f"/backups/{lost.json()['backup']['id']}", headers=at("3.51")).json()["backup"]
    assert (failed["status"], failed["availability_zone"]) == ("error", "elsewhere")
    assert failed["fail_reason"] == "Service not found for creating backup."
    assert call(api, token, "GET", f"/volumes/{vid}").json()["volume"]["status"] == "available"
    notes = call(api, token, "GET", f"/messages?resource_uuid={failed['id']}").json()["messages"]
    assert [n["user_message"] for n in notes] == [
        "create backup:Backup failed to schedule. Service not found for creating backup."]
    assert call(api, token, "DELETE", f"/backups/{failed['id']}").status_code == 202


def test_352_type_list_extra_specs_filter_and_type_zones(api, admin_token):
    token = new_member(api, admin_token)
    tier = unique("tier")

    def new_type(specs):
        response = call(api, admin_token, "POST", "/types", json={"volume_type": {
            "name": unique("type"), "extra_specs": specs}})
        assert response.status_code == 200, response.text
        return response.json()["volume_type"]

    in_nova, elsewhere = new_type({"tier": tier, "RESKEY:availability_zones": "nova, far"}), new_type(
        {"RESKEY:availability_zones": "far,away"})

    def names(version, query):
        response = call(api, token, "GET", f"/types?{query}", headers=at(version))
        assert response.status_code == 200, response.text
        return {t["name"] for t in response.json()["volume_types"]}

    assert names("3.52", f"extra_specs={{'tier': '{tier}'}}") == {in_nova["name"]}
    assert names("3.52", f'extra_specs={{"tier": "{tier}", "RESKEY:availability_zones": "nova, far"}}') == {
        in_nova["name"]}
    assert {in_nova["name"], elsewhere["name"]} <= names("3.51", f"extra_specs={{'tier': '{tier}'}}")
    refused = call(api, token, "GET", "/types?name=x&limit=2", headers=at("3.52"))
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"] == "Invalid filters name are found in query options."
    assert call(api, token, "GET", "/types?extra_specs=[1]", headers=at("3.52")).status_code == 400

    # A type's zones confine its volumes (the only zone here is nova).
    made = create_volume(api, token, volume_type=in_nova["name"])
    assert made["availability_zone"] == "nova"
    far = call(api, token, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": elsewhere["name"]}})
    assert far.status_code == 400
    assert far.json()["badRequest"]["message"] == (
        "Volume type is only supported in these availability zones: ['far', 'away']")
    wrong = call(api, token, "POST", "/volumes", json={"volume": {"size": 1, "availability_zone": "far"}})
    assert wrong.json()["badRequest"]["message"] == "Availability zone 'far' is invalid."


def test_353_strict_volume_create_and_update_bodies(api, admin_token):
    token = new_member(api, admin_token)

    def create(version, **spec):
        return call(api, token, "POST", "/volumes", headers=at(version), json={"volume": {"size": 1, **spec}})

    assert create("3.52", bogus="ignored").status_code == 202
    refused = create("3.53", bogus="refused")
    assert refused.status_code == 400 and "bogus" in refused.json()["badRequest"]["message"]
    vid = create_volume(api, token)["id"]
    assert call(api, token, "PUT", f"/volumes/{vid}", headers=at("3.52"), json={"volume": {}}).status_code == 200
    assert call(api, token, "PUT", f"/volumes/{vid}", headers=at("3.53"), json={"volume": {}}).status_code == 400
    for field in ("name", "description", "display_name", "display_description", "metadata"):
        value = {"k": "v"} if field == "metadata" else "x"
        changed = call(api, token, "PUT", f"/volumes/{vid}", headers=at("3.53"), json={"volume": {field: value}})
        assert changed.status_code == 200, (field, changed.text)
    assert call(api, token, "PUT", f"/volumes/{vid}", headers=at("3.53"),
                json={"volume": {"name": "x", "size": 2}}).status_code == 400


def test_354_attachment_mode(api, admin_token):
    token = new_member(api, admin_token)

    def attach(version, mode=None):
        spec = {"volume_uuid": create_volume(api, token)["id"], "instance_uuid": str(uuid.uuid4())}
        if mode:
            spec["mode"] = mode
        return call(api, token, "POST", "/attachments", headers=at(version), json={"attachment": spec})

    def connect(attachment, connector):
        response = call(api, token, "PUT", f"/attachments/{attachment['id']}", headers=at("3.54"),
                        json={"attachment": {"connector": {"host": "h1", **connector}}})
        assert response.status_code == 200, response.text
        return response.json()["attachment"]

    assert attach("3.53", "ro").status_code == 400  # no mode before 3.54
    assert attach("3.54", "wx").status_code == 400
    given = attach("3.54", "ro").json()["attachment"]
    assert given["attach_mode"] == "ro"
    connected = connect(given, {"mode": "rw"})  # the mode given at create wins over the connector's
    assert connected["attach_mode"] == "ro" and connected["connection_info"]["data"]["access_mode"] == "ro"
    unset = attach("3.54").json()["attachment"]
    assert unset["attach_mode"] == "null"
    assert connect(unset, {"mode": "ro"})["attach_mode"] == "ro"
    assert connect(attach("3.44").json()["attachment"], {})["attach_mode"] == "rw"


def test_355_357_transfer_without_snapshots_and_its_history_fields(api, admin_token):
    donor, recipient = new_member(api, admin_token), new_member(api, admin_token)
    donor_project = api.cloud.identity.validate_token(donor).project_id
    vid = create_volume(api, donor)["id"]
    snapshot = call(api, donor, "POST", "/snapshots", json={"snapshot": {"volume_id": vid}}).json()["snapshot"]
    wait(api, donor, f"/snapshots/{snapshot['id']}", "snapshot", ("available",))

    def transfer(path, version, **spec):
        return call(api, donor, "POST", path, headers=at(version), json={"transfer": {"volume_id": vid, **spec}})

    assert transfer("/volume-transfers", "3.54", no_snapshots=True).status_code == 400  # not before 3.55
    assert transfer("/os-volume-transfer", "3.55", no_snapshots=True).status_code == 400  # nor on the extension
    made = transfer("/volume-transfers", "3.57", no_snapshots=True, name=" spaced ")
    assert made.status_code == 202, made.text
    created = made.json()["transfer"]
    assert created["no_snapshots"] is True and created["name"] == "spaced"
    assert (created["source_project_id"], created["destination_project_id"], created["accepted"]) == (
        donor_project, None, False)
    shown = call(api, donor, "GET", f"/volume-transfers/{created['id']}", headers=at("3.55")).json()["transfer"]
    assert shown["no_snapshots"] is True and "accepted" not in shown
    older = call(api, donor, "GET", f"/os-volume-transfer/{created['id']}", headers=at("3.54")).json()["transfer"]
    assert "no_snapshots" not in older

    def listed(query, version="3.57"):
        response = call(api, donor, "GET", f"/volume-transfers/detail?{query}", headers=at(version))
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["transfers"]]

    assert listed("name=spaced") == listed("no_snapshots=true") == listed("accepted=false") == [created["id"]]
    assert listed(f"source_project_id={donor_project}") == [created["id"]]
    assert listed("name=other") == listed("accepted=true") == listed("destination_project_id=x") == []
    assert listed("no_such_column=1") == []  # Cinder: a filter on no column matches nothing

    accepted = call(api, recipient, "POST", f"/volume-transfers/{created['id']}/accept", headers=at("3.57"),
                    json={"accept": {"auth_key": created["auth_key"]}})
    assert accepted.status_code == 202, accepted.text
    assert call(api, recipient, "GET", f"/volumes/{vid}").json()["volume"]["status"] == "available"
    # The snapshot stayed with the donor.
    assert call(api, donor, "GET", f"/snapshots/{snapshot['id']}").status_code == 200
    assert call(api, recipient, "GET", f"/snapshots/{snapshot['id']}").status_code == 404


def test_356_backup_user_id_for_the_admin(api, admin_token):
    token = new_member(api, admin_token)
    user_id = api.cloud.identity.validate_token(token).user_id
    vid = create_volume(api, token)["id"]
    backup = call(api, token, "POST", "/backups", json={"backup": {"volume_id": vid}}).json()["backup"]
    wait(api, token, f"/backups/{backup['id']}", "backup", ("available",))
    as_admin = call(api, admin_token, "GET", f"/backups/{backup['id']}", headers=at("3.56")).json()["backup"]
    assert as_admin["user_id"] == user_id
    listed = call(api, admin_token, "GET", "/backups/detail?all_tenants=1", headers=at("3.56")).json()["backups"]
    assert [b["user_id"] for b in listed if b["id"] == backup["id"]] == [user_id]
    assert "user_id" not in call(api, admin_token, "GET", f"/backups/{backup['id']}", headers=at("3.55")).json()[
        "backup"]
    assert "user_id" not in call(api, token, "GET", f"/backups/{backup['id']}", headers=at("3.56")).json()["backup"]


def test_358_group_and_group_snapshot_project_id_for_the_admin(api, admin_token):
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    gtype, vtype = group_type(api, admin_token), volume_type(api, admin_token)
    group = make_group(api, token, gtype, [vtype])
    group_volume(api, token, group, vtype)
    made = call(api, token, "POST", "/group_snapshots", json={"group_snapshot": {"group_id": group["id"]}})
    gs = wait(api, token, f"/group_snapshots/{made.json()['group_snapshot']['id']}", "group_snapshot",
              ("available",))
    for path, key in ((f"/groups/{group['id']}", "group"), (f"/group_snapshots/{gs['id']}", "group_snapshot")):
        assert call(api, admin_token, "GET", path, headers=at("3.58")).json()[key]["project_id"] == project
        assert "project_id" not in call(api, admin_token, "GET", path, headers=at("3.57")).json()[key]
        assert "project_id" not in call(api, token, "GET", path, headers=at("3.58")).json()[key]
    listed = call(api, admin_token, "GET", "/groups/detail?all_tenants=1", headers=at("3.58")).json()["groups"]
    assert [g["project_id"] for g in listed if g["id"] == group["id"]] == [project]


def test_359_transfer_pagination_and_sorting(api, admin_token):
    token = new_member(api, admin_token)
    ids = []
    for name in ("t-b", "t-a", "t-c"):
        vid = create_volume(api, token)["id"]
        made = call(api, token, "POST", "/volume-transfers", json={"transfer": {"volume_id": vid, "name": name}})
        ids.append(made.json()["transfer"]["id"])

    def page(query, version="3.59"):
        response = call(api, token, "GET", f"/volume-transfers?{query}", headers=at(version))
        assert response.status_code == 200, response.text
        return response.json()

    assert [t["name"] for t in page("sort_key=name&sort_dir=asc")["transfers"]] == ["t-a", "t-b", "t-c"]
    first = page("sort=name:desc&limit=2")
    assert [t["name"] for t in first["transfers"]] == ["t-c", "t-b"] and first["transfers_links"]
    marker = first["transfers"][-1]["id"]
    assert [t["name"] for t in page(f"sort=name:desc&limit=2&marker={marker}")["transfers"]] == ["t-a"]
    assert [t["name"] for t in page("sort_key=name&sort_dir=asc&offset=1&limit=1")["transfers"]] == ["t-b"]
    # Newest first from 3.59, oldest first before (ties, as on MariaDB's whole seconds, by id).
    newest_first = [t["id"] for t in page("")["transfers"]]
    assert set(newest_first) == set(ids) and [t["id"] for t in page("", "3.58")["transfers"]] == newest_first[::-1]
    assert page("limit=1", "3.58")["transfers"] == []  # ... and limit a filter on no column, as in Cinder
    assert call(api, token, "GET", "/volume-transfers?sort_key=salt", headers=at("3.59")).status_code == 400
    assert call(api, token, "GET", f"/volume-transfers?marker={uuid.uuid4()}", headers=at("3.59")).status_code == 404


def test_360_time_comparison_filters(api, admin_token):
    token = new_member(api, admin_token)
    first = create_volume(api, token)
    time.sleep(1.1)
    second = create_volume(api, token)

    def ids(query, version="3.60"):
        response = call(api, token, "GET", f"/volumes/detail?{query}", headers=at(version))
        assert response.status_code == 200, response.text
        return {v["id"] for v in response.json()["volumes"]}

    cut = second["created_at"]
    assert ids(f"created_at=lt:{cut}") == {first["id"]}
    assert ids(f"created_at=gte:{cut}") == {second["id"]}
    assert ids("created_at=neq:2000-01-01T00:00:00") == ids("created_at=gt:2000-01-01T00:00:00%2B02:00") == {
        first["id"], second["id"]}
    assert ids("created_at=eq:2000-01-01T00:00:00") == set()
    assert ids(f"created_at=gte:{first['created_at']},lte:2999-01-01T00:00:00Z") == {first["id"], second["id"]}
    assert ids("updated_at=gt:2999-01-01T00:00:00") == set()
    assert ids(f"created_at=lt:{cut}", "3.59") == {first["id"], second["id"]}  # no such filter before 3.60
    for bad, message in (("created_at=after:2020-01-01", "Invalid after operator"),
                         ("updated_at=gt:yesterday", "Invalid yesterday value")):
        refused = call(api, token, "GET", f"/volumes?{bad}", headers=at("3.60"))
        assert refused.status_code == 400 and refused.json()["badRequest"]["message"] == message


def test_361_cluster_name_for_the_admin(api, admin_token):
    token = new_member(api, admin_token)
    vid = create_volume(api, token)["id"]
    shown = call(api, admin_token, "GET", f"/volumes/{vid}", headers=at("3.61")).json()["volume"]
    assert "cluster_name" in shown and shown["cluster_name"] is None
    assert "cluster_name" not in call(api, admin_token, "GET", f"/volumes/{vid}", headers=at("3.60")).json()["volume"]
    assert "cluster_name" not in call(api, token, "GET", f"/volumes/{vid}", headers=at("3.61")).json()["volume"]


def test_362_project_default_types(api, admin_token):
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    vtype = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("dflt")}}).json()[
        "volume_type"]
    v3 = "/volume/v3"

    def admin(method, path, version="3.62", **kw):
        return api.request(method, v3 + path, admin_token, headers=at(version), **kw)

    assert admin("PUT", f"/default-types/{project}", "3.61",
                 json={"default_type": {"volume_type": vtype["name"]}}).status_code == 404
    set_ = admin("PUT", f"/default-types/{project}", json={"default_type": {"volume_type": vtype["name"]}})
    assert set_.status_code == 200, set_.text
    assert set_.json() == {"default_type": {"project_id": project, "volume_type_id": vtype["id"]}}
    # With or without the caller's project id in the path.
    admin_project = api.cloud.identity.validate_token(admin_token).project_id
    assert admin("GET", f"/{admin_project}/default-types/{project}").json() == set_.json()
    assert set_.json()["default_type"] in admin("GET", "/default-types").json()["default_types"]
    # The project's volumes and its view of the default type follow.
    assert create_volume(api, token)["volume_type"] == vtype["name"]
    assert call(api, token, "GET", "/types/default").json()["volume_type"]["id"] == vtype["id"]
    in_use = call(api, admin_token, "DELETE", f"/types/{vtype['id']}")
    assert in_use.status_code == 400 and "is a default volume type" in in_use.json()["badRequest"]["message"]
    # Bad input, unknown projects and types, non-admins.
    assert admin("PUT", f"/default-types/{project}", json={"default_type": {}}).status_code == 400
    missing_type = admin("PUT", f"/default-types/{project}", json={"default_type": {"volume_type": "nope"}})
    assert missing_type.status_code == 400 and "nope" in missing_type.json()["badRequest"]["message"]
    nobody = admin("PUT", f"/default-types/{uuid.uuid4().hex}", json={"default_type": {"volume_type": "x"}})
    assert nobody.status_code == 404 and "Project with id" in nobody.json()["itemNotFound"]["message"]
    assert api.request("GET", f"{v3}/{project}/default-types/{project}", token,
                       headers=at("3.62")).status_code == 403
    assert api.request("GET", f"{v3}/{project}/default-types", token, headers=at("3.62")).status_code == 403
    # Unset: 204, then the show is a 404 and the project's default is __DEFAULT__ again.
    assert admin("DELETE", f"/default-types/{project}").status_code == 204
    assert admin("GET", f"/default-types/{project}").status_code == 404
    assert call(api, token, "GET", "/types/default").json()["volume_type"]["name"] == "__DEFAULT__"


def test_363_365_volume_type_id_and_consumes_quota(api, admin_token):
    token = new_member(api, admin_token)
    volume = create_volume(api, token)
    snapshot = call(api, token, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()[
        "snapshot"]
    wait(api, token, f"/snapshots/{snapshot['id']}", "snapshot", ("available",))
    shown = call(api, token, "GET", f"/volumes/{volume['id']}", headers=at("3.65")).json()["volume"]
    type_id = call(api, token, "GET", "/types/default").json()["volume_type"]["id"]
    assert shown["volume_type_id"] == type_id and shown["consumes_quota"] is True
    assert "encryption_key_id" not in shown  # 3.64: for encrypted volumes only
    older = call(api, token, "GET", f"/volumes/{volume['id']}", headers=at("3.62")).json()["volume"]
    assert "volume_type_id" not in older and "consumes_quota" not in older
    assert "consumes_quota" not in call(api, token, "GET", f"/volumes/{volume['id']}", headers=at("3.64")).json()[
        "volume"]
    snap = call(api, token, "GET", f"/snapshots/{snapshot['id']}", headers=at("3.65")).json()["snapshot"]
    assert snap["consumes_quota"] is True
    for path, key in (("/volumes/detail", "volumes"), ("/snapshots", "snapshots")):
        def count(query, version="3.65", path=path, key=key):
            response = call(api, token, "GET", f"{path}?{query}", headers=at(version))
            assert response.status_code == 200, response.text
            return len(response.json()[key])

        assert count("consumes_quota=true") == 1 and count("consumes_quota=false") == 0
        assert count("consumes_quota=false", "3.64") == 1  # no such filter before 3.65
        assert call(api, token, "GET", f"{path}?consumes_quota=perhaps", headers=at("3.65")).status_code == 400


def test_366_snapshot_of_an_in_use_volume_without_force(api, admin_token):
    token = new_member(api, admin_token)
    vid = create_volume(api, token)["id"]
    attachment = call(api, token, "POST", "/attachments", headers=at("3.54"), json={"attachment": {
        "volume_uuid": vid, "instance_uuid": str(uuid.uuid4()), "connector": {"host": "h1"}}}).json()["attachment"]
    assert call(api, token, "POST", f"/attachments/{attachment['id']}/action", headers=at("3.54"),
                json={"os-complete": None}).status_code == 204

    def snapshot(version, **spec):
        return call(api, token, "POST", "/snapshots", headers=at(version),
                    json={"snapshot": {"volume_id": vid, **spec}})

    assert snapshot("3.65").status_code == 400  # in-use, no force
    assert snapshot("3.66", force=False).status_code == 400
    assert "'force' flag is invalid" in snapshot("3.66", force="false").json()["badRequest"]["message"]
    made = snapshot("3.66")
    assert made.status_code == 202, made.text
    wait(api, token, f"/snapshots/{made.json()['snapshot']['id']}", "snapshot", ("available",))
    assert snapshot("3.66", force=True).status_code == 202


def test_367_urls_without_the_project_id(api, admin_token):
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    vid = create_volume(api, token)["id"]
    bare = api.request("GET", f"/volume/v3/volumes/{vid}", token, headers=at("3.67"))
    assert bare.status_code == 200, bare.text
    self_link = bare.json()["volume"]["links"][0]["href"]
    assert self_link.endswith(f"/volume/v3/volumes/{vid}") and project not in self_link
    named = api.request("GET", f"/volume/v3/{project}/volumes/{vid}", token, headers=at("3.67")).json()["volume"]
    assert named["links"][0]["href"].endswith(f"/v3/{project}/volumes/{vid}")
    made = api.request("POST", "/volume/v3/volumes", token, headers=at("3.67"), json={"volume": {"size": 1}})
    assert made.status_code == 202 and made.json()["volume"]["id"]
    listed = api.request("GET", "/volume/v3/volumes/detail", token, headers=at("3.67")).json()["volumes"]
    assert {vid, made.json()["volume"]["id"]} <= {v["id"] for v in listed}
    # Another project's volume is as invisible without the project id as with it.
    other = new_member(api, admin_token)
    assert api.request("GET", f"/volume/v3/volumes/{vid}", other, headers=at("3.67")).status_code == 404
    assert api.request("GET", "/volume/v3", None).status_code in (200, 300)


def raw_image(api, token, data: bytes) -> str:
    image = api.request("POST", "/image/v2/images", token, json={
        "name": unique("img"), "disk_format": "raw", "container_format": "bare"}).json()
    assert api.request("PUT", f"/image/v2/images/{image['id']}/file", token, content=data,
                       headers={"Content-Type": "application/octet-stream"}).status_code == 204
    return image["id"]


def test_368_reimage(api, admin_token):
    token = new_member(api, admin_token)
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    image_id = raw_image(api, token, b"\x07" * 4096)
    vid = create_volume(api, token)["id"]

    def reimage(version, **args):
        return call(api, token, "POST", f"/volumes/{vid}/action", headers=at(version),
                    json={"os-reimage": {"image_id": image_id, **args}})

    assert reimage("3.67").status_code == 404  # no such action before 3.68
    done = reimage("3.68")
    assert done.status_code == 202, done.text
    shown = wait(api, token, f"/volumes/{vid}", "volume", ("available", "error"))
    assert shown["status"] == "available" and shown["bootable"] == "true"
    assert shown["volume_image_metadata"]["image_id"] == image_id
    with open(driver.path(vid), "rb") as fh:
        assert fh.read(4096) == b"\x07" * 4096
    missing = call(api, token, "POST", f"/volumes/{vid}/action", headers=at("3.68"),
                   json={"os-reimage": {"image_id": str(uuid.uuid4())}})
    assert missing.status_code == 404
    # A reserved volume only with reimage_reserved, and it stays reserved.
    call(api, token, "POST", "/attachments", headers=at("3.54"),
         json={"attachment": {"volume_uuid": vid, "instance_uuid": str(uuid.uuid4())}})
    refused = reimage("3.68")
    assert refused.status_code == 400 and "must be available or error" in refused.json()["badRequest"]["message"]
    assert reimage("3.68", reimage_reserved=True).status_code == 202
    assert wait(api, token, f"/volumes/{vid}", "volume", ("reserved", "error"))["status"] == "reserved"


def test_369_370_shared_targets_tristate_and_transfers(api, admin_token):
    """3.69 lets ``shared_targets`` be null (forced locking): the file backend's is false at
    every version.  3.70 lifts the ban on transferring encrypted volumes: there are none
    here, and transfers work as before."""
    token = new_member(api, admin_token)
    vid = create_volume(api, token)["id"]
    assert call(api, token, "GET", f"/volumes/{vid}", headers=at("3.69")).json()["volume"]["shared_targets"] is False
    made = call(api, token, "POST", "/volume-transfers", headers=at("3.70"), json={"transfer": {"volume_id": vid}})
    assert made.status_code == 202 and made.json()["transfer"]["accepted"] is False
