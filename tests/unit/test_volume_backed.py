"""The image-defined block device mappings of a volume-backed server's snapshot: reading
them from the image's properties and merging them into a boot request, as Nova does.
The snapshot and the boot themselves: tests/functional/test_volume_servers.py."""

from __future__ import annotations

import json

from pocketstack.compute import volume_backed


def test_an_image_root_mapping_gives_way_to_the_image_defined_root():
    """Nova's merge: a requested boot-index-0 image mapping yields to the image's own root,
    a requested mapping on another device is kept beside it."""
    image_root = {"source_type": "snapshot", "destination_type": "volume", "boot_index": 0, "uuid": "s",
                  "device_name": "/dev/vda"}
    requested = [{"source_type": "image", "destination_type": "local", "boot_index": 0, "uuid": "i"},
                 {"source_type": "blank", "destination_type": "volume", "volume_size": 1, "device_name": "/dev/vdb"}]
    assert volume_backed.merge([image_root], requested) == [requested[1], image_root]
    assert volume_backed.merge([image_root], [{**image_root, "uuid": "t"}]) == [{**image_root, "uuid": "t"}]
    assert volume_backed.image_mappings({"block_device_mapping": "[]"}) == []  # legacy (no bdm_v2): not read
    assert volume_backed.image_mappings({"bdm_v2": "True", "block_device_mapping": "not json"}) == []


def test_image_mappings_read_nova_s_entries_as_v2_requests():
    stored = [{"source_type": "snapshot", "destination_type": "volume", "snapshot_id": "s1", "volume_id": None,
               "image_id": None, "boot_index": 0, "device_name": "/dev/vda", "volume_size": 1,
               "delete_on_termination": True, "no_device": None, "disk_bus": None},
              {"device_name": "/dev/vdc", "no_device": True}]
    assert volume_backed.image_mappings({"bdm_v2": "True", "block_device_mapping": json.dumps(stored)}) == [
        {"source_type": "snapshot", "destination_type": "volume", "boot_index": 0, "volume_size": 1,
         "device_name": "/dev/vda", "delete_on_termination": True, "uuid": "s1"}]
