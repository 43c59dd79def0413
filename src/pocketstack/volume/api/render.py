"""Volumes, snapshots, types and attachments as Cinder's v3 API shows them."""

from __future__ import annotations

import uuid
from typing import Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.volume import models as m
from pocketstack.volume.api.common import links
from pocketstack.volume.attachments import UNSET_MODE


def service_uuid(host: str | None) -> str | None:
    """The id of the cinder-volume service a volume lives on (3.48's ``service_uuid``):
    each backend host is one service here, whose id is derived from its name so that
    every process names it alike."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pocketstack:cinder-volume:{host.partition('#')[0]}")) if host else None


def volume_summary(req: ApiRequest, volume: m.Volume) -> dict:
    return {"id": volume.id, "name": volume.name, "links": links(req, "volumes", volume.id)}


def attachment_summary(a: m.Attachment) -> dict:
    return {"id": a.volume_id, "attachment_id": a.id, "volume_id": a.volume_id, "server_id": a.instance_uuid,
            "host_name": (a.connector or {}).get("host"), "device": a.mountpoint, "attached_at": a.attached_at}


def volume(req: ApiRequest, v: m.Volume, metadata: dict, attachments: list[m.Attachment],
           type_names: dict[str, str], extended: bool = True, image_metadata: dict | None = None) -> dict:
    """The detail view; ``extended=False`` for create/update responses, which in Cinder
    carry none of the extension attributes (tenant, host, image metadata)."""
    meta = dict(metadata)
    if v.readonly is not None:  # Cinder's visible admin metadata, "True" or "False" once set
        meta["readonly"] = str(v.readonly)
    body = {
        "id": v.id, "name": v.name, "description": v.description, "size": v.size, "status": v.status,
        "availability_zone": v.availability_zone, "created_at": v.created_at, "updated_at": v.updated_at,
        "volume_type": type_names.get(v.volume_type_id) if v.volume_type_id else None, "snapshot_id": v.snapshot_id,
        "source_volid": v.source_volid, "bootable": "true" if v.bootable else "false",
        "multiattach": v.multiattach, "encrypted": False, "replication_status": None,
        "consistencygroup_id": None,
        "migration_status": v.migration_status if req.caller.is_admin else None, "metadata": meta, "user_id": v.user_id,
        "attachments": [attachment_summary(a) for a in attachments], "links": links(req, "volumes", v.id),
    }
    if image_metadata and extended:
        body["volume_image_metadata"] = image_metadata
    if extended and req.allowed("volume_extension:volume_tenant_attribute", {"project_id": v.project_id}):
        body["os-vol-tenant-attr:tenant_id"] = v.project_id
    if extended and req.allowed("volume_extension:volume_host_attribute"):
        body["os-vol-host-attr:host"] = v.host
        body["os-vol-mig-status-attr:migstat"] = v.migration_status
        body["os-vol-mig-status-attr:name_id"] = None
    if req.at_least(3, 13):
        body["group_id"] = v.group_id
    if req.at_least(3, 21):
        body["provider_id"] = None
    if req.at_least(3, 48):
        # The file backend exports no shared iSCSI targets: attachments need no lock.
        body["shared_targets"] = False
        body["service_uuid"] = service_uuid(v.host)
    if req.at_least(3, 61) and req.caller.is_admin:
        body["cluster_name"] = None  # no volume service here is in an active/active cluster
    if req.at_least(3, 63):
        body["volume_type_id"] = v.volume_type_id
    # 3.64's encryption_key_id is shown for encrypted volumes only: there are none here.
    if req.at_least(3, 65):
        body["consumes_quota"] = True  # no volume here is a migration's or a backup's temporary one
    return body


def snapshot(req: ApiRequest, s: m.Snapshot, metadata: dict, extended: bool = False) -> dict:
    """``extended`` (show and list detail, as in Cinder) adds the
    ``os-extended-snapshot-attributes``."""
    body = {"id": s.id, "name": s.name, "description": s.description, "volume_id": s.volume_id,
            "size": s.size, "status": s.status, "created_at": s.created_at, "updated_at": s.updated_at,
            "metadata": metadata}
    if extended:
        body["os-extended-snapshot-attributes:project_id"] = s.project_id
        body["os-extended-snapshot-attributes:progress"] = s.progress or ("100%" if s.status == "available" else "0%")
    if req.at_least(3, 14):
        body["group_snapshot_id"] = s.group_snapshot_id
    if req.at_least(3, 41):
        body["user_id"] = s.user_id
    if req.at_least(3, 65):
        body["consumes_quota"] = True
    return body


def volume_type(t: m.VolumeType, qos_specs_id: str | None = None, view: str = "show") -> dict:
    """Cinder's type views: ``show`` (and list), ``create`` (no ``qos_specs_id``), ``update``
    (no ``qos_specs_id``, no ``os-volume-type-access:is_public``)."""
    body = {"id": t.id, "name": t.name, "description": t.description, "is_public": t.is_public,
            "extra_specs": t.extra_specs}
    if view != "update":
        body["os-volume-type-access:is_public"] = t.is_public
    if view == "show":
        body["qos_specs_id"] = qos_specs_id
    return body


def attachment(a: m.Attachment) -> dict:
    return {"id": a.id, "volume_id": a.volume_id, "instance": a.instance_uuid, "status": a.attach_status,
            "attach_mode": a.attach_mode, "attached_at": a.attached_at, "detached_at": None,
            "connection_info": _connection_info(a) if a.connector else {}}


def _connection_info(a: m.Attachment) -> dict:
    mode = a.attach_mode if a.attach_mode != UNSET_MODE else (a.connector or {}).get("mode") or "rw"
    return {"driver_volume_type": "file", "data": {"volume_id": a.volume_id, "access_mode": mode,
                                                   "device_path": f"volume-{a.volume_id}"},
            "attachment_id": a.id}


def group_type(req: ApiRequest, t: m.GroupType) -> dict:
    """Cinder's group type view: ``group_specs`` only for who may see them (the admin)."""
    body: dict[str, Any] = {"id": t.id, "name": t.name, "description": t.description, "is_public": t.is_public}
    if req.allowed("group:access_group_types_specs"):
        body["group_specs"] = t.group_specs
    return body


def group(req: ApiRequest, g: m.Group, volume_types: list[str], volumes: list[str] | None) -> dict:
    """The detail view; ``volumes`` (3.25+, with ``?list_volume=true``) when given."""
    body: dict[str, Any] = {
        "id": g.id, "status": g.status, "availability_zone": g.availability_zone, "created_at": g.created_at,
        "name": g.name, "description": g.description, "group_type": g.group_type_id, "volume_types": volume_types}
    if req.at_least(3, 14):
        body["group_snapshot_id"] = g.group_snapshot_id
        body["source_group_id"] = g.source_group_id
    if volumes is not None:
        body["volumes"] = volumes
    if req.at_least(3, 38):
        body["replication_status"] = "disabled"
    if req.at_least(3, 58) and req.allowed("group:group_project_attribute"):
        body["project_id"] = g.project_id
    return body


def group_snapshot(req: ApiRequest, gs: m.GroupSnapshot) -> dict:
    body = {"id": gs.id, "group_id": gs.group_id, "group_type_id": gs.group_type_id, "status": gs.status,
            "created_at": gs.created_at, "name": gs.name, "description": gs.description}
    if req.at_least(3, 58) and req.allowed("group:group_snapshot_project_attribute"):
        body["project_id"] = gs.project_id
    return body
