"""The QEMU driver's command-line disks of volumes: a multiattach volume's device is
``share-rw`` (no exclusive write lock on the file), any other one is not, and a guest.json
written before the ``shared`` field still loads."""

from __future__ import annotations

import json

from pocketstack.compute.drivers.qemu_guest import DiskDef, GuestDef, disk_args, volume_node


def _device(args: list[str]) -> dict:
    return json.loads(args[args.index("-device") + 1])


def test_shared_volume_is_share_rw():
    serial = "8d5853f7-56e7-4988-9b0c-48cea3c7049a"
    shared = DiskDef(volume_node(serial), "/v/volume-x", "raw", serial=serial, pci_slot=6, shared=True)
    device = _device(disk_args(shared, None))
    assert device["share-rw"] is True and device["serial"] == serial[:20]


def test_plain_volume_keeps_the_exclusive_lock():
    plain = DiskDef(volume_node("abc"), "/v/volume-y", "raw", serial="abc", pci_slot=7)
    assert "share-rw" not in _device(disk_args(plain, None))


def test_guest_json_without_shared_loads(tmp_path):
    path = tmp_path / "guest.json"
    path.write_text(json.dumps({
        "instance_id": "i", "name": "n", "vcpus": 1, "memory_mb": 64, "topology": {}, "image_ref": "img",
        "disks": [], "volumes": [{"name": "vol-abc", "path": "/v/volume-y", "format": "raw", "serial": "abc"}],
        "nics": [], "rescue": False}))
    guest = GuestDef.load(path)
    assert guest.volumes[0].shared is False
    guest.volumes[0].shared = True
    guest.save(path)
    assert GuestDef.load(path).volumes[0].shared is True
