"""Snapshots of volume-backed servers, and the image-defined block device mappings they
leave for the next boot -- Nova's ``snapshot_volume_backed`` and the merge of an image's
``block_device_mapping`` into a boot request (``_get_image_defined_bdms`` and
``_merge_bdms_lists`` in nova/compute/api.py).

A server whose root disk is a volume has no local disk to copy: ``createImage`` snapshots
each of its volumes in Block Storage instead (forced, as the volumes are in use) and
registers an image with no data -- zero bytes, active -- whose properties describe the
disks: ``block_device_mapping`` (the list, JSON-encoded as Glance v2 stores it, one entry
per volume: ``source_type`` snapshot, the ``snapshot_id``, its size, boot index, device
and ``delete_on_termination`` as the server had them), ``bdm_v2`` ``True`` and
``root_device_name``.  Booting from such an image creates a volume from each snapshot
and boots from the one at boot index 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pocketstack.common.context import RequestContext
from pocketstack.compute.block_devices import ROOT_DEVICE
from pocketstack.compute.images import Images
from pocketstack.compute.models import BlockDeviceMapping
from pocketstack.volume.contract import VolumeContract

# The keys of an image mapping (Nova's BlockDeviceDict less its database-only fields).
_MAPPING_KEYS = ("source_type", "destination_type", "guest_format", "device_type", "disk_bus", "boot_index",
                 "device_name", "delete_on_termination", "snapshot_id", "volume_id", "volume_size", "image_id",
                 "no_device", "tag", "volume_type")


def is_volume_backed(image_ref: str | None, rows: Iterable[BlockDeviceMapping]) -> bool:
    """Nova's ``is_volume_backed_instance``: no image, or a root mapping that is a volume."""
    if not image_ref:
        return True
    return any(row.boot_index == 0 and row.destination_type == "volume" for row in rows)


def snapshot(context: RequestContext, volumes: VolumeContract, images: Images, instance_id: str, base_image,
             rows: Iterable[BlockDeviceMapping], name: str, metadata: dict[str, str]) -> str:
    """Snapshot every volume of the server and register the image that maps them; its id."""
    mapping = []
    for row in rows:
        if row.destination_type != "volume" or not row.volume_id:
            continue
        volume = volumes.volumes.get(context, row.volume_id)
        taken = volumes.snapshots.create(context, volume.id, f"snapshot for {name}", volume.description,
                                         force=True, metadata={})
        entry: dict[str, Any] = dict.fromkeys(_MAPPING_KEYS)
        entry.update(source_type="snapshot", destination_type="volume", snapshot_id=taken.id,
                     volume_size=volume.size, boot_index=row.boot_index, device_name=row.device_name,
                     delete_on_termination=row.delete_on_termination)
        mapping.append(entry)
    properties = {**metadata, "root_device_name": ROOT_DEVICE}
    if mapping:
        properties.update(block_device_mapping=json.dumps(mapping), bdm_v2="True")
    image_id = images.create_snapshot(context, name, instance_id, base_image, properties)
    images.upload(image_id, b"")  # no data: the disks are in the snapshots (Nova's zero-size image)
    return image_id


def image_mappings(properties: dict[str, Any]) -> list[dict]:
    """The image's own block device mappings, as ``block_device_mapping_v2`` entries.

    Only the v2 format (``bdm_v2`` true, what Nova has written since Icehouse); entries
    that are ``no_device`` are left out.  An unreadable property maps nothing."""
    if str(properties.get("bdm_v2", "")).lower() not in ("true", "1", "yes"):
        return []
    stored = properties.get("block_device_mapping")
    try:
        entries = json.loads(stored) if isinstance(stored, str) else stored
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    mappings = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("no_device"):
            continue
        uuid = entry.get("snapshot_id") or entry.get("volume_id") or entry.get("image_id")
        mapping = {key: entry[key] for key in ("source_type", "destination_type", "boot_index", "volume_size",
                                               "device_name", "delete_on_termination") if entry.get(key) is not None}
        if uuid:
            mapping["uuid"] = uuid
        mappings.append(mapping)
    return mappings


def merge(image_defined: list[dict], requested: list[dict]) -> list[dict]:
    """The request's mappings and the image's, as Nova merges them: when the image defines
    the root disk, a requested image root (boot index 0 from an image) gives way; a
    requested mapping replaces the image's on the same device."""
    if any(str(m.get("boot_index")) == "0" for m in image_defined):
        requested = [m for m in requested if not (str(m.get("boot_index")) == "0"
                                                  and (m.get("source_type") or "image") == "image")]
    taken = {m.get("device_name") for m in requested if m.get("device_name")}
    return requested + [m for m in image_defined if m.get("device_name") not in taken]
