"""A volume's image metadata: recorded from the image at create, inherited by a clone,
and changed with ``os-set_image_metadata`` / ``os-unset_image_metadata``, read with
``os-show_image_metadata`` and in the volume's detail view."""

from __future__ import annotations

from conftest import unique
from test_volume_api import call, create_volume, member, wait  # noqa: F401 - member is a fixture


def action(api, token, vid, name, args):
    return call(api, token, "POST", f"/volumes/{vid}/action", json={name: args})


def test_image_metadata_lifecycle(api, admin_token, member):  # noqa: F811
    image = api.request("POST", "/image/v2/images", admin_token, json={
        "name": unique("img"), "disk_format": "raw", "container_format": "bare", "visibility": "public"}).json()
    assert api.request("PUT", f"/image/v2/images/{image['id']}/file", admin_token, content=b"\x01" * 4096,
                       headers={"Content-Type": "application/octet-stream"}).status_code == 204
    volume = create_volume(api, member, imageRef=image["id"])
    assert volume["status"] == "available"
    recorded = volume["volume_image_metadata"]
    assert recorded["image_id"] == image["id"] and recorded["image_name"] == image["name"]
    assert recorded["disk_format"] == "raw" and recorded["size"] == "4096"

    changed = action(api, member, volume["id"], "os-set_image_metadata",
                     {"metadata": {"kernel_id": "k-1", "ramdisk_id": "somedisk", "image_name": "renamed"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["metadata"]["kernel_id"] == "k-1" and changed.json()["metadata"]["image_id"] == image["id"]
    shown = call(api, member, "GET", f"/volumes/{volume['id']}").json()["volume"]["volume_image_metadata"]
    assert shown["image_name"] == "renamed" and shown["ramdisk_id"] == "somedisk"

    assert action(api, member, volume["id"], "os-unset_image_metadata", {"key": "ramdisk_id"}).status_code == 200
    assert action(api, member, volume["id"], "os-unset_image_metadata", {"key": "ramdisk_id"}).status_code == 404
    listed = action(api, member, volume["id"], "os-show_image_metadata", None)
    assert listed.status_code == 200 and "ramdisk_id" not in listed.json()["metadata"]
    assert listed.json()["metadata"]["kernel_id"] == "k-1"

    clone = create_volume(api, member, source_volid=volume["id"])
    assert clone["volume_image_metadata"] == listed.json()["metadata"]

    assert action(api, member, volume["id"], "os-set_image_metadata", {"meta": {}}).status_code == 400
    assert action(api, member, volume["id"], "os-set_image_metadata", {"metadata": {"k": ["x"]}}).status_code == 400
    assert action(api, member, volume["id"], "os-unset_image_metadata", {}).status_code == 400


def test_plain_volume_has_no_image_metadata(api, member):  # noqa: F811
    volume = create_volume(api, member)
    assert "volume_image_metadata" not in volume
    shown = action(api, member, volume["id"], "os-show_image_metadata", {})
    assert shown.status_code == 200 and shown.json() == {"metadata": {}}


def test_restore_of_a_bootable_volume_is_bootable(api, admin_token, member):  # noqa: F811
    """A backup keeps the volume's image metadata; a restore gives it back and makes the
    volume bootable, as Cinder's ``_restore_vol_glance_meta`` (Tempest's
    test_bootable_volume_backup_and_restore)."""
    image = api.request("POST", "/image/v2/images", admin_token, json={
        "name": unique("img"), "disk_format": "raw", "container_format": "bare", "visibility": "public"}).json()
    api.request("PUT", f"/image/v2/images/{image['id']}/file", admin_token, content=b"\x02" * 4096,
                headers={"Content-Type": "application/octet-stream"})
    volume = create_volume(api, member, imageRef=image["id"])
    assert volume["bootable"] == "true"
    r = call(api, member, "POST", "/backups", json={"backup": {"volume_id": volume["id"]}})
    assert r.status_code == 202, r.text
    backup = wait(api, member, f"/backups/{r.json()['backup']['id']}", "backup", ("available", "error"))
    assert backup["status"] == "available"
    plain = create_volume(api, member)
    assert plain["bootable"] == "false"
    for target in (None, plain["id"]):
        r = call(api, member, "POST", f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": target}})
        assert r.status_code == 202, r.text
        wait(api, member, f"/backups/{backup['id']}", "backup", ("available",))
        restored = wait(api, member, f"/volumes/{r.json()['restore']['volume_id']}", "volume",
                        ("available", "error_restoring"))
        assert restored["status"] == "available" and restored["bootable"] == "true"
        assert restored["volume_image_metadata"]["image_id"] == image["id"]
