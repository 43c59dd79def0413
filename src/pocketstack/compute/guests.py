"""A server as its guest is told about it: the :class:`~.contract.GuestInstance` the
metadata service and the config drive are built from (``pocketstack.metadata``)."""

from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa

from pocketstack.common.db import Database
from pocketstack.compute.contract import GuestInstance
from pocketstack.compute.models import BlockDeviceMapping, Instance, InstanceMetadata, PortTag


def user_data(encoded: str | None) -> bytes | None:
    """The server's user data (base64 in the API and the database) as the guest gets it."""
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded)
    except (binascii.Error, ValueError):
        return encoded.encode()


def guest_instance(db: Database, inst: Instance) -> GuestInstance:
    """``inst`` with its metadata items, attached volumes and device tags, in one read."""
    with db.session(readonly=True) as s:
        meta = {key: value for key, value in s.execute(
            sa.select(InstanceMetadata.key, InstanceMetadata.value).where(InstanceMetadata.instance_id == inst.id))}
        devices = s.scalars(sa.select(BlockDeviceMapping.device_name)
                            .where(BlockDeviceMapping.instance_id == inst.id,
                                   BlockDeviceMapping.destination_type == "volume",
                                   BlockDeviceMapping.device_name.is_not(None))).all()
        volume_tags = s.execute(sa.select(BlockDeviceMapping.volume_id, BlockDeviceMapping.tag)
                                .where(BlockDeviceMapping.instance_id == inst.id,
                                       BlockDeviceMapping.destination_type == "volume",
                                       BlockDeviceMapping.volume_id.is_not(None),
                                       BlockDeviceMapping.tag.is_not(None))
                                .order_by(BlockDeviceMapping.boot_index.is_(None), BlockDeviceMapping.boot_index,
                                          BlockDeviceMapping.created_at)).all()
        port_tags = s.execute(sa.select(PortTag.port_id, PortTag.tag).where(PortTag.instance_id == inst.id)
                              .order_by(PortTag.port_id)).all()
    flavor = inst.flavor or {}
    return GuestInstance(
        id=inst.id, name=inst.name, hostname=inst.hostname or inst.name, project_id=inst.project_id,
        reservation_id=inst.reservation_id, launch_index=inst.launch_index,
        availability_zone=inst.availability_zone, image_ref=inst.image_ref or "",
        image_properties=dict(inst.image_properties or {}), flavor_name=str(flavor.get("name", "")),
        ephemeral_gb=int(flavor.get("ephemeral") or 0), swap_mb=int(flavor.get("swap") or 0),
        key_name=inst.key_name, key_data=inst.key_data, user_data=user_data(inst.user_data), metadata=meta,
        security_groups=tuple(inst.security_groups or ()),
        volume_devices=tuple(sorted(d for d in devices if d)),
        injected_files=tuple((f["path"], base64.b64decode(f["contents"])) for f in inst.injected_files or ()),
        password=inst.password or "",
        volume_tags=tuple((str(volume_id), tag) for volume_id, tag in volume_tags if tag),
        port_tags=tuple((port_id, tag) for port_id, tag in port_tags))
