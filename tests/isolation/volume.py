"""Block Storage (Cinder v3) in the isolation matrix: volumes and their actions and
metadata, snapshots, backups, transfers, attachments, types (a private one A has access
to), QoS specs, quotas, user messages, group types, groups, group snapshots and the
admin-only service APIs.

Cinder's ``project_only`` queries make another project's volume, snapshot, backup,
transfer or attachment a 404; ``all_tenants`` is the admin's and ignored for others
(cinder/volume/api.py ``get_all``).  Every persona calls its own project's endpoint
(``/v3/{its project}``), as clients do from the catalog.
"""

from __future__ import annotations

import time

from conftest import unique
from isolation.matrix import (
    ADMIN_ONLY,
    BAD_REQUEST,
    CREATE,
    EVERYONE,
    FORBIDDEN,
    LISTED,
    NOT_FOUND,
    OK,
    OWN_LIST,
    OWN_READ,
    OWN_WRITE,
    UNLISTED,
    Expect,
    Op,
    Resource,
    expect,
)

MICRO = {"OpenStack-API-Version": "volume 3.44"}
P = "/volume/v3/{me.project}"
ADMIN_ON_A = expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)
PROJECT_A_READ = expect(OK, OK, OK, FORBIDDEN, FORBIDDEN)
# ``all_tenants`` lists every project's for the admin; others get their own project's.
ALL_TENANTS_LIST = expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED)
# A create naming one of A's volumes, snapshots or private types: Cinder looks that up
# (404 for other projects, readers included) before the create policy (403 for A's reader).
CREATE_FROM_A = expect(OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND)


def base(w, persona: str = "a_member") -> str:
    return f"/volume/v3/{w.persona(persona).project}"


def unlimited_quotas(w, project_id: str) -> None:
    w.call("PUT", f"{base(w, 'admin')}/os-quota-sets/{project_id}", headers=MICRO, json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1, "backup_gigabytes": -1}})


def wait_for(w, path: str, key: str, statuses: tuple[str, ...]) -> dict:
    deadline = time.monotonic() + 30
    while True:
        item = w.call("GET", path, headers=MICRO).json()[key]
        if item["status"] in statuses:
            return item
        assert "error" not in item["status"] and time.monotonic() < deadline, item
        time.sleep(0.02)


def make_volume(w) -> dict:
    """An available 1 GB volume of a_member's with metadata ``k=v``."""
    volume = w.call("POST", base(w) + "/volumes", "a_member", headers=MICRO, json={"volume": {
        "size": 1, "name": unique("iso-vol"), "metadata": {"k": "v"}}}).json()["volume"]
    wait_for(w, f"{base(w, 'admin')}/volumes/{volume['id']}", "volume", ("available",))
    return {"id": volume["id"]}


def make_b_volume(w) -> dict:
    """An available volume of project B's."""
    volume = w.call("POST", base(w, "b_member") + "/volumes", "b_member", headers=MICRO, json={"volume": {
        "size": 1, "name": unique("iso-bvol")}}).json()["volume"]
    wait_for(w, f"{base(w, 'admin')}/volumes/{volume['id']}", "volume", ("available",))
    return {"id": volume["id"]}


def make_snapshot(w) -> dict:
    snapshot = w.call("POST", base(w) + "/snapshots", "a_member", headers=MICRO, json={"snapshot": {
        "volume_id": str(w.shared("volume")), "name": unique("iso-snap"), "metadata": {"k": "v"}}}).json()["snapshot"]
    wait_for(w, f"{base(w, 'admin')}/snapshots/{snapshot['id']}", "snapshot", ("available",))
    return {"id": snapshot["id"]}


def make_backup(w) -> dict:
    backup = w.call("POST", base(w) + "/backups", "a_member", headers=MICRO, json={"backup": {
        "volume_id": str(w.shared("volume")), "name": unique("iso-backup")}}).json()["backup"]
    wait_for(w, f"{base(w, 'admin')}/backups/{backup['id']}", "backup", ("available",))
    return {"id": backup["id"]}


def make_transfer(w) -> dict:
    volume = w.fresh("volume")
    transfer = w.call("POST", base(w) + "/os-volume-transfer", "a_member", headers=MICRO, json={"transfer": {
        "volume_id": str(volume), "name": unique("iso-transfer")}}).json()["transfer"]
    return {"id": transfer["id"], "auth_key": transfer["auth_key"], "volume": str(volume)}


def make_attachment(w) -> dict:
    """A reserved attachment (3.27 API) of one of A's volumes to A's server."""
    volume = w.fresh("volume")
    attachment = w.call("POST", base(w) + "/attachments", "a_member", headers=MICRO, json={"attachment": {
        "volume_uuid": str(volume), "instance_uuid": str(w.shared("server"))}}).json()["attachment"]
    return {"id": attachment["id"], "volume": str(volume)}


def make_private_type(w) -> dict:
    """A private volume type project A has access to, extra spec ``k=v``."""
    vtype = w.call("POST", base(w, "admin") + "/types", headers=MICRO, json={"volume_type": {
        "name": unique("iso-type"), "os-volume-type-access:is_public": False,
        "extra_specs": {"k": "v"}}}).json()["volume_type"]
    w.call("POST", f"{base(w, 'admin')}/types/{vtype['id']}/action", headers=MICRO,
           json={"addProjectAccess": {"project": str(w.project("a"))}})
    return {"id": vtype["id"]}


def make_public_type(w) -> dict:
    vtype = w.call("POST", base(w, "admin") + "/types", headers=MICRO, json={"volume_type": {
        "name": unique("iso-public-type")}}).json()["volume_type"]
    return {"id": vtype["id"]}


def make_encrypted_type(w) -> dict:
    """A public volume type with LUKS encryption specs (no volume can have it here)."""
    type_id = make_public_type(w)["id"]
    encryption = w.call("POST", f"{base(w, 'admin')}/types/{type_id}/encryption", headers=MICRO, json={
        "encryption": {"provider": "luks", "control_location": "front-end", "cipher": "aes-xts-plain64",
                       "key_size": 256}}).json()["encryption"]
    return {"id": type_id, "encryption_id": encryption["encryption_id"]}


def make_qos(w) -> dict:
    qos = w.call("POST", base(w, "admin") + "/qos-specs", headers=MICRO, json={"qos_specs": {
        "name": unique("iso-qos"), "consumer": "back-end", "read_iops_sec": "100"}}).json()["qos_specs"]
    return {"id": qos["id"]}


def make_message(w) -> dict:
    """The user message of one of a_member's volumes whose type no backend serves."""
    vtype = w.call("POST", base(w, "admin") + "/types", headers=MICRO, json={"volume_type": {
        "name": unique("iso-bogus-type"), "extra_specs": {"vendor_name": unique("nobody")}}}).json()["volume_type"]
    volume = w.call("POST", base(w) + "/volumes", "a_member", headers=MICRO, json={"volume": {
        "size": 1, "volume_type": vtype["id"]}}).json()["volume"]
    deadline = time.monotonic() + 30
    while True:
        messages = w.call("GET", base(w) + "/messages", "a_member", headers=MICRO).json()["messages"]
        found = [m["id"] for m in messages if m.get("resource_uuid") == volume["id"]]
        if found:
            return {"id": found[0]}
        assert time.monotonic() < deadline, messages
        time.sleep(0.02)


def make_group_type(w) -> dict:
    """A public group type (the admin's to manage, everyone's to see), group spec ``k=v``."""
    gtype = w.call("POST", base(w, "admin") + "/group_types", headers=MICRO, json={"group_type": {
        "name": unique("iso-gtype"), "group_specs": {"k": "v"}}}).json()["group_type"]
    return {"id": gtype["id"]}


def make_group(w) -> dict:
    """An empty available group of a_member's, of the shared public volume type."""
    group = w.call("POST", base(w) + "/groups", "a_member", headers=MICRO, json={"group": {
        "name": unique("iso-group"), "group_type": str(w.shared("volume_group_type")),
        "volume_types": [str(w.shared("public_volume_type"))]}}).json()["group"]
    wait_for(w, f"{base(w, 'admin')}/groups/{group['id']}", "group", ("available",))
    return {"id": group["id"]}


def make_group_snapshot(w) -> dict:
    """A group snapshot of a group of its own (a group with snapshots cannot be deleted)."""
    group = w.fresh("volume_group")
    snapshot = w.call("POST", base(w) + "/group_snapshots", "a_member", headers=MICRO, json={"group_snapshot": {
        "group_id": str(group), "name": unique("iso-gsnap")}}).json()["group_snapshot"]
    wait_for(w, f"{base(w, 'admin')}/group_snapshots/{snapshot['id']}", "group_snapshot", ("available",))
    return {"id": snapshot["id"]}


RESOURCES = [
    Resource("volume", make_volume),
    Resource("b_volume", make_b_volume),
    Resource("snapshot", make_snapshot),
    Resource("backup", make_backup),
    Resource("transfer", make_transfer),
    Resource("attachment", make_attachment),
    Resource("volume_type", make_private_type),
    Resource("public_volume_type", make_public_type),
    Resource("qos", make_qos),
    Resource("message", make_message),
    Resource("encrypted_type", make_encrypted_type),
    Resource("bare_volume_type", make_public_type),
    Resource("volume_group_type", make_group_type),
    Resource("volume_group", make_group),
    Resource("volume_group_snapshot", make_group_snapshot),
]


def op(resource: str, name: str, method: str, path: str, profile, **kw) -> Op:
    return Op(resource, name, method, P + path, profile, headers=MICRO, **kw)


def op_at(version: str, resource: str, name: str, method: str, path: str, profile, **kw) -> Op:
    """An operation at a later microversion than :data:`MICRO` (the routes it added)."""
    return Op(resource, name, method, P + path, profile, headers={"OpenStack-API-Version": f"volume {version}"}, **kw)


def volume_action(name: str, args, profile=OWN_WRITE, **kw) -> Op:
    return op("volume", f"action:{name}", "POST", "/volumes/{volume}/action", profile, body={name: args}, **kw)


OPS = [
    # -- volumes ---------------------------------------------------------------------------
    op("volume", "list", "GET", "/volumes", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{volume}",
       everywhere=True),
    op("volume", "list-detail", "GET", "/volumes/detail", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{volume}"),
    op("volume", "list-all-tenants", "GET", "/volumes/detail?all_tenants=1", ALL_TENANTS_LIST, watch="{volume}",
       everywhere=True),
    op("volume", "summary-all-tenants", "GET", "/volumes/summary?all_tenants=1", EVERYONE),
    op("volume", "show", "GET", "/volumes/{volume}", OWN_READ, everywhere=True),
    op("volume", "create", "POST", "/volumes", CREATE, body={"volume": {"size": 1, "name": "{new}"}},
       everywhere=True),
    op("volume", "update", "PUT", "/volumes/{volume}", OWN_WRITE, body={"volume": {"name": "{new}"}},
       everywhere=True),
    op("volume", "delete", "DELETE", "/volumes/{volume}", OWN_WRITE, consumes="volume", everywhere=True),
    op("volume", "create-from-snapshot", "POST", "/volumes", CREATE_FROM_A,
       body={"volume": {"size": 1, "snapshot_id": "{snapshot}"}}),
    op("volume", "clone", "POST", "/volumes", CREATE_FROM_A, body={"volume": {"size": 1, "source_volid": "{volume}"}}),
    volume_action("os-extend", {"new_size": 2}, consumes="volume"),
    volume_action("os-set_bootable", {"bootable": False}),
    volume_action("os-update_readonly_flag", {"readonly": False}),
    volume_action("os-reset_status", {"status": "available"}, ADMIN_ON_A),
    volume_action("os-force_delete", None, ADMIN_ON_A, consumes="volume"),
    volume_action("os-retype", {"new_type": "{public_volume_type}"}, consumes="volume"),
    volume_action("os-show_image_metadata", None, OWN_READ),
    # Migration and unmanage are the admin's (the one backend here: the same host is a 400).
    volume_action("os-migrate_volume", {"host": "pocketstack@file"},
                  expect(BAD_REQUEST, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)),
    volume_action("os-migrate_volume_completion", {"new_volume": "{volume}"}, ADMIN_ON_A),
    volume_action("os-unmanage", None, ADMIN_ON_A, consumes="volume"),
    op_at("3.68", "volume", "action:os-reimage", "POST", "/volumes/{volume}/action", OWN_WRITE,
          body={"os-reimage": {"image_id": "{image}"}}, consumes="volume"),
    op("volume-metadata", "list", "GET", "/volumes/{volume}/metadata", OWN_READ),
    op("volume-metadata", "show", "GET", "/volumes/{volume}/metadata/k", OWN_READ),
    op("volume-metadata", "create", "POST", "/volumes/{volume}/metadata", OWN_WRITE, body={"metadata": {"k2": "v"}}),
    op("volume-metadata", "replace", "PUT", "/volumes/{volume}/metadata", OWN_WRITE, body={"metadata": {"k": "v"}}),
    op("volume-metadata", "update", "PUT", "/volumes/{volume}/metadata/k", OWN_WRITE, body={"meta": {"k": "v"}}),
    op("volume-metadata", "delete", "DELETE", "/volumes/{volume}/metadata/k", OWN_WRITE, consumes="volume"),
    # -- snapshots ---------------------------------------------------------------------------
    op("snapshot", "list", "GET", "/snapshots/detail", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{snapshot}"),
    op("snapshot", "list-all-tenants", "GET", "/snapshots/detail?all_tenants=1", ALL_TENANTS_LIST,
       watch="{snapshot}", everywhere=True),
    op("snapshot", "show", "GET", "/snapshots/{snapshot}", OWN_READ, everywhere=True),
    op("snapshot", "create", "POST", "/snapshots", CREATE_FROM_A,
       body={"snapshot": {"volume_id": "{volume}", "name": "{new}"}}),
    op("snapshot", "update", "PUT", "/snapshots/{snapshot}", OWN_WRITE, body={"snapshot": {"name": "{new}"}}),
    op("snapshot", "delete", "DELETE", "/snapshots/{snapshot}", OWN_WRITE, consumes="snapshot"),
    op("snapshot", "action:os-reset_status", "POST", "/snapshots/{snapshot}/action", ADMIN_ON_A,
       body={"os-reset_status": {"status": "available"}}),
    op("snapshot", "action:os-unmanage", "POST", "/snapshots/{snapshot}/action", ADMIN_ON_A,
       body={"os-unmanage": {}}, consumes="snapshot"),
    # Adopting a file needs the admin; a reference to nothing is then Cinder's 400.  A
    # snapshot's volume is looked up first (404 to another project).
    op("snapshot", "manage-missing-ref", "POST", "/manageable_snapshots",
       expect(BAD_REQUEST, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND),
       body={"snapshot": {"volume_id": "{volume}", "ref": {"source-name": "snapshot-none"}}}),
    # A project member may report a snapshot's status, but only while it is creating or
    # deleting: this available snapshot is Cinder's 400 for whoever passes the policy.
    op("snapshot", "action:os-update_snapshot_status", "POST", "/snapshots/{snapshot}/action",
       expect(BAD_REQUEST, BAD_REQUEST, FORBIDDEN, NOT_FOUND, NOT_FOUND),
       body={"os-update_snapshot_status": {"status": "available"}}),
    op("snapshot-metadata", "list", "GET", "/snapshots/{snapshot}/metadata", OWN_READ),
    op("snapshot-metadata", "show", "GET", "/snapshots/{snapshot}/metadata/k", OWN_READ),
    op("snapshot-metadata", "create", "POST", "/snapshots/{snapshot}/metadata", OWN_WRITE,
       body={"metadata": {"k2": "v"}}),
    op("snapshot-metadata", "delete", "DELETE", "/snapshots/{snapshot}/metadata/k", OWN_WRITE, consumes="snapshot"),
    # -- backups -------------------------------------------------------------------------------
    op("backup", "list", "GET", "/backups/detail", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{backup}"),
    op("backup", "list-all-tenants", "GET", "/backups/detail?all_tenants=1", ALL_TENANTS_LIST, watch="{backup}"),
    op("backup", "show", "GET", "/backups/{backup}", OWN_READ),
    op("backup", "create", "POST", "/backups", CREATE_FROM_A, body={"backup": {"volume_id": "{volume}"}},
       consumes="volume"),
    op("backup", "update", "PUT", "/backups/{backup}", OWN_WRITE, body={"backup": {"name": "{new}"}}),
    op("backup", "action:os-reset_status", "POST", "/backups/{backup}/action", ADMIN_ON_A,
       body={"os-reset_status": {"status": "available"}}),
    op("backup", "export-record", "GET", "/backups/{backup}/export_record", ADMIN_ON_A),
    op("backup", "delete", "DELETE", "/backups/{backup}", OWN_WRITE, consumes="backup"),
    op("backup", "restore", "POST", "/backups/{backup}/restore", OWN_WRITE, body={"restore": {"name": "{new}"}},
       consumes="backup"),
    # -- transfers -------------------------------------------------------------------------------
    op("transfer", "list", "GET", "/os-volume-transfer", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{transfer}"),
    op("transfer", "list-all-tenants", "GET", "/os-volume-transfer/detail?all_tenants=1", ALL_TENANTS_LIST,
       watch="{transfer}"),
    op("transfer", "show", "GET", "/os-volume-transfer/{transfer}", OWN_READ),
    op("transfer", "create", "POST", "/os-volume-transfer", CREATE_FROM_A,
       body={"transfer": {"volume_id": "{volume}"}}, consumes="volume"),
    op("transfer", "delete", "DELETE", "/os-volume-transfer/{transfer}", OWN_WRITE, consumes="transfer"),
    # Accepting is how another project takes a volume: anyone's member with the key.
    op("transfer", "accept", "POST", "/os-volume-transfer/{transfer}/accept", CREATE,
       body={"accept": {"auth_key": "{transfer.auth_key}"}}, consumes="transfer"),
    # The same transfers at /volume-transfers (Cinder's v3 controller; 3.55 no_snapshots).
    op_at("3.59", "transfer", "list-v3", "GET", "/volume-transfers",
          expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{transfer}"),
    op_at("3.59", "transfer", "list-v3-all-tenants", "GET", "/volume-transfers/detail?all_tenants=1",
          ALL_TENANTS_LIST, watch="{transfer}"),
    # 3.57's filter on the donor's project: another project naming A lists nothing of A's.
    op_at("3.57", "transfer", "list-v3-source-a", "GET", "/volume-transfers/detail?source_project_id={project_a}",
          expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{transfer}"),
    op_at("3.59", "transfer", "show-v3", "GET", "/volume-transfers/{transfer}", OWN_READ),
    op_at("3.59", "transfer", "create-v3", "POST", "/volume-transfers", CREATE_FROM_A,
          body={"transfer": {"volume_id": "{volume}", "no_snapshots": True}}, consumes="volume"),
    op_at("3.59", "transfer", "delete-v3", "DELETE", "/volume-transfers/{transfer}", OWN_WRITE, consumes="transfer"),
    op_at("3.59", "transfer", "accept-v3", "POST", "/volume-transfers/{transfer}/accept", CREATE,
          body={"accept": {"auth_key": "{transfer.auth_key}"}}, consumes="transfer"),
    # -- attachments (3.27) ----------------------------------------------------------------------
    op("attachment", "list", "GET", "/attachments", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{attachment}"),
    op("attachment", "show", "GET", "/attachments/{attachment}", OWN_READ),
    op("attachment", "create", "POST", "/attachments", CREATE_FROM_A,
       body={"attachment": {"volume_uuid": "{volume}", "instance_uuid": "{server}"}}, consumes="volume"),
    op("attachment", "update", "PUT", "/attachments/{attachment}", OWN_WRITE,
       body={"attachment": {"connector": {"host": "h", "initiator": "iqn.x"}}}, consumes="attachment"),
    op("attachment", "delete", "DELETE", "/attachments/{attachment}", OWN_WRITE, consumes="attachment"),
    # -- volume types (a private one A has access to) -------------------------------------------
    # cinder/api/v3/types.py + cinder/db/api.py: without ?is_public the admin lists the
    # public types and those shared with its own project, like everyone.
    op("volume-type", "list", "GET", "/types", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{volume_type}"),
    op("volume-type", "list-all", "GET", "/types?is_public=None", expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{volume_type}"),
    op("volume-type", "show", "GET", "/types/{volume_type}", OWN_READ),
    op("volume-type", "create", "POST", "/types", ADMIN_ONLY, body={"volume_type": {"name": "{new}"}}),
    op("volume-type", "update", "PUT", "/types/{volume_type}", ADMIN_ONLY,
       body={"volume_type": {"description": "changed"}}),
    op("volume-type", "delete", "DELETE", "/types/{volume_type}", ADMIN_ONLY, consumes="volume_type"),
    op("volume-type", "create-volume", "POST", "/volumes", CREATE_FROM_A,
       body={"volume": {"size": 1, "volume_type": "{volume_type}"}}),
    op("volume-type-extra-specs", "list", "GET", "/types/{volume_type}/extra_specs", OWN_READ),
    op("volume-type-extra-specs", "show", "GET", "/types/{volume_type}/extra_specs/k", OWN_READ),
    op("volume-type-extra-specs", "create", "POST", "/types/{volume_type}/extra_specs", ADMIN_ONLY,
       body={"extra_specs": {"k2": "v"}}),
    op("volume-type-extra-specs", "delete", "DELETE", "/types/{volume_type}/extra_specs/k", ADMIN_ONLY,
       consumes="volume_type"),
    op("volume-type-access", "list", "GET", "/types/{volume_type}/os-volume-type-access", ADMIN_ONLY),
    op("volume-type-access", "add", "POST", "/types/{volume_type}/action", ADMIN_ONLY,
       body={"addProjectAccess": {"project": "{project_b}"}}, consumes="volume_type"),
    op("volume-type-access", "remove", "POST", "/types/{volume_type}/action", ADMIN_ONLY,
       body={"removeProjectAccess": {"project": "{project_a}"}}, consumes="volume_type"),
    # -- volume type encryption (admin only) -------------------------------------------------------
    op("volume-type-encryption", "show", "GET", "/types/{encrypted_type}/encryption", ADMIN_ONLY),
    op("volume-type-encryption", "show-item", "GET", "/types/{encrypted_type}/encryption/cipher", ADMIN_ONLY),
    op("volume-type-encryption", "create", "POST", "/types/{bare_volume_type}/encryption", ADMIN_ONLY,
       body={"encryption": {"provider": "luks", "control_location": "front-end"}}, consumes="bare_volume_type"),
    op("volume-type-encryption", "update", "PUT", "/types/{encrypted_type}/encryption/{encrypted_type.encryption_id}",
       ADMIN_ONLY, body={"encryption": {"key_size": 128}}),
    op("volume-type-encryption", "delete", "DELETE",
       "/types/{encrypted_type}/encryption/{encrypted_type.encryption_id}", ADMIN_ONLY, consumes="encrypted_type"),
    # -- QoS specs (admin only) -------------------------------------------------------------------
    op("qos", "list", "GET", "/qos-specs", ADMIN_ONLY),
    op("qos", "show", "GET", "/qos-specs/{qos}", ADMIN_ONLY),
    op("qos", "create", "POST", "/qos-specs", ADMIN_ONLY, body={"qos_specs": {"name": "{new}"}}),
    op("qos", "update", "PUT", "/qos-specs/{qos}", ADMIN_ONLY, body={"qos_specs": {"read_iops_sec": "200"}}),
    op("qos", "associations", "GET", "/qos-specs/{qos}/associations", ADMIN_ONLY),
    op("qos", "delete", "DELETE", "/qos-specs/{qos}", ADMIN_ONLY, consumes="qos"),
    # -- user messages (3.3+): the project's, every project's for the admin ------------------
    op("message", "list", "GET", "/messages", OWN_LIST, watch="{message}"),
    op("message", "show", "GET", "/messages/{message}", OWN_READ),
    op("message", "delete", "DELETE", "/messages/{message}", OWN_WRITE, consumes="message"),
    # -- group types (3.11+): everyone lists and shows the public ones, the admin manages ------
    op("volume-group-type", "list", "GET", "/group_types", expect(LISTED, LISTED, LISTED, LISTED, LISTED),
       watch="{volume_group_type}"),
    op("volume-group-type", "show", "GET", "/group_types/{volume_group_type}", EVERYONE),
    op("volume-group-type", "create", "POST", "/group_types", ADMIN_ONLY, body={"group_type": {"name": "{new}"}}),
    op("volume-group-type", "update", "PUT", "/group_types/{volume_group_type}", ADMIN_ONLY,
       body={"group_type": {"description": "changed"}}),
    op("volume-group-type", "delete", "DELETE", "/group_types/{volume_group_type}", ADMIN_ONLY,
       consumes="volume_group_type"),
    op("volume-group-type-specs", "list", "GET", "/group_types/{volume_group_type}/group_specs", ADMIN_ONLY),
    op("volume-group-type-specs", "show", "GET", "/group_types/{volume_group_type}/group_specs/k", ADMIN_ONLY),
    op("volume-group-type-specs", "create", "POST", "/group_types/{volume_group_type}/group_specs", ADMIN_ONLY,
       body={"group_specs": {"k2": "v"}}),
    op("volume-group-type-specs", "delete", "DELETE", "/group_types/{volume_group_type}/group_specs/k", ADMIN_ONLY,
       consumes="volume_group_type"),
    # -- groups (3.13+) -------------------------------------------------------------------------
    op("volume-group", "list", "GET", "/groups/detail", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{volume_group}"),
    op("volume-group", "list-all-tenants", "GET", "/groups/detail?all_tenants=1", ALL_TENANTS_LIST,
       watch="{volume_group}"),
    op("volume-group", "show", "GET", "/groups/{volume_group}", OWN_READ),
    op("volume-group", "create", "POST", "/groups", CREATE, body={"group": {
        "group_type": "{volume_group_type}", "volume_types": ["{public_volume_type}"], "name": "{new}"}}),
    op("volume-group", "update", "PUT", "/groups/{volume_group}", OWN_WRITE, body={"group": {"name": "{new}"}}),
    op("volume-group", "action:delete", "POST", "/groups/{volume_group}/action", OWN_WRITE, body={"delete": {}},
       consumes="volume_group"),
    op("volume-group", "action:reset_status", "POST", "/groups/{volume_group}/action", ADMIN_ON_A,
       body={"reset_status": {"status": "available"}}),
    # A copy of an empty group: looked up (404), the rule (403), then Cinder's 400 "empty".
    op("volume-group", "create-from-src", "POST", "/groups/action",
       expect(BAD_REQUEST, BAD_REQUEST, FORBIDDEN, NOT_FOUND, NOT_FOUND),
       body={"create-from-src": {"source_group_id": "{volume_group}"}}),
    # -- group snapshots (3.14+) ------------------------------------------------------------------
    op("volume-group-snapshot", "list", "GET", "/group_snapshots/detail",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{volume_group_snapshot}"),
    op("volume-group-snapshot", "show", "GET", "/group_snapshots/{volume_group_snapshot}", OWN_READ),
    op("volume-group-snapshot", "create", "POST", "/group_snapshots", CREATE_FROM_A,
       body={"group_snapshot": {"group_id": "{volume_group}", "name": "{new}"}}),
    op("volume-group-snapshot", "action:reset_status", "POST", "/group_snapshots/{volume_group_snapshot}/action",
       ADMIN_ON_A, body={"reset_status": {"status": "available"}}),
    op("volume-group-snapshot", "delete", "DELETE", "/group_snapshots/{volume_group_snapshot}", OWN_WRITE,
       consumes="volume_group_snapshot"),
    # -- quotas, limits and the admin's views -----------------------------------------------------
    op("volume-quota", "show", "GET", "/os-quota-sets/{project_a}", PROJECT_A_READ),
    op("volume-quota", "show-usage", "GET", "/os-quota-sets/{project_a}?usage=True", PROJECT_A_READ),
    op("volume-quota", "defaults", "GET", "/os-quota-sets/{project_a}/defaults", PROJECT_A_READ),
    op("volume-quota", "update", "PUT", "/os-quota-sets/{project_a}", ADMIN_ONLY,
       body={"quota_set": {"volumes": -1}}),
    op("volume-quota", "delete", "DELETE", "/os-quota-sets/{project}", ADMIN_ONLY),
    op("volume-quota-class", "show", "GET", "/os-quota-class-sets/default", ADMIN_ONLY),
    op("volume-quota-class", "update", "PUT", "/os-quota-class-sets/iso-gold", ADMIN_ONLY,
       body={"quota_class_set": {"volumes": 20}}),
    op("volume-limits", "show", "GET", "/limits", EVERYONE),
    # Projects' default volume types (3.62): the admin's, with or without a project in the path.
    op_at("3.62", "volume-default-type", "set", "PUT", "/default-types/{project_b}", ADMIN_ONLY,
          body={"default_type": {"volume_type": "{public_volume_type}"}}),
    op_at("3.62", "volume-default-type", "list", "GET", "/default-types", ADMIN_ONLY),
    op_at("3.62", "volume-default-type", "unset", "DELETE", "/default-types/{project_b}", ADMIN_ONLY),
    Op("volume-default-type", "list-without-project", "GET", "/volume/v3/default-types", ADMIN_ONLY,
       headers={"OpenStack-API-Version": "volume 3.62"}),
    op("volume-service", "list", "GET", "/os-services", ADMIN_ONLY),
    op("volume-host", "list", "GET", "/os-hosts", ADMIN_ONLY),
    op("volume-host", "show", "GET", "/os-hosts/pocketstack@file", ADMIN_ONLY),
    # The actions: only the admin gets past the policy, to Cinder's answers here (nothing is
    # ever frozen, so thaw is 400; a state change is not kept, so freeze is 501).
    op("volume-service", "disable-log-reason-unknown-host", "PUT", "/os-services/disable-log-reason",
       expect(NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
       body={"host": "invalid_host", "binary": "cinder-volume", "disabled_reason": "x"}),
    op("volume-service", "freeze", "PUT", "/os-services/freeze",
       expect(Expect(501), FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN), body={"host": "pocketstack"}),
    op("volume-service", "thaw", "PUT", "/os-services/thaw",
       expect(BAD_REQUEST, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN), body={"host": "pocketstack"}),
    op("volume-pools", "list", "GET", "/scheduler-stats/get_pools", ADMIN_ONLY),
    op("volume-manageable", "list", "GET", "/manageable_volumes?host=pocketstack@file", ADMIN_ONLY),
    op("volume-manageable", "list-detail", "GET", "/os-volume-manage/detail?host=pocketstack@file", ADMIN_ONLY),
    op("volume-manageable", "manage-missing-ref", "POST", "/os-volume-manage",
       expect(BAD_REQUEST, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
       body={"volume": {"host": "pocketstack@file", "ref": {"source-name": "volume-none"}}}),
    op("snapshot-manageable", "list", "GET", "/manageable_snapshots/detail?host=pocketstack@file", ADMIN_ONLY),
    op("volume-availability-zone", "list", "GET", "/os-availability-zone", EVERYONE),
]
