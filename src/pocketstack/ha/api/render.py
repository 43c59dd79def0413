"""Notifications, vmoves, failover segments and their hosts in Masakari's shape."""

from __future__ import annotations

from typing import Any

from pocketstack.ha.api.common import timestamp
from pocketstack.ha.models import Notification, Segment, SegmentHost, VMove


def notification(row: Notification, workflow: bool = False) -> dict[str, Any]:
    """A notification; with its ``recovery_workflow_details`` when shown alone from 1.1."""
    body = {"id": row.id, "notification_uuid": row.notification_uuid, "type": row.type,
            "source_host_uuid": row.source_host_uuid, "generated_time": timestamp(row.generated_time),
            "payload": row.payload, "status": row.status, "created_at": timestamp(row.created_at),
            "updated_at": timestamp(row.updated_at), "deleted": False, "deleted_at": None}
    if workflow:
        body["recovery_workflow_details"] = row.details
    return body


def vmove(row: VMove) -> dict[str, Any]:
    return {"id": row.id, "uuid": row.uuid, "notification_uuid": row.notification_uuid,
            "instance_uuid": row.instance_uuid, "source_host": row.source_host, "dest_host": row.dest_host,
            "type": row.type, "status": row.status, "message": row.message,
            "start_time": timestamp(row.start_time), "end_time": timestamp(row.end_time),
            "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at), "deleted": False,
            "deleted_at": None}


def segment(row: Segment) -> dict[str, Any]:
    return {"id": row.id, "uuid": row.uuid, "name": row.name, "description": row.description,
            "recovery_method": row.recovery_method, "service_type": row.service_type, "enabled": row.enabled,
            "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at), "deleted": False,
            "deleted_at": None}


def host(row: SegmentHost, of: Segment) -> dict[str, Any]:
    """A host with its segment, whole (Masakari's host view embeds it)."""
    return {"id": row.id, "uuid": row.uuid, "name": row.name, "failover_segment_id": row.failover_segment_id,
            "failover_segment": segment(of), "type": row.type, "reserved": row.reserved,
            "control_attributes": row.control_attributes, "on_maintenance": row.on_maintenance,
            "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at), "deleted": False,
            "deleted_at": None}
